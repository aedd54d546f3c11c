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
async function busy(form2, f) {
  const controls = [...form2.querySelectorAll("button, input, select, textarea")];
  const alert = form2.querySelector("[role=alert]");
  const was = controls.map((c) => c.disabled);
  controls.forEach((c) => c.disabled = true);
  form2.setAttribute("aria-busy", "true");
  if (alert) showError(alert, "");
  try {
    return await f();
  } catch (err) {
    if (alert) showError(alert, err);
    else throw err;
    return void 0;
  } finally {
    controls.forEach((c, i) => c.disabled = was[i]);
    form2.removeAttribute("aria-busy");
  }
}
var fieldSeq = 0;
function field(label, attrs = {}, hint = "") {
  const id = attrs.id ?? `f${++fieldSeq}`;
  const hintId = hint ? `${id}-hint` : void 0;
  const tag = attrs.type === "textarea" ? "textarea" : attrs.type === "select" ? "select" : "input";
  const { options: options2 = [], ...rest } = attrs;
  if (tag !== "input") delete rest.type;
  const control = h(tag, { ...rest, id, "aria-describedby": hintId }, ...options2.map(([v, t2]) => h("option", { value: v }, t2)));
  return h("div", { class: "field" }, h("label", { for: id }, label), hint ? h("p", { class: "hint", id: hintId }, hint) : null, control);
}

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
function onSessionChange(f) {
  listeners.add(f);
  return () => listeners.delete(f);
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
var get = (path, opts) => request("GET", path, opts);
var post = (path, body = {}, opts = {}) => request("POST", path, { ...opts, body });
var del = (path, opts) => request("DELETE", path, opts);
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

// src/privacy/state.js
var params = new URLSearchParams(location.search);
var t = params.get("tenant") ?? "";
var tenant = /^[a-z0-9][a-z0-9_-]{0,62}$/.test(t) ? t : "default";
var href = (page) => `/privacy/${page}${t && tenant === t ? `?tenant=${encodeURIComponent(t)}` : ""}`;
var go = () => {
};
function setNavigator(f) {
  go = f;
}
function navigate(page) {
  go(page);
}
var carry = { email: "" };

// src/privacy/ui.js
function show(title, ...content) {
  replace($("#title"), title);
  document.title = `${title} · Privacy centre`;
  replace($("#app"), ...content);
  replace($("#error"), "");
  $("#title").setAttribute("tabindex", "-1");
  $("#title").focus({ preventScroll: false });
}
function status(text) {
  replace($("#status"), text);
}
function form(attrs, children, submitLabel, onSubmit, ...extra) {
  const alert = h("p", { role: "alert", class: "form-error" });
  const f = h("form", { novalidate: true, ...attrs }, children, alert, h("div", { class: "actions" }, h("button", { type: "submit" }, submitLabel), extra));
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(f, () => onSubmit(f));
  });
  return f;
}
var value = (f, name) => (f.elements.namedItem(name)?.value ?? "").trim();
function enumLabel(v, prefix) {
  const s = String(v ?? "").replace(prefix, "").toLowerCase().replaceAll("_", " ");
  return s ? s[0].toUpperCase() + s.slice(1) : "";
}
function when(ts, withTime = true) {
  if (!ts) return "";
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return "";
  return withTime ? d.toLocaleString(void 0, { dateStyle: "medium", timeStyle: "short" }) : d.toLocaleDateString(void 0, { dateStyle: "long" });
}
var time = (ts, withTime = true) => ts ? h("time", { datetime: ts }, when(ts, withTime)) : "—";
function requestKey(prefix) {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return `${prefix}-${[...b].map((x) => x.toString(16).padStart(2, "0")).join("")}`;
}
function section(title, ...children) {
  return h("section", { class: "panel" }, h("h2", {}, title), children);
}
function definitions(pairs) {
  const dl = h("dl", { class: "facts" });
  for (const [k, v] of pairs) append(dl, h("dt", {}, k), h("dd", {}, v));
  return dl;
}
function saveFile(name, blob) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 6e4);
}

// src/privacy/webauthn.js
var enc = new TextEncoder();
var dec = new TextDecoder();
var supported = () => typeof PublicKeyCredential === "function" && typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function";
function fromBase64(b64) {
  const bin = atob(String(b64 ?? ""));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
function toBase64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}
function options(b64) {
  const o = JSON.parse(dec.decode(fromBase64(b64)));
  return o.publicKey ?? o;
}
var credentialJSON = (cred) => toBase64(enc.encode(JSON.stringify(cred.toJSON())));
async function create(optionsJSON) {
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options(optionsJSON));
  const cred = await navigator.credentials.create({ publicKey });
  return credentialJSON(cred);
}
async function get2(optionsJSON) {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options(optionsJSON));
  const cred = await navigator.credentials.get({ publicKey });
  return credentialJSON(cred);
}
function problem(err) {
  if (err?.name === "NotAllowedError") return "The passkey request was cancelled or timed out.";
  if (err?.name === "InvalidStateError") return "This authenticator is already registered.";
  if (err?.name === "SecurityError") return "Passkeys do not work on this address.";
  return err?.text ?? err?.message ?? String(err);
}

// src/privacy/stepup.js
async function stepUpWith(code) {
  const body = /^[0-9]{6}$/.test(code) ? { totp_code: code } : { recovery_code: code };
  const r = await post("/v1/sessions:stepUp", body, { headers: SESSION_HEADER });
  setSession(r.tokens);
  return r;
}
async function stepUpWithPasskey({ tenant: tenant2, token: token2 } = {}) {
  const begin = await post("/v1/sessions:beginWebAuthn", tenant2 ? { tenant: tenant2 } : {}, { headers: SESSION_HEADER, token: token2 });
  const credential = await get2(begin.options_json);
  const r = await post("/v1/sessions:finishWebAuthn", { ceremony_id: begin.ceremony_id, credential_json: credential }, { headers: SESSION_HEADER, token: token2 });
  setSession(r.tokens);
  return r;
}
function secondFactorForm(onDone, ...extra) {
  const passkey = supported() ? h("button", { type: "button", class: "secondary", on: { click: () => usePasskey() } }, "Use a passkey") : null;
  const f = form(
    { class: "step-up", "aria-label": "Second factor" },
    field("Code from your authenticator app", { name: "code", required: true, autocomplete: "one-time-code", inputmode: "text", maxlength: 32, spellcheck: false }, "Six digits, or one of your recovery codes."),
    "Confirm",
    async (fm) => {
      const code = value(fm, "code").replaceAll(" ", "");
      if (!code) throw new ApiError(400, "CODE_MISSING", "Enter the code from your authenticator app or a recovery code.");
      await stepUpWith(code);
      onDone();
    },
    passkey,
    ...extra
  );
  async function usePasskey() {
    const alert = f.querySelector("[role=alert]");
    alert.textContent = "";
    try {
      await stepUpWithPasskey();
      onDone();
    } catch (err) {
      alert.textContent = problem(err);
    }
  }
  return f;
}
function askStepUp() {
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      resolve(ok);
    };
    const cancel = h("button", { type: "button", class: "secondary", on: { click: () => finish(false) } }, "Cancel");
    const dlg = h(
      "dialog",
      { "aria-labelledby": "stepup-title", class: "dialog" },
      h("h2", { id: "stepup-title" }, "Confirm it is you"),
      h("p", {}, "This needs a second factor from the last few minutes."),
      secondFactorForm(() => finish(true), cancel)
    );
    dlg.addEventListener("cancel", () => finish(false));
    document.body.append(dlg);
    dlg.showModal();
    dlg.querySelector("input")?.focus();
  });
}
async function withStepUp(f) {
  try {
    return await f();
  } catch (err) {
    if (!(err instanceof ApiError) || err.reason !== "STEP_UP_REQUIRED") throw err;
    if (!await askStepUp()) throw new ApiError(401, "STEP_UP_CANCELLED", "Cancelled: this needs you to confirm it is you.");
    return f();
  }
}

// src/privacy/auth.js
function signUpPage() {
  const f = form(
    { "aria-label": "Create an account" },
    [
      field("E-mail address", { name: "email", type: "email", required: true, autocomplete: "email", maxlength: 254 }),
      field(
        "Password",
        { name: "password", type: "password", required: true, autocomplete: "new-password", minlength: 8, maxlength: 128 },
        "At least 15 characters, or 8 once you add a second factor. A few unusual words make a good one."
      )
    ],
    "Create account",
    async (fm) => {
      const email = value(fm, "email");
      await post("/v1/accounts:signUp", { tenant, email, password: fm.elements.namedItem("password").value, language: lang() }, { token: "" });
      carry.email = email;
      verifyStep();
    }
  );
  show(
    "Create an account",
    h("p", {}, "See and control what the shop keeps about you."),
    f,
    h("p", {}, "Already have an account? ", h("a", { href: href("login"), "data-nav": "login" }, "Sign in"))
  );
}
function verifyStep() {
  const f = form(
    { "aria-label": "Confirm your e-mail address" },
    field("Code from the e-mail", { name: "code", required: true, autocomplete: "one-time-code", maxlength: 128, spellcheck: false }),
    "Confirm address",
    async (fm) => {
      await post("/v1/accounts:verifyEmail", { code: value(fm, "code") }, { token: "" });
      status("Your e-mail address is confirmed. Sign in to continue.");
      navigate("login");
    }
  );
  show("Check your e-mail", h("p", {}, "We sent a code to the address you gave. Enter it here to finish."), f);
}
var lang = () => /^[a-z]{2}$/.test(navigator.language?.slice(0, 2) ?? "") ? navigator.language.slice(0, 2) : "";
function loginPage() {
  const f = form(
    { "aria-label": "Sign in" },
    [
      field("E-mail address", { name: "email", type: "email", required: true, autocomplete: "username", maxlength: 254, value: carry.email || void 0 }),
      field("Password", { name: "password", type: "password", required: true, autocomplete: "current-password", maxlength: 128 })
    ],
    "Sign in",
    async (fm) => {
      const r = await post("/v1/sessions:login", { tenant, email: value(fm, "email"), password: fm.elements.namedItem("password").value }, { headers: SESSION_HEADER, token: "" });
      carry.email = "";
      setSession(r.tokens);
      if (r.second_factor_available) secondStep();
      else navigate("data");
    },
    supported() ? h("button", { type: "button", class: "secondary", on: { click: (e) => passkeyLogin(e.target.form) } }, "Sign in with a passkey") : null
  );
  show(
    "Sign in",
    f,
    h("p", {}, h("a", { href: href("reset"), "data-nav": "reset" }, "Forgot your password?")),
    h("p", {}, "New here? ", h("a", { href: href("signup"), "data-nav": "signup" }, "Create an account"))
  );
}
function resetPage() {
  const f = form(
    { "aria-label": "Reset your password" },
    field("E-mail address", { name: "email", type: "email", required: true, autocomplete: "username", maxlength: 254 }),
    "Send me a code",
    async (fm) => {
      await post("/v1/accounts:requestPasswordReset", { tenant, email: value(fm, "email") }, { token: "" });
      carry.email = value(fm, "email");
      newPasswordStep();
    }
  );
  show("Reset your password", f);
}
function newPasswordStep() {
  const f = form(
    { "aria-label": "Choose a new password" },
    [
      field("Code from the e-mail", { name: "code", required: true, autocomplete: "one-time-code", maxlength: 128, spellcheck: false }),
      field(
        "New password",
        { name: "password", type: "password", required: true, autocomplete: "new-password", minlength: 8, maxlength: 128 },
        "At least 15 characters, or 8 with a second factor."
      )
    ],
    "Set password",
    async (fm) => {
      await post("/v1/accounts:resetPassword", { code: value(fm, "code"), new_password: fm.elements.namedItem("password").value }, { token: "" });
      status("Your password is changed and every session of your account has ended. Sign in with the new one.");
      navigate("login");
    }
  );
  show("Choose a new password", h("p", {}, "If the address has an account, we sent a code to it. Enter it with your new password."), f);
}
async function passkeyLogin(f) {
  const alert = f.querySelector("[role=alert]");
  alert.textContent = "";
  try {
    await stepUpWithPasskey({ tenant, token: "" });
    navigate("data");
  } catch (err) {
    alert.textContent = problem(err);
  }
}
function secondStep() {
  const skip = h("button", { type: "button", class: "secondary", on: { click: () => navigate("data") } }, "Not now");
  show(
    "Confirm it is you",
    h("p", {}, "Your account has a second factor. Enter a code from your authenticator app, a recovery code, or use a passkey."),
    secondFactorForm(() => navigate("data"), skip)
  );
}
async function logout() {
  try {
    await post("/v1/sessions:logout", {}, { headers: SESSION_HEADER });
  } catch {
  }
  clearSession();
  status("You are signed out.");
  navigate("login");
}

// src/privacy/consents.js
var bases = {
  LEGAL_BASIS_CONSENT: "Your consent",
  LEGAL_BASIS_CONTRACT: "Needed for your orders (contract)",
  LEGAL_BASIS_LEGITIMATE_INTEREST: "The shop's legitimate interest (you may object)",
  LEGAL_BASIS_LEGAL_OBLIGATION: "Required by law"
};
var choosable = (basis) => basis === "LEGAL_BASIS_CONSENT" || basis === "LEGAL_BASIS_LEGITIMATE_INTEREST";
async function consentsPage() {
  const [r, notices] = await Promise.all([get("/v1/consent/consents"), listNotices()]);
  const states = r.consents ?? [];
  const open = states.filter((s) => choosable(s.purpose?.legal_basis));
  const fixed = states.filter((s) => !choosable(s.purpose?.legal_basis));
  show(
    "Consents",
    h("p", {}, "Choose what the shop may use your data for. You can change your mind at any time; each decision gets a signed receipt."),
    h("div", { class: "consents" }, open.map((s) => card(s, noticeFor(s.purpose.purpose_id, notices)))),
    section(
      "Always in use",
      h("p", {}, "These do not rest on your consent. You can still ask for your data to be erased or restricted under Requests."),
      h("ul", {}, fixed.map((s) => h("li", {}, h("strong", {}, s.purpose.display_name), " — ", s.purpose.description, " ", h("span", { class: "muted" }, `(${bases[s.purpose.legal_basis] ?? ""})`))))
    )
  );
}
async function listNotices() {
  const out = [];
  let token2 = "";
  do {
    const q = new URLSearchParams({ page_size: "100" });
    if (token2) q.set("page_token", token2);
    const r = await get(`/v1/consent/notices?${q}`);
    out.push(...r.notices ?? []);
    token2 = r.next_page_token ?? "";
  } while (token2);
  return out;
}
function noticeFor(purposeID, notices) {
  const asking = notices.filter((n) => (n.purpose_ids ?? []).includes(purposeID));
  return asking.find((n) => n.notice_id === purposeID) ?? asking[0] ?? null;
}
function textFor(notice) {
  const texts = notice?.texts ?? [];
  const want = (navigator.language || "en").toLowerCase();
  return texts.find((t2) => t2.language.toLowerCase() === want) ?? texts.find((t2) => want.startsWith(t2.language.toLowerCase())) ?? texts.find((t2) => t2.language === "en") ?? texts[0];
}
function card(s, notice) {
  const p = s.purpose;
  const text = textFor(notice);
  const allowed = Boolean(s.check?.allowed);
  const id = `purpose-${p.purpose_id}`;
  const alert = h("p", { role: "alert" });
  const stateLine = h(
    "p",
    { class: `consent-state ${allowed ? "ok" : "muted"}` },
    allowed ? "Allowed" : "Not allowed",
    s.latest_record ? [" since ", time(s.latest_record.record_time)] : null
  );
  const receipt = s.latest_record?.receipt_id ? h("button", { type: "button", class: "secondary", on: { click: () => download(s.latest_record.receipt_id, alert) } }, "Download receipt") : null;
  let action;
  if (allowed) {
    action = h(
      "button",
      { type: "button", class: "danger", on: { click: () => decide(p, "withdraw", null, alert) } },
      p.legal_basis === "LEGAL_BASIS_CONSENT" ? "Withdraw consent" : "Object"
    );
  } else if (text) {
    action = h(
      "button",
      { type: "button", on: { click: () => decide(p, "grant", { notice_id: notice.notice_id, version: Number(notice.version), language: text.language, text_sha256: text.text_sha256 }, alert) } },
      p.legal_basis === "LEGAL_BASIS_CONSENT" ? "Give consent" : "Allow again"
    );
  }
  const noticeBlock = text ? [
    h("blockquote", { class: "notice-text", lang: text.language }, text.text),
    h("p", { class: "muted notice-version" }, `Notice “${notice.notice_id}”, version ${notice.version}`, notice.create_time ? [", published ", time(notice.create_time, false)] : null)
  ] : h("p", { class: "muted" }, "No notice is published for this purpose, so it cannot be granted here.");
  return h(
    "section",
    { class: "panel consent", "aria-labelledby": id, "data-purpose": p.purpose_id, "data-notice": text ? `${notice.notice_id}/${notice.version}` : null },
    h("h2", { id }, p.display_name),
    h("p", {}, p.description),
    h("p", { class: "muted" }, "Legal basis: ", bases[p.legal_basis] ?? p.legal_basis, p.retention_days ? `. Kept for ${p.retention_days} days.` : "."),
    noticeBlock,
    stateLine,
    h("div", { class: "actions" }, action, receipt),
    alert
  );
}
async function decide(p, verb, notice, alert) {
  alert.textContent = "";
  try {
    const body = { channel: "CHANNEL_WEB", request_id: requestKey(verb) };
    if (notice) body.notice = notice;
    const r = await post(`/v1/consent/purposes/${encodeURIComponent(p.purpose_id)}:${verb}`, body);
    await consentsPage();
    status(`${p.display_name}: ${verb === "grant" ? "allowed" : "withdrawn"}. Receipt ${r.receipt?.receipt_id ?? ""} is ready to download.`);
  } catch (err) {
    alert.textContent = err?.text ?? err?.message ?? String(err);
  }
}
async function download(receiptID, alert) {
  alert.textContent = "";
  try {
    const r = await get(`/v1/consent/receipts/${encodeURIComponent(receiptID)}`);
    saveFile(`consent-receipt-${receiptID}.jws`, new Blob([r.receipt.jws], { type: "application/jose" }));
    status("Receipt downloaded.");
  } catch (err) {
    alert.textContent = err?.text ?? err?.message ?? String(err);
  }
}

// src/privacy/align.js
var placeholderRE = /\[([A-Z][A-Z_]*?)_(\d+)\]/g;
var escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
function placeholdersOf(text) {
  return [...String(text).matchAll(placeholderRE)].map((m) => m[0]);
}
function align(stored, shown) {
  const out = /* @__PURE__ */ new Map();
  const order = [];
  let re = "^";
  let last = 0;
  for (const m2 of String(stored).matchAll(placeholderRE)) {
    re += escape(stored.slice(last, m2.index));
    const seen = order.indexOf(m2[0]);
    if (seen >= 0) re += `\\${seen + 1}`;
    else {
      order.push(m2[0]);
      re += "([\\s\\S]+?)";
    }
    last = m2.index + m2[0].length;
  }
  if (order.length === 0) return out;
  re += `${escape(stored.slice(last))}$`;
  const m = new RegExp(re).exec(String(shown));
  if (!m) return out;
  order.forEach((p, i) => {
    if (m[i + 1] !== p) out.set(p, m[i + 1]);
  });
  return out;
}
var kindOf = (p) => p.replace(/^\[/, "").replace(/_\d+\]$/, "");

// src/privacy/data.js
var kinds = {
  PERSON: "Name",
  EMAIL: "E-mail address",
  PHONE: "Phone number",
  CARD: "Card number",
  IBAN: "Bank account (IBAN)",
  ADDRESS: "Postal address",
  IP: "IP address",
  NATIONAL_ID: "National ID number",
  DATE_OF_BIRTH: "Date of birth",
  SECRET: "Secret"
};
var isMasked = (v) => v.includes("•");
var revealed = null;
async function dataPage() {
  const [acc, convs] = await Promise.all([get("/v1/account"), get(`/v1/conversations${query({ page_size: 20 })}`)]);
  const a = acc.account ?? {};
  const account = section("Your account", definitions([
    ["E-mail address", h("span", { class: "masked" }, a.email_masked || "—")],
    ["Confirmed", a.email_verified ? "Yes" : "Not yet"],
    ["Customer since", time(a.create_time, false)],
    ["Account id", h("code", {}, a.account_id ?? "")]
  ]));
  const chats = section("From your chats", h("p", {}, "What the assistant stored as placeholders, and what it stands for. Sensitive values stay masked until you confirm it is you."));
  show("Your data", account, chats);
  const list = convs.conversations ?? [];
  if (list.length === 0) {
    chats.append(h("p", { class: "muted" }, "You have no chats yet."));
    return;
  }
  const rows = (await Promise.all(list.map(valuesOf))).flat();
  if (rows.length === 0) {
    chats.append(h("p", { class: "muted" }, "Your chats hold no personal data."));
    return;
  }
  chats.append(h("ul", { class: "values", "aria-label": "Values from your chats" }, rows.map(row)));
}
async function valuesOf(conv) {
  const base = `/v1/conversations/${encodeURIComponent(conv.conversation_id)}/messages`;
  const [stored, shown] = await Promise.all([
    get(base + query({ view: "MESSAGE_VIEW_PLACEHOLDERS", page_size: 200 })),
    get(base + query({ view: "MESSAGE_VIEW_REIDENTIFIED", page_size: 200 }))
  ]);
  const shownByID = new Map((shown.messages ?? []).map((m) => [m.message_id, m]));
  const values = /* @__PURE__ */ new Map();
  for (const m of stored.messages ?? []) {
    const s = shownByID.get(m.message_id);
    const pairs = s && s.view === "MESSAGE_VIEW_REIDENTIFIED" ? align(m.text, s.text) : /* @__PURE__ */ new Map();
    for (const p of placeholdersOf(m.text)) {
      if (!values.has(p) || !values.get(p).shown && pairs.get(p)) values.set(p, { conv, placeholder: p, shown: pairs.get(p) ?? "", time: m.create_time });
    }
  }
  return [...values.values()];
}
function row(v) {
  const label = kinds[kindOf(v.placeholder)] ?? kindOf(v.placeholder);
  const out = h("output", { class: "value", "aria-live": "polite" }, v.shown || "Hidden");
  const masked = !v.shown || isMasked(v.shown);
  const alert = h("p", { role: "alert" });
  const button = masked ? h("button", { type: "button", class: "secondary", "aria-label": `Show ${label.toLowerCase()} in full` }, "Show") : null;
  const item2 = h(
    "li",
    { class: "value-row" },
    h("div", {}, h("strong", {}, label), " ", h("span", { class: "muted" }, "in a chat of ", time(v.time))),
    out,
    button,
    alert
  );
  const hide = () => {
    replace(out, v.shown || "Hidden");
    if (button) replace(button, "Show");
    if (revealed?.hide === hide) revealed = null;
  };
  button?.addEventListener("click", async () => {
    if (revealed?.hide === hide) return hide();
    alert.textContent = "";
    button.disabled = true;
    try {
      const r = await withStepUp(() => post(`/v1/conversations/${encodeURIComponent(v.conv.conversation_id)}:revealValue`, { placeholder: v.placeholder, purpose: "self_service" }));
      revealed?.hide();
      replace(out, r.value ?? "");
      if (!r.masked) {
        replace(button, "Hide");
        revealed = { hide };
      }
    } catch (err) {
      alert.textContent = err?.text ?? err?.message ?? String(err);
    } finally {
      button.disabled = false;
    }
  });
  return item2;
}

// src/privacy/requests.js
var types = [
  ["REQUEST_TYPE_ACCESS", "A copy of my data (access)"],
  ["REQUEST_TYPE_PORTABILITY", "My data in a machine-readable file (portability)"],
  ["REQUEST_TYPE_ERASURE", "Erase my data and account (erasure)"],
  ["REQUEST_TYPE_RESTRICTION", "Stop using my data for now (restriction)"],
  ["REQUEST_TYPE_OPT_OUT_OF_SALE", "Do not sell or share my data (opt-out)"]
];
var places = [
  ["DE", "Germany"],
  ["AT", "Austria"],
  ["BE", "Belgium"],
  ["DK", "Denmark"],
  ["ES", "Spain"],
  ["FI", "Finland"],
  ["FR", "France"],
  ["IE", "Ireland"],
  ["IT", "Italy"],
  ["NL", "Netherlands"],
  ["PL", "Poland"],
  ["PT", "Portugal"],
  ["SE", "Sweden"],
  ["GB", "United Kingdom"],
  ["US-CA", "California, United States"]
];
var typeLabel = (t2) => (types.find(([k]) => k === t2)?.[1] ?? enumLabel(t2, "REQUEST_TYPE_")).replace(/ \(.*\)$/, "");
async function requestsPage() {
  const r = await withStepUp(() => get(`/v1/privacy/requests${query({ page_size: 50 })}`));
  const list = r.requests ?? [];
  const filing = form(
    { "aria-label": "File a request" },
    [
      field("What would you like?", { type: "select", name: "type", required: true, options: types }),
      field("Where do you live?", { type: "select", name: "jurisdiction", required: true, options: places }, "This decides which law and deadlines apply."),
      h(
        "div",
        { class: "field check" },
        h("input", { type: "checkbox", name: "understood", id: "erasure-understood" }),
        h("label", { for: "erasure-understood" }, "For an erasure: I understand that it deletes my account and the data the shop holds about me, signs me out everywhere and cannot be undone.")
      )
    ],
    "File request",
    async (f) => {
      const type = value(f, "type");
      if (type === "REQUEST_TYPE_ERASURE" && !f.elements.namedItem("understood").checked) {
        throw new ApiError(400, "CONFIRMATION_MISSING", "To erase your data, first tick the box that says you understand what erasure does.");
      }
      const c = await withStepUp(() => post("/v1/privacy/requests", { type, jurisdiction: value(f, "jurisdiction"), request_key: requestKey("web") }));
      const said = `Request filed: ${typeLabel(c.request.type)}, due by ${when(c.request.deadlines?.due_time, false)}.`;
      if (type === "REQUEST_TYPE_ERASURE") {
        show(
          "Request filed",
          section("Your erasure request", h("ul", { class: "requests", "aria-label": "Your requests" }, item(c.request))),
          h("p", {}, "When it is carried out your account is deleted and you are signed out everywhere. Keep the reference if you want to ask the shop about it.")
        );
      } else {
        await requestsPage();
      }
      status(said);
    }
  );
  const refresh = h("button", { type: "button", class: "secondary", on: { click: () => requestsPage().then(() => status("Requests updated.")) } }, "Refresh");
  show(
    "Requests",
    section("Your requests", list.length ? h("ul", { class: "requests", "aria-label": "Your requests" }, list.map(item)) : h("p", { class: "muted" }, "You have not filed a request yet."), list.length ? refresh : null),
    section("File a request", h("p", {}, "The shop must answer within the deadline the law sets; you can follow it here."), filing)
  );
}
function item(r) {
  const d = r.deadlines ?? {};
  const alert = h("p", { role: "alert" });
  const done = r.state === "REQUEST_STATE_COMPLETED";
  const exportable = done && (r.type === "REQUEST_TYPE_ACCESS" || r.type === "REQUEST_TYPE_PORTABILITY");
  const exportState = !exportable ? null : r.export_download_time ? h("p", { class: "muted" }, "Export downloaded ", time(r.export_download_time), ".") : r.export_expire_time && Date.parse(r.export_expire_time) < Date.now() ? h("p", { class: "muted" }, "The export has expired.") : h(
    "div",
    { class: "actions" },
    h("button", { type: "button", on: { click: () => download2(r, "EXPORT_FORMAT_JSON", alert) } }, "Download export (JSON)"),
    h("button", { type: "button", class: "secondary", on: { click: () => download2(r, "EXPORT_FORMAT_CSV", alert) } }, "Download export (CSV)"),
    h("p", { class: "hint" }, "You can download it once, until ", time(r.export_expire_time), ".")
  );
  return h(
    "li",
    { class: "panel request", "data-request": r.request_id },
    h("h3", {}, typeLabel(r.type)),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "State"),
      h("dd", { class: "state" }, enumLabel(r.state, "REQUEST_STATE_")),
      h("dt", {}, "Filed"),
      h("dd", {}, time(r.receive_time)),
      h("dt", {}, done ? "Completed" : "Due by"),
      h(
        "dd",
        { class: "due" },
        done ? time(r.close_time) : time(d.due_time, false),
        d.overdue && !done ? h("strong", { class: "flag" }, " overdue") : null,
        r.state === "REQUEST_STATE_EXTENDED" ? [" (extended: ", enumLabel(d.extension_reason, "EXTENSION_REASON_"), ")"] : null
      ),
      h("dt", {}, "Reference"),
      h("dd", {}, h("code", {}, r.request_id))
    ),
    exportState,
    alert
  );
}
async function download2(r, format, alert) {
  alert.textContent = "";
  const fetchExport = async () => {
    const resp = await fetch(`/v1/privacy/requests/${encodeURIComponent(r.request_id)}/export${query({ format })}`, {
      headers: { Authorization: `Bearer ${accessToken()}` },
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
      referrerPolicy: "no-referrer"
    }).catch(() => {
      throw new ApiError(0, "UNREACHABLE", "The service could not be reached. Check your connection and try again.");
    });
    if (!resp.ok) throw await errorOf(resp);
    return resp.blob();
  };
  try {
    const blob = await withStepUp(fetchExport);
    saveFile(`privacy-export-${r.request_id}.${format === "EXPORT_FORMAT_CSV" ? "csv" : "json"}`, blob);
    status("Export downloaded.");
    await requestsPage();
  } catch (err) {
    alert.textContent = err?.text ?? err?.message ?? String(err);
  }
}

// src/lib/otp-qr.js
var pngSignature = "iVBORw0KGgo";
function qrImage(pngBase64, alt) {
  const b64 = String(pngBase64 ?? "");
  const img = h("img", { alt, width: 200, height: 200, class: "qr" });
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(b64) && b64.startsWith(pngSignature)) img.src = `data:image/png;base64,${b64}`;
  return img;
}

// src/privacy/security.js
var kindName = (f) => f.type === "FACTOR_TYPE_TOTP" ? "Authenticator app" : "Passkey";
async function securityPage() {
  const r = await get("/v1/account/factors");
  const factors = r.factors ?? [];
  const alert = h("p", { role: "alert" });
  const area = h("div", { id: "enrol" });
  const list = factors.length ? h("ul", { class: "factors", "aria-label": "Your second factors" }, factors.map((f) => h(
    "li",
    { class: "factor" },
    h("strong", {}, kindName(f)),
    " ",
    f.display_name && f.display_name.toLowerCase() !== kindName(f).toLowerCase() ? `“${f.display_name}”` : "",
    h("span", { class: "muted" }, " added ", time(f.create_time), f.last_used_time ? [", last used ", time(f.last_used_time)] : ""),
    h("button", { type: "button", class: "danger", "aria-label": `Remove ${kindName(f).toLowerCase()} ${f.display_name ?? ""}`.trim(), on: { click: () => removeFactor(f, alert) } }, "Remove")
  ))) : h("p", { class: "muted" }, "No second factor yet. Add one: it protects your account if your password leaks, and you need it to see sensitive data or file requests.");
  show(
    "Security",
    section(
      "Second factors",
      list,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", on: { click: () => enrolTotp(area).catch((err) => alert.textContent = err?.text ?? err?.message ?? String(err)) } }, "Add an authenticator app"),
        supported() ? h("button", { type: "button", class: "secondary", on: { click: () => enrolPasskey(area) } }, "Add a passkey") : null
      ),
      alert,
      area
    ),
    section(
      "Recovery codes",
      h("p", {}, factors.length ? `You have ${r.recovery_codes_remaining ?? 0} unused recovery codes. Each works once, in place of your second factor.` : "You get recovery codes with your first second factor."),
      factors.length ? h("button", { type: "button", class: "secondary", on: { click: () => newCodes(area, alert) } }, "Make new recovery codes") : null
    ),
    section("Password", form(
      { "aria-label": "Change your password" },
      [
        field("Current password", { name: "current", type: "password", required: true, autocomplete: "current-password", maxlength: 128 }),
        field("New password", { name: "new", type: "password", required: true, autocomplete: "new-password", minlength: 8, maxlength: 128 }, "Your other sessions end when it changes.")
      ],
      "Change password",
      async (fm) => {
        await post("/v1/account:changePassword", { current_password: fm.elements.namedItem("current").value, new_password: fm.elements.namedItem("new").value });
        fm.reset();
        status("Password changed. Your other sessions have ended.");
      }
    ))
  );
}
async function enrolTotp(area) {
  const begin = await withStepUp(() => post("/v1/account/factors:beginTotp", {}));
  const secret = new URL(begin.otpauth_uri).searchParams.get("secret") ?? "";
  const f = form(
    { "aria-label": "Confirm the authenticator app" },
    field("Code shown by the app", { name: "code", required: true, inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: 6 }),
    "Confirm",
    async (fm) => {
      const c = await post("/v1/account/factors:confirmTotp", { factor_id: begin.factor_id, code: value(fm, "code") });
      if (c.tokens?.access_token) setSession(c.tokens);
      await finished(area, "Authenticator app added.", c.recovery_codes);
    }
  );
  replace(area, h(
    "div",
    { class: "panel enrol" },
    h("h3", {}, "Scan this with your authenticator app"),
    qrImage(begin.qr_png, "QR code for your authenticator app"),
    h("p", {}, "Or type this key into the app: ", h("code", { class: "secret" }, secret.replace(/(.{4})/g, "$1 ").trim())),
    f
  ));
  area.querySelector("input")?.focus();
}
async function enrolPasskey(area) {
  const f = form(
    { "aria-label": "Add a passkey" },
    field("A name for it", { name: "name", maxlength: 64, autocomplete: "off" }, "For example “phone” or “work laptop”."),
    "Create passkey",
    async (fm) => {
      const begin = await withStepUp(() => post("/v1/account/factors:beginWebAuthn", { display_name: value(fm, "name") }));
      let credential;
      try {
        credential = await create(begin.options_json);
      } catch (err) {
        throw new Error(problem(err));
      }
      const r = await post("/v1/account/factors:finishWebAuthn", { ceremony_id: begin.ceremony_id, credential_json: credential });
      await finished(area, "Passkey added.", r.recovery_codes);
    }
  );
  replace(area, h("div", { class: "panel enrol" }, h("h3", {}, "Add a passkey"), f));
  area.querySelector("input")?.focus();
}
async function finished(area, message, codes) {
  await securityPage();
  status(message);
  if (codes?.length) showCodes(document.getElementById("enrol"), codes);
}
function showCodes(area, codes) {
  const text = codes.join("\n");
  replace(area, h(
    "div",
    { class: "panel codes", role: "region", "aria-labelledby": "codes-title" },
    h("h3", { id: "codes-title" }, "Your recovery codes"),
    h("p", {}, "Keep these somewhere safe. Each works once if you lose your second factor. They are shown only now."),
    h("ol", { class: "recovery-codes" }, codes.map((c) => h("li", {}, h("code", {}, c)))),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "secondary", on: { click: () => navigator.clipboard?.writeText(text).then(() => status("Codes copied.")) } }, "Copy"),
      h("button", { type: "button", on: { click: () => {
        replace(area);
        status("Recovery codes hidden.");
      } } }, "I have saved them")
    )
  ));
  area.querySelector("h3").setAttribute("tabindex", "-1");
  area.querySelector("h3").focus();
}
async function removeFactor(f, alert) {
  alert.textContent = "";
  try {
    await withStepUp(() => del(`/v1/account/factors/${encodeURIComponent(f.factor_id)}`));
    await securityPage();
    status(`${kindName(f)} removed.`);
  } catch (err) {
    alert.textContent = err?.text ?? err?.message ?? String(err);
  }
}
async function newCodes(area, alert) {
  alert.textContent = "";
  try {
    const r = await withStepUp(() => post("/v1/account/factors:regenerateRecoveryCodes", {}));
    showCodes(area, r.recovery_codes ?? []);
  } catch (err) {
    alert.textContent = err?.text ?? err?.message ?? String(err);
  }
}

// src/privacy/sessions.js
var methods = { pwd: "password", otp: "authenticator app", hwk: "passkey", swk: "passkey", mfa: "second factor", user: "passkey", pop: "passkey" };
async function sessionsPage() {
  const r = await get(`/v1/sessions${query({ page_size: 100 })}`);
  const list = r.sessions ?? [];
  const alert = h("p", { role: "alert" });
  show(
    "Sessions",
    section(
      "Where you are signed in",
      h("ul", { class: "sessions", "aria-label": "Your sessions" }, list.map((s) => h(
        "li",
        { class: "panel session", "data-session": s.session_id },
        h("h3", {}, s.user_agent || "Unknown device", s.current ? h("span", { class: "badge" }, " (this browser)") : null),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, "Signed in"),
          h("dd", {}, time(s.create_time)),
          h("dt", {}, "Last active"),
          h("dd", {}, time(s.last_used_time || s.create_time)),
          h("dt", {}, "With"),
          h("dd", {}, [...new Set((s.amr ?? []).map((a) => methods[a] ?? a))].join(", ") || "—"),
          h("dt", {}, "Ends"),
          h("dd", {}, time(s.expire_time))
        ),
        h("button", { type: "button", class: s.current ? "secondary" : "danger", on: { click: () => revoke(s, alert) } }, s.current ? "Sign out here" : "Sign out this session")
      ))),
      alert
    )
  );
}
async function revoke(s, alert) {
  alert.textContent = "";
  try {
    await post(`/v1/sessions/${encodeURIComponent(s.session_id)}:revoke`, {});
    if (s.current) {
      clearSession();
      status("You are signed out.");
      navigate("login");
      return;
    }
    await sessionsPage();
    status("The session is signed out.");
  } catch (err) {
    alert.textContent = err?.text ?? err?.message ?? String(err);
  }
}

// src/privacy/main.js
var pages = {
  signup: { title: "Create account", render: signUpPage, signedIn: false },
  login: { title: "Sign in", render: loginPage, signedIn: false },
  reset: { title: "Reset password", render: resetPage, signedIn: false, hidden: true },
  data: { title: "Your data", render: dataPage, signedIn: true },
  consents: { title: "Consents", render: consentsPage, signedIn: true },
  requests: { title: "Requests", render: requestsPage, signedIn: true },
  security: { title: "Security", render: securityPage, signedIn: true },
  sessions: { title: "Sessions", render: sessionsPage, signedIn: true }
};
var current = () => location.pathname.replace(/^\/privacy\/?/, "").split("/")[0];
function renderNav() {
  const signedIn = Boolean(accessToken());
  const here = current();
  const items = Object.entries(pages).filter(([, p]) => p.signedIn === signedIn && !p.hidden).map(([name, p]) => h("li", {}, h("a", { href: href(name), "data-nav": name, "aria-current": name === here ? "page" : void 0 }, p.title)));
  if (signedIn) items.push(h("li", {}, h("button", { type: "button", class: "link", on: { click: logout } }, "Sign out")));
  replace($("#nav"), items);
}
async function render() {
  let name = current();
  if (!pages[name]) name = accessToken() ? "data" : "login";
  if (pages[name].signedIn && !accessToken() && !await refreshSession()) name = "login";
  if (!pages[name].signedIn && accessToken() && name === "login") name = "data";
  if (location.pathname !== `/privacy/${name}`) history.replaceState(null, "", href(name));
  renderNav();
  try {
    await pages[name].render();
  } catch (err) {
    showError($("#error"), err);
  }
}
setNavigator((name) => {
  history.pushState(null, "", href(name));
  render();
});
document.addEventListener("click", (e) => {
  const a = e.target.closest?.("a[data-nav]");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  status("");
  history.pushState(null, "", href(a.dataset.nav));
  render();
});
window.addEventListener("popstate", () => render());
onSessionChange(() => renderNav());
await refreshSession();
render();
