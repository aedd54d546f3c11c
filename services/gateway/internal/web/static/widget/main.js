// src/lib/session.js
var token = "";
var expiresAt = 0;
var listeners = /* @__PURE__ */ new Set();
var SESSION_HEADER = { "X-Sotto-Session": "cookie" };
function accessToken() {
  return token && Date.now() < expiresAt ? token : "";
}
function setSession(tokens) {
  token = tokens?.access_token || "";
  const exp = Date.parse(tokens?.access_token_expires_at ?? "");
  const secs = Number.parseInt(tokens?.expires_in ?? "", 10);
  expiresAt = token ? Number.isFinite(exp) ? exp : Date.now() + (Number.isFinite(secs) ? secs * 1e3 : 5 * 60 * 1e3) : 0;
  for (const f of listeners) f(Boolean(token));
}
function clearSession() {
  setSession(null);
}
var refreshing = null;
function refreshSession() {
  refreshing ??= (async () => {
    try {
      const resp = await fetch("/v1/sessions:refresh", {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/json", ...SESSION_HEADER },
        body: "{}",
        credentials: "same-origin",
        cache: "no-store",
        redirect: "error",
        referrerPolicy: "no-referrer"
      });
      if (!resp.ok) {
        clearSession();
        return false;
      }
      const body = await resp.json();
      setSession(body.tokens ?? body);
      return Boolean(token);
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}
function claims() {
  const t = accessToken();
  try {
    const b64 = t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}

// src/lib/api.js
var ApiError = class extends Error {
  constructor(status2, reason, message, details = {}, violations = []) {
    super(message || reason || `request failed (${status2})`);
    this.name = "ApiError";
    this.status = status2;
    this.reason = reason || "";
    this.details = details;
    this.violations = violations;
  }
  // text is what a page shows: the message, each field's problem and the
  // reason in brackets, for a person to read and to quote to support.
  get text() {
    const parts = [this.message];
    for (const v of this.violations) parts.push(`${v.field}: ${v.description}`);
    if (this.reason && this.reason !== this.message) parts.push(`(${this.reason})`);
    return parts.join(" ");
  }
};
function checkPath(path) {
  if (typeof path !== "string" || !path.startsWith("/") || path.startsWith("//")) {
    throw new ApiError(0, "BAD_PATH", "internal error: not an API path");
  }
  return path;
}
async function request(method, path, { body, token: token2, signal, headers = {}, retry = true } = {}) {
  const tok = token2 === void 0 ? accessToken() : token2;
  const h2 = { Accept: "application/json", ...headers };
  if (tok) h2.Authorization = `Bearer ${tok}`;
  if (body !== void 0) h2["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(checkPath(path), {
      method,
      headers: h2,
      body: body === void 0 ? void 0 : JSON.stringify(body),
      signal,
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
      referrerPolicy: "no-referrer"
    });
  } catch (err2) {
    if (err2 instanceof ApiError || err2?.name === "AbortError") throw err2;
    throw new ApiError(0, "UNREACHABLE", "The service could not be reached. Check your connection and try again.");
  }
  if (resp.ok) {
    const type = resp.headers.get("Content-Type") || "";
    return type.startsWith("application/json") ? resp.json() : resp;
  }
  const err = await errorOf(resp);
  if (err.status === 401 && err.reason !== "STEP_UP_REQUIRED" && retry && token2 === void 0 && await refreshSession()) {
    return request(method, path, { body, signal, headers, retry: false });
  }
  throw err;
}
var post = (path, body = {}, opts = {}) => request("POST", path, { ...opts, body });
async function errorOf(resp) {
  let e = {};
  try {
    e = (await resp.json())?.error ?? {};
  } catch {
  }
  return new ApiError(resp.status, String(e.reason ?? ""), String(e.message ?? ""), e.details ?? {}, Array.isArray(e.violations) ? e.violations : []);
}
function query(params2) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params2)) if (v !== void 0 && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}
async function events(path, { token: token2, lastEventId, signal, onEvent: onEvent2 }) {
  const tok = token2 === void 0 ? accessToken() : token2;
  const h2 = { Accept: "text/event-stream" };
  if (tok) h2.Authorization = `Bearer ${tok}`;
  if (lastEventId) h2["Last-Event-ID"] = lastEventId;
  let resp;
  try {
    resp = await fetch(checkPath(path), { headers: h2, signal, credentials: "same-origin", cache: "no-store", redirect: "error", referrerPolicy: "no-referrer" });
  } catch (err) {
    if (err?.name === "AbortError") throw err;
    throw new ApiError(0, "UNREACHABLE", "The service could not be reached. Check your connection and try again.");
  }
  if (!resp.ok) throw await errorOf(resp);
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let last = lastEventId || "";
  let ev = { event: "message", id: "", data: "" };
  for (; ; ) {
    const { value, done } = await reader.read();
    if (done) return last;
    buf += value;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, "");
      buf = buf.slice(nl + 1);
      if (line === "") {
        if (ev.data !== "" || ev.event !== "message") {
          if (ev.id) last = ev.id;
          onEvent2(ev);
        }
        ev = { event: "message", id: "", data: "" };
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") ev.event = val;
      else if (field === "id") ev.id = val;
      else if (field === "data") ev.data = ev.data ? `${ev.data}
${val}` : val;
    }
  }
}

// src/lib/dom.js
var allowedAttrs = /* @__PURE__ */ new Set([
  "id",
  "class",
  "type",
  "name",
  "value",
  "placeholder",
  "for",
  "role",
  "title",
  "lang",
  "dir",
  "autocomplete",
  "inputmode",
  "enterkeyhint",
  "maxlength",
  "minlength",
  "pattern",
  "rows",
  "cols",
  "tabindex",
  "hidden",
  "disabled",
  "required",
  "checked",
  "readonly",
  "multiple",
  "selected",
  "open",
  "href",
  "src",
  "alt",
  "target",
  "rel",
  "download",
  "datetime",
  "width",
  "height",
  "min",
  "max",
  "step",
  "spellcheck",
  "form",
  "colspan",
  "rowspan",
  "scope",
  "method",
  "action",
  "novalidate",
  "autofocus"
]);
function safeURL(u) {
  const s = String(u);
  if (s.startsWith("/") && !s.startsWith("//")) return s;
  try {
    const url = new URL(s, location.href);
    if (url.protocol === "https:" || url.protocol === "blob:" || url.origin === location.origin) return url.href;
  } catch {
  }
  return "#";
}
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === void 0 || v === null || v === false) continue;
    if (k === "on") {
      for (const [ev, f] of Object.entries(v)) el.addEventListener(ev, f);
      continue;
    }
    if (!(allowedAttrs.has(k) || k.startsWith("aria-") || k.startsWith("data-"))) {
      throw new Error(`h: attribute ${k} is not allowed`);
    }
    const val = v === true ? "" : k === "href" || k === "src" || k === "action" ? safeURL(v) : String(v);
    el.setAttribute(k, val);
  }
  append(el, ...children);
  return el;
}
function append(el, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === void 0 || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
function replace(el, ...children) {
  el.replaceChildren();
  return append(el, ...children);
}
var $ = (sel, root = document) => root.querySelector(sel);
function showError(el, err) {
  const text = err?.text ?? err?.message ?? String(err ?? "");
  replace(el, text);
  el.hidden = !text;
}

// src/widget/cues.js
var STEP_UP = [
  "For your security, please confirm it is you with your second factor, then ask me again.",
  "Zu Ihrer Sicherheit bestätigen Sie bitte mit Ihrem zweiten Faktor, dass Sie es sind, und fragen Sie dann erneut.",
  "Pour votre sécurité, confirmez votre identité avec votre second facteur, puis posez à nouveau votre question.",
  "Por su seguridad, confirme su identidad con su segundo factor y vuelva a preguntarme.",
  "Bevestig voor uw veiligheid met uw tweede factor dat u het bent en vraag het daarna opnieuw.",
  "Per la sua sicurezza, confermi la sua identità con il secondo fattore e poi me lo chieda di nuovo."
];
var LOGIN = [
  "Please sign in to your account (or link this chat to it) so that I can help with your orders.",
  "Bitte melden Sie sich in Ihrem Konto an (oder verknüpfen Sie diesen Chat damit), damit ich Ihnen bei Ihren Bestellungen helfen kann.",
  "Veuillez vous connecter à votre compte (ou y associer cette discussion) pour que je puisse vous aider avec vos commandes.",
  "Inicie sesión en su cuenta (o vincule este chat a ella) para que pueda ayudarle con sus pedidos.",
  "Log in op uw account (of koppel deze chat eraan) zodat ik u kan helpen met uw bestellingen.",
  "Acceda al suo account (o colleghi questa chat) così che possa aiutarla con i suoi ordini."
];
function cue(text) {
  const t = String(text ?? "");
  if (STEP_UP.some((s) => t.includes(s))) return "step_up";
  if (LOGIN.some((s) => t.includes(s))) return "login";
  return "";
}

// src/widget/placeholders.js
var TYPES = ["PERSON", "EMAIL", "PHONE", "CARD", "IBAN", "ADDRESS", "IP", "NATIONAL_ID", "DATE_OF_BIRTH", "SECRET", "LITERAL"];
var PLACEHOLDER = new RegExp(`\\[(${TYPES.join("|")})_([1-9][0-9]{0,5})\\]`, "g");
var LABELS = {
  PERSON: "a name",
  EMAIL: "your e-mail address",
  PHONE: "your phone number",
  CARD: "your card",
  IBAN: "your bank account",
  ADDRESS: "your address",
  IP: "an IP address",
  NATIONAL_ID: "your ID number",
  DATE_OF_BIRTH: "your date of birth",
  SECRET: "a secret",
  LITERAL: "your text"
};
function split(text) {
  const parts = [];
  let last = 0;
  for (const m of String(text).matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push({ text: text.slice(last, m.index) });
    parts.push({ placeholder: m[0], type: m[1] });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}
function learn(typed, stored, known) {
  const parts = split(stored);
  const holders = [];
  let lazy = "^";
  let greedy = "^";
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.text !== void 0) {
      const lit = p.text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      lazy += lit;
      greedy += lit;
      continue;
    }
    if (parts[i - 1]?.placeholder) return false;
    holders.push(p.placeholder);
    lazy += "(.+?)";
    greedy += "(.+)";
  }
  if (holders.length === 0) return false;
  const a = new RegExp(`${lazy}$`, "s").exec(typed);
  const b = new RegExp(`${greedy}$`, "s").exec(typed);
  if (!a || !b || a.some((v, i) => v !== b[i])) return false;
  const seen = /* @__PURE__ */ new Map();
  for (let i = 0; i < holders.length; i++) {
    const v = a[i + 1];
    if (!v.trim() || seen.has(holders[i]) && seen.get(holders[i]) !== v) return false;
    seen.set(holders[i], v);
  }
  for (const [k, v] of seen) if (!known.has(k)) known.set(k, v);
  return true;
}
function render(text, known) {
  return split(text).map((p) => {
    if (p.text !== void 0) return document.createTextNode(p.text);
    const span = document.createElement("span");
    const value = known.get(p.placeholder);
    if (value !== void 0) {
      span.className = "pii";
      span.textContent = value;
    } else {
      span.className = "pii unknown";
      span.textContent = LABELS[p.type] ?? "a detail you gave";
    }
    return span;
  });
}

// src/widget/transport.js
async function outgoing(ctx, text) {
  return { text, language: ctx.language || void 0, view: ctx.view };
}
async function incoming(_ctx, resp) {
  return [resp?.message, resp?.reply].filter(Boolean);
}

// src/widget/main.js
var TENANT = /^[a-z0-9][a-z0-9_-]{0,62}$/;
var NOTICE = /^[a-z][a-z0-9_-]{1,63}$/;
var LANG = /^[a-z]{2}([-_][A-Za-z]{2})?$/;
var params = new URLSearchParams(location.search);
var tenant = TENANT.test(params.get("tenant") ?? "") ? params.get("tenant") : "";
var noticeId = NOTICE.test(params.get("notice") ?? "") ? params.get("notice") : "";
var language = (() => {
  const l = params.get("lang") || navigator.language || "";
  return LANG.test(l) ? l : LANG.test(l.slice(0, 2)) ? l.slice(0, 2) : "";
})();
var framed = window.self !== window.top;
var state = {
  kind: "",
  // 'visitor' or 'customer' once a session exists
  conversationId: "",
  view: "MESSAGE_VIEW_PLACEHOLDERS",
  ended: false,
  accepted: !noticeId,
  lastEventId: "",
  stream: null,
  // AbortController of the event stream
  known: /* @__PURE__ */ new Map(),
  // placeholder → the value this visitor typed (memory only)
  typed: /* @__PURE__ */ new Map(),
  // message id → the text as typed here
  items: /* @__PURE__ */ new Map(),
  // message id → its <li>
  pending: []
  // {typed, li} posted, not yet matched with a stored message
};
var errorBox = $("#error");
var log = h("ol", { class: "chat-log", role: "log", "aria-live": "polite", "aria-label": "Messages" });
var status = h("p", { class: "chat-status", role: "status" });
var who = h("span", { class: "muted" }, "Chatting as a guest");
var endButton = h("button", { type: "button", class: "secondary", hidden: true, on: { click: endChat } }, "End chat");
var input = h("textarea", {
  id: "message",
  name: "text",
  rows: 2,
  required: true,
  maxlength: 4e3,
  autocomplete: "off",
  "aria-describedby": "message-hint",
  enterkeyhint: "send"
});
var sendButton = h("button", { type: "submit" }, "Send");
var form = h(
  "form",
  { class: "chat-form", novalidate: true, on: { submit: onSubmit } },
  h(
    "div",
    { class: "field" },
    h("label", { for: "message" }, "Your message"),
    h("p", { class: "hint", id: "message-hint" }, "Enter sends, Shift+Enter starts a new line."),
    input
  ),
  sendButton
);
var noticeBox = h("section", { class: "panel notice", "aria-labelledby": "notice-title", hidden: true });
input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    form.requestSubmit();
  }
});
append(
  replace($("#app")),
  h("div", { class: "actions chat-head" }, who, endButton),
  noticeBox,
  log,
  status,
  form
);
if (!tenant) {
  showError(errorBox, "This chat is not set up: the page that embeds it names no shop.");
  form.hidden = true;
} else if (noticeId) {
  showNotice();
}
async function showNotice() {
  input.disabled = true;
  sendButton.disabled = true;
  noticeBox.hidden = false;
  replace(noticeBox, h("h2", { id: "notice-title" }, "Before you chat"), h("p", {}, "Loading the notice…"));
  try {
    const { notice } = await request("GET", `/v1/consent/notices/${encodeURIComponent(noticeId)}`, { token: "" });
    const texts = notice?.texts ?? [];
    const text = texts.find((t) => t.language === language) ?? texts.find((t) => t.language === language.slice(0, 2)) ?? texts.find((t) => t.language === "en") ?? texts[0];
    if (!text) throw new ApiError(0, "NOTICE_EMPTY", "The notice has no text.");
    const accept = h("button", { type: "button", on: { click: () => acceptNotice(notice) } }, "I have read this, start the chat");
    replace(
      noticeBox,
      h("h2", { id: "notice-title" }, "Before you chat"),
      h("p", { class: "notice-text", lang: text.language }, text.text),
      h("p", { class: "hint" }, `Notice “${notice.notice_id}”, version ${notice.version}.`),
      h("div", { class: "actions" }, accept)
    );
    accept.focus();
  } catch (err) {
    replace(
      noticeBox,
      h("h2", { id: "notice-title" }, "Before you chat"),
      h("p", { role: "alert" }, `The shop's notice could not be loaded, so the chat cannot start. ${err.text ?? err.message}`)
    );
  }
}
function acceptNotice(notice) {
  state.accepted = true;
  state.notice = { notice_id: notice.notice_id, version: notice.version };
  noticeBox.hidden = true;
  input.disabled = false;
  sendButton.disabled = false;
  status.textContent = "You can write your message now.";
  input.focus();
}
async function ensureSession() {
  if (accessToken()) return;
  if (state.kind === "visitor") {
    resetChat("Your chat session expired. Send your message again to start a new chat.");
    throw new ApiError(401, "SESSION_EXPIRED", "Your chat session expired.");
  }
  if (!framed && await refreshSession()) {
    const c = claims();
    if (c.kind === "customer" && (!c.tenant || c.tenant === tenant)) {
      state.kind = "customer";
      state.view = "MESSAGE_VIEW_REIDENTIFIED";
      replace(who, "Signed in");
      return;
    }
    clearSession();
  }
  const v = await post("/v1/visitor-sessions", { tenant }, { token: "" });
  setSession({ access_token: v.access_token, access_token_expires_at: v.expire_time });
  state.kind = "visitor";
  state.view = "MESSAGE_VIEW_PLACEHOLDERS";
  replace(who, "Chatting as a guest · ", h("a", { href: "/privacy/", target: "_blank", rel: "noopener" }, "Sign in"));
}
async function ensureConversation() {
  if (state.conversationId) return;
  const { conversation } = await post("/v1/conversations", { channel: "CHAT_CHANNEL_WEB" });
  state.conversationId = conversation.conversation_id;
  state.ended = false;
  endButton.hidden = false;
  follow(state.conversationId);
}
function resetChat(message) {
  state.stream?.abort();
  clearSession();
  Object.assign(state, { kind: "", conversationId: "", lastEventId: "", ended: false, pending: [] });
  state.known.clear();
  state.typed.clear();
  state.items.clear();
  replace(log);
  endButton.hidden = true;
  status.textContent = message;
}
async function follow(id) {
  let pause = 1e3;
  while (state.conversationId === id && !state.ended) {
    const ctl = new AbortController();
    state.stream = ctl;
    try {
      state.lastEventId = await events(`/v1/conversations/${id}/events${query({ view: state.view })}`, {
        lastEventId: state.lastEventId,
        signal: ctl.signal,
        onEvent: (ev) => onEvent(id, ev)
      });
      pause = 1e3;
    } catch (err) {
      if (ctl.signal.aborted || state.conversationId !== id) return;
      if (err instanceof ApiError && [401, 403, 404].includes(err.status)) {
        showError(errorBox, err);
        return;
      }
      status.textContent = "Reconnecting…";
    }
    if (state.ended || state.conversationId !== id) return;
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 3e4);
  }
}
function onEvent(id, ev) {
  if (state.conversationId !== id) return;
  if (ev.event === "message") {
    let m;
    try {
      m = JSON.parse(ev.data)?.message;
    } catch {
      return;
    }
    if (m) show(m);
    status.textContent = "";
  } else if (ev.event === "end") {
    state.ended = true;
    form.hidden = true;
    endButton.hidden = true;
    status.textContent = "The chat has ended.";
  } else if (ev.event === "error") {
    status.textContent = "The connection to the chat failed; reconnecting…";
  }
}
var AUTHORS = { AUTHOR_CUSTOMER: "You", AUTHOR_ASSISTANT: "Assistant", AUTHOR_AGENT: "Support" };
function bubble(author, ...content) {
  const cls = author === "AUTHOR_CUSTOMER" ? "customer" : author === "AUTHOR_AGENT" ? "agent" : "assistant";
  return h("li", { class: `msg ${cls}` }, h("span", { class: "who" }, AUTHORS[author] ?? "Shop"), h("span", { class: "text" }, ...content));
}
function show(m) {
  const id = m.message_id;
  if (!id || state.items.has(id)) return;
  const text = m.text ?? "";
  if (m.author === "AUTHOR_CUSTOMER") {
    const i = state.pending.findIndex((p) => p.typed === text || learn(p.typed, text, state.known));
    if (i >= 0) {
      const [p] = state.pending.splice(i, 1);
      p.li.classList.remove("sending");
      p.li.dataset.id = id;
      state.items.set(id, p.li);
      state.typed.set(id, p.typed);
      return;
    }
    const li2 = bubble(m.author, ...render(text, state.known));
    li2.dataset.id = id;
    state.items.set(id, li2);
    append(log, li2);
    scrollDown();
    return;
  }
  const li = bubble(m.author, ...render(text, state.known));
  li.dataset.id = id;
  const c = m.author === "AUTHOR_ASSISTANT" ? cue(text) : "";
  if (c === "step_up") {
    append(li, h(
      "span",
      { class: "actions" },
      h("a", { class: "button", href: "/privacy/step-up", target: "_blank", rel: "noopener" }, "Confirm it is you")
    ));
  } else if (c === "login") {
    append(li, h(
      "span",
      { class: "actions" },
      h("a", { class: "button", href: "/privacy/", target: "_blank", rel: "noopener" }, "Sign in")
    ));
  }
  state.items.set(id, li);
  append(log, li);
  scrollDown();
}
function scrollDown() {
  log.scrollTop = log.scrollHeight;
}
async function onSubmit(e) {
  e.preventDefault();
  showError(errorBox, "");
  const typed = input.value.trim();
  if (!typed) {
    showError(errorBox, "Write a message first.");
    input.focus();
    return;
  }
  if (!state.accepted) {
    showError(errorBox, "Please read the notice and start the chat first.");
    return;
  }
  if (new TextEncoder().encode(typed).length > 4096) {
    showError(errorBox, "The message is too long (at most 4096 bytes).");
    return;
  }
  const li = bubble("AUTHOR_CUSTOMER", typed);
  li.classList.add("sending");
  const pending = { typed, li };
  sendButton.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    await ensureSession();
    await ensureConversation();
    append(log, li);
    state.pending.push(pending);
    scrollDown();
    input.value = "";
    const ctx = { conversationId: state.conversationId, language, view: state.view };
    const body = await outgoing(ctx, typed);
    const resp = await post(`/v1/conversations/${state.conversationId}/messages`, body);
    for (const m of await incoming(ctx, resp)) show(m);
  } catch (err) {
    state.pending = state.pending.filter((p) => p !== pending);
    if (li.isConnected) {
      li.classList.add("failed");
      append(li, h("span", { class: "hint" }, " Not sent."));
    }
    if (!input.value) input.value = typed;
    if (err instanceof ApiError && err.reason === "STEP_UP_REQUIRED") {
      showStepUp();
    } else {
      showError(errorBox, err);
    }
  } finally {
    sendButton.disabled = false;
    form.removeAttribute("aria-busy");
  }
}
function showStepUp() {
  replace(
    errorBox,
    "For your security, confirm it is you first. ",
    h("a", { href: "/privacy/step-up", target: "_blank", rel: "noopener" }, "Confirm it is you"),
    ", then send your message again."
  );
  errorBox.hidden = false;
}
async function endChat() {
  if (!state.conversationId) return;
  endButton.disabled = true;
  try {
    await post(`/v1/conversations/${state.conversationId}:close`, {});
  } catch (err) {
    showError(errorBox, err);
  } finally {
    endButton.disabled = false;
  }
}
window.addEventListener("focus", () => {
  if (state.kind === "customer") refreshSession();
});
