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
      const field2 = colon < 0 ? line : line.slice(0, colon);
      const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field2 === "event") ev.event = val;
      else if (field2 === "id") ev.id = val;
      else if (field2 === "data") ev.data = ev.data ? `${ev.data}
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
var fieldSeq = 0;
function field(label, attrs = {}, hint = "") {
  const id = attrs.id ?? `f${++fieldSeq}`;
  const hintId = hint ? `${id}-hint` : void 0;
  const tag = attrs.type === "textarea" ? "textarea" : attrs.type === "select" ? "select" : "input";
  const { options = [], ...rest } = attrs;
  if (tag !== "input") delete rest.type;
  const control = h(tag, { ...rest, id, "aria-describedby": hintId }, ...options.map(([v, t]) => h("option", { value: v }, t)));
  return h("div", { class: "field" }, h("label", { for: id }, label), hint ? h("p", { class: "hint", id: hintId }, hint) : null, control);
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
function render(text, known, labels = LABELS) {
  return split(text).map((p) => {
    if (p.text !== void 0) return document.createTextNode(p.text);
    const span = document.createElement("span");
    const value = known.get(p.placeholder);
    if (value !== void 0) {
      span.className = "pii";
      span.textContent = value;
    } else {
      span.className = "pii unknown";
      span.textContent = labels[p.type] ?? LABELS[p.type] ?? "a detail you gave";
    }
    return span;
  });
}
function hasPlaceholder(text) {
  PLACEHOLDER.lastIndex = 0;
  return new RegExp(PLACEHOLDER.source).test(text);
}

// src/widget/stepup.js
async function stepUp(code) {
  const body = /^[0-9]{6}$/.test(code) ? { totp_code: code } : { recovery_code: code };
  const r = await post("/v1/sessions:stepUp", body, { headers: SESSION_HEADER });
  setSession(r.tokens);
}
function passkeys() {
  if (typeof PublicKeyCredential !== "function" || typeof PublicKeyCredential.parseRequestOptionsFromJSON !== "function") return false;
  const policy = document.permissionsPolicy ?? document.featurePolicy;
  return !policy?.allowsFeature || policy.allowsFeature("publickey-credentials-get");
}
function fromBase64(b64) {
  const bin = atob(String(b64 ?? ""));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
function toBase64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
async function stepUpWithPasskey() {
  const begin = await post("/v1/sessions:beginWebAuthn", {}, { headers: SESSION_HEADER });
  const o = JSON.parse(new TextDecoder().decode(fromBase64(begin.options_json)));
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(o.publicKey ?? o);
  const cred = await navigator.credentials.get({ publicKey });
  const credential = toBase64(new TextEncoder().encode(JSON.stringify(cred.toJSON())));
  const r = await post("/v1/sessions:finishWebAuthn", { ceremony_id: begin.ceremony_id, credential_json: credential }, { headers: SESSION_HEADER });
  setSession(r.tokens);
}
function stepUpPanel(T2, onDone, onCancel) {
  const alert = h("p", { role: "alert", class: "error" });
  const code = field(T2.codeLabel, { name: "code", id: "stepup-code", required: true, autocomplete: "one-time-code", inputmode: "text", maxlength: 32, spellcheck: false }, T2.codeHint);
  const submit = h("button", { type: "submit" }, T2.confirm);
  const fail = (err) => {
    alert.textContent = err instanceof ApiError ? err.text ?? err.message : T2.passkeyFailed;
  };
  const busy = async (f) => {
    form2.setAttribute("aria-busy", "true");
    submit.disabled = true;
    alert.textContent = "";
    try {
      await f();
      onDone();
    } catch (err) {
      fail(err);
    } finally {
      form2.removeAttribute("aria-busy");
      submit.disabled = false;
    }
  };
  const passkey = passkeys() ? h("button", { type: "button", class: "secondary", on: { click: () => busy(stepUpWithPasskey) } }, T2.usePasskey) : null;
  const form2 = h(
    "form",
    {
      class: "panel stepup",
      "aria-labelledby": "stepup-title",
      novalidate: true,
      on: {
        submit: (e) => {
          e.preventDefault();
          const v = (form2.elements.code.value ?? "").replaceAll(" ", "");
          if (!v) {
            alert.textContent = T2.codeMissing;
            form2.elements.code.focus();
            return;
          }
          busy(() => stepUp(v));
        }
      }
    },
    h("h2", { id: "stepup-title" }, T2.confirm),
    h("p", { class: "hint" }, T2.stepUpWhy),
    code,
    alert,
    h(
      "div",
      { class: "actions" },
      submit,
      ...passkey ? [passkey] : [],
      h("button", { type: "button", class: "secondary", on: { click: onCancel } }, T2.cancel)
    )
  );
  return form2;
}

// src/widget/strings.js
var STRINGS = {
  en: {
    labels: LABELS,
    messages: "Messages",
    guest: "Chatting as a guest",
    signedIn: "Signed in",
    signIn: "Sign in",
    end: "End chat",
    yourMessage: "Your message",
    hint: "Enter sends, Shift+Enter starts a new line.",
    send: "Send",
    notSetUp: "This chat is not set up: the page that embeds it names no shop.",
    beforeYouChat: "Before you chat",
    loadingNotice: "Loading the notice…",
    accept: "I have read this, start the chat",
    noticeVersion: (id, v) => `Notice “${id}”, version ${v}.`,
    noticeFailed: "The shop's notice could not be loaded, so the chat cannot start.",
    canWrite: "You can write your message now.",
    expired: "Your chat session expired. Send your message again to start a new chat.",
    reconnecting: "Reconnecting…",
    ended: "The chat has ended.",
    streamFailed: "The connection to the chat failed; reconnecting…",
    you: "You",
    assistant: "Assistant",
    agent: "Support",
    shop: "Shop",
    confirm: "Confirm it is you",
    notSent: "Not sent.",
    writeFirst: "Write a message first.",
    readNoticeFirst: "Please read the notice and start the chat first.",
    tooLong: "The message is too long (at most 4096 bytes).",
    cannotSeal: "Your message was not sent: this chat could not encrypt it end to end. Try again later, or use another browser.",
    replyUnopened: "A reply came, but it could not be opened safely, so it is not shown.",
    notSealed: "Messages in this chat are not end-to-end encrypted.",
    codeLabel: "Code from your authenticator app",
    codeHint: "Six digits, or one of your recovery codes.",
    codeMissing: "Enter the code from your authenticator app or a recovery code.",
    usePasskey: "Use a passkey",
    cancel: "Cancel",
    stepUpWhy: "The assistant needs a recent second factor before it can answer this.",
    stepUpDone: "Confirmed. Your question is sent again.",
    passkeyFailed: "The passkey did not work. Try a code instead.",
    signInWhy: "Sign-in opens in a new tab: inside the shop’s page this chat cannot use your account’s session.",
    stepUp: ["For your security, confirm it is you first. ", ", then send your message again."]
  },
  de: {
    labels: { PERSON: "ein Name", EMAIL: "Ihre E-Mail-Adresse", PHONE: "Ihre Telefonnummer", CARD: "Ihre Karte", IBAN: "Ihr Bankkonto", ADDRESS: "Ihre Adresse", IP: "eine IP-Adresse", NATIONAL_ID: "Ihre Ausweisnummer", DATE_OF_BIRTH: "Ihr Geburtsdatum", SECRET: "ein Geheimnis", LITERAL: "Ihr Text" },
    messages: "Nachrichten",
    guest: "Sie chatten als Gast",
    signedIn: "Angemeldet",
    signIn: "Anmelden",
    end: "Chat beenden",
    yourMessage: "Ihre Nachricht",
    hint: "Eingabe sendet, Umschalt+Eingabe beginnt eine neue Zeile.",
    send: "Senden",
    notSetUp: "Dieser Chat ist nicht eingerichtet: Die Seite, die ihn einbindet, nennt keinen Shop.",
    beforeYouChat: "Bevor Sie chatten",
    loadingNotice: "Der Hinweis wird geladen…",
    accept: "Gelesen, Chat beginnen",
    noticeVersion: (id, v) => `Hinweis „${id}“, Version ${v}.`,
    noticeFailed: "Der Hinweis des Shops konnte nicht geladen werden, daher kann der Chat nicht beginnen.",
    canWrite: "Sie können jetzt Ihre Nachricht schreiben.",
    expired: "Ihre Chat-Sitzung ist abgelaufen. Senden Sie Ihre Nachricht erneut, um einen neuen Chat zu beginnen.",
    reconnecting: "Verbindung wird wiederhergestellt…",
    ended: "Der Chat ist beendet.",
    streamFailed: "Die Verbindung zum Chat ist unterbrochen; sie wird wiederhergestellt…",
    you: "Sie",
    assistant: "Assistent",
    agent: "Kundendienst",
    shop: "Shop",
    confirm: "Bestätigen, dass Sie es sind",
    notSent: "Nicht gesendet.",
    writeFirst: "Schreiben Sie zuerst eine Nachricht.",
    readNoticeFirst: "Bitte lesen Sie zuerst den Hinweis und beginnen Sie den Chat.",
    tooLong: "Die Nachricht ist zu lang (höchstens 4096 Bytes).",
    cannotSeal: "Ihre Nachricht wurde nicht gesendet: Dieser Chat konnte sie nicht Ende-zu-Ende verschlüsseln. Versuchen Sie es später erneut oder verwenden Sie einen anderen Browser.",
    replyUnopened: "Eine Antwort ist eingegangen, konnte aber nicht sicher geöffnet werden und wird daher nicht angezeigt.",
    notSealed: "Nachrichten in diesem Chat sind nicht Ende-zu-Ende-verschlüsselt.",
    codeLabel: "Code aus Ihrer Authenticator-App",
    codeHint: "Sechs Ziffern oder einer Ihrer Wiederherstellungscodes.",
    codeMissing: "Geben Sie den Code aus Ihrer Authenticator-App oder einen Wiederherstellungscode ein.",
    usePasskey: "Passkey verwenden",
    cancel: "Abbrechen",
    stepUpWhy: "Der Assistent braucht einen aktuellen zweiten Faktor, bevor er darauf antworten kann.",
    stepUpDone: "Bestätigt. Ihre Frage wird erneut gesendet.",
    passkeyFailed: "Der Passkey hat nicht funktioniert. Verwenden Sie stattdessen einen Code.",
    signInWhy: "Die Anmeldung öffnet sich in einem neuen Tab: In der Seite des Shops kann dieser Chat die Sitzung Ihres Kontos nicht verwenden.",
    stepUp: ["Zu Ihrer Sicherheit bestätigen Sie bitte zuerst, dass Sie es sind: ", ", dann senden Sie Ihre Nachricht erneut."]
  },
  fr: {
    labels: { PERSON: "un nom", EMAIL: "votre adresse e-mail", PHONE: "votre numéro de téléphone", CARD: "votre carte", IBAN: "votre compte bancaire", ADDRESS: "votre adresse", IP: "une adresse IP", NATIONAL_ID: "votre numéro d’identité", DATE_OF_BIRTH: "votre date de naissance", SECRET: "un secret", LITERAL: "votre texte" },
    messages: "Messages",
    guest: "Vous discutez en tant qu’invité",
    signedIn: "Connecté",
    signIn: "Se connecter",
    end: "Terminer la discussion",
    yourMessage: "Votre message",
    hint: "Entrée envoie, Maj+Entrée commence une nouvelle ligne.",
    send: "Envoyer",
    notSetUp: "Cette discussion n’est pas configurée : la page qui l’intègre ne nomme aucune boutique.",
    beforeYouChat: "Avant de discuter",
    loadingNotice: "Chargement de l’avis…",
    accept: "J’ai lu, commencer la discussion",
    noticeVersion: (id, v) => `Avis « ${id} », version ${v}.`,
    noticeFailed: "L’avis de la boutique n’a pas pu être chargé, la discussion ne peut donc pas commencer.",
    canWrite: "Vous pouvez maintenant écrire votre message.",
    expired: "Votre session de discussion a expiré. Renvoyez votre message pour commencer une nouvelle discussion.",
    reconnecting: "Reconnexion…",
    ended: "La discussion est terminée.",
    streamFailed: "La connexion à la discussion a échoué ; reconnexion…",
    you: "Vous",
    assistant: "Assistant",
    agent: "Service client",
    shop: "Boutique",
    confirm: "Confirmer votre identité",
    notSent: "Non envoyé.",
    writeFirst: "Écrivez d’abord un message.",
    readNoticeFirst: "Veuillez d’abord lire l’avis et commencer la discussion.",
    tooLong: "Le message est trop long (4096 octets au plus).",
    cannotSeal: "Votre message n’a pas été envoyé : cette discussion n’a pas pu le chiffrer de bout en bout. Réessayez plus tard ou utilisez un autre navigateur.",
    replyUnopened: "Une réponse est arrivée, mais elle n’a pas pu être ouverte de façon sûre ; elle n’est donc pas affichée.",
    notSealed: "Les messages de cette discussion ne sont pas chiffrés de bout en bout.",
    codeLabel: "Code de votre application d’authentification",
    codeHint: "Six chiffres, ou l’un de vos codes de récupération.",
    codeMissing: "Saisissez le code de votre application d’authentification ou un code de récupération.",
    usePasskey: "Utiliser une clé d’accès",
    cancel: "Annuler",
    stepUpWhy: "L’assistant a besoin d’un second facteur récent avant de pouvoir répondre.",
    stepUpDone: "Confirmé. Votre question est renvoyée.",
    passkeyFailed: "La clé d’accès n’a pas fonctionné. Utilisez plutôt un code.",
    signInWhy: "La connexion s’ouvre dans un nouvel onglet : dans la page de la boutique, cette discussion ne peut pas utiliser la session de votre compte.",
    stepUp: ["Pour votre sécurité, confirmez d’abord votre identité : ", ", puis renvoyez votre message."]
  },
  es: {
    labels: { PERSON: "un nombre", EMAIL: "su correo electrónico", PHONE: "su número de teléfono", CARD: "su tarjeta", IBAN: "su cuenta bancaria", ADDRESS: "su dirección", IP: "una dirección IP", NATIONAL_ID: "su número de identidad", DATE_OF_BIRTH: "su fecha de nacimiento", SECRET: "un secreto", LITERAL: "su texto" },
    messages: "Mensajes",
    guest: "Chatea como invitado",
    signedIn: "Sesión iniciada",
    signIn: "Iniciar sesión",
    end: "Terminar el chat",
    yourMessage: "Su mensaje",
    hint: "Intro envía, Mayús+Intro empieza una línea nueva.",
    send: "Enviar",
    notSetUp: "Este chat no está configurado: la página que lo incluye no indica ninguna tienda.",
    beforeYouChat: "Antes de chatear",
    loadingNotice: "Cargando el aviso…",
    accept: "Lo he leído, empezar el chat",
    noticeVersion: (id, v) => `Aviso «${id}», versión ${v}.`,
    noticeFailed: "No se pudo cargar el aviso de la tienda, así que el chat no puede empezar.",
    canWrite: "Ya puede escribir su mensaje.",
    expired: "Su sesión de chat ha caducado. Envíe de nuevo su mensaje para empezar un chat nuevo.",
    reconnecting: "Reconectando…",
    ended: "El chat ha terminado.",
    streamFailed: "La conexión con el chat ha fallado; reconectando…",
    you: "Usted",
    assistant: "Asistente",
    agent: "Atención al cliente",
    shop: "Tienda",
    confirm: "Confirmar su identidad",
    notSent: "No enviado.",
    writeFirst: "Escriba primero un mensaje.",
    readNoticeFirst: "Lea primero el aviso y empiece el chat.",
    tooLong: "El mensaje es demasiado largo (4096 bytes como máximo).",
    cannotSeal: "Su mensaje no se ha enviado: este chat no ha podido cifrarlo de extremo a extremo. Inténtelo más tarde o use otro navegador.",
    replyUnopened: "Ha llegado una respuesta, pero no se ha podido abrir de forma segura, así que no se muestra.",
    notSealed: "Los mensajes de este chat no están cifrados de extremo a extremo.",
    codeLabel: "Código de su aplicación de autenticación",
    codeHint: "Seis dígitos, o uno de sus códigos de recuperación.",
    codeMissing: "Introduzca el código de su aplicación de autenticación o un código de recuperación.",
    usePasskey: "Usar una llave de acceso",
    cancel: "Cancelar",
    stepUpWhy: "El asistente necesita un segundo factor reciente antes de poder responder.",
    stepUpDone: "Confirmado. Su pregunta se envía de nuevo.",
    passkeyFailed: "La llave de acceso no ha funcionado. Use un código.",
    signInWhy: "El inicio de sesión se abre en una pestaña nueva: dentro de la página de la tienda este chat no puede usar la sesión de su cuenta.",
    stepUp: ["Por su seguridad, confirme primero su identidad: ", " y después envíe de nuevo su mensaje."]
  },
  nl: {
    labels: { PERSON: "een naam", EMAIL: "uw e-mailadres", PHONE: "uw telefoonnummer", CARD: "uw kaart", IBAN: "uw bankrekening", ADDRESS: "uw adres", IP: "een IP-adres", NATIONAL_ID: "uw identiteitsnummer", DATE_OF_BIRTH: "uw geboortedatum", SECRET: "een geheim", LITERAL: "uw tekst" },
    messages: "Berichten",
    guest: "U chat als gast",
    signedIn: "Ingelogd",
    signIn: "Inloggen",
    end: "Chat beëindigen",
    yourMessage: "Uw bericht",
    hint: "Enter verstuurt, Shift+Enter begint een nieuwe regel.",
    send: "Versturen",
    notSetUp: "Deze chat is niet ingesteld: de pagina die hem insluit noemt geen winkel.",
    beforeYouChat: "Voordat u chat",
    loadingNotice: "De kennisgeving wordt geladen…",
    accept: "Gelezen, chat starten",
    noticeVersion: (id, v) => `Kennisgeving ‘${id}’, versie ${v}.`,
    noticeFailed: "De kennisgeving van de winkel kon niet worden geladen, dus de chat kan niet beginnen.",
    canWrite: "U kunt nu uw bericht schrijven.",
    expired: "Uw chatsessie is verlopen. Verstuur uw bericht opnieuw om een nieuwe chat te beginnen.",
    reconnecting: "Opnieuw verbinden…",
    ended: "De chat is beëindigd.",
    streamFailed: "De verbinding met de chat is mislukt; opnieuw verbinden…",
    you: "U",
    assistant: "Assistent",
    agent: "Klantenservice",
    shop: "Winkel",
    confirm: "Bevestig dat u het bent",
    notSent: "Niet verstuurd.",
    writeFirst: "Schrijf eerst een bericht.",
    readNoticeFirst: "Lees eerst de kennisgeving en start de chat.",
    tooLong: "Het bericht is te lang (ten hoogste 4096 bytes).",
    cannotSeal: "Uw bericht is niet verstuurd: deze chat kon het niet end-to-end versleutelen. Probeer het later opnieuw of gebruik een andere browser.",
    replyUnopened: "Er kwam een antwoord, maar het kon niet veilig worden geopend en wordt daarom niet getoond.",
    notSealed: "Berichten in deze chat zijn niet end-to-end versleuteld.",
    codeLabel: "Code uit uw authenticator-app",
    codeHint: "Zes cijfers, of een van uw herstelcodes.",
    codeMissing: "Voer de code uit uw authenticator-app of een herstelcode in.",
    usePasskey: "Passkey gebruiken",
    cancel: "Annuleren",
    stepUpWhy: "De assistent heeft een recente tweede factor nodig voordat hij dit kan beantwoorden.",
    stepUpDone: "Bevestigd. Uw vraag wordt opnieuw verstuurd.",
    passkeyFailed: "De passkey werkte niet. Gebruik een code.",
    signInWhy: "Inloggen opent in een nieuw tabblad: binnen de pagina van de winkel kan deze chat de sessie van uw account niet gebruiken.",
    stepUp: ["Bevestig voor uw veiligheid eerst dat u het bent: ", ", en verstuur daarna uw bericht opnieuw."]
  },
  it: {
    labels: { PERSON: "un nome", EMAIL: "il suo indirizzo e-mail", PHONE: "il suo numero di telefono", CARD: "la sua carta", IBAN: "il suo conto bancario", ADDRESS: "il suo indirizzo", IP: "un indirizzo IP", NATIONAL_ID: "il suo numero di documento", DATE_OF_BIRTH: "la sua data di nascita", SECRET: "un segreto", LITERAL: "il suo testo" },
    messages: "Messaggi",
    guest: "Sta chattando come ospite",
    signedIn: "Accesso effettuato",
    signIn: "Accedi",
    end: "Termina la chat",
    yourMessage: "Il suo messaggio",
    hint: "Invio invia, Maiusc+Invio va a capo.",
    send: "Invia",
    notSetUp: "Questa chat non è configurata: la pagina che la include non indica alcun negozio.",
    beforeYouChat: "Prima di chattare",
    loadingNotice: "Caricamento dell’informativa…",
    accept: "Ho letto, inizia la chat",
    noticeVersion: (id, v) => `Informativa «${id}», versione ${v}.`,
    noticeFailed: "Non è stato possibile caricare l’informativa del negozio, quindi la chat non può iniziare.",
    canWrite: "Ora può scrivere il suo messaggio.",
    expired: "La sessione di chat è scaduta. Invii di nuovo il messaggio per iniziare una nuova chat.",
    reconnecting: "Riconnessione…",
    ended: "La chat è terminata.",
    streamFailed: "La connessione alla chat non è riuscita; riconnessione…",
    you: "Lei",
    assistant: "Assistente",
    agent: "Assistenza clienti",
    shop: "Negozio",
    confirm: "Confermi la sua identità",
    notSent: "Non inviato.",
    writeFirst: "Scriva prima un messaggio.",
    readNoticeFirst: "Legga prima l’informativa e inizi la chat.",
    tooLong: "Il messaggio è troppo lungo (al massimo 4096 byte).",
    cannotSeal: "Il suo messaggio non è stato inviato: questa chat non è riuscita a cifrarlo end-to-end. Riprovi più tardi o usi un altro browser.",
    replyUnopened: "È arrivata una risposta, ma non è stato possibile aprirla in modo sicuro, quindi non viene mostrata.",
    notSealed: "I messaggi di questa chat non sono cifrati end-to-end.",
    codeLabel: "Codice dell’app di autenticazione",
    codeHint: "Sei cifre, o uno dei suoi codici di recupero.",
    codeMissing: "Inserisca il codice dell’app di autenticazione o un codice di recupero.",
    usePasskey: "Usa una passkey",
    cancel: "Annulla",
    stepUpWhy: "L’assistente ha bisogno di un secondo fattore recente prima di poter rispondere.",
    stepUpDone: "Confermato. La sua domanda viene inviata di nuovo.",
    passkeyFailed: "La passkey non ha funzionato. Usi un codice.",
    signInWhy: "L’accesso si apre in una nuova scheda: nella pagina del negozio questa chat non può usare la sessione del suo account.",
    stepUp: ["Per la sua sicurezza, confermi prima la sua identità: ", ", poi invii di nuovo il messaggio."]
  }
};
function strings(language2) {
  const l = String(language2 ?? "").slice(0, 2).toLowerCase();
  return STRINGS[l] ? [STRINGS[l], l] : [STRINGS.en, "en"];
}

// node_modules/@hpke/common/esm/src/errors.js
var HpkeError = class extends Error {
  constructor(e) {
    let message;
    if (e instanceof Error) {
      message = e.message;
    } else if (typeof e === "string") {
      message = e;
    } else {
      message = "";
    }
    super(message);
    this.name = this.constructor.name;
  }
};
var InvalidParamError = class extends HpkeError {
};
var SerializeError = class extends HpkeError {
};
var DeserializeError = class extends HpkeError {
};
var EncapError = class extends HpkeError {
};
var DecapError = class extends HpkeError {
};
var ExportError = class extends HpkeError {
};
var SealError = class extends HpkeError {
};
var OpenError = class extends HpkeError {
};
var MessageLimitReachedError = class extends HpkeError {
};
var DeriveKeyPairError = class extends HpkeError {
};
var NotSupportedError = class extends HpkeError {
};

// node_modules/@hpke/common/esm/_dnt.shims.js
var dntGlobals = {};
var dntGlobalThis = createMergeProxy(globalThis, dntGlobals);
function createMergeProxy(baseObj, extObj) {
  return new Proxy(baseObj, {
    get(_target, prop, _receiver) {
      if (prop in extObj) {
        return extObj[prop];
      } else {
        return baseObj[prop];
      }
    },
    set(_target, prop, value) {
      if (prop in extObj) {
        delete extObj[prop];
      }
      baseObj[prop] = value;
      return true;
    },
    deleteProperty(_target, prop) {
      let success = false;
      if (prop in extObj) {
        delete extObj[prop];
        success = true;
      }
      if (prop in baseObj) {
        delete baseObj[prop];
        success = true;
      }
      return success;
    },
    ownKeys(_target) {
      const baseKeys = Reflect.ownKeys(baseObj);
      const extKeys = Reflect.ownKeys(extObj);
      const extKeysSet = new Set(extKeys);
      return [...baseKeys.filter((k) => !extKeysSet.has(k)), ...extKeys];
    },
    defineProperty(_target, prop, desc) {
      if (prop in extObj) {
        delete extObj[prop];
      }
      Reflect.defineProperty(baseObj, prop, desc);
      return true;
    },
    getOwnPropertyDescriptor(_target, prop) {
      if (prop in extObj) {
        return Reflect.getOwnPropertyDescriptor(extObj, prop);
      } else {
        return Reflect.getOwnPropertyDescriptor(baseObj, prop);
      }
    },
    has(_target, prop) {
      return prop in extObj || prop in baseObj;
    }
  });
}

// node_modules/@hpke/common/esm/src/algorithm.js
async function loadSubtleCrypto() {
  if (dntGlobalThis !== void 0 && globalThis.crypto !== void 0) {
    return globalThis.crypto.subtle;
  }
  try {
    const { webcrypto } = await import("crypto");
    return webcrypto.subtle;
  } catch (e) {
    throw new NotSupportedError(e);
  }
}
var NativeAlgorithm = class {
  constructor() {
    Object.defineProperty(this, "_api", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
  }
  async _setup() {
    if (this._api !== void 0) {
      return;
    }
    this._api = await loadSubtleCrypto();
  }
};

// node_modules/@hpke/common/esm/src/identifiers.js
var Mode = {
  Base: 0,
  Psk: 1,
  Auth: 2,
  AuthPsk: 3
};
var KemId = {
  NotAssigned: 0,
  DhkemP256HkdfSha256: 16,
  DhkemP384HkdfSha384: 17,
  DhkemP521HkdfSha512: 18,
  DhkemSecp256k1HkdfSha256: 19,
  DhkemX25519HkdfSha256: 32,
  DhkemX448HkdfSha512: 33,
  HybridkemX25519Kyber768: 48,
  MlKem512: 64,
  MlKem768: 65,
  MlKem1024: 66,
  XWing: 25722
};
var KdfId = {
  HkdfSha256: 1,
  HkdfSha384: 2,
  HkdfSha512: 3,
  Sha3256: 4,
  Sha3384: 5,
  Sha3512: 6,
  Shake128: 16,
  Shake256: 17,
  TurboShake128: 18,
  TurboShake256: 19
};
var AeadId = {
  Aes128Gcm: 1,
  Aes256Gcm: 2,
  Chacha20Poly1305: 3,
  ExportOnly: 65535
};

// node_modules/@hpke/common/esm/src/consts.js
var INPUT_LENGTH_LIMIT = 8192;
var INFO_LENGTH_LIMIT = 268435456;
var MINIMUM_PSK_LENGTH = 32;
var EMPTY = /* @__PURE__ */ new Uint8Array(0);
var N_0 = 0n;
var N_1 = 1n;
var N_2 = 2n;

// node_modules/@hpke/common/esm/src/kdfs/hkdf.js
var HPKE_VERSION = /* @__PURE__ */ new Uint8Array([
  72,
  80,
  75,
  69,
  45,
  118,
  49
]);
function toUint8Array(input2) {
  return new Uint8Array(toArrayBuffer(input2));
}
function toArrayBuffer(input2) {
  if (input2 instanceof ArrayBuffer) {
    return input2;
  }
  if (ArrayBuffer.isView(input2)) {
    return new Uint8Array(input2.buffer, input2.byteOffset, input2.byteLength).slice().buffer;
  }
  return new Uint8Array(input2).slice().buffer;
}
var HkdfNative = class extends NativeAlgorithm {
  constructor() {
    super();
    Object.defineProperty(this, "id", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: KdfId.HkdfSha256
    });
    Object.defineProperty(this, "hashSize", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 0
    });
    Object.defineProperty(this, "_suiteId", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: EMPTY
    });
    Object.defineProperty(this, "algHash", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: {
        name: "HMAC",
        hash: "SHA-256",
        length: 256
      }
    });
  }
  init(suiteId) {
    this._suiteId = suiteId;
  }
  buildLabeledIkm(label, ikm) {
    this._checkInit();
    const ret = new Uint8Array(7 + this._suiteId.byteLength + label.byteLength + ikm.byteLength);
    ret.set(HPKE_VERSION, 0);
    ret.set(this._suiteId, 7);
    ret.set(label, 7 + this._suiteId.byteLength);
    ret.set(ikm, 7 + this._suiteId.byteLength + label.byteLength);
    return ret;
  }
  buildLabeledInfo(label, info, len) {
    this._checkInit();
    const ret = new Uint8Array(9 + this._suiteId.byteLength + label.byteLength + info.byteLength);
    ret.set(new Uint8Array([0, len]), 0);
    ret.set(HPKE_VERSION, 2);
    ret.set(this._suiteId, 9);
    ret.set(label, 9 + this._suiteId.byteLength);
    ret.set(info, 9 + this._suiteId.byteLength + label.byteLength);
    return ret;
  }
  async extract(salt, ikm) {
    await this._setup();
    const saltBuf = salt.byteLength === 0 ? new ArrayBuffer(this.hashSize) : toArrayBuffer(salt);
    if (saltBuf.byteLength !== this.hashSize) {
      throw new InvalidParamError("The salt length must be the same as the hashSize");
    }
    const ikmBuf = toArrayBuffer(ikm);
    const key = await this._api.importKey("raw", saltBuf, this.algHash, false, [
      "sign"
    ]);
    return await this._api.sign("HMAC", key, ikmBuf);
  }
  async expand(prk, info, len) {
    await this._setup();
    const prkBuf = toArrayBuffer(prk);
    const key = await this._api.importKey("raw", prkBuf, this.algHash, false, [
      "sign"
    ]);
    const okm = new ArrayBuffer(len);
    const okmBytes = new Uint8Array(okm);
    let prev = EMPTY;
    const mid = toUint8Array(info);
    const tail = new Uint8Array(1);
    if (len > 255 * this.hashSize) {
      throw new Error("Entropy limit reached");
    }
    const tmp = new Uint8Array(this.hashSize + mid.length + 1);
    for (let i = 1, cur = 0; cur < okmBytes.length; i++) {
      tail[0] = i;
      tmp.set(prev, 0);
      tmp.set(mid, prev.length);
      tmp.set(tail, prev.length + mid.length);
      prev = new Uint8Array(await this._api.sign("HMAC", key, tmp.slice(0, prev.length + mid.length + 1)));
      if (okmBytes.length - cur >= prev.length) {
        okmBytes.set(prev, cur);
        cur += prev.length;
      } else {
        okmBytes.set(prev.slice(0, okmBytes.length - cur), cur);
        cur += okmBytes.length - cur;
      }
    }
    return okm;
  }
  async extractAndExpand(salt, ikm, info, len) {
    await this._setup();
    const ikmBuf = toArrayBuffer(ikm);
    const baseKey = await this._api.importKey("raw", ikmBuf, "HKDF", false, ["deriveBits"]);
    return await this._api.deriveBits({
      name: "HKDF",
      hash: this.algHash.hash,
      salt: toArrayBuffer(salt),
      info: toArrayBuffer(info)
    }, baseKey, len * 8);
  }
  async labeledExtract(salt, label, ikm) {
    return await this.extract(salt, this.buildLabeledIkm(label, ikm));
  }
  async labeledExpand(prk, label, info, len) {
    return await this.expand(prk, this.buildLabeledInfo(label, info, len), len);
  }
  _checkInit() {
    if (this._suiteId === EMPTY) {
      throw new Error("Not initialized. Call init()");
    }
  }
};
var HkdfSha256Native = class extends HkdfNative {
  constructor() {
    super(...arguments);
    Object.defineProperty(this, "id", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: KdfId.HkdfSha256
    });
    Object.defineProperty(this, "hashSize", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 32
    });
    Object.defineProperty(this, "algHash", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: {
        name: "HMAC",
        hash: "SHA-256",
        length: 256
      }
    });
  }
};

// node_modules/@hpke/common/esm/src/utils/misc.js
var isCryptoKeyPair = (x) => typeof x === "object" && x !== null && typeof x.privateKey === "object" && typeof x.publicKey === "object";
function i2Osp(n, w) {
  if (w <= 0) {
    throw new Error("i2Osp: too small size");
  }
  if (n >= 256 ** w) {
    throw new Error("i2Osp: too large integer");
  }
  const ret = new Uint8Array(w);
  for (let i = 0; i < w && n; i++) {
    ret[w - (i + 1)] = n % 256;
    n = Math.floor(n / 256);
  }
  return ret;
}
function concat(a, b) {
  const ret = new Uint8Array(a.length + b.length);
  ret.set(a, 0);
  ret.set(b, a.length);
  return ret;
}
function base64UrlToBytes(v) {
  const base64 = v.replace(/-/g, "+").replace(/_/g, "/");
  const byteString = atob(base64);
  const ret = new Uint8Array(byteString.length);
  for (let i = 0; i < byteString.length; i++) {
    ret[i] = byteString.charCodeAt(i);
  }
  return ret;
}
async function loadCrypto() {
  if (typeof dntGlobalThis !== "undefined" && globalThis.crypto !== void 0) {
    return globalThis.crypto;
  }
  try {
    const { webcrypto } = await import("crypto");
    return webcrypto;
  } catch (_e) {
    throw new Error("failed to load Crypto");
  }
}
function xor(a, b) {
  if (a.byteLength !== b.byteLength) {
    throw new Error("xor: different length inputs");
  }
  const buf = new Uint8Array(a.byteLength);
  for (let i = 0; i < a.byteLength; i++) {
    buf[i] = a[i] ^ b[i];
  }
  return buf;
}

// node_modules/@hpke/common/esm/src/interfaces/dhkemPrimitives.js
var KEM_USAGES = ["deriveBits"];
var LABEL_DKP_PRK = /* @__PURE__ */ new Uint8Array([
  100,
  107,
  112,
  95,
  112,
  114,
  107
]);
var LABEL_SK = /* @__PURE__ */ new Uint8Array([115, 107]);

// node_modules/@hpke/common/esm/src/kems/dhkemPrimitives/ec.js
var EC_P_521_PARAMS = {
  p: (1n << 521n) - 1n,
  b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  gx: 0x00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66n,
  gy: 0x011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650n,
  coordinateSize: 66
};

// node_modules/@hpke/common/esm/src/xCryptoKey.js
var XCryptoKey = class {
  constructor(name, key, type, usages = []) {
    Object.defineProperty(this, "key", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "type", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "extractable", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: true
    });
    Object.defineProperty(this, "algorithm", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "usages", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    this.key = key;
    this.type = type;
    this.algorithm = { name };
    this.usages = usages;
    if (type === "public") {
      this.usages = [];
    }
  }
};

// node_modules/@hpke/common/esm/src/kems/dhkemPrimitives/xCurve.js
var XCurveDhkemPrimitives = class {
  constructor(algName, keySize, curve, hkdf) {
    Object.defineProperty(this, "_algName", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_curve", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_hkdf", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_nPk", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_nSk", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    this._algName = algName;
    this._nPk = keySize;
    this._nSk = keySize;
    this._curve = curve;
    this._hkdf = hkdf;
  }
  serializePublicKey(key) {
    try {
      return Promise.resolve(key.key.buffer);
    } catch (e) {
      return Promise.reject(new SerializeError(e));
    }
  }
  async deserializePublicKey(key) {
    try {
      return await this._importRawKey(toArrayBuffer(key), true);
    } catch (e) {
      throw new DeserializeError(e);
    }
  }
  serializePrivateKey(key) {
    try {
      return Promise.resolve(key.key.buffer);
    } catch (e) {
      return Promise.reject(new SerializeError(e));
    }
  }
  async deserializePrivateKey(key) {
    try {
      return await this._importRawKey(toArrayBuffer(key), false);
    } catch (e) {
      throw new DeserializeError(e);
    }
  }
  async importKey(format, key, isPublic) {
    try {
      if (format === "raw") {
        return await this._importRawKey(key, isPublic);
      }
      if (key instanceof ArrayBuffer) {
        throw new Error("Invalid jwk key format");
      }
      return await this._importJWK(key, isPublic);
    } catch (e) {
      throw new DeserializeError(e);
    }
  }
  async generateKeyPair() {
    try {
      const rawSk = await this._curve.utils.randomSecretKey();
      const sk = new XCryptoKey(this._algName, rawSk, "private", KEM_USAGES);
      const pk = await this.derivePublicKey(sk);
      return { publicKey: pk, privateKey: sk };
    } catch (e) {
      throw new NotSupportedError(e);
    }
  }
  async deriveKeyPair(ikm) {
    try {
      const rawIkm = toArrayBuffer(ikm);
      const dkpPrk = await this._hkdf.labeledExtract(EMPTY.buffer, LABEL_DKP_PRK, new Uint8Array(rawIkm));
      const rawSk = await this._hkdf.labeledExpand(dkpPrk, LABEL_SK, EMPTY, this._nSk);
      const sk = new XCryptoKey(this._algName, new Uint8Array(rawSk), "private", KEM_USAGES);
      return {
        privateKey: sk,
        publicKey: await this.derivePublicKey(sk)
      };
    } catch (e) {
      throw new DeriveKeyPairError(e);
    }
  }
  derivePublicKey(key) {
    try {
      const pk = this._curve.getPublicKey(key.key);
      return Promise.resolve(new XCryptoKey(this._algName, pk, "public"));
    } catch (e) {
      return Promise.reject(new DeserializeError(e));
    }
  }
  dh(sk, pk) {
    try {
      return Promise.resolve(this._curve.getSharedSecret(sk.key, pk.key).buffer);
    } catch (e) {
      return Promise.reject(new SerializeError(e));
    }
  }
  _importRawKey(key, isPublic) {
    return new Promise((resolve, reject) => {
      if (isPublic && key.byteLength !== this._nPk) {
        reject(new Error("Invalid length of the key"));
      }
      if (!isPublic && key.byteLength !== this._nSk) {
        reject(new Error("Invalid length of the key"));
      }
      resolve(new XCryptoKey(this._algName, new Uint8Array(key), isPublic ? "public" : "private", isPublic ? [] : KEM_USAGES));
    });
  }
  _importJWK(key, isPublic) {
    return new Promise((resolve, reject) => {
      if (key.kty !== "OKP") {
        reject(new Error(`Invalid kty: ${key.kty}`));
      }
      if (key.crv !== this._algName) {
        reject(new Error(`Invalid crv: ${key.crv}`));
      }
      if (isPublic) {
        if (typeof key.d !== "undefined") {
          reject(new Error("Invalid key: `d` should not be set"));
        }
        if (typeof key.x !== "string") {
          reject(new Error("Invalid key: `x` not found"));
        }
        resolve(new XCryptoKey(this._algName, base64UrlToBytes(key.x), "public"));
      } else {
        if (typeof key.d !== "string") {
          reject(new Error("Invalid key: `d` not found"));
        }
        resolve(new XCryptoKey(this._algName, base64UrlToBytes(key.d), "private", KEM_USAGES));
      }
    });
  }
};

// node_modules/@hpke/common/esm/src/utils/noble.js
function isBytes(a) {
  return a instanceof Uint8Array || ArrayBuffer.isView(a) && a.constructor.name === "Uint8Array";
}
function anumber(n, title = "") {
  if (!Number.isSafeInteger(n) || n < 0) {
    const prefix = title && `"${title}" `;
    throw new Error(`${prefix}expected integer >0, got ${n}`);
  }
}
function abytes(value, length, title = "") {
  const bytes = isBytes(value);
  const len = value?.length;
  const needsLen = length !== void 0;
  if (!bytes || needsLen && len !== length) {
    const prefix = title && `"${title}" `;
    const ofLen = needsLen ? ` of length ${length}` : "";
    const got = bytes ? `length=${len}` : `type=${typeof value}`;
    throw new Error(prefix + "expected Uint8Array" + ofLen + ", got " + got);
  }
  return value;
}
function aexists(instance, checkFinished = true) {
  if (instance.destroyed)
    throw new Error("Hash instance has been destroyed");
  if (checkFinished && instance.finished) {
    throw new Error("Hash#digest() has already been called");
  }
}
function aoutput(out, instance) {
  abytes(out, void 0, "digestInto() output");
  const min = instance.outputLen;
  if (out.length < min) {
    throw new Error('"digestInto() output" expected to be of length >=' + min);
  }
}
function abignumer(n) {
  if (typeof n === "bigint") {
    if (!isPosBig(n))
      throw new Error("positive bigint expected, got " + n);
  } else
    anumber(n);
  return n;
}
function u32(arr) {
  return new Uint32Array(arr.buffer, arr.byteOffset, Math.floor(arr.byteLength / 4));
}
function clean(...arrays) {
  for (let i = 0; i < arrays.length; i++) {
    arrays[i].fill(0);
  }
}
var _endianTestBuffer = /* @__PURE__ */ new Uint32Array([287454020]);
var _endianTestBytes = /* @__PURE__ */ new Uint8Array(_endianTestBuffer.buffer);
var isLE = _endianTestBytes[0] === 68;
function createView(arr) {
  return new DataView(arr.buffer, arr.byteOffset, arr.byteLength);
}
function rotr(word, shift) {
  return word << 32 - shift | word >>> shift;
}
var hasHexBuiltin = /* @__PURE__ */ (() => (
  // @ts-ignore: to use toHex
  typeof Uint8Array.from([]).toHex === "function" && // @ts-ignore: to use fromHex
  typeof Uint8Array.fromHex === "function"
))();
var hexes = /* @__PURE__ */ Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
var HEX_TO_BIGINT = [
  0n,
  1n,
  2n,
  3n,
  4n,
  5n,
  6n,
  7n,
  8n,
  9n,
  10n,
  11n,
  12n,
  13n,
  14n,
  15n
];
function bytesToHex(bytes) {
  abytes(bytes);
  if (hasHexBuiltin)
    return bytes.toHex();
  let hex = "";
  for (let i = 0; i < bytes.length; i++) {
    hex += hexes[bytes[i]];
  }
  return hex;
}
var asciis = { _0: 48, _9: 57, A: 65, F: 70, a: 97, f: 102 };
function asciiToBase16(ch) {
  if (ch >= asciis._0 && ch <= asciis._9)
    return ch - asciis._0;
  if (ch >= asciis.A && ch <= asciis.F)
    return ch - (asciis.A - 10);
  if (ch >= asciis.a && ch <= asciis.f)
    return ch - (asciis.a - 10);
  return;
}
function hexToBytes(hex) {
  if (typeof hex !== "string") {
    throw new Error("hex string expected, got " + typeof hex);
  }
  if (hasHexBuiltin)
    return Uint8Array.fromHex(hex);
  const hl = hex.length;
  const al = hl / 2;
  if (hl % 2) {
    throw new Error("hex string expected, got unpadded hex of length " + hl);
  }
  const array = new Uint8Array(al);
  for (let ai = 0, hi = 0; ai < al; ai++, hi += 2) {
    const n1 = asciiToBase16(hex.charCodeAt(hi));
    const n2 = asciiToBase16(hex.charCodeAt(hi + 1));
    if (n1 === void 0 || n2 === void 0) {
      const char = hex[hi] + hex[hi + 1];
      throw new Error('hex string expected, got non-hex character "' + char + '" at index ' + hi);
    }
    array[ai] = n1 * 16 + n2;
  }
  return array;
}
function hexToNumber(hex) {
  if (typeof hex !== "string") {
    throw new Error("hex string expected, got " + typeof hex);
  }
  let out = N_0;
  for (let i = 0; i < hex.length; i++) {
    const n = asciiToBase16(hex.charCodeAt(i));
    if (n === void 0) {
      throw new Error('hex string expected, got non-hex character "' + hex[i] + '" at index ' + i);
    }
    out = out << 4n | HEX_TO_BIGINT[n];
  }
  return out;
}
function numberToBigint(num) {
  anumber(num, "numberToBigint");
  let n = num;
  let out = N_0;
  let bit = 1n;
  while (n > 0) {
    if (n % 2 === 1)
      out += bit;
    n = Math.floor(n / 2);
    bit <<= 1n;
  }
  return out;
}
function bytesToNumberLE(bytes) {
  return hexToNumber(bytesToHex(copyBytes(abytes(bytes)).reverse()));
}
function numberToBytesBE(n, len) {
  anumber(len);
  n = abignumer(n);
  const res = hexToBytes(n.toString(16).padStart(len * 2, "0"));
  if (res.length !== len)
    throw new Error("number too large");
  return res;
}
function numberToBytesLE(n, len) {
  return numberToBytesBE(n, len).reverse();
}
function copyBytes(bytes) {
  return Uint8Array.from(bytes);
}
function isPosBig(n) {
  return typeof n === "bigint" && N_0 <= n;
}
function inRange(n, min, max) {
  return isPosBig(n) && isPosBig(min) && isPosBig(max) && min <= n && n < max;
}
function aInRange(title, n, min, max) {
  if (!inRange(n, min, max)) {
    throw new Error("expected valid " + title + ": " + min + " <= n < " + max + ", got " + n);
  }
}
function validateObject(object, fields = {}, optFields = {}) {
  if (!object || typeof object !== "object") {
    throw new Error("expected valid options object");
  }
  function checkField(fieldName, expectedType, isOpt) {
    const val = object[fieldName];
    if (isOpt && val === void 0)
      return;
    const current = typeof val;
    if (current !== expectedType || val === null) {
      throw new Error(`param "${fieldName}" is invalid: expected ${expectedType}, got ${current}`);
    }
  }
  const iter = (f, isOpt) => Object.entries(f).forEach(([k, v]) => checkField(k, v, isOpt));
  iter(fields, false);
  iter(optFields, true);
}
async function randomBytesAsync(bytesLength = 32) {
  const api = await loadCrypto();
  const rnd = new Uint8Array(bytesLength);
  api.getRandomValues(rnd);
  return rnd;
}
function oidNist(suffix) {
  return {
    oid: Uint8Array.from([
      6,
      9,
      96,
      134,
      72,
      1,
      101,
      3,
      4,
      2,
      suffix
    ])
  };
}

// node_modules/@hpke/common/esm/src/hash/hash.js
function ahash(h2) {
  if (typeof h2 !== "function" || typeof h2.create !== "function") {
    throw new Error("Hash must wrapped by utils.createHasher");
  }
  anumber(h2.outputLen);
  anumber(h2.blockLen);
}
function createHasher(hashCons, info = {}) {
  const hashFn = (msg, opts) => hashCons(opts).update(msg).digest();
  const tmp = hashCons(void 0);
  const hashC = Object.assign(hashFn, {
    outputLen: tmp.outputLen,
    blockLen: tmp.blockLen,
    create: (opts) => hashCons(opts),
    ...info
  });
  return Object.freeze(hashC);
}

// node_modules/@hpke/common/esm/src/hash/hmac.js
var _HMAC = class {
  constructor(hash, key) {
    Object.defineProperty(this, "oHash", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "iHash", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "blockLen", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "outputLen", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "finished", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: false
    });
    Object.defineProperty(this, "destroyed", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: false
    });
    ahash(hash);
    abytes(key, void 0, "key");
    this.iHash = hash.create();
    if (typeof this.iHash.update !== "function") {
      throw new Error("Expected instance of class which extends utils.Hash");
    }
    this.blockLen = this.iHash.blockLen;
    this.outputLen = this.iHash.outputLen;
    const blockLen = this.blockLen;
    const pad = new Uint8Array(blockLen);
    pad.set(key.length > blockLen ? hash.create().update(key).digest() : key);
    for (let i = 0; i < pad.length; i++)
      pad[i] ^= 54;
    this.iHash.update(pad);
    this.oHash = hash.create();
    for (let i = 0; i < pad.length; i++)
      pad[i] ^= 54 ^ 92;
    this.oHash.update(pad);
    clean(pad);
  }
  update(buf) {
    aexists(this);
    this.iHash.update(buf);
    return this;
  }
  digestInto(out) {
    aexists(this);
    abytes(out, this.outputLen, "output");
    this.finished = true;
    this.iHash.digestInto(out);
    this.oHash.update(out);
    this.oHash.digestInto(out);
    this.destroy();
  }
  digest() {
    const out = new Uint8Array(this.oHash.outputLen);
    this.digestInto(out);
    return out;
  }
  _cloneInto(to) {
    to ||= Object.create(Object.getPrototypeOf(this), {});
    const { oHash, iHash, finished, destroyed, blockLen, outputLen } = this;
    to = to;
    to.finished = finished;
    to.destroyed = destroyed;
    to.blockLen = blockLen;
    to.outputLen = outputLen;
    to.oHash = oHash._cloneInto(to.oHash);
    to.iHash = iHash._cloneInto(to.iHash);
    return to;
  }
  clone() {
    return this._cloneInto();
  }
  destroy() {
    this.destroyed = true;
    this.oHash.destroy();
    this.iHash.destroy();
  }
};
var hmac = (hash, key, message) => new _HMAC(hash, key).update(message).digest();
hmac.create = (hash, key) => new _HMAC(hash, key);

// node_modules/@hpke/common/esm/src/hash/md.js
function Chi(a, b, c) {
  return a & b ^ ~a & c;
}
function Maj(a, b, c) {
  return a & b ^ a & c ^ b & c;
}
var HashMD = class {
  constructor(blockLen, outputLen, padOffset, isLE3) {
    Object.defineProperty(this, "blockLen", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "outputLen", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "padOffset", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "isLE", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "buffer", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "view", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "finished", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: false
    });
    Object.defineProperty(this, "length", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 0
    });
    Object.defineProperty(this, "pos", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 0
    });
    Object.defineProperty(this, "destroyed", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: false
    });
    this.blockLen = blockLen;
    this.outputLen = outputLen;
    this.padOffset = padOffset;
    this.isLE = isLE3;
    this.buffer = new Uint8Array(blockLen);
    this.view = createView(this.buffer);
  }
  update(data) {
    aexists(this);
    abytes(data);
    const { view, buffer, blockLen } = this;
    const len = data.length;
    for (let pos = 0; pos < len; ) {
      const take = Math.min(blockLen - this.pos, len - pos);
      if (take === blockLen) {
        const dataView = createView(data);
        for (; blockLen <= len - pos; pos += blockLen) {
          this.process(dataView, pos);
        }
        continue;
      }
      buffer.set(data.subarray(pos, pos + take), this.pos);
      this.pos += take;
      pos += take;
      if (this.pos === blockLen) {
        this.process(view, 0);
        this.pos = 0;
      }
    }
    this.length += data.length;
    this.roundClean();
    return this;
  }
  digestInto(out) {
    aexists(this);
    aoutput(out, this);
    this.finished = true;
    const { buffer, view, blockLen, isLE: isLE3 } = this;
    let { pos } = this;
    buffer[pos++] = 128;
    clean(this.buffer.subarray(pos));
    if (this.padOffset > blockLen - pos) {
      this.process(view, 0);
      pos = 0;
    }
    for (let i = pos; i < blockLen; i++)
      buffer[i] = 0;
    view.setBigUint64(blockLen - 8, numberToBigint(this.length * 8), isLE3);
    this.process(view, 0);
    const oview = createView(out);
    const len = this.outputLen;
    if (len % 4)
      throw new Error("_sha2: outputLen must be aligned to 32bit");
    const outLen = len / 4;
    const state2 = this.get();
    if (outLen > state2.length) {
      throw new Error("_sha2: outputLen bigger than state");
    }
    for (let i = 0; i < outLen; i++)
      oview.setUint32(4 * i, state2[i], isLE3);
  }
  digest() {
    const { buffer, outputLen } = this;
    this.digestInto(buffer);
    const res = buffer.slice(0, outputLen);
    this.destroy();
    return res;
  }
  _cloneInto(to) {
    to ||= new this.constructor();
    to.set(...this.get());
    const { blockLen, buffer, length, finished, destroyed, pos } = this;
    to.destroyed = destroyed;
    to.finished = finished;
    to.length = length;
    to.pos = pos;
    if (length % blockLen)
      to.buffer.set(buffer);
    return to;
  }
  clone() {
    return this._cloneInto();
  }
};
var SHA256_IV = /* @__PURE__ */ Uint32Array.from([
  1779033703,
  3144134277,
  1013904242,
  2773480762,
  1359893119,
  2600822924,
  528734635,
  1541459225
]);

// node_modules/@hpke/common/esm/src/hash/u64.js
var U32_MASK64 = 0xffffffffn;
var _32n = 32n;
function fromBig(n, le = false) {
  if (le) {
    return { h: Number(n & U32_MASK64), l: Number(n >> _32n & U32_MASK64) };
  }
  return {
    h: Number(n >> _32n & U32_MASK64) | 0,
    l: Number(n & U32_MASK64) | 0
  };
}
function split2(lst, le = false) {
  const len = lst.length;
  const Ah = new Uint32Array(len);
  const Al = new Uint32Array(len);
  for (let i = 0; i < len; i++) {
    const { h: h2, l } = fromBig(lst[i], le);
    [Ah[i], Al[i]] = [h2, l];
  }
  return [Ah, Al];
}

// node_modules/@hpke/common/esm/src/hash/sha2.js
var SHA256_K = /* @__PURE__ */ Uint32Array.from([
  1116352408,
  1899447441,
  3049323471,
  3921009573,
  961987163,
  1508970993,
  2453635748,
  2870763221,
  3624381080,
  310598401,
  607225278,
  1426881987,
  1925078388,
  2162078206,
  2614888103,
  3248222580,
  3835390401,
  4022224774,
  264347078,
  604807628,
  770255983,
  1249150122,
  1555081692,
  1996064986,
  2554220882,
  2821834349,
  2952996808,
  3210313671,
  3336571891,
  3584528711,
  113926993,
  338241895,
  666307205,
  773529912,
  1294757372,
  1396182291,
  1695183700,
  1986661051,
  2177026350,
  2456956037,
  2730485921,
  2820302411,
  3259730800,
  3345764771,
  3516065817,
  3600352804,
  4094571909,
  275423344,
  430227734,
  506948616,
  659060556,
  883997877,
  958139571,
  1322822218,
  1537002063,
  1747873779,
  1955562222,
  2024104815,
  2227730452,
  2361852424,
  2428436474,
  2756734187,
  3204031479,
  3329325298
]);
var SHA256_W = /* @__PURE__ */ new Uint32Array(64);
var SHA2_32B = class extends HashMD {
  constructor(outputLen) {
    super(64, outputLen, 8, false);
  }
  get() {
    const { A, B, C, D, E, F, G, H } = this;
    return [A, B, C, D, E, F, G, H];
  }
  set(A, B, C, D, E, F, G, H) {
    this.A = A | 0;
    this.B = B | 0;
    this.C = C | 0;
    this.D = D | 0;
    this.E = E | 0;
    this.F = F | 0;
    this.G = G | 0;
    this.H = H | 0;
  }
  process(view, offset) {
    for (let i = 0; i < 16; i++, offset += 4) {
      SHA256_W[i] = view.getUint32(offset, false);
    }
    for (let i = 16; i < 64; i++) {
      const W15 = SHA256_W[i - 15];
      const W2 = SHA256_W[i - 2];
      const s0 = rotr(W15, 7) ^ rotr(W15, 18) ^ W15 >>> 3;
      const s1 = rotr(W2, 17) ^ rotr(W2, 19) ^ W2 >>> 10;
      SHA256_W[i] = s1 + SHA256_W[i - 7] + s0 + SHA256_W[i - 16] | 0;
    }
    let { A, B, C, D, E, F, G, H } = this;
    for (let i = 0; i < 64; i++) {
      const sigma1 = rotr(E, 6) ^ rotr(E, 11) ^ rotr(E, 25);
      const T1 = H + sigma1 + Chi(E, F, G) + SHA256_K[i] + SHA256_W[i] | 0;
      const sigma0 = rotr(A, 2) ^ rotr(A, 13) ^ rotr(A, 22);
      const T2 = sigma0 + Maj(A, B, C) | 0;
      H = G;
      G = F;
      F = E;
      E = D + T1 | 0;
      D = C;
      C = B;
      B = A;
      A = T1 + T2 | 0;
    }
    A = A + this.A | 0;
    B = B + this.B | 0;
    C = C + this.C | 0;
    D = D + this.D | 0;
    E = E + this.E | 0;
    F = F + this.F | 0;
    G = G + this.G | 0;
    H = H + this.H | 0;
    this.set(A, B, C, D, E, F, G, H);
  }
  roundClean() {
    clean(SHA256_W);
  }
  destroy() {
    this.set(0, 0, 0, 0, 0, 0, 0, 0);
    clean(this.buffer);
  }
};
var _SHA256 = class extends SHA2_32B {
  constructor() {
    super(32);
    Object.defineProperty(this, "A", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: SHA256_IV[0] | 0
    });
    Object.defineProperty(this, "B", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: SHA256_IV[1] | 0
    });
    Object.defineProperty(this, "C", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: SHA256_IV[2] | 0
    });
    Object.defineProperty(this, "D", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: SHA256_IV[3] | 0
    });
    Object.defineProperty(this, "E", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: SHA256_IV[4] | 0
    });
    Object.defineProperty(this, "F", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: SHA256_IV[5] | 0
    });
    Object.defineProperty(this, "G", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: SHA256_IV[6] | 0
    });
    Object.defineProperty(this, "H", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: SHA256_IV[7] | 0
    });
  }
};
var sha256 = /* @__PURE__ */ createHasher(
  () => new _SHA256(),
  /* @__PURE__ */ oidNist(1)
);

// node_modules/@hpke/common/esm/src/hash/sha3.js
var _0n = 0n;
var _1n = 1n;
var _2n = 2n;
var _7n = 7n;
var _256n = 256n;
var _0x71n = 0x71n;
var SHA3_PI = [];
var SHA3_ROTL = [];
var _SHA3_IOTA = [];
for (let round = 0, R = _1n, x = 1, y = 0; round < 24; round++) {
  [x, y] = [y, (2 * x + 3 * y) % 5];
  SHA3_PI.push(2 * (5 * y + x));
  SHA3_ROTL.push((round + 1) * (round + 2) / 2 % 64);
  let t = _0n;
  for (let j = 0; j < 7; j++) {
    R = (R << _1n ^ (R >> _7n) * _0x71n) % _256n;
    if (R & _2n)
      t ^= _1n << (_1n << BigInt(j)) - _1n;
  }
  _SHA3_IOTA.push(t);
}
var IOTAS = split2(_SHA3_IOTA, true);
var SHA3_IOTA_H = IOTAS[0];
var SHA3_IOTA_L = IOTAS[1];

// node_modules/@hpke/common/esm/src/curve/modular.js
function mod(a, b) {
  const result = a % b;
  return result >= N_0 ? result : b + result;
}
function pow2(x, power, modulo) {
  let res = x;
  while (power-- > N_0) {
    res *= res;
    res %= modulo;
  }
  return res;
}

// node_modules/@hpke/common/esm/src/curve/curve.js
function createKeygen(randomSecretKey, getPublicKey) {
  return function keygen(seed) {
    const secretKey = randomSecretKey(seed);
    return { secretKey, publicKey: getPublicKey(secretKey) };
  };
}

// node_modules/@hpke/common/esm/src/curve/montgomery.js
function validateOpts(curve) {
  validateObject(curve, {
    adjustScalarBytes: "function",
    powPminus2: "function"
  });
  return Object.freeze({ ...curve });
}
function montgomery(curveDef) {
  const CURVE = validateOpts(curveDef);
  const { P, type, adjustScalarBytes: adjustScalarBytes2, powPminus2, randomBytes: rand } = CURVE;
  const is25519 = type === "x25519";
  if (!is25519 && type !== "x448")
    throw new Error("invalid type");
  const randomBytes_ = rand || randomBytesAsync;
  const montgomeryBits = is25519 ? 255n : 448n;
  const fieldLen = is25519 ? 32 : 56;
  const Gu = is25519 ? 9n : 5n;
  const a24 = is25519 ? 121665n : 39081n;
  const minScalar = is25519 ? N_2 ** 254n : N_2 ** 447n;
  const maxAdded = is25519 ? 8n * N_2 ** 251n - N_1 : 4n * N_2 ** 445n - N_1;
  const maxScalar = minScalar + maxAdded + N_1;
  const modP = (n) => mod(n, P);
  const GuBytes = encodeU(Gu);
  function encodeU(u) {
    return numberToBytesLE(modP(u), fieldLen);
  }
  function decodeU(u) {
    const _u = copyBytes(abytes(u, fieldLen, "uCoordinate"));
    if (is25519)
      _u[31] &= 127;
    return modP(bytesToNumberLE(_u));
  }
  function decodeScalar(scalar) {
    return bytesToNumberLE(adjustScalarBytes2(copyBytes(abytes(scalar, fieldLen, "scalar"))));
  }
  function scalarMult(scalar, u) {
    const pu = montgomeryLadder(decodeU(u), decodeScalar(scalar));
    if (pu === N_0)
      throw new Error("invalid private or public key received");
    return encodeU(pu);
  }
  function scalarMultBase(scalar) {
    return scalarMult(scalar, GuBytes);
  }
  const getPublicKey = scalarMultBase;
  const getSharedSecret = scalarMult;
  function cswap(swap, x_2, x_3) {
    const dummy = modP(swap * (x_2 - x_3));
    x_2 = modP(x_2 - dummy);
    x_3 = modP(x_3 + dummy);
    return { x_2, x_3 };
  }
  function montgomeryLadder(u, scalar) {
    aInRange("u", u, N_0, P);
    aInRange("scalar", scalar, minScalar, maxScalar);
    const k = scalar;
    const x_1 = u;
    let x_2 = N_1;
    let z_2 = N_0;
    let x_3 = u;
    let z_3 = N_1;
    let swap = N_0;
    for (let t = montgomeryBits - 1n; t >= N_0; t--) {
      const k_t = k >> t & N_1;
      swap ^= k_t;
      ({ x_2, x_3 } = cswap(swap, x_2, x_3));
      ({ x_2: z_2, x_3: z_3 } = cswap(swap, z_2, z_3));
      swap = k_t;
      const A = x_2 + z_2;
      const AA = modP(A * A);
      const B = x_2 - z_2;
      const BB = modP(B * B);
      const E = AA - BB;
      const C = x_3 + z_3;
      const D = x_3 - z_3;
      const DA = modP(D * A);
      const CB = modP(C * B);
      const dacb = DA + CB;
      const da_cb = DA - CB;
      x_3 = modP(dacb * dacb);
      z_3 = modP(x_1 * modP(da_cb * da_cb));
      x_2 = modP(AA * BB);
      z_2 = modP(E * (AA + modP(a24 * E)));
    }
    ({ x_2, x_3 } = cswap(swap, x_2, x_3));
    ({ x_2: z_2, x_3: z_3 } = cswap(swap, z_2, z_3));
    const z2 = powPminus2(z_2);
    return modP(x_2 * z2);
  }
  const lengths = {
    secretKey: fieldLen,
    publicKey: fieldLen,
    seed: fieldLen
  };
  const randomSecretKey = async (seed) => {
    if (seed === void 0) {
      seed = await randomBytes_(fieldLen);
    }
    abytes(seed, lengths.seed, "seed");
    return seed;
  };
  const utils = { randomSecretKey };
  return Object.freeze({
    keygen: createKeygen(randomSecretKey, getPublicKey),
    getSharedSecret,
    getPublicKey,
    scalarMult,
    scalarMultBase,
    utils,
    GuBytes: GuBytes.slice(),
    lengths
  });
}

// node_modules/@hpke/core/esm/src/utils/emitNotSupported.js
function emitNotSupported() {
  return new Promise((_resolve, reject) => {
    reject(new NotSupportedError("Not supported"));
  });
}

// node_modules/@hpke/core/esm/src/exporterContext.js
var LABEL_SEC = new Uint8Array([115, 101, 99]);
var ExporterContextImpl = class {
  constructor(api, kdf, exporterSecret) {
    Object.defineProperty(this, "_api", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "exporterSecret", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_kdf", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    this._api = api;
    this._kdf = kdf;
    this.exporterSecret = exporterSecret;
  }
  async seal(_data, _aad) {
    return await emitNotSupported();
  }
  async open(_data, _aad) {
    return await emitNotSupported();
  }
  async export(exporterContext, len) {
    const rawExporterContext = toArrayBuffer(exporterContext);
    if (rawExporterContext.byteLength > INPUT_LENGTH_LIMIT) {
      throw new InvalidParamError("Too long exporter context");
    }
    try {
      return await this._kdf.labeledExpand(this.exporterSecret, LABEL_SEC, new Uint8Array(rawExporterContext), len);
    } catch (e) {
      throw new ExportError(e);
    }
  }
};
var RecipientExporterContextImpl = class extends ExporterContextImpl {
};
var SenderExporterContextImpl = class extends ExporterContextImpl {
  constructor(api, kdf, exporterSecret, enc) {
    super(api, kdf, exporterSecret);
    Object.defineProperty(this, "enc", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    this.enc = enc;
    return;
  }
};

// node_modules/@hpke/core/esm/src/encryptionContext.js
var EncryptionContextImpl = class extends ExporterContextImpl {
  constructor(api, kdf, params2) {
    super(api, kdf, params2.exporterSecret);
    Object.defineProperty(this, "_aead", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_nK", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_nN", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_nT", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_ctx", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    if (params2.key === void 0 || params2.baseNonce === void 0 || params2.seq === void 0) {
      throw new Error("Required parameters are missing");
    }
    this._aead = params2.aead;
    this._nK = this._aead.keySize;
    this._nN = this._aead.nonceSize;
    this._nT = this._aead.tagSize;
    const key = this._aead.createEncryptionContext(params2.key);
    this._ctx = {
      key,
      baseNonce: params2.baseNonce,
      seq: params2.seq
    };
  }
  computeNonce(k) {
    const seqBytes = i2Osp(k.seq, k.baseNonce.byteLength);
    return xor(k.baseNonce, seqBytes).buffer;
  }
  incrementSeq(k) {
    if (k.seq > Number.MAX_SAFE_INTEGER) {
      throw new MessageLimitReachedError("Message limit reached");
    }
    k.seq += 1;
    return;
  }
};

// node_modules/@hpke/core/esm/src/mutex.js
var __classPrivateFieldGet = function(receiver, state2, kind, f) {
  if (kind === "a" && !f) throw new TypeError("Private accessor was defined without a getter");
  if (typeof state2 === "function" ? receiver !== state2 || !f : !state2.has(receiver)) throw new TypeError("Cannot read private member from an object whose class did not declare it");
  return kind === "m" ? f : kind === "a" ? f.call(receiver) : f ? f.value : state2.get(receiver);
};
var __classPrivateFieldSet = function(receiver, state2, value, kind, f) {
  if (kind === "m") throw new TypeError("Private method is not writable");
  if (kind === "a" && !f) throw new TypeError("Private accessor was defined without a setter");
  if (typeof state2 === "function" ? receiver !== state2 || !f : !state2.has(receiver)) throw new TypeError("Cannot write private member to an object whose class did not declare it");
  return kind === "a" ? f.call(receiver, value) : f ? f.value = value : state2.set(receiver, value), value;
};
var _Mutex_locked;
var Mutex = class {
  constructor() {
    _Mutex_locked.set(this, Promise.resolve());
  }
  async lock() {
    let releaseLock;
    const nextLock = new Promise((resolve) => {
      releaseLock = resolve;
    });
    const previousLock = __classPrivateFieldGet(this, _Mutex_locked, "f");
    __classPrivateFieldSet(this, _Mutex_locked, nextLock, "f");
    await previousLock;
    return releaseLock;
  }
};
_Mutex_locked = /* @__PURE__ */ new WeakMap();

// node_modules/@hpke/core/esm/src/recipientContext.js
var __classPrivateFieldGet2 = function(receiver, state2, kind, f) {
  if (kind === "a" && !f) throw new TypeError("Private accessor was defined without a getter");
  if (typeof state2 === "function" ? receiver !== state2 || !f : !state2.has(receiver)) throw new TypeError("Cannot read private member from an object whose class did not declare it");
  return kind === "m" ? f : kind === "a" ? f.call(receiver) : f ? f.value : state2.get(receiver);
};
var __classPrivateFieldSet2 = function(receiver, state2, value, kind, f) {
  if (kind === "m") throw new TypeError("Private method is not writable");
  if (kind === "a" && !f) throw new TypeError("Private accessor was defined without a setter");
  if (typeof state2 === "function" ? receiver !== state2 || !f : !state2.has(receiver)) throw new TypeError("Cannot write private member to an object whose class did not declare it");
  return kind === "a" ? f.call(receiver, value) : f ? f.value = value : state2.set(receiver, value), value;
};
var _RecipientContextImpl_mutex;
var RecipientContextImpl = class extends EncryptionContextImpl {
  constructor() {
    super(...arguments);
    _RecipientContextImpl_mutex.set(this, void 0);
  }
  async open(data, aad = EMPTY.buffer) {
    __classPrivateFieldSet2(this, _RecipientContextImpl_mutex, __classPrivateFieldGet2(this, _RecipientContextImpl_mutex, "f") ?? new Mutex(), "f");
    const release = await __classPrivateFieldGet2(this, _RecipientContextImpl_mutex, "f").lock();
    let pt;
    try {
      pt = await this._ctx.key.open(this.computeNonce(this._ctx), toArrayBuffer(data), toArrayBuffer(aad));
    } catch (e) {
      throw new OpenError(e);
    } finally {
      release();
    }
    this.incrementSeq(this._ctx);
    return pt;
  }
};
_RecipientContextImpl_mutex = /* @__PURE__ */ new WeakMap();

// node_modules/@hpke/core/esm/src/senderContext.js
var __classPrivateFieldGet3 = function(receiver, state2, kind, f) {
  if (kind === "a" && !f) throw new TypeError("Private accessor was defined without a getter");
  if (typeof state2 === "function" ? receiver !== state2 || !f : !state2.has(receiver)) throw new TypeError("Cannot read private member from an object whose class did not declare it");
  return kind === "m" ? f : kind === "a" ? f.call(receiver) : f ? f.value : state2.get(receiver);
};
var __classPrivateFieldSet3 = function(receiver, state2, value, kind, f) {
  if (kind === "m") throw new TypeError("Private method is not writable");
  if (kind === "a" && !f) throw new TypeError("Private accessor was defined without a setter");
  if (typeof state2 === "function" ? receiver !== state2 || !f : !state2.has(receiver)) throw new TypeError("Cannot write private member to an object whose class did not declare it");
  return kind === "a" ? f.call(receiver, value) : f ? f.value = value : state2.set(receiver, value), value;
};
var _SenderContextImpl_mutex;
var SenderContextImpl = class extends EncryptionContextImpl {
  constructor(api, kdf, params2, enc) {
    super(api, kdf, params2);
    Object.defineProperty(this, "enc", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    _SenderContextImpl_mutex.set(this, void 0);
    this.enc = enc;
  }
  async seal(data, aad = EMPTY.buffer) {
    __classPrivateFieldSet3(this, _SenderContextImpl_mutex, __classPrivateFieldGet3(this, _SenderContextImpl_mutex, "f") ?? new Mutex(), "f");
    const release = await __classPrivateFieldGet3(this, _SenderContextImpl_mutex, "f").lock();
    let ct;
    try {
      ct = await this._ctx.key.seal(this.computeNonce(this._ctx), toArrayBuffer(data), toArrayBuffer(aad));
    } catch (e) {
      throw new SealError(e);
    } finally {
      release();
    }
    this.incrementSeq(this._ctx);
    return ct;
  }
};
_SenderContextImpl_mutex = /* @__PURE__ */ new WeakMap();

// node_modules/@hpke/core/esm/src/cipherSuiteNative.js
var LABEL_BASE_NONCE = new Uint8Array([
  98,
  97,
  115,
  101,
  95,
  110,
  111,
  110,
  99,
  101
]);
var LABEL_EXP = new Uint8Array([101, 120, 112]);
var LABEL_INFO_HASH = new Uint8Array([
  105,
  110,
  102,
  111,
  95,
  104,
  97,
  115,
  104
]);
var LABEL_KEY = new Uint8Array([107, 101, 121]);
var LABEL_PSK_ID_HASH = new Uint8Array([
  112,
  115,
  107,
  95,
  105,
  100,
  95,
  104,
  97,
  115,
  104
]);
var LABEL_SECRET = new Uint8Array([115, 101, 99, 114, 101, 116]);
var SUITE_ID_HEADER_HPKE = new Uint8Array([
  72,
  80,
  75,
  69,
  0,
  0,
  0,
  0,
  0,
  0
]);
var CipherSuiteNative = class extends NativeAlgorithm {
  /**
   * @param params A set of parameters for building a cipher suite.
   *
   * If the error occurred, throws {@link InvalidParamError}.
   *
   * @throws {@link InvalidParamError}
   */
  constructor(params2) {
    super();
    Object.defineProperty(this, "_kem", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_kdf", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_aead", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_suiteId", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    if (typeof params2.kem === "number") {
      throw new InvalidParamError("KemId cannot be used");
    }
    this._kem = params2.kem;
    if (typeof params2.kdf === "number") {
      throw new InvalidParamError("KdfId cannot be used");
    }
    this._kdf = params2.kdf;
    if (typeof params2.aead === "number") {
      throw new InvalidParamError("AeadId cannot be used");
    }
    this._aead = params2.aead;
    this._suiteId = new Uint8Array(SUITE_ID_HEADER_HPKE);
    this._suiteId.set(i2Osp(this._kem.id, 2), 4);
    this._suiteId.set(i2Osp(this._kdf.id, 2), 6);
    this._suiteId.set(i2Osp(this._aead.id, 2), 8);
    this._kdf.init(this._suiteId);
  }
  /**
   * Gets the KEM context of the ciphersuite.
   */
  get kem() {
    return this._kem;
  }
  /**
   * Gets the KDF context of the ciphersuite.
   */
  get kdf() {
    return this._kdf;
  }
  /**
   * Gets the AEAD context of the ciphersuite.
   */
  get aead() {
    return this._aead;
  }
  /**
   * Creates an encryption context for a sender.
   *
   * If the error occurred, throws {@link DecapError} | {@link ValidationError}.
   *
   * @param params A set of parameters for the sender encryption context.
   * @returns A sender encryption context.
   * @throws {@link EncapError}, {@link ValidationError}
   */
  async createSenderContext(params2) {
    this._validateInputLength(params2);
    await this._setup();
    const dh = await this._kem.encap(params2);
    let mode;
    if (params2.psk !== void 0) {
      mode = params2.senderKey !== void 0 ? Mode.AuthPsk : Mode.Psk;
    } else {
      mode = params2.senderKey !== void 0 ? Mode.Auth : Mode.Base;
    }
    return await this._keyScheduleS(mode, dh.sharedSecret, dh.enc, params2);
  }
  /**
   * Creates an encryption context for a recipient.
   *
   * If the error occurred, throws {@link DecapError}
   * | {@link DeserializeError} | {@link ValidationError}.
   *
   * @param params A set of parameters for the recipient encryption context.
   * @returns A recipient encryption context.
   * @throws {@link DecapError}, {@link DeserializeError}, {@link ValidationError}
   */
  async createRecipientContext(params2) {
    this._validateInputLength(params2);
    await this._setup();
    const sharedSecret = await this._kem.decap(params2);
    let mode;
    if (params2.psk !== void 0) {
      mode = params2.senderPublicKey !== void 0 ? Mode.AuthPsk : Mode.Psk;
    } else {
      mode = params2.senderPublicKey !== void 0 ? Mode.Auth : Mode.Base;
    }
    return await this._keyScheduleR(mode, sharedSecret, params2);
  }
  /**
   * Encrypts a message to a recipient.
   *
   * If the error occurred, throws `EncapError` | `MessageLimitReachedError` | `SealError` | `ValidationError`.
   *
   * @param params A set of parameters for building a sender encryption context.
   * @param pt A plain text as bytes to be encrypted.
   * @param aad Additional authenticated data as bytes fed by an application.
   * @returns A cipher text and an encapsulated key as bytes.
   * @throws {@link EncapError}, {@link MessageLimitReachedError}, {@link SealError}, {@link ValidationError}
   */
  async seal(params2, pt, aad = EMPTY.buffer) {
    const ctx = await this.createSenderContext(params2);
    return {
      ct: await ctx.seal(pt, aad),
      enc: ctx.enc
    };
  }
  /**
   * Decrypts a message from a sender.
   *
   * If the error occurred, throws `DecapError` | `DeserializeError` | `OpenError` | `ValidationError`.
   *
   * @param params A set of parameters for building a recipient encryption context.
   * @param ct An encrypted text as bytes to be decrypted.
   * @param aad Additional authenticated data as bytes fed by an application.
   * @returns A decrypted plain text as bytes.
   * @throws {@link DecapError}, {@link DeserializeError}, {@link OpenError}, {@link ValidationError}
   */
  async open(params2, ct, aad = EMPTY.buffer) {
    const ctx = await this.createRecipientContext(params2);
    return await ctx.open(ct, aad);
  }
  // private verifyPskInputs(mode: Mode, params: KeyScheduleParams) {
  //   const gotPsk = (params.psk !== undefined);
  //   const gotPskId = (params.psk !== undefined && params.psk.id.byteLength > 0);
  //   if (gotPsk !== gotPskId) {
  //     throw new Error('Inconsistent PSK inputs');
  //   }
  //   if (gotPsk && (mode === Mode.Base || mode === Mode.Auth)) {
  //     throw new Error('PSK input provided when not needed');
  //   }
  //   if (!gotPsk && (mode === Mode.Psk || mode === Mode.AuthPsk)) {
  //     throw new Error('Missing required PSK input');
  //   }
  //   return;
  // }
  async _keySchedule(mode, sharedSecret, params2) {
    const pskId = params2.psk === void 0 ? EMPTY : toUint8Array(params2.psk.id);
    const pskIdHash = await this._kdf.labeledExtract(EMPTY, LABEL_PSK_ID_HASH, pskId);
    const info = params2.info === void 0 ? EMPTY : toUint8Array(params2.info);
    const infoHash = await this._kdf.labeledExtract(EMPTY, LABEL_INFO_HASH, info);
    const keyScheduleContext = new Uint8Array(1 + pskIdHash.byteLength + infoHash.byteLength);
    keyScheduleContext.set(new Uint8Array([mode]), 0);
    keyScheduleContext.set(new Uint8Array(pskIdHash), 1);
    keyScheduleContext.set(new Uint8Array(infoHash), 1 + pskIdHash.byteLength);
    const psk = params2.psk === void 0 ? EMPTY : toUint8Array(params2.psk.key);
    const ikm = this._kdf.buildLabeledIkm(LABEL_SECRET, psk);
    const exporterSecretInfo = this._kdf.buildLabeledInfo(LABEL_EXP, keyScheduleContext, this._kdf.hashSize);
    const exporterSecret = await this._kdf.extractAndExpand(sharedSecret, ikm, exporterSecretInfo, this._kdf.hashSize);
    if (this._aead.id === AeadId.ExportOnly) {
      return { aead: this._aead, exporterSecret };
    }
    const keyInfo = this._kdf.buildLabeledInfo(LABEL_KEY, keyScheduleContext, this._aead.keySize);
    const key = await this._kdf.extractAndExpand(sharedSecret, ikm, keyInfo, this._aead.keySize);
    const baseNonceInfo = this._kdf.buildLabeledInfo(LABEL_BASE_NONCE, keyScheduleContext, this._aead.nonceSize);
    const baseNonce = await this._kdf.extractAndExpand(sharedSecret, ikm, baseNonceInfo, this._aead.nonceSize);
    return {
      aead: this._aead,
      exporterSecret,
      key,
      baseNonce: new Uint8Array(baseNonce),
      seq: 0
    };
  }
  async _keyScheduleS(mode, sharedSecret, enc, params2) {
    const res = await this._keySchedule(mode, sharedSecret, params2);
    if (res.key === void 0) {
      return new SenderExporterContextImpl(this._api, this._kdf, res.exporterSecret, enc);
    }
    return new SenderContextImpl(this._api, this._kdf, res, enc);
  }
  async _keyScheduleR(mode, sharedSecret, params2) {
    const res = await this._keySchedule(mode, sharedSecret, params2);
    if (res.key === void 0) {
      return new RecipientExporterContextImpl(this._api, this._kdf, res.exporterSecret);
    }
    return new RecipientContextImpl(this._api, this._kdf, res);
  }
  _validateInputLength(params2) {
    if (params2.info !== void 0 && params2.info.byteLength > INFO_LENGTH_LIMIT) {
      throw new InvalidParamError("Too long info");
    }
    if (params2.psk !== void 0) {
      if (params2.psk.key.byteLength < MINIMUM_PSK_LENGTH) {
        throw new InvalidParamError(`PSK must have at least ${MINIMUM_PSK_LENGTH} bytes`);
      }
      if (params2.psk.key.byteLength > INPUT_LENGTH_LIMIT) {
        throw new InvalidParamError("Too long psk.key");
      }
      if (params2.psk.id.byteLength > INPUT_LENGTH_LIMIT) {
        throw new InvalidParamError("Too long psk.id");
      }
    }
    return;
  }
};

// node_modules/@hpke/core/esm/src/native.js
var CipherSuite = class extends CipherSuiteNative {
};
var HkdfSha256 = class extends HkdfSha256Native {
};

// node_modules/@hpke/core/esm/src/kems/dhkemPrimitives/x25519.js
var PKCS8_ALG_ID_X25519 = new Uint8Array([
  48,
  46,
  2,
  1,
  0,
  48,
  5,
  6,
  3,
  43,
  101,
  110,
  4,
  34,
  4,
  32
]);

// node_modules/@hpke/core/esm/src/kems/dhkemPrimitives/x448.js
var PKCS8_ALG_ID_X448 = new Uint8Array([
  48,
  70,
  2,
  1,
  0,
  48,
  5,
  6,
  3,
  43,
  101,
  111,
  4,
  58,
  4,
  56
]);

// node_modules/mlkem/esm/src/errors.js
var MlKemError = class extends Error {
  constructor(e) {
    let message;
    if (e instanceof Error) {
      message = e.message;
    } else if (typeof e === "string") {
      message = e;
    } else {
      message = "";
    }
    super(message);
    this.name = this.constructor.name;
  }
};

// node_modules/mlkem/esm/src/consts.js
var N = 256;
var Q = 3329;
var Q_INV = 62209;
var NTT_ZETAS = [
  2285,
  2571,
  2970,
  1812,
  1493,
  1422,
  287,
  202,
  3158,
  622,
  1577,
  182,
  962,
  2127,
  1855,
  1468,
  573,
  2004,
  264,
  383,
  2500,
  1458,
  1727,
  3199,
  2648,
  1017,
  732,
  608,
  1787,
  411,
  3124,
  1758,
  1223,
  652,
  2777,
  1015,
  2036,
  1491,
  3047,
  1785,
  516,
  3321,
  3009,
  2663,
  1711,
  2167,
  126,
  1469,
  2476,
  3239,
  3058,
  830,
  107,
  1908,
  3082,
  2378,
  2931,
  961,
  1821,
  2604,
  448,
  2264,
  677,
  2054,
  2226,
  430,
  555,
  843,
  2078,
  871,
  1550,
  105,
  422,
  587,
  177,
  3094,
  3038,
  2869,
  1574,
  1653,
  3083,
  778,
  1159,
  3182,
  2552,
  1483,
  2727,
  1119,
  1739,
  644,
  2457,
  349,
  418,
  329,
  3173,
  3254,
  817,
  1097,
  603,
  610,
  1322,
  2044,
  1864,
  384,
  2114,
  3193,
  1218,
  1994,
  2455,
  220,
  2142,
  1670,
  2144,
  1799,
  2051,
  794,
  1819,
  2475,
  2459,
  478,
  3221,
  3021,
  996,
  991,
  958,
  1869,
  1522,
  1628
];
var NTT_ZETAS_INV = [
  1701,
  1807,
  1460,
  2371,
  2338,
  2333,
  308,
  108,
  2851,
  870,
  854,
  1510,
  2535,
  1278,
  1530,
  1185,
  1659,
  1187,
  3109,
  874,
  1335,
  2111,
  136,
  1215,
  2945,
  1465,
  1285,
  2007,
  2719,
  2726,
  2232,
  2512,
  75,
  156,
  3e3,
  2911,
  2980,
  872,
  2685,
  1590,
  2210,
  602,
  1846,
  777,
  147,
  2170,
  2551,
  246,
  1676,
  1755,
  460,
  291,
  235,
  3152,
  2742,
  2907,
  3224,
  1779,
  2458,
  1251,
  2486,
  2774,
  2899,
  1103,
  1275,
  2652,
  1065,
  2881,
  725,
  1508,
  2368,
  398,
  951,
  247,
  1421,
  3222,
  2499,
  271,
  90,
  853,
  1860,
  3203,
  1162,
  1618,
  666,
  320,
  8,
  2813,
  1544,
  282,
  1838,
  1293,
  2314,
  552,
  2677,
  2106,
  1571,
  205,
  2918,
  1542,
  2721,
  2597,
  2312,
  681,
  130,
  1602,
  1871,
  829,
  2946,
  3065,
  1325,
  2756,
  1861,
  1474,
  1202,
  2367,
  3147,
  1752,
  2707,
  171,
  3127,
  3042,
  1907,
  1836,
  1517,
  359,
  758,
  1441
];

// node_modules/mlkem/esm/src/sha3/_u64.js
var U32_MASK642 = 0xffffffffn;
var _32n2 = 32n;
function fromBig2(n, le = false) {
  if (le) {
    return { h: Number(n & U32_MASK642), l: Number(n >> _32n2 & U32_MASK642) };
  }
  return {
    h: Number(n >> _32n2 & U32_MASK642) | 0,
    l: Number(n & U32_MASK642) | 0
  };
}
function split3(lst, le = false) {
  const len = lst.length;
  const Ah = new Uint32Array(len);
  const Al = new Uint32Array(len);
  for (let i = 0; i < len; i++) {
    const { h: h2, l } = fromBig2(lst[i], le);
    [Ah[i], Al[i]] = [h2, l];
  }
  return [Ah, Al];
}
var rotlSH2 = (h2, l, s) => h2 << s | l >>> 32 - s;
var rotlSL2 = (h2, l, s) => l << s | h2 >>> 32 - s;
var rotlBH2 = (h2, l, s) => l << s - 32 | h2 >>> 64 - s;
var rotlBL2 = (h2, l, s) => h2 << s - 32 | l >>> 64 - s;

// node_modules/mlkem/esm/src/sha3/utils.js
function isBytes2(a) {
  return a instanceof Uint8Array || ArrayBuffer.isView(a) && a.constructor.name === "Uint8Array";
}
function anumber2(n, title = "") {
  if (!Number.isSafeInteger(n) || n < 0) {
    const prefix = title && `"${title}" `;
    throw new Error(`${prefix}expected integer >0, got ${n}`);
  }
}
function abytes2(value, length, title = "") {
  const bytes = isBytes2(value);
  const len = value?.length;
  const needsLen = length !== void 0;
  if (!bytes || needsLen && len !== length) {
    const prefix = title && `"${title}" `;
    const ofLen = needsLen ? ` of length ${length}` : "";
    const got = bytes ? `length=${len}` : `type=${typeof value}`;
    throw new Error(prefix + "expected Uint8Array" + ofLen + ", got " + got);
  }
  return value;
}
function aexists2(instance, checkFinished = true) {
  if (instance.destroyed)
    throw new Error("Hash instance has been destroyed");
  if (checkFinished && instance.finished) {
    throw new Error("Hash#digest() has already been called");
  }
}
function aoutput2(out, instance) {
  abytes2(out, void 0, "digestInto() output");
  const min = instance.outputLen;
  if (out.length < min) {
    throw new Error('"digestInto() output" expected to be of length >=' + min);
  }
}
function u322(arr) {
  return new Uint32Array(arr.buffer, arr.byteOffset, Math.floor(arr.byteLength / 4));
}
function clean2(...arrays) {
  for (let i = 0; i < arrays.length; i++) {
    arrays[i].fill(0);
  }
}
var isLE2 = /* @__PURE__ */ (() => new Uint8Array(new Uint32Array([287454020]).buffer)[0] === 68)();
function byteSwap(word) {
  return word << 24 & 4278190080 | word << 8 & 16711680 | word >>> 8 & 65280 | word >>> 24 & 255;
}
function byteSwap32(arr) {
  for (let i = 0; i < arr.length; i++) {
    arr[i] = byteSwap(arr[i]);
  }
  return arr;
}
var swap32IfBE2 = isLE2 ? (u) => u : byteSwap32;
function createHasher2(hashCons, info = {}) {
  const hashC = (msg, opts) => hashCons(opts).update(msg).digest();
  const tmp = hashCons(void 0);
  hashC.outputLen = tmp.outputLen;
  hashC.blockLen = tmp.blockLen;
  hashC.create = (opts) => hashCons(opts);
  Object.assign(hashC, info);
  return Object.freeze(hashC);
}
var oidNist2 = (suffix) => ({
  oid: Uint8Array.from([
    6,
    9,
    96,
    134,
    72,
    1,
    101,
    3,
    4,
    2,
    suffix
  ])
});

// node_modules/mlkem/esm/src/sha3/sha3.js
var _0n2 = 0n;
var _1n2 = 1n;
var _2n2 = 2n;
var _7n2 = 7n;
var _256n2 = 256n;
var _0x71n2 = 0x71n;
var SHA3_PI2 = [];
var SHA3_ROTL2 = [];
var _SHA3_IOTA2 = [];
for (let round = 0, R = _1n2, x = 1, y = 0; round < 24; round++) {
  [x, y] = [y, (2 * x + 3 * y) % 5];
  SHA3_PI2.push(2 * (5 * y + x));
  SHA3_ROTL2.push((round + 1) * (round + 2) / 2 % 64);
  let t = _0n2;
  for (let j = 0; j < 7; j++) {
    R = (R << _1n2 ^ (R >> _7n2) * _0x71n2) % _256n2;
    if (R & _2n2)
      t ^= _1n2 << (_1n2 << BigInt(j)) - _1n2;
  }
  _SHA3_IOTA2.push(t);
}
var IOTAS2 = split3(_SHA3_IOTA2, true);
var SHA3_IOTA_H2 = IOTAS2[0];
var SHA3_IOTA_L2 = IOTAS2[1];
var rotlH = (h2, l, s) => s > 32 ? rotlBH2(h2, l, s) : rotlSH2(h2, l, s);
var rotlL = (h2, l, s) => s > 32 ? rotlBL2(h2, l, s) : rotlSL2(h2, l, s);
function keccakP(s, rounds = 24, B) {
  if (!B)
    B = new Uint32Array(10);
  for (let round = 24 - rounds; round < 24; round++) {
    for (let x = 0; x < 10; x++) {
      B[x] = s[x] ^ s[x + 10] ^ s[x + 20] ^ s[x + 30] ^ s[x + 40];
    }
    {
      const Th2 = rotlH(B[2], B[3], 1) ^ B[8];
      const Tl2 = rotlL(B[2], B[3], 1) ^ B[9];
      s[0] ^= Th2;
      s[1] ^= Tl2;
      s[10] ^= Th2;
      s[11] ^= Tl2;
      s[20] ^= Th2;
      s[21] ^= Tl2;
      s[30] ^= Th2;
      s[31] ^= Tl2;
      s[40] ^= Th2;
      s[41] ^= Tl2;
    }
    {
      const Th2 = rotlH(B[4], B[5], 1) ^ B[0];
      const Tl2 = rotlL(B[4], B[5], 1) ^ B[1];
      s[2] ^= Th2;
      s[3] ^= Tl2;
      s[12] ^= Th2;
      s[13] ^= Tl2;
      s[22] ^= Th2;
      s[23] ^= Tl2;
      s[32] ^= Th2;
      s[33] ^= Tl2;
      s[42] ^= Th2;
      s[43] ^= Tl2;
    }
    {
      const Th2 = rotlH(B[6], B[7], 1) ^ B[2];
      const Tl2 = rotlL(B[6], B[7], 1) ^ B[3];
      s[4] ^= Th2;
      s[5] ^= Tl2;
      s[14] ^= Th2;
      s[15] ^= Tl2;
      s[24] ^= Th2;
      s[25] ^= Tl2;
      s[34] ^= Th2;
      s[35] ^= Tl2;
      s[44] ^= Th2;
      s[45] ^= Tl2;
    }
    {
      const Th2 = rotlH(B[8], B[9], 1) ^ B[4];
      const Tl2 = rotlL(B[8], B[9], 1) ^ B[5];
      s[6] ^= Th2;
      s[7] ^= Tl2;
      s[16] ^= Th2;
      s[17] ^= Tl2;
      s[26] ^= Th2;
      s[27] ^= Tl2;
      s[36] ^= Th2;
      s[37] ^= Tl2;
      s[46] ^= Th2;
      s[47] ^= Tl2;
    }
    {
      const Th2 = rotlH(B[0], B[1], 1) ^ B[6];
      const Tl2 = rotlL(B[0], B[1], 1) ^ B[7];
      s[8] ^= Th2;
      s[9] ^= Tl2;
      s[18] ^= Th2;
      s[19] ^= Tl2;
      s[28] ^= Th2;
      s[29] ^= Tl2;
      s[38] ^= Th2;
      s[39] ^= Tl2;
      s[48] ^= Th2;
      s[49] ^= Tl2;
    }
    let curH = s[2];
    let curL = s[3];
    let Th, Tl;
    Th = rotlSH2(curH, curL, 1);
    Tl = rotlSL2(curH, curL, 1);
    curH = s[20];
    curL = s[21];
    s[20] = Th;
    s[21] = Tl;
    Th = rotlSH2(curH, curL, 3);
    Tl = rotlSL2(curH, curL, 3);
    curH = s[14];
    curL = s[15];
    s[14] = Th;
    s[15] = Tl;
    Th = rotlSH2(curH, curL, 6);
    Tl = rotlSL2(curH, curL, 6);
    curH = s[22];
    curL = s[23];
    s[22] = Th;
    s[23] = Tl;
    Th = rotlSH2(curH, curL, 10);
    Tl = rotlSL2(curH, curL, 10);
    curH = s[34];
    curL = s[35];
    s[34] = Th;
    s[35] = Tl;
    Th = rotlSH2(curH, curL, 15);
    Tl = rotlSL2(curH, curL, 15);
    curH = s[36];
    curL = s[37];
    s[36] = Th;
    s[37] = Tl;
    Th = rotlSH2(curH, curL, 21);
    Tl = rotlSL2(curH, curL, 21);
    curH = s[6];
    curL = s[7];
    s[6] = Th;
    s[7] = Tl;
    Th = rotlSH2(curH, curL, 28);
    Tl = rotlSL2(curH, curL, 28);
    curH = s[10];
    curL = s[11];
    s[10] = Th;
    s[11] = Tl;
    Th = rotlBH2(curH, curL, 36);
    Tl = rotlBL2(curH, curL, 36);
    curH = s[32];
    curL = s[33];
    s[32] = Th;
    s[33] = Tl;
    Th = rotlBH2(curH, curL, 45);
    Tl = rotlBL2(curH, curL, 45);
    curH = s[16];
    curL = s[17];
    s[16] = Th;
    s[17] = Tl;
    Th = rotlBH2(curH, curL, 55);
    Tl = rotlBL2(curH, curL, 55);
    curH = s[42];
    curL = s[43];
    s[42] = Th;
    s[43] = Tl;
    Th = rotlSH2(curH, curL, 2);
    Tl = rotlSL2(curH, curL, 2);
    curH = s[48];
    curL = s[49];
    s[48] = Th;
    s[49] = Tl;
    Th = rotlSH2(curH, curL, 14);
    Tl = rotlSL2(curH, curL, 14);
    curH = s[8];
    curL = s[9];
    s[8] = Th;
    s[9] = Tl;
    Th = rotlSH2(curH, curL, 27);
    Tl = rotlSL2(curH, curL, 27);
    curH = s[30];
    curL = s[31];
    s[30] = Th;
    s[31] = Tl;
    Th = rotlBH2(curH, curL, 41);
    Tl = rotlBL2(curH, curL, 41);
    curH = s[46];
    curL = s[47];
    s[46] = Th;
    s[47] = Tl;
    Th = rotlBH2(curH, curL, 56);
    Tl = rotlBL2(curH, curL, 56);
    curH = s[38];
    curL = s[39];
    s[38] = Th;
    s[39] = Tl;
    Th = rotlSH2(curH, curL, 8);
    Tl = rotlSL2(curH, curL, 8);
    curH = s[26];
    curL = s[27];
    s[26] = Th;
    s[27] = Tl;
    Th = rotlSH2(curH, curL, 25);
    Tl = rotlSL2(curH, curL, 25);
    curH = s[24];
    curL = s[25];
    s[24] = Th;
    s[25] = Tl;
    Th = rotlBH2(curH, curL, 43);
    Tl = rotlBL2(curH, curL, 43);
    curH = s[4];
    curL = s[5];
    s[4] = Th;
    s[5] = Tl;
    Th = rotlBH2(curH, curL, 62);
    Tl = rotlBL2(curH, curL, 62);
    curH = s[40];
    curL = s[41];
    s[40] = Th;
    s[41] = Tl;
    Th = rotlSH2(curH, curL, 18);
    Tl = rotlSL2(curH, curL, 18);
    curH = s[28];
    curL = s[29];
    s[28] = Th;
    s[29] = Tl;
    Th = rotlBH2(curH, curL, 39);
    Tl = rotlBL2(curH, curL, 39);
    curH = s[44];
    curL = s[45];
    s[44] = Th;
    s[45] = Tl;
    Th = rotlBH2(curH, curL, 61);
    Tl = rotlBL2(curH, curL, 61);
    curH = s[18];
    curL = s[19];
    s[18] = Th;
    s[19] = Tl;
    Th = rotlSH2(curH, curL, 20);
    Tl = rotlSL2(curH, curL, 20);
    curH = s[12];
    curL = s[13];
    s[12] = Th;
    s[13] = Tl;
    Th = rotlBH2(curH, curL, 44);
    Tl = rotlBL2(curH, curL, 44);
    s[2] = Th;
    s[3] = Tl;
    for (let y = 0; y < 50; y += 10) {
      B[0] = s[y];
      B[1] = s[y + 1];
      B[2] = s[y + 2];
      B[3] = s[y + 3];
      B[4] = s[y + 4];
      B[5] = s[y + 5];
      B[6] = s[y + 6];
      B[7] = s[y + 7];
      B[8] = s[y + 8];
      B[9] = s[y + 9];
      s[y + 0] ^= ~B[2] & B[4];
      s[y + 1] ^= ~B[3] & B[5];
      s[y + 2] ^= ~B[4] & B[6];
      s[y + 3] ^= ~B[5] & B[7];
      s[y + 4] ^= ~B[6] & B[8];
      s[y + 5] ^= ~B[7] & B[9];
      s[y + 6] ^= ~B[8] & B[0];
      s[y + 7] ^= ~B[9] & B[1];
      s[y + 8] ^= ~B[0] & B[2];
      s[y + 9] ^= ~B[1] & B[3];
    }
    s[0] ^= SHA3_IOTA_H2[round];
    s[1] ^= SHA3_IOTA_L2[round];
  }
}
var Keccak = class _Keccak {
  // NOTE: we accept arguments in bytes instead of bits here.
  constructor(blockLen, suffix, outputLen, enableXOF = false, rounds = 24) {
    Object.defineProperty(this, "state", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "pos", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 0
    });
    Object.defineProperty(this, "posOut", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 0
    });
    Object.defineProperty(this, "finished", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: false
    });
    Object.defineProperty(this, "state32", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "destroyed", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: false
    });
    Object.defineProperty(this, "_B", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: new Uint32Array(10)
    });
    Object.defineProperty(this, "blockLen", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "suffix", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "outputLen", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "enableXOF", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: false
    });
    Object.defineProperty(this, "rounds", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    this.blockLen = blockLen;
    this.suffix = suffix;
    this.outputLen = outputLen;
    this.enableXOF = enableXOF;
    this.rounds = rounds;
    anumber2(outputLen, "outputLen");
    if (!(0 < blockLen && blockLen < 200)) {
      throw new Error("only keccak-f1600 function is supported");
    }
    this.state = new Uint8Array(200);
    this.state32 = u322(this.state);
  }
  clone() {
    return this._cloneInto();
  }
  /** Resets instance to initial (empty) state for reuse. */
  reset() {
    this.state.fill(0);
    this.pos = 0;
    this.posOut = 0;
    this.finished = false;
    this.destroyed = false;
  }
  keccak() {
    swap32IfBE2(this.state32);
    keccakP(this.state32, this.rounds, this._B);
    swap32IfBE2(this.state32);
    this.posOut = 0;
    this.pos = 0;
  }
  update(data) {
    aexists2(this);
    abytes2(data);
    return this.updateUnsafe(data);
  }
  /** Like update(), but skips validation. Caller must ensure valid state and input. */
  updateUnsafe(data) {
    const { blockLen, state: state2 } = this;
    const len = data.length;
    for (let pos = 0; pos < len; ) {
      const take = Math.min(blockLen - this.pos, len - pos);
      for (let i = 0; i < take; i++)
        state2[this.pos++] ^= data[pos++];
      if (this.pos === blockLen)
        this.keccak();
    }
    return this;
  }
  finish() {
    if (this.finished)
      return;
    this.finished = true;
    const { state: state2, suffix, pos, blockLen } = this;
    state2[pos] ^= suffix;
    if ((suffix & 128) !== 0 && pos === blockLen - 1)
      this.keccak();
    state2[blockLen - 1] ^= 128;
    this.keccak();
  }
  writeInto(out) {
    aexists2(this, false);
    abytes2(out);
    return this.writeIntoUnsafe(out);
  }
  /** Like writeInto(), but skips validation. Caller must ensure valid state and output. */
  writeIntoUnsafe(out) {
    this.finish();
    const bufferOut = this.state;
    const { blockLen } = this;
    for (let pos = 0, len = out.length; pos < len; ) {
      if (this.posOut >= blockLen)
        this.keccak();
      const take = Math.min(blockLen - this.posOut, len - pos);
      out.set(bufferOut.subarray(this.posOut, this.posOut + take), pos);
      this.posOut += take;
      pos += take;
    }
    return out;
  }
  xofInto(out) {
    if (!this.enableXOF) {
      throw new Error("XOF is not possible for this instance");
    }
    return this.writeInto(out);
  }
  xof(bytes) {
    anumber2(bytes);
    return this.xofInto(new Uint8Array(bytes));
  }
  digestInto(out) {
    aoutput2(out, this);
    if (this.finished)
      throw new Error("digest() was already called");
    this.writeInto(out);
    this.destroy();
    return out;
  }
  digest() {
    return this.digestInto(new Uint8Array(this.outputLen));
  }
  destroy() {
    this.destroyed = true;
    clean2(this.state);
  }
  _cloneInto(to) {
    const { blockLen, suffix, outputLen, rounds, enableXOF } = this;
    to ||= new _Keccak(blockLen, suffix, outputLen, enableXOF, rounds);
    to.state32.set(this.state32);
    to.pos = this.pos;
    to.posOut = this.posOut;
    to.finished = this.finished;
    to.rounds = rounds;
    to.suffix = suffix;
    to.outputLen = outputLen;
    to.enableXOF = enableXOF;
    to.destroyed = this.destroyed;
    return to;
  }
};
var genKeccak = (suffix, blockLen, outputLen, info = {}) => createHasher2(() => new Keccak(blockLen, suffix, outputLen), info);
var sha3_2562 = /* @__PURE__ */ genKeccak(
  6,
  136,
  32,
  /* @__PURE__ */ oidNist2(8)
);
var genShake = (suffix, blockLen, outputLen, info = {}) => createHasher2((opts = {}) => new Keccak(blockLen, suffix, opts.dkLen === void 0 ? outputLen : opts.dkLen, true), info);
var shake2562 = /* @__PURE__ */ genShake(31, 136, 32, /* @__PURE__ */ oidNist2(12));

// node_modules/mlkem/esm/_dnt.shims.js
var dntGlobals2 = {};
var dntGlobalThis2 = createMergeProxy2(globalThis, dntGlobals2);
function createMergeProxy2(baseObj, extObj) {
  return new Proxy(baseObj, {
    get(_target, prop, _receiver) {
      if (prop in extObj) {
        return extObj[prop];
      } else {
        return baseObj[prop];
      }
    },
    set(_target, prop, value) {
      if (prop in extObj) {
        delete extObj[prop];
      }
      baseObj[prop] = value;
      return true;
    },
    deleteProperty(_target, prop) {
      let success = false;
      if (prop in extObj) {
        delete extObj[prop];
        success = true;
      }
      if (prop in baseObj) {
        delete baseObj[prop];
        success = true;
      }
      return success;
    },
    ownKeys(_target) {
      const baseKeys = Reflect.ownKeys(baseObj);
      const extKeys = Reflect.ownKeys(extObj);
      const extKeysSet = new Set(extKeys);
      return [...baseKeys.filter((k) => !extKeysSet.has(k)), ...extKeys];
    },
    defineProperty(_target, prop, desc) {
      if (prop in extObj) {
        delete extObj[prop];
      }
      Reflect.defineProperty(baseObj, prop, desc);
      return true;
    },
    getOwnPropertyDescriptor(_target, prop) {
      if (prop in extObj) {
        return Reflect.getOwnPropertyDescriptor(extObj, prop);
      } else {
        return Reflect.getOwnPropertyDescriptor(baseObj, prop);
      }
    },
    has(_target, prop) {
      return prop in extObj || prop in baseObj;
    }
  });
}

// node_modules/mlkem/esm/src/utils.js
function byte(n) {
  return n & 255;
}
function int16(n) {
  return n << 16 >> 16;
}
function uint16(n) {
  return n & 65535;
}
function constantTimeCompare(x, y) {
  if (x.length != y.length) {
    return 0;
  }
  let v = 0;
  for (let i = 0; i < x.length; i++) {
    v |= x[i] ^ y[i];
  }
  let z = ~v & 255;
  z &= z >> 4;
  z &= z >> 2;
  z &= z >> 1;
  return z & 1;
}
function equalUint8Array(x, y) {
  if (x.length != y.length) {
    return false;
  }
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) {
      return false;
    }
  }
  return true;
}
async function loadCrypto2() {
  if (typeof dntGlobalThis2 !== "undefined" && globalThis.crypto !== void 0) {
    return globalThis.crypto;
  }
  try {
    const { webcrypto } = await import("crypto");
    return webcrypto;
  } catch (_e) {
    throw new Error("failed to load Crypto");
  }
}
function byteopsLoad32(x, o = 0) {
  return (x[o] | x[o + 1] << 8 | x[o + 2] << 16 | x[o + 3] << 24) >>> 0;
}

// node_modules/mlkem/esm/src/mlKemBase.js
var MlKemBase = class {
  /**
   * Creates a new instance of the MlKemBase class.
   */
  constructor() {
    Object.defineProperty(this, "_api", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_k", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 0
    });
    Object.defineProperty(this, "_du", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 0
    });
    Object.defineProperty(this, "_dv", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 0
    });
    Object.defineProperty(this, "_eta1", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 0
    });
    Object.defineProperty(this, "_eta2", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 0
    });
    Object.defineProperty(this, "_skSize", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 0
    });
    Object.defineProperty(this, "_pkSize", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 0
    });
    Object.defineProperty(this, "_compressedUSize", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 0
    });
    Object.defineProperty(this, "_compressedVSize", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 0
    });
    Object.defineProperty(this, "_poolG", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_poolH", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_poolKdf", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_poolXof", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_poolPrf1", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_poolPrf2", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_bufG", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: new Uint8Array(64)
    });
    Object.defineProperty(this, "_bufH", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: new Uint8Array(32)
    });
    Object.defineProperty(this, "_bufKdf", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: new Uint8Array(32)
    });
    Object.defineProperty(this, "_bufXof", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: new Uint8Array(672)
    });
    Object.defineProperty(this, "_bufPrf1", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_bufPrf2", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_nonceBuf", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: new Uint8Array(1)
    });
    Object.defineProperty(this, "_xofSeed", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: new Uint8Array(34)
    });
    Object.defineProperty(this, "_kBuf", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_matrixA", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_noiseVecs", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_polyVec", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_bufPkCheck", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_bufCt", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
  }
  _initPool() {
    this._poolG = new Keccak(72, 6, 64);
    this._poolH = new Keccak(136, 6, 32);
    this._poolKdf = new Keccak(136, 31, 32, true);
    this._poolXof = new Keccak(168, 31, 672, true);
    const prf1Len = this._eta1 * N / 4;
    this._poolPrf1 = new Keccak(136, 31, prf1Len, true);
    this._bufPrf1 = new Uint8Array(prf1Len);
    const prf2Len = this._eta2 * N / 4;
    this._poolPrf2 = new Keccak(136, 31, prf2Len, true);
    this._bufPrf2 = new Uint8Array(prf2Len);
    this._kBuf = new Uint8Array([this._k]);
    this._matrixA = new Array(this._k);
    for (let i = 0; i < this._k; i++) {
      this._matrixA[i] = new Array(this._k);
      for (let j = 0; j < this._k; j++) {
        this._matrixA[i][j] = new Int16Array(N);
      }
    }
    const maxNoise = 2 * this._k + 1;
    this._noiseVecs = new Array(maxNoise);
    for (let i = 0; i < maxNoise; i++) {
      this._noiseVecs[i] = new Int16Array(N);
    }
    this._polyVec = new Array(this._k);
    for (let i = 0; i < this._k; i++) {
      this._polyVec[i] = new Int16Array(N);
    }
    this._bufPkCheck = new Uint8Array(384 * this._k);
    this._bufCt = new Uint8Array(this._compressedUSize + this._compressedVSize);
  }
  _zeroPool() {
    this._bufG.fill(0);
    this._bufH.fill(0);
    this._bufKdf.fill(0);
    this._bufXof.fill(0);
    this._bufPrf1.fill(0);
    this._bufPrf2.fill(0);
    this._nonceBuf[0] = 0;
    this._xofSeed.fill(0);
    for (let i = 0; i < this._k; i++) {
      for (let j = 0; j < this._k; j++) {
        this._matrixA[i][j].fill(0);
      }
    }
    for (let i = 0; i < this._noiseVecs.length; i++) {
      this._noiseVecs[i].fill(0);
    }
    for (let i = 0; i < this._k; i++) {
      this._polyVec[i].fill(0);
    }
    this._bufPkCheck.fill(0);
    this._bufCt.fill(0);
    this._poolG.reset();
    this._poolH.reset();
    this._poolKdf.reset();
    this._poolXof.reset();
    this._poolPrf1.reset();
    this._poolPrf2.reset();
  }
  // Serialize polynomial into byte buffer at offset (eliminates intermediate Uint8Array(384))
  _polyToBytes(out, outOffset, a) {
    let t0, t1;
    for (let i = 0; i < N / 2; i++) {
      t0 = a[2 * i] - Q;
      t0 += t0 >> 31 & Q;
      t1 = a[2 * i + 1] - Q;
      t1 += t1 >> 31 & Q;
      out[outOffset + 3 * i + 0] = byte(t0);
      out[outOffset + 3 * i + 1] = byte(t0 >> 8) | byte(t1 << 4);
      out[outOffset + 3 * i + 2] = byte(t1 >> 4);
    }
  }
  // Deserialize bytes into polynomial (eliminates intermediate Int16Array(N))
  _polyFromBytes(out, a, aOffset) {
    for (let i = 0; i < N / 2; i++) {
      out[2 * i] = int16((uint16(a[aOffset + 3 * i + 0]) >> 0 | uint16(a[aOffset + 3 * i + 1]) << 8) & 4095);
      out[2 * i + 1] = int16((uint16(a[aOffset + 3 * i + 1]) >> 4 | uint16(a[aOffset + 3 * i + 2]) << 4) & 4095);
    }
  }
  // Hash G: SHA3-512
  _g(a, b) {
    this._poolG.reset();
    this._poolG.updateUnsafe(a);
    if (b !== void 0)
      this._poolG.updateUnsafe(b);
    this._poolG.writeIntoUnsafe(this._bufG);
    return [this._bufG.subarray(0, 32), this._bufG.subarray(32, 64)];
  }
  // Hash H: SHA3-256
  _h(msg) {
    this._poolH.reset();
    this._poolH.updateUnsafe(msg).writeIntoUnsafe(this._bufH);
    return this._bufH;
  }
  // KDF: SHAKE256(dkLen=32)
  _kdf(a, b) {
    this._poolKdf.reset();
    this._poolKdf.updateUnsafe(a);
    if (b !== void 0)
      this._poolKdf.updateUnsafe(b);
    this._poolKdf.writeIntoUnsafe(this._bufKdf);
    return this._bufKdf;
  }
  // XOF: SHAKE128(dkLen=672)
  _xof(seed) {
    this._poolXof.reset();
    this._poolXof.updateUnsafe(seed).writeIntoUnsafe(this._bufXof);
    return this._bufXof;
  }
  // PRF for eta1 noise sampling: SHAKE256(dkLen=eta1*N/4)
  _prf1(sigma, nonce) {
    this._nonceBuf[0] = nonce;
    this._poolPrf1.reset();
    this._poolPrf1.updateUnsafe(sigma).updateUnsafe(this._nonceBuf).writeIntoUnsafe(this._bufPrf1);
    return this._bufPrf1;
  }
  // PRF for eta2 noise sampling: SHAKE256(dkLen=eta2*N/4)
  _prf2(sigma, nonce) {
    this._nonceBuf[0] = nonce;
    this._poolPrf2.reset();
    this._poolPrf2.updateUnsafe(sigma).updateUnsafe(this._nonceBuf).writeIntoUnsafe(this._bufPrf2);
    return this._bufPrf2;
  }
  _generateKeyPairCore() {
    try {
      const rnd = new Uint8Array(64);
      this._api.getRandomValues(rnd);
      return this._deriveKeyPair(rnd);
    } finally {
      this._zeroPool();
    }
  }
  _deriveKeyPairCore(seed) {
    try {
      if (seed.byteLength !== 64) {
        throw new Error("seed must be 64 bytes in length");
      }
      return this._deriveKeyPair(seed);
    } finally {
      this._zeroPool();
    }
  }
  _encapCore(pk, seed) {
    try {
      if (pk.length !== 384 * this._k + 32) {
        throw new Error("invalid encapsulation key");
      }
      const m = this._getSeed(seed);
      const [k, r] = this._g(m, this._h(pk));
      this._encap(pk, m, r);
      return [this._bufCt.slice(), k.slice()];
    } finally {
      this._zeroPool();
    }
  }
  _decapCore(ct, sk) {
    try {
      if (ct.byteLength !== this._compressedUSize + this._compressedVSize) {
        throw new Error("Invalid ct size");
      }
      if (sk.length !== 768 * this._k + 96) {
        throw new Error("Invalid decapsulation key");
      }
      const sk2 = sk.subarray(0, this._skSize);
      const pk = sk.subarray(this._skSize, this._skSize + this._pkSize);
      const hpk = sk.subarray(this._skSize + this._pkSize, this._skSize + this._pkSize + 32);
      const z = sk.subarray(this._skSize + this._pkSize + 32, this._skSize + this._pkSize + 64);
      const m2 = this._decap(ct, sk2);
      const [k2, r2] = this._g(m2, hpk);
      const kBar = this._kdf(z, ct);
      this._encap(pk, m2, r2);
      return constantTimeCompare(ct, this._bufCt) === 1 ? k2.slice() : kBar.slice();
    } finally {
      this._zeroPool();
    }
  }
  /**
   * Sets up the MlKemBase instance by loading the necessary crypto library.
   * If the crypto library is already loaded, this method does nothing.
   * @returns {Promise<void>} A promise that resolves when the setup is complete.
   */
  async _setup() {
    if (this._api !== void 0) {
      return;
    }
    this._api = await loadCrypto2();
  }
  /**
   * Returns a Uint8Array seed for cryptographic operations.
   * If no seed is provided, a random seed of length 32 bytes is generated.
   * If a seed is provided, it must be exactly 32 bytes in length.
   *
   * @param seed - Optional seed for cryptographic operations.
   * @returns A Uint8Array seed.
   * @throws Error if the provided seed is not 32 bytes in length.
   */
  _getSeed(seed) {
    if (seed == void 0) {
      const s = new Uint8Array(32);
      this._api.getRandomValues(s);
      return s;
    }
    if (seed.byteLength !== 32) {
      throw new Error("seed must be 32 bytes in length");
    }
    return seed;
  }
  /**
   * Derives a key pair from a given seed.
   *
   * @param seed - The seed used for key derivation.
   * @returns An array containing the public key and secret key.
   */
  _deriveKeyPair(seed) {
    const cpaSeed = seed.subarray(0, 32);
    const z = seed.subarray(32, 64);
    const [pk, skBody] = this._deriveCpaKeyPair(cpaSeed);
    const pkh = this._h(pk);
    const sk = new Uint8Array(this._skSize + this._pkSize + 64);
    sk.set(skBody, 0);
    sk.set(pk, this._skSize);
    sk.set(pkh, this._skSize + this._pkSize);
    sk.set(z, this._skSize + this._pkSize + 32);
    return [pk, sk];
  }
  // indcpaKeyGen generates public and private keys for the CPA-secure
  // public-key encryption scheme underlying ML-KEM.
  /**
   * Derives a CPA key pair using the provided CPA seed.
   *
   * @param cpaSeed - The CPA seed used for key derivation.
   * @returns An array containing the public key and private key.
   */
  _deriveCpaKeyPair(cpaSeed) {
    const [publicSeed, noiseSeed] = this._g(cpaSeed, this._kBuf);
    const a = this._sampleMatrix(publicSeed, false);
    const s = this._sampleNoise1(noiseSeed, 0, this._k);
    const e = this._sampleNoise1(noiseSeed, this._k, this._k);
    for (let i = 0; i < this._k; i++) {
      s[i] = ntt(s[i]);
      s[i] = reduce(s[i]);
      e[i] = ntt(e[i]);
    }
    const pk = new Array(this._k);
    for (let i = 0; i < this._k; i++) {
      pk[i] = polyToMont(multiply(a[i], s));
      pk[i] = add2(pk[i], e[i]);
      pk[i] = reduce(pk[i]);
    }
    const pubKey = new Uint8Array(this._pkSize);
    for (let i = 0; i < this._k; i++) {
      this._polyToBytes(pubKey, i * 384, pk[i]);
    }
    pubKey.set(publicSeed, this._skSize);
    const privKey = new Uint8Array(this._skSize);
    for (let i = 0; i < this._k; i++) {
      this._polyToBytes(privKey, i * 384, s[i]);
    }
    return [pubKey, privKey];
  }
  // _encap is the encapsulation function of the CPA-secure
  // public-key encryption scheme underlying ML-KEM.
  /**
   * Encapsulates a message using the ML-KEM encryption scheme.
   *
   * @param pk - The public key.
   * @param msg - The message to be encapsulated.
   * @param seed - The seed used for generating random values.
   * @returns The encapsulated message as a Uint8Array.
   */
  _encap(pk, msg, seed) {
    const tHat = this._polyVec;
    const pkCheck = this._bufPkCheck;
    for (let i = 0; i < this._k; i++) {
      this._polyFromBytes(tHat[i], pk, i * 384);
      this._polyToBytes(pkCheck, i * 384, tHat[i]);
    }
    if (!equalUint8Array(pk.subarray(0, pkCheck.length), pkCheck)) {
      throw new Error("invalid encapsulation key");
    }
    const rho = pk.subarray(this._skSize);
    const a = this._sampleMatrix(rho, true);
    const r = this._sampleNoise1(seed, 0, this._k);
    const e1 = this._sampleNoise2(seed, this._k, this._k);
    const e2 = this._sampleNoise2(seed, this._k * 2, 1)[0];
    for (let i = 0; i < this._k; i++) {
      r[i] = ntt(r[i]);
      r[i] = reduce(r[i]);
    }
    const u = new Array(this._k);
    for (let i = 0; i < this._k; i++) {
      u[i] = multiply(a[i], r);
      u[i] = nttInverse(u[i]);
      u[i] = add2(u[i], e1[i]);
      u[i] = reduce(u[i]);
    }
    const m = polyFromMsg(msg);
    let v = multiply(tHat, r);
    v = nttInverse(v);
    v = add2(v, e2);
    v = add2(v, m);
    v = reduce(v);
    this._compressU(this._bufCt.subarray(0, this._compressedUSize), u);
    this._compressV(this._bufCt.subarray(this._compressedUSize), v);
    return this._bufCt;
  }
  // indcpaDecrypt is the decryption function of the CPA-secure
  // public-key encryption scheme underlying ML-KEM.
  /**
   * Decapsulates the ciphertext using the provided secret key.
   *
   * @param ct - The ciphertext to be decapsulated.
   * @param sk - The secret key used for decapsulation.
   * @returns The decapsulated message as a Uint8Array.
   */
  _decap(ct, sk) {
    const u = this._decompressU(ct.subarray(0, this._compressedUSize));
    const v = this._decompressV(ct.subarray(this._compressedUSize));
    const privateKeyPolyvec = this._polyvecFromBytes(sk);
    for (let i = 0; i < this._k; i++) {
      u[i] = ntt(u[i]);
    }
    let mp = multiply(privateKeyPolyvec, u);
    mp = nttInverse(mp);
    mp = subtract(v, mp);
    mp = reduce(mp);
    return polyToMsg(mp);
  }
  // generateMatrixA deterministically generates a matrix `A` (or the transpose of `A`)
  // from a seed. Entries of the matrix are polynomials that look uniformly random.
  // Performs rejection sampling on the output of an extendable-output function (XOF).
  /**
   * Generates a sample matrix based on the provided seed and transposition flag.
   *
   * @param seed - The seed used for generating the matrix.
   * @param transposed - A flag indicating whether the matrix should be transposed or not.
   * @returns The generated sample matrix.
   */
  _sampleMatrix(seed, transposed) {
    const a = this._matrixA;
    this._xofSeed.set(seed);
    for (let ctr = 0, i = 0; i < this._k; i++) {
      for (let j = 0; j < this._k; j++) {
        if (transposed) {
          this._xofSeed[seed.length] = i;
          this._xofSeed[seed.length + 1] = j;
        } else {
          this._xofSeed[seed.length] = j;
          this._xofSeed[seed.length + 1] = i;
        }
        const output = this._xof(this._xofSeed);
        ctr = indcpaRejUniform(a[i][j], 0, output.subarray(0, 504), 504, N);
        while (ctr < N) {
          const outputn = output.subarray(504, 672);
          ctr += indcpaRejUniform(a[i][j], ctr, outputn, 168, N - ctr);
        }
      }
    }
    return a;
  }
  /**
   * Generates a 2D array of noise samples.
   *
   * @param sigma - The noise parameter.
   * @param offset - The offset value.
   * @param size - The size of the array.
   * @returns The generated 2D array of noise samples.
   */
  _sampleNoise1(sigma, offset, size) {
    const r = new Array(size);
    for (let i = 0; i < size; i++) {
      r[i] = this._noiseVecs[offset + i];
      byteopsCbd(r[i], this._prf1(sigma, offset + i), this._eta1);
    }
    return r;
  }
  /**
   * Generates a 2-dimensional array of noise samples.
   *
   * @param sigma - The noise parameter.
   * @param offset - The offset value.
   * @param size - The size of the array.
   * @returns The generated 2-dimensional array of noise samples.
   */
  _sampleNoise2(sigma, offset, size) {
    const r = new Array(size);
    for (let i = 0; i < size; i++) {
      r[i] = this._noiseVecs[offset + i];
      byteopsCbd(r[i], this._prf2(sigma, offset + i), this._eta2);
    }
    return r;
  }
  // polyvecFromBytes deserializes a vector of polynomials.
  /**
   * Converts a Uint8Array to a 2D array of numbers representing a polynomial vector.
   * Each element in the resulting array represents a polynomial.
   * @param a The Uint8Array to convert.
   * @returns The 2D array of numbers representing the polynomial vector.
   */
  _polyvecFromBytes(a) {
    const r = this._polyVec;
    for (let i = 0; i < this._k; i++) {
      this._polyFromBytes(r[i], a, i * 384);
    }
    return r;
  }
  // compressU lossily compresses and serializes a vector of polynomials.
  /**
   * Compresses the given array of coefficients into a Uint8Array.
   *
   * @param r - The output Uint8Array.
   * @param u - The array of coefficients.
   * @returns The compressed Uint8Array.
   */
  _compressU(r, u) {
    const t = new Array(4);
    for (let rr = 0, i = 0; i < this._k; i++) {
      for (let j = 0; j < N / 4; j++) {
        for (let k = 0; k < 4; k++) {
          t[k] = ((u[i][4 * j + k] << 10) + Q / 2) / Q & 1023;
        }
        r[rr++] = byte(t[0] >> 0);
        r[rr++] = byte(t[0] >> 8 | t[1] << 2);
        r[rr++] = byte(t[1] >> 6 | t[2] << 4);
        r[rr++] = byte(t[2] >> 4 | t[3] << 6);
        r[rr++] = byte(t[3] >> 2);
      }
    }
    return r;
  }
  // compressV lossily compresses and subsequently serializes a polynomial.
  /**
   * Compresses the given array of numbers into a Uint8Array.
   *
   * @param r - The Uint8Array to store the compressed values.
   * @param v - The array of numbers to compress.
   * @returns The compressed Uint8Array.
   */
  _compressV(r, v) {
    const t = new Uint8Array(8);
    for (let rr = 0, i = 0; i < N / 8; i++) {
      for (let j = 0; j < 8; j++) {
        t[j] = byte(((v[8 * i + j] << 4) + Q / 2) / Q) & 15;
      }
      r[rr++] = t[0] | t[1] << 4;
      r[rr++] = t[2] | t[3] << 4;
      r[rr++] = t[4] | t[5] << 4;
      r[rr++] = t[6] | t[7] << 4;
    }
    return r;
  }
  // decompressU de-serializes and decompresses a vector of polynomials and
  // represents the approximate inverse of compress1. Since compression is lossy,
  // the results of decompression will may not match the original vector of polynomials.
  /**
   * Decompresses a Uint8Array into a two-dimensional array of numbers.
   *
   * @param a The Uint8Array to decompress.
   * @returns The decompressed two-dimensional array.
   */
  _decompressU(a) {
    const r = new Array(this._k);
    for (let i = 0; i < this._k; i++) {
      r[i] = new Int16Array(N);
    }
    const t = new Array(4);
    for (let aa = 0, i = 0; i < this._k; i++) {
      for (let j = 0; j < N / 4; j++) {
        t[0] = uint16(a[aa + 0]) >> 0 | uint16(a[aa + 1]) << 8;
        t[1] = uint16(a[aa + 1]) >> 2 | uint16(a[aa + 2]) << 6;
        t[2] = uint16(a[aa + 2]) >> 4 | uint16(a[aa + 3]) << 4;
        t[3] = uint16(a[aa + 3]) >> 6 | uint16(a[aa + 4]) << 2;
        aa = aa + 5;
        for (let k = 0; k < 4; k++) {
          r[i][4 * j + k] = int16((t[k] & 1023) * Q + 512 >> 10);
        }
      }
    }
    return r;
  }
  // decompressV de-serializes and subsequently decompresses a polynomial,
  // representing the approximate inverse of compress2.
  // Note that compression is lossy, and thus decompression will not match the
  // original input.
  /**
   * Decompresses a Uint8Array into an array of numbers.
   *
   * @param a - The Uint8Array to decompress.
   * @returns An array of numbers.
   */
  _decompressV(a) {
    const r = new Int16Array(N);
    for (let aa = 0, i = 0; i < N / 2; i++, aa++) {
      r[2 * i + 0] = int16((a[aa] & 15) * Q + 8 >> 4);
      r[2 * i + 1] = int16((a[aa] >> 4) * Q + 8 >> 4);
    }
    return r;
  }
};
function polyToMsg(a) {
  const msg = new Uint8Array(32);
  let t, v;
  for (let i = 0; i < N / 8; i++) {
    for (let j = 0; j < 8; j++) {
      v = a[8 * i + j] - Q;
      v += v >> 31 & Q;
      t = ((uint16(v) << 1) + uint16(Q / 2)) / uint16(Q) & 1;
      msg[i] |= byte(t << j);
    }
  }
  return msg;
}
function polyFromMsg(msg) {
  const r = new Int16Array(N);
  let mask;
  for (let i = 0; i < N / 8; i++) {
    for (let j = 0; j < 8; j++) {
      mask = -1 * int16(msg[i] >> j & 1);
      r[8 * i + j] = mask & int16((Q + 1) / 2);
    }
  }
  return r;
}
function indcpaRejUniform(out, outOffset, buf, bufl, len) {
  let ctr = 0;
  let val0, val1;
  for (let pos = 0; ctr < len && pos + 3 <= bufl; ) {
    val0 = (uint16(buf[pos] >> 0) | uint16(buf[pos + 1]) << 8) & 4095;
    val1 = (uint16(buf[pos + 1] >> 4) | uint16(buf[pos + 2]) << 4) & 4095;
    pos = pos + 3;
    if (val0 < Q) {
      out[outOffset + ctr] = val0;
      ctr = ctr + 1;
    }
    if (ctr < len && val1 < Q) {
      out[outOffset + ctr] = val1;
      ctr = ctr + 1;
    }
  }
  return ctr;
}
function byteopsCbd(out, buf, eta) {
  let t, d;
  let a, b;
  for (let i = 0; i < N / 8; i++) {
    t = byteopsLoad32(buf, 4 * i);
    d = t & 1431655765;
    d = d + (t >> 1 & 1431655765);
    for (let j = 0; j < 8; j++) {
      a = int16(d >> 4 * j + 0 & 3);
      b = int16(d >> 4 * j + eta & 3);
      out[8 * i + j] = a - b;
    }
  }
}
function ntt(r) {
  for (let j = 0, k = 1, l = 128; l >= 2; l >>= 1) {
    for (let start = 0; start < 256; start = j + l) {
      const zeta = NTT_ZETAS[k];
      k = k + 1;
      for (j = start; j < start + l; j++) {
        const t = nttFqMul(zeta, r[j + l]);
        r[j + l] = r[j] - t;
        r[j] = r[j] + t;
      }
    }
  }
  return r;
}
function nttFqMul(a, b) {
  const ab = a * b;
  const u = Math.imul(ab, Q_INV) << 16 >> 16;
  return ab - u * Q >> 16;
}
function reduce(r) {
  for (let i = 0; i < N; i++) {
    r[i] = barrett(r[i]);
  }
  return r;
}
var BARRETT_V = ((1 << 24) + Q / 2) / Q;
function barrett(a) {
  let t = BARRETT_V * a >> 24;
  t = t * Q;
  return a - t;
}
function polyToMont(r) {
  const f = 1353;
  for (let i = 0; i < N; i++) {
    const a = r[i] * f;
    const u = Math.imul(a, Q_INV) << 16 >> 16;
    r[i] = a - u * Q >> 16;
  }
  return r;
}
function multiply(a, b) {
  let r = polyBaseMulMontgomery(a[0], b[0]);
  let t;
  for (let i = 1; i < a.length; i++) {
    t = polyBaseMulMontgomery(a[i], b[i]);
    r = add2(r, t);
  }
  return reduce(r);
}
function polyBaseMulMontgomery(a, b) {
  for (let i = 0; i < N / 4; i++) {
    const idx = 4 * i;
    const a0 = a[idx], a1 = a[idx + 1], a2 = a[idx + 2], a3 = a[idx + 3];
    const b0 = b[idx], b1 = b[idx + 1], b2 = b[idx + 2], b3 = b[idx + 3];
    const zeta = NTT_ZETAS[64 + i];
    a[idx] = nttFqMul(nttFqMul(a1, b1), zeta) + nttFqMul(a0, b0);
    a[idx + 1] = nttFqMul(a0, b1) + nttFqMul(a1, b0);
    a[idx + 2] = nttFqMul(nttFqMul(a3, b3), -zeta) + nttFqMul(a2, b2);
    a[idx + 3] = nttFqMul(a2, b3) + nttFqMul(a3, b2);
  }
  return a;
}
function add2(a, b) {
  for (let i = 0; i < N; i++) {
    a[i] += b[i];
  }
  return a;
}
function subtract(a, b) {
  for (let i = 0; i < N; i++) {
    a[i] -= b[i];
  }
  return a;
}
function nttInverse(r) {
  let j = 0;
  for (let k = 0, l = 2; l <= 128; l <<= 1) {
    for (let start = 0; start < 256; start = j + l) {
      const zeta = NTT_ZETAS_INV[k];
      k = k + 1;
      for (j = start; j < start + l; j++) {
        const t = r[j];
        r[j] = barrett(t + r[j + l]);
        r[j + l] = t - r[j + l];
        r[j + l] = nttFqMul(zeta, r[j + l]);
      }
    }
  }
  for (j = 0; j < 256; j++) {
    r[j] = nttFqMul(r[j], NTT_ZETAS_INV[127]);
  }
  return r;
}

// node_modules/mlkem/esm/src/mlKem768.js
var MlKem768 = class extends MlKemBase {
  constructor() {
    super();
    Object.defineProperty(this, "_k", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 3
    });
    Object.defineProperty(this, "_du", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 10
    });
    Object.defineProperty(this, "_dv", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 4
    });
    Object.defineProperty(this, "_eta1", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 2
    });
    Object.defineProperty(this, "_eta2", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 2
    });
    this._skSize = 12 * this._k * N / 8;
    this._pkSize = this._skSize + 32;
    this._compressedUSize = this._k * this._du * N / 8;
    this._compressedVSize = this._dv * N / 8;
    this._initPool();
  }
  /**
   * Generates a keypair [publicKey, privateKey].
   *
   * If an error occurred, throws {@link MlKemError}.
   *
   * @returns A kaypair [publicKey, privateKey].
   * @throws {@link MlKemError}
   */
  async generateKeyPair() {
    await this._setup();
    try {
      return this._generateKeyPairCore();
    } catch (e) {
      throw new MlKemError(e);
    }
  }
  /**
   * Derives a keypair [publicKey, privateKey] deterministically from a 64-octet seed.
   *
   * If an error occurred, throws {@link MlKemError}.
   *
   * @param seed A 64-octet seed for the deterministic key generation.
   * @returns A kaypair [publicKey, privateKey].
   * @throws {@link MlKemError}
   */
  async deriveKeyPair(seed) {
    await this._setup();
    try {
      return this._deriveKeyPairCore(seed);
    } catch (e) {
      throw new MlKemError(e);
    }
  }
  /**
   * Generates a shared secret from the encapsulated ciphertext and the private key.
   *
   * If an error occurred, throws {@link MlKemError}.
   *
   * @param pk A public key.
   * @param seed An optional 32-octet seed for the deterministic shared secret generation.
   * @returns A ciphertext (encapsulated public key) and a shared secret.
   * @throws {@link MlKemError}
   */
  async encap(pk, seed) {
    await this._setup();
    try {
      return this._encapCore(pk, seed);
    } catch (e) {
      throw new MlKemError(e);
    }
  }
  /**
   * Generates a ciphertext for the public key and a shared secret.
   *
   * If an error occurred, throws {@link MlKemError}.
   *
   * @param ct A ciphertext generated by {@link encap}.
   * @param sk A private key.
   * @returns A shared secret.
   * @throws {@link MlKemError}
   */
  async decap(ct, sk) {
    await this._setup();
    try {
      return this._decapCore(ct, sk);
    } catch (e) {
      throw new MlKemError(e);
    }
  }
};

// node_modules/@hpke/dhkem-x25519/esm/src/primitives/x25519.js
var _1n3 = 1n;
var _2n3 = 2n;
var _3n = 3n;
var _5n = 5n;
var ed25519_CURVE_p = 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffedn;
function ed25519_pow_2_252_3(x) {
  const _10n = 10n;
  const _20n = 20n;
  const _40n = 40n;
  const _80n = 80n;
  const P = ed25519_CURVE_p;
  const x2 = x * x % P;
  const b2 = x2 * x % P;
  const b4 = pow2(b2, _2n3, P) * b2 % P;
  const b5 = pow2(b4, _1n3, P) * x % P;
  const b10 = pow2(b5, _5n, P) * b5 % P;
  const b20 = pow2(b10, _10n, P) * b10 % P;
  const b40 = pow2(b20, _20n, P) * b20 % P;
  const b80 = pow2(b40, _40n, P) * b40 % P;
  const b160 = pow2(b80, _80n, P) * b80 % P;
  const b240 = pow2(b160, _80n, P) * b80 % P;
  const b250 = pow2(b240, _10n, P) * b10 % P;
  const pow_p_5_8 = pow2(b250, _2n3, P) * x % P;
  return { pow_p_5_8, b2 };
}
function adjustScalarBytes(bytes) {
  bytes[0] &= 248;
  bytes[31] &= 127;
  bytes[31] |= 64;
  return bytes;
}
var x25519 = /* @__PURE__ */ (() => {
  const P = ed25519_CURVE_p;
  return montgomery({
    P,
    type: "x25519",
    powPminus2: (x) => {
      const { pow_p_5_8, b2 } = ed25519_pow_2_252_3(x);
      return mod(pow2(pow_p_5_8, _3n, P) * b2, P);
    },
    adjustScalarBytes
  });
})();

// node_modules/@hpke/dhkem-x25519/esm/src/hkdfSha256.js
var HkdfSha2562 = class extends HkdfSha256Native {
  async extract(salt, ikm) {
    await this._setup();
    const saltBuf = salt.byteLength === 0 ? new ArrayBuffer(this.hashSize) : toArrayBuffer(salt);
    const ikmBuf = toArrayBuffer(ikm);
    if (saltBuf.byteLength !== this.hashSize) {
      return hmac(sha256, new Uint8Array(saltBuf), new Uint8Array(ikmBuf)).buffer;
    }
    const key = await this._api.importKey("raw", saltBuf, this.algHash, false, [
      "sign"
    ]);
    return await this._api.sign("HMAC", key, ikmBuf);
  }
};

// node_modules/@hpke/dhkem-x25519/esm/src/dhkemX25519.js
var X255192 = class extends XCurveDhkemPrimitives {
  constructor(hkdf) {
    super("X25519", 32, x25519, hkdf);
  }
  derive(sk, pk) {
    try {
      return Promise.resolve(this._curve.getSharedSecret(sk, pk));
    } catch (e) {
      return Promise.reject(new SerializeError(e));
    }
  }
};

// node_modules/@hpke/hybridkem-x-wing/esm/src/xWing.js
var ALG_NAME = "X-Wing";
var X25519_BASE = new Uint8Array([
  9,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0
]);
var XWING_LABEL = new Uint8Array([92, 46, 47, 47, 94, 92]);
function combiner(ssM, ssX, ctX, pkX) {
  const ret = new Uint8Array(ssM.length + ssX.length + ctX.length + pkX.length + XWING_LABEL.length);
  ret.set(ssM, 0);
  ret.set(ssX, ssM.length);
  ret.set(ctX, ssM.length + ssX.length);
  ret.set(pkX, ssM.length + ssX.length + ctX.length);
  ret.set(XWING_LABEL, ssM.length + ssX.length + ctX.length + pkX.length);
  return sha3_2562.create().update(ret).digest();
}
var XWing = class {
  constructor() {
    Object.defineProperty(this, "id", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: KemId.XWing
    });
    Object.defineProperty(this, "name", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: ALG_NAME
    });
    Object.defineProperty(this, "secretSize", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 32
    });
    Object.defineProperty(this, "encSize", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 1120
    });
    Object.defineProperty(this, "publicKeySize", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 1216
    });
    Object.defineProperty(this, "privateKeySize", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 32
    });
    Object.defineProperty(this, "auth", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: false
    });
    Object.defineProperty(this, "_m", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_x25519", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    Object.defineProperty(this, "_api", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    this._m = new MlKem768();
    this._x25519 = new X255192(new HkdfSha2562());
  }
  async serializePublicKey(key) {
    await this._setup();
    try {
      return await this._serializePublicKey(key);
    } catch (e) {
      throw new SerializeError(e);
    }
  }
  async deserializePublicKey(key) {
    await this._setup();
    try {
      return await this._deserializePublicKey(toArrayBuffer(key));
    } catch (e) {
      throw new DeserializeError(e);
    }
  }
  async serializePrivateKey(key) {
    await this._setup();
    try {
      return await this._serializePrivateKey(key);
    } catch (e) {
      throw new SerializeError(e);
    }
  }
  async deserializePrivateKey(key) {
    await this._setup();
    try {
      return await this._deserializePrivateKey(toArrayBuffer(key));
    } catch (e) {
      throw new DeserializeError(e);
    }
  }
  /**
   * Generates a new key pair.
   *
   * @returns {Promise<CryptoKeyPair>} A promise that resolves with a new key pair.
   */
  async generateKeyPair() {
    await this._setup();
    const sk = new Uint8Array(32);
    try {
      this._api.getRandomValues(sk);
    } catch (e) {
      throw new NotSupportedError(e);
    }
    try {
      const [_sk, pk] = await this._generateKeyPairDerand(sk);
      const dSk = await this.deserializePrivateKey(sk.buffer);
      const dPk = await this.deserializePublicKey(pk.buffer);
      return { privateKey: dSk, publicKey: dPk };
    } catch (e) {
      throw new DeriveKeyPairError(e);
    }
  }
  /**
   * Generates a key pair from the secret key.
   * @param sk The secret key.
   * @returns {Promise<CryptoKeyPair>} A promise that resolves with a new key pair.
   * @throws {InvalidParamError} Thrown if the length of the secret key is not 32 bytes.
   * @throws {DeriveKeyPairError} Thrown if the key pair cannot be derived.
   */
  async generateKeyPairDerand(sk) {
    if (sk.byteLength !== 32) {
      throw new InvalidParamError("Invalid length of sk");
    }
    try {
      const [_sk, pk] = await this._generateKeyPairDerand(sk);
      const dSk = await this.deserializePrivateKey(sk.buffer);
      const dPk = await this.deserializePublicKey(pk.buffer);
      return { privateKey: dSk, publicKey: dPk };
    } catch (e) {
      throw new DeriveKeyPairError(e);
    }
  }
  /**
   * Derives a key pair from the input keying material.
   *
   * @param {ArrayBuffer} ikm The input keying material.
   * @returns {Promise<CryptoKeyPair>} A promise that resolves with a new key pair.
   * @throws {DeriveKeyPairError} Thrown if the key pair cannot be derived.
   * @throws {InvalidParamError} Thrown if the length of the IKM is not 32 bytes.
   */
  async deriveKeyPair(ikm) {
    await this._setup();
    try {
      const rawIkm = toArrayBuffer(ikm);
      const sk = shake2562.create({ dkLen: 32 }).update(new Uint8Array(rawIkm)).digest();
      const [_sk, pk] = await this._generateKeyPairDerand(sk);
      const dSk = await this.deserializePrivateKey(sk.buffer);
      const dPk = await this.deserializePublicKey(pk.buffer);
      return { privateKey: dSk, publicKey: dPk };
    } catch (e) {
      throw new DeriveKeyPairError(e);
    }
  }
  /**
   * Imports a key from the input.
   * @param format The format of the key. "raw" or "jwk" can be specified.
   * @param key The key to import. If the format is "raw", the key must be an ArrayBuffer. If the format is "jwk", the key must be a JsonWebKey.
   * @param isPublic A boolean indicating whether the key is public or not. The default is true.
   * @returns {Promise<CryptoKey>} A promise that resolves with the imported key.
   * @throws {DeserializeError} Thrown if the key cannot be imported.
   */
  async importKey(format, key, isPublic = true) {
    await this._setup();
    try {
      let ret;
      if (format === "jwk") {
        if (key instanceof ArrayBuffer || key instanceof Uint8Array) {
          throw new Error("Invalid jwk key format");
        }
        ret = await this._importJWK(key, isPublic);
      } else {
        if (key instanceof ArrayBuffer) {
          ret = new Uint8Array(key);
        } else if (key instanceof Uint8Array) {
          ret = key;
        } else {
          throw new Error("Invalid key format");
        }
      }
      if (isPublic && ret.byteLength !== this.publicKeySize) {
        throw new Error("Invalid length of the key");
      }
      if (!isPublic && ret.byteLength !== this.privateKeySize) {
        throw new Error("Invalid length of the key");
      }
      return new XCryptoKey(ALG_NAME, ret, isPublic ? "public" : "private", isPublic ? [] : KEM_USAGES);
    } catch (e) {
      throw new DeserializeError(e);
    }
  }
  /**
   * Encapsulates the shared secret and the `ct` (ciphertext) as `enc`.
   * @param params The parameters for encapsulation.
   * @returns {Promise<{ sharedSecret: ArrayBuffer; enc: ArrayBuffer }>} A promise that resolves with the `ss` (shared secret) as `sharedSecret` and the `ct` (ciphertext) as `enc`.
   * @throws {InvalidParamError} Thrown if the length of the `ekm` is not 64 bytes.
   * @throws {EncapError} Thrown if the shared secret cannot be encapsulated.
   */
  async encap(params2) {
    let ekm = void 0;
    if (params2.ekm !== void 0 && !isCryptoKeyPair(params2.ekm)) {
      ekm = toArrayBuffer(params2.ekm);
      if (ekm.byteLength !== 64) {
        throw new InvalidParamError("ekm must be 64 bytes in length");
      }
    }
    await this._setup();
    let ekM = void 0;
    let ekX;
    if (ekm !== void 0) {
      const ek = new Uint8Array(ekm);
      ekM = ek.subarray(0, 32);
      ekX = ek.subarray(32, 64);
    } else {
      ekX = new Uint8Array(32);
      try {
        this._api.getRandomValues(ekX);
      } catch (e) {
        throw new NotSupportedError(e);
      }
    }
    const pk = new Uint8Array(await this.serializePublicKey(params2.recipientPublicKey));
    if (pk.byteLength !== 1216) {
      throw new InvalidParamError("Invalid length of recipientPublicKey");
    }
    try {
      const pkM = pk.subarray(0, 1184);
      const pkX = pk.subarray(1184, 1216);
      const ctX = await this._x25519.derive(ekX, X25519_BASE);
      const ssX = await this._x25519.derive(ekX, pkX);
      const [ctM, ssM] = await this._m.encap(pkM, ekM);
      return {
        sharedSecret: combiner(ssM, ssX, ctX, pkX).buffer,
        enc: concat(ctM, ctX).buffer
      };
    } catch (e) {
      throw new EncapError(e);
    }
  }
  /**
   * Decapsulates the `ss` (shared secret) from the `enc` and the recipient's private key.
   * The `enc` is the same as the `ct` (ciphertext) resulting from `X-Wing::Encapsulate(),
   * which is executed under the `encap()`.
   * @param params The parameters for decapsulation.
   * @returns {Promise<ArrayBuffer>} A promise that resolves with the shared secret.
   * @throws {InvalidParamError} Thrown if the length of the `enc` is not 1120 bytes.
   * @throws {DecapError} Thrown if the shared secret cannot be decapsulated.
   */
  async decap(params2) {
    const enc = toArrayBuffer(params2.enc);
    const rSk = isCryptoKeyPair(params2.recipientKey) ? params2.recipientKey.privateKey : params2.recipientKey;
    if (enc.byteLength !== 1120) {
      throw new InvalidParamError("Invalid length of enc");
    }
    const sk = new Uint8Array(await this.serializePrivateKey(rSk));
    if (sk.byteLength !== 32) {
      throw new InvalidParamError("Invalid length of recipientKey");
    }
    await this._setup();
    try {
      const [skM, skX, _pkM, pkX] = await this._expandDecapsulationKey(sk);
      const ct = new Uint8Array(enc);
      const ctM = ct.subarray(0, 1088);
      const ctX = ct.subarray(1088);
      const ssM = await this._m.decap(ctM, skM);
      const ssX = await this._x25519.derive(skX, ctX);
      return combiner(ssM, ssX, ctX, pkX).buffer;
    } catch (e) {
      throw new DecapError(e);
    }
  }
  /**
   * Sets up the MlKemBase instance by loading the necessary crypto library.
   * If the crypto library is already loaded, this method does nothing.
   * @returns {Promise<void>} A promise that resolves when the setup is complete.
   */
  async _setup() {
    if (this._api !== void 0) {
      return;
    }
    this._api = await loadCrypto();
  }
  /**
   * Generates a key pair from the secret key.
   * @param sk The secret key.
   * @returns {Promise<[Uint8Array, Uint8Array]>} A promise that resolves with the key pair derived from the secret key.
   */
  async _generateKeyPairDerand(sk) {
    const [_skM, _skX, pkM, pkX] = await this._expandDecapsulationKey(sk);
    return [sk, concat(pkM, pkX)];
  }
  /**
   * Expands the decapsulation key.
   * @param sk The secret key.
   * @returns {Promise<[Uint8Array, Uint8Array, Uint8Array, Uint8Array]>} A promise that resolves with the keys derived by expanding the secret key.
   */
  async _expandDecapsulationKey(sk) {
    const expanded = shake2562.create({ dkLen: 96 }).update(sk).digest();
    const [pkM, skM] = await this._m.deriveKeyPair(expanded.subarray(0, 64));
    const skX = expanded.subarray(64, 96);
    const pkX = await this._x25519.derive(skX, X25519_BASE);
    return [skM, skX, pkM, pkX];
  }
  _serializePublicKey(k) {
    return new Promise((resolve, reject) => {
      if (k.type !== "public") {
        reject(new Error("Not public key"));
      }
      if (k.algorithm.name !== this.name) {
        reject(new Error(`Invalid algorithm name: ${k.algorithm.name}`));
      }
      if (k.key.byteLength !== this.publicKeySize) {
        reject(new Error(`Invalid key length: ${k.key.byteLength}`));
      }
      resolve(k.key.buffer);
    });
  }
  _deserializePublicKey(k) {
    return new Promise((resolve, reject) => {
      if (k.byteLength !== this.publicKeySize) {
        reject(new Error(`Invalid key length: ${k.byteLength}`));
      }
      resolve(new XCryptoKey(this.name, new Uint8Array(k), "public"));
    });
  }
  _serializePrivateKey(k) {
    return new Promise((resolve, reject) => {
      if (k.type !== "private") {
        reject(new Error("Not private key"));
      }
      if (k.algorithm.name !== this.name) {
        reject(new Error(`Invalid algorithm name: ${k.algorithm.name}`));
      }
      if (k.key.byteLength !== this.privateKeySize) {
        reject(new Error(`Invalid key length: ${k.key.byteLength}`));
      }
      resolve(k.key.buffer);
    });
  }
  _deserializePrivateKey(k) {
    return new Promise((resolve, reject) => {
      if (k.byteLength !== this.privateKeySize) {
        reject(new Error(`Invalid key length: ${k.byteLength}`));
      }
      resolve(new XCryptoKey(this.name, new Uint8Array(k), "private", ["deriveBits"]));
    });
  }
  _importJWK(key, isPublic) {
    return new Promise((resolve, reject) => {
      if (typeof key.kty === "undefined" || key.kty !== "AKP") {
        reject(new Error(`Invalid kty: ${key.kty}`));
      }
      if (typeof key.alg === "undefined" || key.alg !== ALG_NAME) {
        reject(new Error(`Invalid alg: ${key.alg}`));
      }
      if (!isPublic) {
        if (typeof key.priv === "undefined") {
          reject(new Error("Invalid key: `priv` not found"));
        }
        if (typeof key.key_ops !== "undefined" && (key.key_ops.length !== 1 || key.key_ops[0] !== "deriveBits")) {
          reject(new Error("Invalid key: `key_ops` should be ['deriveBits']"));
        }
        resolve(base64UrlToBytes(key.priv));
      }
      if (typeof key.priv !== "undefined") {
        reject(new Error("Invalid key: `priv` should not be set"));
      }
      if (typeof key.pub === "undefined") {
        reject(new Error("Invalid key: `pub` not found"));
      }
      if (typeof key.key_ops !== "undefined" && key.key_ops.length > 0) {
        reject(new Error("Invalid key: `key_ops` should not be set"));
      }
      resolve(base64UrlToBytes(key.pub));
    });
  }
};

// node_modules/@hpke/chacha20poly1305/esm/src/chacha/utils.js
function abool(b) {
  if (typeof b !== "boolean")
    throw new Error(`boolean expected, not ${b}`);
}
var wrapCipher = /* @__NO_SIDE_EFFECTS__ */ (params2, constructor) => {
  function wrappedCipher(key, ...args) {
    abytes(key, void 0, "key");
    if (!isLE) {
      throw new Error("Non little-endian hardware is not yet supported");
    }
    if (params2.nonceLength !== void 0) {
      const nonce = args[0];
      abytes(nonce, params2.varSizeNonce ? void 0 : params2.nonceLength, "nonce");
    }
    const tagl = params2.tagLength;
    if (tagl && args[1] !== void 0)
      abytes(args[1], void 0, "AAD");
    const cipher = constructor(key, ...args);
    const checkOutput = (fnLength, output) => {
      if (output !== void 0) {
        if (fnLength !== 2)
          throw new Error("cipher output not supported");
        abytes(output, void 0, "output");
      }
    };
    let called = false;
    const wrCipher = {
      encrypt(data, output) {
        if (called) {
          throw new Error("cannot encrypt() twice with same key + nonce");
        }
        called = true;
        abytes(data);
        checkOutput(cipher.encrypt.length, output);
        return cipher.encrypt(data, output);
      },
      decrypt(data, output) {
        abytes(data);
        if (tagl && data.length < tagl) {
          throw new Error('"ciphertext" expected length bigger than tagLength=' + tagl);
        }
        checkOutput(cipher.decrypt.length, output);
        return cipher.decrypt(data, output);
      }
    };
    return wrCipher;
  }
  Object.assign(wrappedCipher, params2);
  return wrappedCipher;
};
function checkOpts(defaults, opts) {
  if (opts == null || typeof opts !== "object") {
    throw new Error("options must be defined");
  }
  const merged = Object.assign(defaults, opts);
  return merged;
}
function equalBytes(a, b) {
  if (a.length !== b.length)
    return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++)
    diff |= a[i] ^ b[i];
  return diff === 0;
}
function getOutput(expectedLength, out, onlyAligned = true) {
  if (out === void 0)
    return new Uint8Array(expectedLength);
  if (out.length !== expectedLength) {
    throw new Error('"output" expected Uint8Array of length ' + expectedLength + ", got: " + out.length);
  }
  if (onlyAligned && !isAligned32(out)) {
    throw new Error("invalid output, must be aligned");
  }
  return out;
}
function u64Lengths(dataLength, aadLength, isLE3) {
  abool(isLE3);
  const num = new Uint8Array(16);
  const view = createView(num);
  view.setBigUint64(0, numberToBigint(aadLength), isLE3);
  view.setBigUint64(8, numberToBigint(dataLength), isLE3);
  return num;
}
function isAligned32(bytes) {
  return bytes.byteOffset % 4 === 0;
}

// node_modules/@hpke/chacha20poly1305/esm/src/chacha/_arx.js
var _utf8ToBytes = (str) => Uint8Array.from(str.split("").map((c) => c.charCodeAt(0)));
var sigma16 = _utf8ToBytes("expand 16-byte k");
var sigma32 = _utf8ToBytes("expand 32-byte k");
var sigma16_32 = u32(sigma16);
var sigma32_32 = u32(sigma32);
function rotl(a, b) {
  return a << b | a >>> 32 - b;
}
function isAligned322(b) {
  return b.byteOffset % 4 === 0;
}
var BLOCK_LEN = 64;
var BLOCK_LEN32 = 16;
var MAX_COUNTER = 2 ** 32 - 1;
var U32_EMPTY = Uint32Array.of();
function runCipher(core, sigma, key, nonce, data, output, counter, rounds) {
  const len = data.length;
  const block = new Uint8Array(BLOCK_LEN);
  const b32 = u32(block);
  const isAligned = isAligned322(data) && isAligned322(output);
  const d32 = isAligned ? u32(data) : U32_EMPTY;
  const o32 = isAligned ? u32(output) : U32_EMPTY;
  for (let pos = 0; pos < len; counter++) {
    core(sigma, key, nonce, b32, counter, rounds);
    if (counter >= MAX_COUNTER)
      throw new Error("arx: counter overflow");
    const take = Math.min(BLOCK_LEN, len - pos);
    if (isAligned && take === BLOCK_LEN) {
      const pos32 = pos / 4;
      if (pos % 4 !== 0)
        throw new Error("arx: invalid block position");
      for (let j = 0, posj; j < BLOCK_LEN32; j++) {
        posj = pos32 + j;
        o32[posj] = d32[posj] ^ b32[j];
      }
      pos += BLOCK_LEN;
      continue;
    }
    for (let j = 0, posj; j < take; j++) {
      posj = pos + j;
      output[posj] = data[posj] ^ block[j];
    }
    pos += take;
  }
}
function createCipher(core, opts) {
  const { allowShortKeys, extendNonceFn, counterLength, counterRight, rounds } = checkOpts({
    allowShortKeys: false,
    counterLength: 8,
    counterRight: false,
    rounds: 20
  }, opts);
  if (typeof core !== "function")
    throw new Error("core must be a function");
  anumber(counterLength);
  anumber(rounds);
  abool(counterRight);
  abool(allowShortKeys);
  return (key, nonce, data, output, counter = 0) => {
    abytes(key, void 0, "key");
    abytes(nonce, void 0, "nonce");
    abytes(data, void 0, "data");
    const len = data.length;
    if (output === void 0)
      output = new Uint8Array(len);
    abytes(output, void 0, "output");
    anumber(counter);
    if (counter < 0 || counter >= MAX_COUNTER) {
      throw new Error("arx: counter overflow");
    }
    if (output.length < len) {
      throw new Error(`arx: output (${output.length}) is shorter than data (${len})`);
    }
    const toClean = [];
    const l = key.length;
    let k;
    let sigma;
    if (l === 32) {
      toClean.push(k = copyBytes(key));
      sigma = sigma32_32;
    } else if (l === 16 && allowShortKeys) {
      k = new Uint8Array(32);
      k.set(key);
      k.set(key, 16);
      sigma = sigma16_32;
      toClean.push(k);
    } else {
      abytes(key, 32, "arx key");
      throw new Error("invalid key size");
    }
    if (!isAligned322(nonce))
      toClean.push(nonce = copyBytes(nonce));
    const k32 = u32(k);
    if (extendNonceFn) {
      if (nonce.length !== 24) {
        throw new Error(`arx: extended nonce must be 24 bytes`);
      }
      extendNonceFn(sigma, k32, u32(nonce.subarray(0, 16)), k32);
      nonce = nonce.subarray(16);
    }
    const nonceNcLen = 16 - counterLength;
    if (nonceNcLen !== nonce.length) {
      throw new Error(`arx: nonce must be ${nonceNcLen} or 16 bytes`);
    }
    if (nonceNcLen !== 12) {
      const nc = new Uint8Array(12);
      nc.set(nonce, counterRight ? 0 : 12 - nonce.length);
      nonce = nc;
      toClean.push(nonce);
    }
    const n32 = u32(nonce);
    runCipher(core, sigma, k32, n32, data, output, counter, rounds);
    clean(...toClean);
    return output;
  };
}

// node_modules/@hpke/chacha20poly1305/esm/src/chacha/_poly1305.js
function u8to16(a, i) {
  return a[i++] & 255 | (a[i++] & 255) << 8;
}
var Poly1305 = class {
  // Can be speed-up using BigUint64Array, at the cost of complexity
  constructor(key) {
    Object.defineProperty(this, "blockLen", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 16
    });
    Object.defineProperty(this, "outputLen", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 16
    });
    Object.defineProperty(this, "buffer", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: new Uint8Array(16)
    });
    Object.defineProperty(this, "r", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: new Uint16Array(10)
    });
    Object.defineProperty(this, "h", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: new Uint16Array(10)
    });
    Object.defineProperty(this, "pad", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: new Uint16Array(8)
    });
    Object.defineProperty(this, "pos", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 0
    });
    Object.defineProperty(this, "finished", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: false
    });
    key = copyBytes(abytes(key, 32, "key"));
    const t0 = u8to16(key, 0);
    const t1 = u8to16(key, 2);
    const t2 = u8to16(key, 4);
    const t3 = u8to16(key, 6);
    const t4 = u8to16(key, 8);
    const t5 = u8to16(key, 10);
    const t6 = u8to16(key, 12);
    const t7 = u8to16(key, 14);
    this.r[0] = t0 & 8191;
    this.r[1] = (t0 >>> 13 | t1 << 3) & 8191;
    this.r[2] = (t1 >>> 10 | t2 << 6) & 7939;
    this.r[3] = (t2 >>> 7 | t3 << 9) & 8191;
    this.r[4] = (t3 >>> 4 | t4 << 12) & 255;
    this.r[5] = t4 >>> 1 & 8190;
    this.r[6] = (t4 >>> 14 | t5 << 2) & 8191;
    this.r[7] = (t5 >>> 11 | t6 << 5) & 8065;
    this.r[8] = (t6 >>> 8 | t7 << 8) & 8191;
    this.r[9] = t7 >>> 5 & 127;
    for (let i = 0; i < 8; i++)
      this.pad[i] = u8to16(key, 16 + 2 * i);
  }
  process(data, offset, isLast = false) {
    const hibit = isLast ? 0 : 1 << 11;
    const { h: h2, r } = this;
    const r0 = r[0];
    const r1 = r[1];
    const r2 = r[2];
    const r3 = r[3];
    const r4 = r[4];
    const r5 = r[5];
    const r6 = r[6];
    const r7 = r[7];
    const r8 = r[8];
    const r9 = r[9];
    const t0 = u8to16(data, offset + 0);
    const t1 = u8to16(data, offset + 2);
    const t2 = u8to16(data, offset + 4);
    const t3 = u8to16(data, offset + 6);
    const t4 = u8to16(data, offset + 8);
    const t5 = u8to16(data, offset + 10);
    const t6 = u8to16(data, offset + 12);
    const t7 = u8to16(data, offset + 14);
    const h0 = h2[0] + (t0 & 8191);
    const h1 = h2[1] + ((t0 >>> 13 | t1 << 3) & 8191);
    const h22 = h2[2] + ((t1 >>> 10 | t2 << 6) & 8191);
    const h3 = h2[3] + ((t2 >>> 7 | t3 << 9) & 8191);
    const h4 = h2[4] + ((t3 >>> 4 | t4 << 12) & 8191);
    const h5 = h2[5] + (t4 >>> 1 & 8191);
    const h6 = h2[6] + ((t4 >>> 14 | t5 << 2) & 8191);
    const h7 = h2[7] + ((t5 >>> 11 | t6 << 5) & 8191);
    const h8 = h2[8] + ((t6 >>> 8 | t7 << 8) & 8191);
    const h9 = h2[9] + (t7 >>> 5 | hibit);
    let c = 0;
    let d0 = c + h0 * r0 + h1 * (5 * r9) + h22 * (5 * r8) + h3 * (5 * r7) + h4 * (5 * r6);
    c = d0 >>> 13;
    d0 &= 8191;
    d0 += h5 * (5 * r5) + h6 * (5 * r4) + h7 * (5 * r3) + h8 * (5 * r2) + h9 * (5 * r1);
    c += d0 >>> 13;
    d0 &= 8191;
    let d1 = c + h0 * r1 + h1 * r0 + h22 * (5 * r9) + h3 * (5 * r8) + h4 * (5 * r7);
    c = d1 >>> 13;
    d1 &= 8191;
    d1 += h5 * (5 * r6) + h6 * (5 * r5) + h7 * (5 * r4) + h8 * (5 * r3) + h9 * (5 * r2);
    c += d1 >>> 13;
    d1 &= 8191;
    let d2 = c + h0 * r2 + h1 * r1 + h22 * r0 + h3 * (5 * r9) + h4 * (5 * r8);
    c = d2 >>> 13;
    d2 &= 8191;
    d2 += h5 * (5 * r7) + h6 * (5 * r6) + h7 * (5 * r5) + h8 * (5 * r4) + h9 * (5 * r3);
    c += d2 >>> 13;
    d2 &= 8191;
    let d3 = c + h0 * r3 + h1 * r2 + h22 * r1 + h3 * r0 + h4 * (5 * r9);
    c = d3 >>> 13;
    d3 &= 8191;
    d3 += h5 * (5 * r8) + h6 * (5 * r7) + h7 * (5 * r6) + h8 * (5 * r5) + h9 * (5 * r4);
    c += d3 >>> 13;
    d3 &= 8191;
    let d4 = c + h0 * r4 + h1 * r3 + h22 * r2 + h3 * r1 + h4 * r0;
    c = d4 >>> 13;
    d4 &= 8191;
    d4 += h5 * (5 * r9) + h6 * (5 * r8) + h7 * (5 * r7) + h8 * (5 * r6) + h9 * (5 * r5);
    c += d4 >>> 13;
    d4 &= 8191;
    let d5 = c + h0 * r5 + h1 * r4 + h22 * r3 + h3 * r2 + h4 * r1;
    c = d5 >>> 13;
    d5 &= 8191;
    d5 += h5 * r0 + h6 * (5 * r9) + h7 * (5 * r8) + h8 * (5 * r7) + h9 * (5 * r6);
    c += d5 >>> 13;
    d5 &= 8191;
    let d6 = c + h0 * r6 + h1 * r5 + h22 * r4 + h3 * r3 + h4 * r2;
    c = d6 >>> 13;
    d6 &= 8191;
    d6 += h5 * r1 + h6 * r0 + h7 * (5 * r9) + h8 * (5 * r8) + h9 * (5 * r7);
    c += d6 >>> 13;
    d6 &= 8191;
    let d7 = c + h0 * r7 + h1 * r6 + h22 * r5 + h3 * r4 + h4 * r3;
    c = d7 >>> 13;
    d7 &= 8191;
    d7 += h5 * r2 + h6 * r1 + h7 * r0 + h8 * (5 * r9) + h9 * (5 * r8);
    c += d7 >>> 13;
    d7 &= 8191;
    let d8 = c + h0 * r8 + h1 * r7 + h22 * r6 + h3 * r5 + h4 * r4;
    c = d8 >>> 13;
    d8 &= 8191;
    d8 += h5 * r3 + h6 * r2 + h7 * r1 + h8 * r0 + h9 * (5 * r9);
    c += d8 >>> 13;
    d8 &= 8191;
    let d9 = c + h0 * r9 + h1 * r8 + h22 * r7 + h3 * r6 + h4 * r5;
    c = d9 >>> 13;
    d9 &= 8191;
    d9 += h5 * r4 + h6 * r3 + h7 * r2 + h8 * r1 + h9 * r0;
    c += d9 >>> 13;
    d9 &= 8191;
    c = (c << 2) + c | 0;
    c = c + d0 | 0;
    d0 = c & 8191;
    c = c >>> 13;
    d1 += c;
    h2[0] = d0;
    h2[1] = d1;
    h2[2] = d2;
    h2[3] = d3;
    h2[4] = d4;
    h2[5] = d5;
    h2[6] = d6;
    h2[7] = d7;
    h2[8] = d8;
    h2[9] = d9;
  }
  finalize() {
    const { h: h2, pad } = this;
    const g = new Uint16Array(10);
    let c = h2[1] >>> 13;
    h2[1] &= 8191;
    for (let i = 2; i < 10; i++) {
      h2[i] += c;
      c = h2[i] >>> 13;
      h2[i] &= 8191;
    }
    h2[0] += c * 5;
    c = h2[0] >>> 13;
    h2[0] &= 8191;
    h2[1] += c;
    c = h2[1] >>> 13;
    h2[1] &= 8191;
    h2[2] += c;
    g[0] = h2[0] + 5;
    c = g[0] >>> 13;
    g[0] &= 8191;
    for (let i = 1; i < 10; i++) {
      g[i] = h2[i] + c;
      c = g[i] >>> 13;
      g[i] &= 8191;
    }
    g[9] -= 1 << 13;
    let mask = (c ^ 1) - 1;
    for (let i = 0; i < 10; i++)
      g[i] &= mask;
    mask = ~mask;
    for (let i = 0; i < 10; i++)
      h2[i] = h2[i] & mask | g[i];
    h2[0] = (h2[0] | h2[1] << 13) & 65535;
    h2[1] = (h2[1] >>> 3 | h2[2] << 10) & 65535;
    h2[2] = (h2[2] >>> 6 | h2[3] << 7) & 65535;
    h2[3] = (h2[3] >>> 9 | h2[4] << 4) & 65535;
    h2[4] = (h2[4] >>> 12 | h2[5] << 1 | h2[6] << 14) & 65535;
    h2[5] = (h2[6] >>> 2 | h2[7] << 11) & 65535;
    h2[6] = (h2[7] >>> 5 | h2[8] << 8) & 65535;
    h2[7] = (h2[8] >>> 8 | h2[9] << 5) & 65535;
    let f = h2[0] + pad[0];
    h2[0] = f & 65535;
    for (let i = 1; i < 8; i++) {
      f = (h2[i] + pad[i] | 0) + (f >>> 16) | 0;
      h2[i] = f & 65535;
    }
    clean(g);
  }
  update(data) {
    aexists(this);
    abytes(data);
    data = copyBytes(data);
    const { buffer, blockLen } = this;
    const len = data.length;
    for (let pos = 0; pos < len; ) {
      const take = Math.min(blockLen - this.pos, len - pos);
      if (take === blockLen) {
        for (; blockLen <= len - pos; pos += blockLen)
          this.process(data, pos);
        continue;
      }
      buffer.set(data.subarray(pos, pos + take), this.pos);
      this.pos += take;
      pos += take;
      if (this.pos === blockLen) {
        this.process(buffer, 0, false);
        this.pos = 0;
      }
    }
    return this;
  }
  destroy() {
    clean(this.h, this.r, this.buffer, this.pad);
  }
  digestInto(out) {
    aexists(this);
    aoutput(out, this);
    this.finished = true;
    const { buffer, h: h2 } = this;
    let { pos } = this;
    if (pos) {
      buffer[pos++] = 1;
      for (; pos < 16; pos++)
        buffer[pos] = 0;
      this.process(buffer, 0, true);
    }
    this.finalize();
    let opos = 0;
    for (let i = 0; i < 8; i++) {
      out[opos++] = h2[i] >>> 0;
      out[opos++] = h2[i] >>> 8;
    }
    return out;
  }
  digest() {
    const { buffer, outputLen } = this;
    this.digestInto(buffer);
    const res = buffer.slice(0, outputLen);
    this.destroy();
    return res;
  }
};
function wrapConstructorWithKey(hashCons) {
  const hashC = (msg, key) => hashCons(key).update(msg).digest();
  const tmp = hashCons(new Uint8Array(32));
  hashC.outputLen = tmp.outputLen;
  hashC.blockLen = tmp.blockLen;
  hashC.create = (key) => hashCons(key);
  return hashC;
}
var poly1305 = /* @__PURE__ */ (() => wrapConstructorWithKey((key) => new Poly1305(key)))();

// node_modules/@hpke/chacha20poly1305/esm/src/chacha/chacha.js
function chachaCore(s, k, n, out, cnt, rounds = 20) {
  const y00 = s[0], y01 = s[1], y02 = s[2], y03 = s[3], y04 = k[0], y05 = k[1], y06 = k[2], y07 = k[3], y08 = k[4], y09 = k[5], y10 = k[6], y11 = k[7], y12 = cnt, y13 = n[0], y14 = n[1], y15 = n[2];
  let x00 = y00, x01 = y01, x02 = y02, x03 = y03, x04 = y04, x05 = y05, x06 = y06, x07 = y07, x08 = y08, x09 = y09, x10 = y10, x11 = y11, x12 = y12, x13 = y13, x14 = y14, x15 = y15;
  for (let r = 0; r < rounds; r += 2) {
    x00 = x00 + x04 | 0;
    x12 = rotl(x12 ^ x00, 16);
    x08 = x08 + x12 | 0;
    x04 = rotl(x04 ^ x08, 12);
    x00 = x00 + x04 | 0;
    x12 = rotl(x12 ^ x00, 8);
    x08 = x08 + x12 | 0;
    x04 = rotl(x04 ^ x08, 7);
    x01 = x01 + x05 | 0;
    x13 = rotl(x13 ^ x01, 16);
    x09 = x09 + x13 | 0;
    x05 = rotl(x05 ^ x09, 12);
    x01 = x01 + x05 | 0;
    x13 = rotl(x13 ^ x01, 8);
    x09 = x09 + x13 | 0;
    x05 = rotl(x05 ^ x09, 7);
    x02 = x02 + x06 | 0;
    x14 = rotl(x14 ^ x02, 16);
    x10 = x10 + x14 | 0;
    x06 = rotl(x06 ^ x10, 12);
    x02 = x02 + x06 | 0;
    x14 = rotl(x14 ^ x02, 8);
    x10 = x10 + x14 | 0;
    x06 = rotl(x06 ^ x10, 7);
    x03 = x03 + x07 | 0;
    x15 = rotl(x15 ^ x03, 16);
    x11 = x11 + x15 | 0;
    x07 = rotl(x07 ^ x11, 12);
    x03 = x03 + x07 | 0;
    x15 = rotl(x15 ^ x03, 8);
    x11 = x11 + x15 | 0;
    x07 = rotl(x07 ^ x11, 7);
    x00 = x00 + x05 | 0;
    x15 = rotl(x15 ^ x00, 16);
    x10 = x10 + x15 | 0;
    x05 = rotl(x05 ^ x10, 12);
    x00 = x00 + x05 | 0;
    x15 = rotl(x15 ^ x00, 8);
    x10 = x10 + x15 | 0;
    x05 = rotl(x05 ^ x10, 7);
    x01 = x01 + x06 | 0;
    x12 = rotl(x12 ^ x01, 16);
    x11 = x11 + x12 | 0;
    x06 = rotl(x06 ^ x11, 12);
    x01 = x01 + x06 | 0;
    x12 = rotl(x12 ^ x01, 8);
    x11 = x11 + x12 | 0;
    x06 = rotl(x06 ^ x11, 7);
    x02 = x02 + x07 | 0;
    x13 = rotl(x13 ^ x02, 16);
    x08 = x08 + x13 | 0;
    x07 = rotl(x07 ^ x08, 12);
    x02 = x02 + x07 | 0;
    x13 = rotl(x13 ^ x02, 8);
    x08 = x08 + x13 | 0;
    x07 = rotl(x07 ^ x08, 7);
    x03 = x03 + x04 | 0;
    x14 = rotl(x14 ^ x03, 16);
    x09 = x09 + x14 | 0;
    x04 = rotl(x04 ^ x09, 12);
    x03 = x03 + x04 | 0;
    x14 = rotl(x14 ^ x03, 8);
    x09 = x09 + x14 | 0;
    x04 = rotl(x04 ^ x09, 7);
  }
  let oi = 0;
  out[oi++] = y00 + x00 | 0;
  out[oi++] = y01 + x01 | 0;
  out[oi++] = y02 + x02 | 0;
  out[oi++] = y03 + x03 | 0;
  out[oi++] = y04 + x04 | 0;
  out[oi++] = y05 + x05 | 0;
  out[oi++] = y06 + x06 | 0;
  out[oi++] = y07 + x07 | 0;
  out[oi++] = y08 + x08 | 0;
  out[oi++] = y09 + x09 | 0;
  out[oi++] = y10 + x10 | 0;
  out[oi++] = y11 + x11 | 0;
  out[oi++] = y12 + x12 | 0;
  out[oi++] = y13 + x13 | 0;
  out[oi++] = y14 + x14 | 0;
  out[oi++] = y15 + x15 | 0;
}
var chacha20 = /* @__PURE__ */ createCipher(chachaCore, {
  counterRight: false,
  counterLength: 4,
  allowShortKeys: false
});
var ZEROS16 = /* @__PURE__ */ new Uint8Array(16);
var updatePadded = (h2, msg) => {
  h2.update(msg);
  const leftover = msg.length % 16;
  if (leftover)
    h2.update(ZEROS16.subarray(leftover));
};
var ZEROS32 = /* @__PURE__ */ new Uint8Array(32);
function computeTag(fn, key, nonce, ciphertext, AAD) {
  if (AAD !== void 0)
    abytes(AAD, void 0, "AAD");
  const authKey = fn(key, nonce, ZEROS32);
  const lengths = u64Lengths(ciphertext.length, AAD ? AAD.length : 0, true);
  const h2 = poly1305.create(authKey);
  if (AAD)
    updatePadded(h2, AAD);
  updatePadded(h2, ciphertext);
  h2.update(lengths);
  const res = h2.digest();
  clean(authKey, lengths);
  return res;
}
var _poly1305_aead = (xorStream) => (key, nonce, AAD) => {
  const tagLength = 16;
  return {
    encrypt(plaintext, output) {
      const plength = plaintext.length;
      output = getOutput(plength + tagLength, output, false);
      output.set(plaintext);
      const oPlain = output.subarray(0, -tagLength);
      xorStream(key, nonce, oPlain, oPlain, 1);
      const tag = computeTag(xorStream, key, nonce, oPlain, AAD);
      output.set(tag, plength);
      clean(tag);
      return output;
    },
    decrypt(ciphertext, output) {
      output = getOutput(ciphertext.length - tagLength, output, false);
      const data = ciphertext.subarray(0, -tagLength);
      const passedTag = ciphertext.subarray(-tagLength);
      const tag = computeTag(xorStream, key, nonce, data, AAD);
      if (!equalBytes(passedTag, tag))
        throw new Error("invalid tag");
      output.set(ciphertext.subarray(0, -tagLength));
      xorStream(key, nonce, output, output, 1);
      clean(tag);
      return output;
    }
  };
};
var chacha20poly1305 = /* @__PURE__ */ wrapCipher({ blockSize: 64, nonceLength: 12, tagLength: 16 }, _poly1305_aead(chacha20));

// node_modules/@hpke/chacha20poly1305/esm/src/chacha20Poly1305.js
var Chacha20Poly1305Context = class {
  constructor(key) {
    Object.defineProperty(this, "_key", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: void 0
    });
    this._key = new Uint8Array(toArrayBuffer(key));
  }
  async seal(iv, data, aad) {
    return await this._seal(toArrayBuffer(iv), toArrayBuffer(data), toArrayBuffer(aad));
  }
  async open(iv, data, aad) {
    return await this._open(toArrayBuffer(iv), toArrayBuffer(data), toArrayBuffer(aad));
  }
  _seal(iv, data, aad) {
    return new Promise((resolve) => {
      const ret = chacha20poly1305(this._key, new Uint8Array(iv), new Uint8Array(aad)).encrypt(new Uint8Array(data));
      resolve(ret.buffer);
    });
  }
  _open(iv, data, aad) {
    return new Promise((resolve) => {
      const ret = chacha20poly1305(this._key, new Uint8Array(iv), new Uint8Array(aad)).decrypt(new Uint8Array(data));
      resolve(ret.buffer);
    });
  }
};
var Chacha20Poly1305 = class {
  constructor() {
    Object.defineProperty(this, "id", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: AeadId.Chacha20Poly1305
    });
    Object.defineProperty(this, "keySize", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 32
    });
    Object.defineProperty(this, "nonceSize", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 12
    });
    Object.defineProperty(this, "tagSize", {
      enumerable: true,
      configurable: true,
      writable: true,
      value: 16
    });
  }
  createEncryptionContext(key) {
    return new Chacha20Poly1305Context(key);
  }
};

// src/lib/seal.js
var INFO_MESSAGE = "sotto/conversation/v1 message";
var INFO_REPLY = "sotto/conversation/v1 reply";
var KEM_ID = 25722;
var KDF_ID = 1;
var AEAD_ID = 3;
var DEFAULT_MAX_AGE_MS = 60 * 60 * 1e3;
var REASON_NO_USABLE_KEY = "SEALING_KEY_UNUSABLE";
var REASON_REPLY_INVALID = "SEALED_REPLY_INVALID";
var REASON_REPLY_UNSEALED = "SEALED_REPLY_MISSING";
var REASON_KEY_EXPIRED = "SEALING_KEY_EXPIRED";
var REASON_KEY_UNKNOWN = "SEALING_KEY_UNKNOWN";
var KEYS_PATH = "/v1/conversation-sealing-keys";
var encoder = new TextEncoder();
var decoder = new TextDecoder("utf-8", { fatal: true });
var SealError2 = class extends Error {
  constructor(reason, message, { status: status2 = 0, cause } = {}) {
    super(message, cause ? { cause } : void 0);
    this.name = "SealError";
    this.reason = reason;
    this.status = status2;
  }
};
function newSuite() {
  return new CipherSuite({ kem: new XWing(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });
}
async function messageAAD(conversationId, replyPublicKey) {
  const id = encoder.encode(conversationId);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", replyPublicKey));
  const aad = new Uint8Array(id.length + 1 + digest.length);
  aad.set(id, 0);
  aad[id.length] = 0;
  aad.set(digest, id.length + 1);
  return aad;
}
function replyAAD(conversationId) {
  return encoder.encode(conversationId);
}
function toBase642(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
function fromBase642(s) {
  if (typeof s !== "string") throw new TypeError("not a base64 string");
  const std = s.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(std + "=".repeat((4 - std.length % 4) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
async function pickKey(suite, response, nowMs) {
  const keys = Array.isArray(response?.keys) ? response.keys : [];
  for (const k of keys) {
    if ((k.kem_id ?? k.kemId ?? 0) !== KEM_ID || (k.kdf_id ?? k.kdfId ?? 0) !== KDF_ID || (k.aead_id ?? k.aeadId ?? 0) !== AEAD_ID) {
      continue;
    }
    const id = k.key_id ?? k.keyId ?? "";
    const expire = Date.parse(k.expire_time ?? k.expireTime ?? "");
    if (typeof id !== "string" || id === "" || !(expire > nowMs)) continue;
    let bytes;
    try {
      bytes = fromBase642(k.public_key ?? k.publicKey ?? "");
      const publicKey = await suite.kem.deserializePublicKey(bytes);
      return { id, bytes, publicKey, expire };
    } catch {
      continue;
    }
  }
  return null;
}
var SealClient = class {
  constructor({ request: request2, baseURL = "", fetch: f, headers = {}, now = () => Date.now(), maxAgeMs = DEFAULT_MAX_AGE_MS } = {}) {
    this.call = request2 ? (method, path, body) => request2(method, path, body === void 0 ? {} : { body }) : fetchCall(baseURL, f ?? ((...a) => globalThis.fetch(...a)), headers);
    this.now = now;
    this.maxAgeMs = maxAgeMs;
    this.suite = newSuite();
    this.key = null;
    this.fetched = 0;
  }
  /** Fetches the keys now and picks the newest usable one. */
  async refresh() {
    const body = await this.call("GET", KEYS_PATH);
    const now = this.now();
    const key = await pickKey(this.suite, body, now);
    if (!key) {
      throw new SealError2(
        REASON_NO_USABLE_KEY,
        "the conversation service lists no unexpired MLKEM768-X25519/HKDF-SHA256/ChaCha20Poly1305 key",
        { status: 412 }
      );
    }
    this.key = key;
    this.fetched = now;
    return key;
  }
  /** Forgets the cached key: the next seal fetches the keys first. */
  invalidate() {
    this.key = null;
  }
  /** The key to seal to, fetched when there is none, it is stale or expired. */
  async current() {
    const now = this.now();
    if (this.key && now - this.fetched < this.maxAgeMs && now < this.key.expire) return this.key;
    return this.refresh();
  }
  /** A session with a fresh reply key pair. */
  async newSession() {
    const pair = await this.suite.kem.generateKeyPair();
    const replyPublicKey = new Uint8Array(await this.suite.kem.serializePublicKey(pair.publicKey));
    return new Session(this, pair, replyPublicKey);
  }
};
var replyKeys = /* @__PURE__ */ new WeakMap();
var Session = class {
  constructor(client2, pair, replyPublicKey) {
    this.client = client2;
    this.replyPublicKey = replyPublicKey;
    replyKeys.set(this, pair);
  }
  /**
   * Seals text for the conversation to the service's current key; returns
   * the proto's Sealed message as protojson (bytes in base64).
   */
  async seal(conversationId, text) {
    const key = await this.client.current();
    const sender = await this.client.suite.createSenderContext({
      recipientPublicKey: key.publicKey,
      info: encoder.encode(INFO_MESSAGE)
    });
    const aad = await messageAAD(conversationId, this.replyPublicKey);
    const ct = await sender.seal(encoder.encode(text), aad);
    return {
      key_id: key.id,
      enc: toBase642(new Uint8Array(sender.enc)),
      ciphertext: toBase642(new Uint8Array(ct)),
      reply_public_key: toBase642(this.replyPublicKey)
    };
  }
  /**
   * Opens a reply the service sealed to this session for the conversation
   * (protojson Sealed). Anything that does not open is one error,
   * SEALED_REPLY_INVALID, whichever part was wrong.
   */
  async openReply(conversationId, sealed) {
    try {
      const enc = fromBase642(sealed?.enc ?? "");
      const ct = fromBase642(sealed?.ciphertext ?? "");
      const recipient = await this.client.suite.createRecipientContext({
        recipientKey: replyKeys.get(this),
        enc,
        info: encoder.encode(INFO_REPLY)
      });
      return decoder.decode(await recipient.open(ct, replyAAD(conversationId)));
    } catch (e) {
      throw new SealError2(REASON_REPLY_INVALID, "the sealed reply does not open", { status: 400, cause: e });
    }
  }
  /**
   * Seals text, posts it to the conversation through the gateway and opens
   * the reply. options: view ('MESSAGE_VIEW_REIDENTIFIED', ...), language,
   * channelMessageId. Returns { reply, response }: reply is '' when there is
   * none (a conversation waiting on an agent). A key the service no longer
   * takes makes it fetch the keys and try once more, as the Go client does;
   * a reply that comes back in the clear is refused.
   */
  async post(conversationId, text, { view, language: language2, channelMessageId } = {}) {
    const c = this.client;
    let body;
    for (let attempt = 0; ; attempt++) {
      const req = { conversation_id: conversationId, sealed: await this.seal(conversationId, text) };
      if (view) req.view = view;
      if (language2) req.language = language2;
      if (channelMessageId) req.channel_message_id = channelMessageId;
      try {
        body = await c.call("POST", `/v1/conversations/${encodeURIComponent(conversationId)}/messages`, req);
        break;
      } catch (err) {
        if (attempt === 0 && (err?.reason === REASON_KEY_EXPIRED || err?.reason === REASON_KEY_UNKNOWN)) {
          await c.refresh();
          continue;
        }
        throw err;
      }
    }
    if (!body?.sealed_reply && !body?.sealedReply) {
      if (body?.reply?.text) {
        throw new SealError2(REASON_REPLY_UNSEALED, "the reply came back unsealed", { status: 502 });
      }
      return { reply: "", response: body };
    }
    const reply = await this.openReply(conversationId, body.sealed_reply ?? body.sealedReply);
    return { reply, response: body };
  }
};
function fetchCall(baseURL, f, headers) {
  return async (method, path, body) => {
    const h2 = { Accept: "application/json", ...typeof headers === "function" ? headers() : headers };
    if (body !== void 0) h2["Content-Type"] = "application/json";
    const resp = await f(baseURL + path, {
      method,
      headers: h2,
      body: body === void 0 ? void 0 : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
      referrerPolicy: "no-referrer"
    });
    let json = null;
    try {
      json = await resp.json();
    } catch {
    }
    if (!resp.ok) {
      const e = json?.error ?? {};
      throw new SealError2(String(e.reason ?? ""), String(e.message ?? `HTTP ${resp.status}`), { status: resp.status });
    }
    return json;
  };
}

// src/lib/seal-transport.js
var client = null;
var sessions = /* @__PURE__ */ new Map();
function sealClient() {
  client ??= new SealClient({ request });
  return client;
}
async function sessionFor(conversationId) {
  let s = sessions.get(conversationId);
  if (!s) {
    s = await sealClient().newSession();
    sessions.set(conversationId, s);
  }
  return s;
}
function forget(conversationId) {
  sessions.delete(conversationId);
}
function keyRefused(err) {
  if (err?.reason === REASON_KEY_EXPIRED || err?.reason === REASON_KEY_UNKNOWN) client?.invalidate();
}
async function outgoing(ctx, text) {
  const s = await sessionFor(ctx.conversationId);
  return { sealed: await s.seal(ctx.conversationId, text), language: ctx.language || void 0, view: ctx.view };
}
async function incoming(ctx, resp) {
  const out = [];
  if (resp?.message?.text) out.push(resp.message);
  if (resp?.sealed_reply) {
    const s = sessions.get(ctx.conversationId);
    if (!s) throw new SealError2("SEALED_REPLY_INVALID", "the sealed reply does not open");
    out.push({ ...resp.reply ?? {}, text: await s.openReply(ctx.conversationId, resp.sealed_reply) });
  } else if (resp?.reply?.text) {
    throw new SealError2(REASON_REPLY_UNSEALED, "the reply came back unsealed");
  }
  return out;
}

// src/widget/transport.js
var SEAL_UNAVAILABLE = "SEAL_UNAVAILABLE";
var sealing = new URLSearchParams(location.search).get("seal") !== "off";
var TransportError = class extends Error {
  constructor(reason, message, cause) {
    super(message, cause ? { cause } : void 0);
    this.name = "TransportError";
    this.reason = reason;
  }
};
function canSeal() {
  return globalThis.isSecureContext !== false && typeof globalThis.crypto?.subtle?.digest === "function" && typeof globalThis.crypto?.getRandomValues === "function";
}
async function outgoing2(ctx, text) {
  if (!sealing) return { text, language: ctx.language || void 0, view: ctx.view };
  if (!canSeal()) throw new TransportError(SEAL_UNAVAILABLE, "this browser cannot seal messages");
  try {
    return await outgoing(ctx, text);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new TransportError(SEAL_UNAVAILABLE, "the message could not be sealed", err);
  }
}
async function incoming2(ctx, resp) {
  if (!sealing) return [resp?.message, resp?.reply].filter(Boolean);
  return incoming(ctx, resp);
}
function keyRefused2(err) {
  if (!sealing) return false;
  const refused = err?.reason === "SEALING_KEY_EXPIRED" || err?.reason === "SEALING_KEY_UNKNOWN";
  keyRefused(err);
  return refused;
}
function forget2(conversationId) {
  forget(conversationId);
}
function streamView(view) {
  return sealing ? "MESSAGE_VIEW_PLACEHOLDERS" : view;
}

// src/widget/main.js
var TENANT = /^[a-z0-9][a-z0-9_-]{0,62}$/;
var NOTICE = /^[a-z][a-z0-9_-]{1,63}$/;
var LANG = /^[a-z]{2}([-_][A-Za-z]{2})?$/;
var params = new URLSearchParams(location.search);
var tenant = params.getAll("tenant").length === 1 && TENANT.test(params.get("tenant")) ? params.get("tenant") : "";
var noticeId = NOTICE.test(params.get("notice") ?? "") ? params.get("notice") : "";
var language = (() => {
  const l = params.get("lang") || navigator.language || "";
  return LANG.test(l) ? l : LANG.test(l.slice(0, 2)) ? l.slice(0, 2) : "";
})();
var framed = window.self !== window.top;
var [T, uiLanguage] = strings(language);
document.documentElement.lang = uiLanguage;
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
  shown: /* @__PURE__ */ new Map(),
  // message id → {author, text, action} its <li> shows (placeholders, or opened)
  askedFor: /* @__PURE__ */ new Map(),
  // reply id → the question as typed here (re-sent after a step-up)
  opened: /* @__PURE__ */ new Set(),
  // ids of replies shown as opened in this page (the stream's copy is not taken over them)
  pending: []
  // {typed, li} posted, not yet matched with a stored message
};
var errorBox = $("#error");
var log = h("ol", { class: "chat-log", role: "log", "aria-live": "polite", "aria-label": T.messages });
var status = h("p", { class: "chat-status", role: "status" });
var who = h("span", { class: "muted" }, T.guest);
var unsealed = sealing ? null : h("p", { class: "hint chat-unsealed" }, T.notSealed);
var endButton = h("button", { type: "button", class: "secondary", hidden: true, on: { click: endChat } }, T.end);
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
var sendButton = h("button", { type: "submit" }, T.send);
var form = h(
  "form",
  { class: "chat-form", novalidate: true, on: { submit: onSubmit } },
  h(
    "div",
    { class: "field" },
    h("label", { for: "message" }, T.yourMessage),
    h("p", { class: "hint", id: "message-hint" }, T.hint),
    input
  ),
  sendButton
);
var noticeBox = h("section", { class: "panel notice", "aria-labelledby": "notice-title", hidden: true });
var stepUpBox = h("div", { class: "chat-stepup", hidden: true });
input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    form.requestSubmit();
  }
});
append(
  replace($("#app")),
  h("div", { class: "actions chat-head" }, who, endButton),
  ...unsealed ? [unsealed] : [],
  noticeBox,
  log,
  stepUpBox,
  status,
  form
);
if (!tenant) {
  showError(errorBox, T.notSetUp);
  form.hidden = true;
} else if (noticeId) {
  showNotice();
}
async function showNotice() {
  input.disabled = true;
  sendButton.disabled = true;
  noticeBox.hidden = false;
  replace(noticeBox, h("h2", { id: "notice-title" }, T.beforeYouChat), h("p", {}, T.loadingNotice));
  try {
    const { notice } = await request("GET", `/v1/consent/notices/${encodeURIComponent(noticeId)}`, { token: "" });
    const texts = notice?.texts ?? [];
    const text = texts.find((t) => t.language === language) ?? texts.find((t) => t.language === language.slice(0, 2)) ?? texts.find((t) => t.language === "en") ?? texts[0];
    if (!text) throw new ApiError(0, "NOTICE_EMPTY", "The notice has no text.");
    const accept = h("button", { type: "button", on: { click: () => acceptNotice(notice) } }, T.accept);
    replace(
      noticeBox,
      h("h2", { id: "notice-title" }, T.beforeYouChat),
      h("p", { class: "notice-text", lang: text.language }, text.text),
      h("p", { class: "hint" }, T.noticeVersion(notice.notice_id, notice.version)),
      h("div", { class: "actions" }, accept)
    );
    accept.focus();
  } catch (err) {
    replace(
      noticeBox,
      h("h2", { id: "notice-title" }, T.beforeYouChat),
      h("p", { role: "alert" }, `${T.noticeFailed} ${err.text ?? err.message}`)
    );
  }
}
function acceptNotice(notice) {
  state.accepted = true;
  state.notice = { notice_id: notice.notice_id, version: notice.version };
  noticeBox.hidden = true;
  input.disabled = false;
  sendButton.disabled = false;
  status.textContent = T.canWrite;
  input.focus();
}
async function ensureSession() {
  if (accessToken()) return;
  if (state.kind === "visitor") {
    resetChat(T.expired);
    throw new ApiError(401, "SESSION_EXPIRED", T.expired);
  }
  if (!framed && await refreshSession()) {
    const c = claims();
    if (c.kind === "customer" && (!c.tenant || c.tenant === tenant)) {
      state.kind = "customer";
      state.view = "MESSAGE_VIEW_REIDENTIFIED";
      replace(who, T.signedIn);
      return;
    }
    clearSession();
  }
  const v = await post("/v1/visitor-sessions", { tenant }, { token: "" });
  setSession({ access_token: v.access_token, access_token_expires_at: v.expire_time });
  state.kind = "visitor";
  state.view = "MESSAGE_VIEW_PLACEHOLDERS";
  replace(who, `${T.guest} · `, signInLink());
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
  if (state.conversationId) forget2(state.conversationId);
  clearSession();
  Object.assign(state, { kind: "", conversationId: "", lastEventId: "", ended: false, pending: [] });
  state.known.clear();
  state.typed.clear();
  state.items.clear();
  state.shown.clear();
  state.opened.clear();
  state.askedFor.clear();
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
      state.lastEventId = await events(`/v1/conversations/${id}/events${query({ view: streamView(state.view) })}`, {
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
      status.textContent = T.reconnecting;
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
    status.textContent = T.ended;
  } else if (ev.event === "error") {
    status.textContent = T.streamFailed;
  }
}
var AUTHORS = { AUTHOR_CUSTOMER: T.you, AUTHOR_ASSISTANT: T.assistant, AUTHOR_AGENT: T.agent };
function bubble(author, ...content) {
  const cls = author === "AUTHOR_CUSTOMER" ? "customer" : author === "AUTHOR_AGENT" ? "agent" : "assistant";
  return h("li", { class: `msg ${cls}` }, h("span", { class: "who" }, AUTHORS[author] ?? T.shop), h("span", { class: "text" }, ...content));
}
function show(m, opened = false) {
  const id = m.message_id;
  if (!id) return;
  const text = m.text ?? "";
  const action = m.required_action ?? "";
  const have = state.items.get(id);
  if (m.author === "AUTHOR_CUSTOMER") {
    if (have) {
      const typed = state.typed.get(id);
      if (typed !== void 0 && typed !== text && learn(typed, text, state.known)) refill();
      return;
    }
    const i = state.pending.findIndex((p) => p.typed === text || learn(p.typed, text, state.known));
    if (i >= 0) {
      const [p] = state.pending.splice(i, 1);
      adopt(p, id);
      refill();
      return;
    }
    const li2 = bubble(m.author);
    li2.dataset.id = id;
    fill(li2, m.author, text);
    state.items.set(id, li2);
    state.shown.set(id, { author: m.author, text });
    append(log, li2);
    scrollDown();
    return;
  }
  if (have) {
    if (!opened || state.opened.has(id)) return;
    state.opened.add(id);
    state.shown.set(id, { author: m.author, text, action });
    have.dataset.opened = "true";
    fill(have, m.author, text, action);
    return;
  }
  const li = bubble(m.author);
  li.dataset.id = id;
  fill(li, m.author, text, action);
  state.items.set(id, li);
  state.shown.set(id, { author: m.author, text, action });
  if (opened) {
    state.opened.add(id);
    li.dataset.opened = "true";
  }
  append(log, li);
  scrollDown();
}
function adopt(p, id) {
  p.li.classList.remove("sending");
  p.li.dataset.id = id;
  const other = state.items.get(id);
  if (other && other !== p.li) other.remove();
  state.items.set(id, p.li);
  state.typed.set(id, p.typed);
  state.shown.delete(id);
}
function fill(li, author, text, action = "") {
  replace(li.querySelector(".text"), ...render(text, state.known, T.labels));
  li.querySelector(".actions")?.remove();
  if (author !== "AUTHOR_ASSISTANT") return;
  if (action === "REQUIRED_ACTION_STEP_UP" && state.kind === "customer") {
    append(li, h(
      "span",
      { class: "actions" },
      h("button", { type: "button", on: { click: () => openStepUp(state.askedFor.get(li.dataset.id) ?? "") } }, T.confirm)
    ));
  } else if (action === "REQUIRED_ACTION_SIGN_IN" || action === "REQUIRED_ACTION_STEP_UP") {
    append(li, h("span", { class: "actions" }, signInLink(), h("span", { class: "hint" }, ` ${T.signInWhy}`)));
  }
}
function signInLink() {
  return h("a", { class: "button", href: "/privacy/", target: "_blank", rel: "noopener" }, T.signIn);
}
function openStepUp(question) {
  showError(errorBox, "");
  const close = () => {
    stepUpBox.hidden = true;
    replace(stepUpBox);
  };
  replace(stepUpBox, stepUpPanel(T, () => {
    close();
    status.textContent = T.stepUpDone;
    if (question && !input.value) input.value = question;
    if (question) form.requestSubmit();
    else input.focus();
  }, () => {
    close();
    input.focus();
  }));
  stepUpBox.hidden = false;
  stepUpBox.querySelector("input")?.focus();
}
function refill() {
  for (const [id, { author, text, action }] of state.shown) {
    const li = state.items.get(id);
    if (li && hasPlaceholder(text)) fill(li, author, text, action);
  }
}
function scrollDown() {
  log.scrollTop = log.scrollHeight;
}
async function onSubmit(e) {
  e.preventDefault();
  showError(errorBox, "");
  const typed = input.value.trim();
  if (!typed) {
    showError(errorBox, T.writeFirst);
    input.focus();
    return;
  }
  if (!state.accepted) {
    showError(errorBox, T.readNoticeFirst);
    return;
  }
  if (new TextEncoder().encode(typed).length > 4096) {
    showError(errorBox, T.tooLong);
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
    let resp;
    for (let attempt = 0; ; attempt++) {
      const body = await outgoing2(ctx, typed);
      try {
        resp = await post(`/v1/conversations/${state.conversationId}/messages`, body);
        break;
      } catch (err) {
        if (attempt === 0 && keyRefused2(err)) continue;
        throw err;
      }
    }
    const mid = resp?.message?.message_id;
    if (mid && state.pending.includes(pending)) {
      state.pending = state.pending.filter((p) => p !== pending);
      adopt(pending, mid);
    }
    let replies;
    try {
      replies = await incoming2(ctx, resp);
    } catch {
      showError(errorBox, T.replyUnopened);
      return;
    }
    for (const m of replies) {
      if (m.author === "AUTHOR_ASSISTANT" && m.message_id) state.askedFor.set(m.message_id, typed);
      show(m, sealing && m.author !== "AUTHOR_CUSTOMER");
    }
  } catch (err) {
    keyRefused2(err);
    state.pending = state.pending.filter((p) => p !== pending);
    if (li.isConnected) {
      li.classList.add("failed");
      append(li, h("span", { class: "hint" }, ` ${T.notSent}`));
    }
    if (!input.value) input.value = typed;
    if (err instanceof ApiError && err.reason === "STEP_UP_REQUIRED") {
      showStepUp();
    } else if (err?.reason === SEAL_UNAVAILABLE) {
      showError(errorBox, T.cannotSeal);
    } else {
      showError(errorBox, err);
    }
  } finally {
    sendButton.disabled = false;
    form.removeAttribute("aria-busy");
  }
}
function showStepUp() {
  if (state.kind === "customer") {
    openStepUp("");
    return;
  }
  replace(errorBox, T.stepUp[0], signInLink(), T.stepUp[1]);
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
  if (state.kind === "customer" && !framed) refreshSession();
});
/*! Bundled license information:

@hpke/common/esm/src/curve/modular.js:
@hpke/common/esm/src/curve/montgomery.js:
@hpke/dhkem-x25519/esm/src/primitives/x25519.js:
  (*! noble-curves - MIT License (c) 2022 Paul Miller (paulmillr.com) *)

mlkem/esm/src/sha3/utils.js:
  (*! noble-hashes - MIT License (c) 2022 Paul Miller (paulmillr.com) *)
*/
