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
    stepUp: ["Per la sua sicurezza, confermi prima la sua identità: ", ", poi invii di nuovo il messaggio."]
  }
};
function strings(language2) {
  const l = String(language2 ?? "").slice(0, 2).toLowerCase();
  return STRINGS[l] ? [STRINGS[l], l] : [STRINGS.en, "en"];
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
  pending: []
  // {typed, li} posted, not yet matched with a stored message
};
var errorBox = $("#error");
var log = h("ol", { class: "chat-log", role: "log", "aria-live": "polite", "aria-label": T.messages });
var status = h("p", { class: "chat-status", role: "status" });
var who = h("span", { class: "muted" }, T.guest);
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
  replace(who, `${T.guest} · `, h("a", { href: "/privacy/", target: "_blank", rel: "noopener" }, T.signIn));
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
    const li2 = bubble(m.author, ...render(text, state.known, T.labels));
    li2.dataset.id = id;
    state.items.set(id, li2);
    append(log, li2);
    scrollDown();
    return;
  }
  const li = bubble(m.author, ...render(text, state.known, T.labels));
  li.dataset.id = id;
  const c = m.author === "AUTHOR_ASSISTANT" ? cue(text) : "";
  if (c === "step_up") {
    append(li, h(
      "span",
      { class: "actions" },
      h("a", { class: "button", href: "/privacy/step-up", target: "_blank", rel: "noopener" }, T.confirm)
    ));
  } else if (c === "login") {
    append(li, h(
      "span",
      { class: "actions" },
      h("a", { class: "button", href: "/privacy/", target: "_blank", rel: "noopener" }, T.signIn)
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
    const body = await outgoing(ctx, typed);
    const resp = await post(`/v1/conversations/${state.conversationId}/messages`, body);
    for (const m of await incoming(ctx, resp)) show(m);
  } catch (err) {
    state.pending = state.pending.filter((p) => p !== pending);
    if (li.isConnected) {
      li.classList.add("failed");
      append(li, h("span", { class: "hint" }, ` ${T.notSent}`));
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
    T.stepUp[0],
    h("a", { href: "/privacy/step-up", target: "_blank", rel: "noopener" }, T.confirm),
    T.stepUp[1]
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
