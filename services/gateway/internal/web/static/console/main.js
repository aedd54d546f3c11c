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
  const { options = [], ...rest } = attrs;
  if (tag !== "input") delete rest.type;
  const control = h(tag, { ...rest, id, "aria-describedby": hintId }, ...options.map(([v, t]) => h("option", { value: v }, t)));
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
  constructor(status2, reason2, message2, details = {}, violations = []) {
    super(message2 || reason2 || `request failed (${status2})`);
    this.name = "ApiError";
    this.status = status2;
    this.reason = reason2 || "";
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
async function errorOf(resp) {
  let e = {};
  try {
    e = (await resp.json())?.error ?? {};
  } catch {
  }
  return new ApiError(resp.status, String(e.reason ?? ""), String(e.message ?? ""), e.details ?? {}, Array.isArray(e.violations) ? e.violations : []);
}
function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== void 0 && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}
async function events(path, { token: token2, lastEventId, signal, onEvent }) {
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
    const { value: value2, done } = await reader.read();
    if (done) return last;
    buf += value2;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, "");
      buf = buf.slice(nl + 1);
      if (line === "") {
        if (ev.data !== "" || ev.event !== "message") {
          if (ev.id) last = ev.id;
          onEvent(ev);
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

// src/console/leaf.js
var fields = {
  1: ["event_id", "string"],
  2: ["leaf_index", "varint"],
  3: ["occur_time", "timestamp"],
  4: ["record_time", "timestamp"],
  5: ["actor_workload", "string"],
  6: ["actor_subject_hash", "string"],
  7: ["subject_hash", "string"],
  8: ["action", "string"],
  9: ["resource_type", "string"],
  10: ["resource_id", "string"],
  11: ["purpose", "string"],
  12: ["outcome", "varint"],
  13: ["reason", "string"],
  14: ["trace_id", "string"],
  15: ["hmac_key_version", "varint"],
  16: ["caller_workload", "string"]
};
var outcomes = ["OUTCOME_UNSPECIFIED", "OUTCOME_SUCCESS", "OUTCOME_DENIED", "OUTCOME_FAILURE"];
var Reader = class {
  constructor(b) {
    this.b = b;
    this.i = 0;
  }
  varint() {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.i >= this.b.length) throw new Error("truncated varint");
      const x = this.b[this.i++];
      v |= BigInt(x & 127) << shift;
      if (x < 128) return v;
    }
    throw new Error("varint too long");
  }
  bytes() {
    const n = Number(this.varint());
    if (this.i + n > this.b.length) throw new Error("truncated field");
    const out = this.b.subarray(this.i, this.i + n);
    this.i += n;
    return out;
  }
  skip(wire) {
    if (wire === 0) this.varint();
    else if (wire === 1) this.i += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.i += 4;
    else throw new Error(`wire type ${wire}`);
    if (this.i > this.b.length) throw new Error("truncated field");
  }
};
function timestamp(b) {
  const r = new Reader(b);
  let secs = 0n;
  let nanos = 0n;
  while (r.i < b.length) {
    const tag = Number(r.varint());
    if (tag === 8) secs = r.varint();
    else if (tag === 16) nanos = r.varint();
    else r.skip(tag & 7);
  }
  return new Date(Number(secs) * 1e3 + Math.floor(Number(nanos) / 1e6)).toISOString();
}
var utf8 = new TextDecoder("utf-8", { fatal: true });
function decodeEvent(bytes) {
  const r = new Reader(bytes);
  const ev = {};
  while (r.i < bytes.length) {
    const tag = Number(r.varint());
    const num = tag >>> 3;
    const wire = tag & 7;
    const f = fields[num];
    if (!f) {
      r.skip(wire);
      continue;
    }
    const [name, kind] = f;
    if (kind === "varint") {
      if (wire !== 0) throw new Error(`field ${name} has wire type ${wire}`);
      const v = r.varint();
      ev[name] = name === "outcome" ? outcomes[Number(v)] ?? String(v) : String(v);
    } else {
      if (wire !== 2) throw new Error(`field ${name} has wire type ${wire}`);
      const b = r.bytes();
      ev[name] = kind === "timestamp" ? timestamp(b) : utf8.decode(b);
    }
  }
  return ev;
}

// src/console/merkle.js
var HASH_SIZE = 32;
async function sha256(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const buf = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    buf.set(p, o);
    o += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}
var LEAF = Uint8Array.of(0);
var NODE = Uint8Array.of(1);
var hashLeaf = (data) => sha256(LEAF, data);
var hashChildren = (l, r) => sha256(NODE, l, r);
function equalBytes(a, b) {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
var ProofError = class extends Error {
  constructor(message2) {
    super(message2);
    this.name = "ProofError";
  }
};
function big(v, what) {
  let b;
  try {
    b = typeof v === "bigint" ? v : BigInt(v);
  } catch {
    throw new ProofError(`${what} is not an integer`);
  }
  if (b < 0n) throw new ProofError(`${what} is negative`);
  return b;
}
function checkHashes(proof) {
  if (!Array.isArray(proof)) throw new ProofError("the proof is not a list of hashes");
  for (const h2 of proof) if (!(h2 instanceof Uint8Array) || h2.length !== HASH_SIZE) throw new ProofError("a proof hash is not 32 bytes");
}
async function rootFromInclusionProof(index, size, leafHash, proof) {
  let fn = big(index, "the leaf index");
  let sn = big(size, "the tree size") - 1n;
  if (fn > sn) throw new ProofError(`leaf index ${fn} is outside a tree of ${sn + 1n}`);
  if (!(leafHash instanceof Uint8Array) || leafHash.length !== HASH_SIZE) throw new ProofError("the leaf hash is not 32 bytes");
  checkHashes(proof);
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0n) throw new ProofError("the proof is too long");
    if ((fn & 1n) === 1n || fn === sn) {
      r = await hashChildren(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await hashChildren(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ProofError("the proof is too short");
  return r;
}
async function verifyInclusion(index, size, leafHash, proof, root) {
  const got = await rootFromInclusionProof(index, size, leafHash, proof);
  if (!equalBytes(got, root)) throw new ProofError("the inclusion proof does not lead to the signed root");
}
async function verifyConsistency(size1, size2, root1, root2, proof) {
  const m = big(size1, "the first size");
  const n = big(size2, "the second size");
  checkHashes(proof);
  if (m > n) throw new ProofError(`the log shrank from ${m} to ${n} entries`);
  if (m === n) {
    if (proof.length !== 0) throw new ProofError("a proof between equal sizes must be empty");
    if (!equalBytes(root1, root2)) throw new ProofError("the same size has two different roots");
    return;
  }
  if (m === 0n) {
    if (proof.length !== 0) throw new ProofError("a proof from the empty tree must be empty");
    return;
  }
  if (proof.length === 0) throw new ProofError("the consistency proof is empty");
  const path = (m & m - 1n) === 0n ? [root1, ...proof] : proof;
  let fn = m - 1n;
  let sn = n - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new ProofError("the consistency proof is too long");
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await hashChildren(c, fr);
      sr = await hashChildren(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = await hashChildren(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ProofError("the consistency proof is too short");
  if (!equalBytes(fr, root1)) throw new ProofError("the consistency proof does not lead to the earlier root");
  if (!equalBytes(sr, root2)) throw new ProofError("the consistency proof does not lead to the signed root");
}
function fromBase64(s) {
  if (typeof s !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) throw new ProofError("not base64");
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
function toBase64(b) {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}
var toHex = (b) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

// src/console/note.js
var enc = new TextEncoder();
var ALG_ED25519 = 1;
async function parseVerifierKey(vkey) {
  const s = String(vkey ?? "").trim();
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(s);
  if (!m) throw new ProofError("not a note verifier key (name+hash+key)");
  const [, name, hashHex] = m;
  const raw = fromBase64(m[3]);
  if (raw.length !== 33 || raw[0] !== ALG_ED25519) throw new ProofError("not an Ed25519 verifier key");
  const hash = await keyHash(name, raw);
  if (hash.toString(16).padStart(8, "0") !== hashHex) throw new ProofError("the verifier key hash does not match its key");
  let key;
  try {
    key = await crypto.subtle.importKey("raw", raw.slice(1), { name: "Ed25519" }, false, ["verify"]);
  } catch {
    throw new ProofError("this browser cannot verify Ed25519 signatures");
  }
  return { name, hash, key, text: s };
}
async function keyHash(name, raw) {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array([...enc.encode(`${name}
`), ...raw])));
  return (d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3]) >>> 0;
}
async function verifyNote(noteBytes, verifiers) {
  const msg = typeof noteBytes === "string" ? noteBytes : new TextDecoder("utf-8", { fatal: true }).decode(noteBytes);
  const split = msg.lastIndexOf("\n\n");
  if (split < 0 || !msg.endsWith("\n")) throw new ProofError("the checkpoint is not a signed note");
  const text = msg.slice(0, split + 1);
  const lines = msg.slice(split + 2, -1).split("\n");
  let verified = false;
  for (const line of lines) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+=*)$/.exec(line);
    if (!m) throw new ProofError("a signature line of the checkpoint is malformed");
    const sig = fromBase64(m[2]);
    if (sig.length < 5) throw new ProofError("a signature of the checkpoint is too short");
    const hash = (sig[0] << 24 | sig[1] << 16 | sig[2] << 8 | sig[3]) >>> 0;
    for (const v of verifiers) {
      if (v.name !== m[1] || v.hash !== hash) continue;
      const ok = await crypto.subtle.verify({ name: "Ed25519" }, v.key, sig.slice(4), enc.encode(text));
      if (!ok) throw new ProofError("the checkpoint signature does not verify");
      verified = true;
    }
  }
  if (!verified) throw new ProofError("the checkpoint is not signed by a pinned key");
  return text;
}
function parseCheckpoint(text) {
  const lines = text.split("\n");
  if (lines.length < 4 || lines.at(-1) !== "") throw new ProofError("the checkpoint text is malformed");
  const [origin, size, root] = lines;
  if (!/^(0|[1-9][0-9]{0,18})$/.test(size)) throw new ProofError("the checkpoint size is malformed");
  const hash = fromBase64(root);
  if (hash.length !== 32) throw new ProofError("the checkpoint root is not 32 bytes");
  return { origin, size: BigInt(size), root: hash };
}
async function verifyCheckpoint(resp, verifiers) {
  const cp = resp?.checkpoint;
  if (!cp?.signed_note) throw new ProofError("the service sent no signed checkpoint");
  const text = await verifyNote(fromBase64(cp.signed_note), verifiers);
  const c = parseCheckpoint(text);
  if (!verifiers.some((v) => v.name === c.origin)) throw new ProofError("the checkpoint is for another log");
  if (BigInt(cp.tree_size ?? 0) !== c.size || !equalBytes(fromBase64(cp.root_hash ?? ""), c.root)) {
    throw new ProofError("the checkpoint fields differ from what was signed");
  }
  return c;
}

// src/console/ui.js
function show(title, ...content) {
  replace($("#title"), title);
  document.title = `${title} · Staff console`;
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
function when(ts) {
  if (!ts) return "";
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleString(void 0, { dateStyle: "medium", timeStyle: "short" });
}
var time = (ts) => ts ? h("time", { datetime: ts }, when(ts)) : "—";
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
function button(label, f, { cls, alert, attrs = {} } = {}) {
  const b = h("button", { type: "button", class: cls, ...attrs }, label);
  b.addEventListener("click", async () => {
    const target = alert ?? $("#error");
    replace(target, "");
    b.disabled = true;
    try {
      await f(b);
    } catch (err) {
      replace(target, err?.text ?? err?.message ?? String(err));
    } finally {
      b.disabled = false;
    }
  });
  return b;
}
var go = () => {
};
function setNavigator(f) {
  go = f;
}
var navigate = (page, arg) => go(page, arg);
var href = (page, arg) => `/console/${page}${arg ? `/${encodeURIComponent(arg)}` : ""}`;

// src/console/audit.js
var KEYS = "sotto.console.audit.verifier-keys";
var WITNESS = "sotto.console.audit.checkpoint";
var NEW_WINDOW = 4096n;
function pinnedKeys() {
  try {
    const v = JSON.parse(localStorage.getItem(KEYS) ?? "[]");
    return Array.isArray(v) ? v.filter((k) => typeof k === "string") : [];
  } catch {
    return [];
  }
}
function witness() {
  try {
    const w = JSON.parse(localStorage.getItem(WITNESS) ?? "null");
    if (w && /^[0-9]{1,19}$/.test(w.size) && typeof w.root === "string") return { size: BigInt(w.size), root: fromBase64(w.root) };
  } catch {
  }
  return null;
}
var verdict = (ok, text) => h(
  "p",
  { class: `verdict ${ok === true ? "ok" : ok === false ? "failed" : "pending"}`, "data-verdict": ok === true ? "ok" : ok === false ? "failed" : "pending", role: ok === false ? "alert" : void 0 },
  ok === false ? h("strong", {}, "FAILED: ") : ok === true ? h("strong", {}, "Verified: ") : null,
  text
);
var trusted = null;
async function auditPage() {
  trusted = null;
  const logBox = h("div", { id: "checkpoint" });
  const results = h("div", { id: "results" });
  const search = form(
    { "aria-label": "Search the audit log" },
    [
      field("Subject", { name: "subject", maxlength: 256, spellcheck: false, autocomplete: "off" }, "A customer's account id (pseudonymous); the service compares its keyed hash."),
      field("Event type", { name: "action", maxlength: 128, spellcheck: false, autocomplete: "off", placeholder: "e.g. tokenvault.detokenize" }),
      field("Actor", { name: "actor_subject", maxlength: 256, spellcheck: false, autocomplete: "off" }, "A staff member's or customer's account id.")
    ],
    "Search",
    (f) => runSearch(f, results, logBox)
  );
  show(
    "Audit log",
    h("p", {}, "Every entry shown here is checked in this browser against the log's latest signed checkpoint."),
    section("The log", logBox),
    section("Search", search),
    results
  );
  await checkLog(logBox);
}
async function checkLog(box) {
  trusted = null;
  const resp = await get("/v1/audit/checkpoint");
  const keys = pinnedKeys();
  if (!keys.length) {
    replace(box, verdict(null, "Not verified: no key of the log is pinned in this browser."), pinForm(box, resp));
    box.dataset.verdict = "pending";
    return;
  }
  const shown = [];
  try {
    const verifiers = [];
    for (const k of keys) verifiers.push(await parseVerifierKey(k));
    const cp = await verifyCheckpoint(resp, verifiers);
    const signed = resp.checkpoint.sign_time;
    shown.push(
      verdict(true, `checkpoint of ${cp.size} entries signed by ${cp.origin}.`),
      h("p", { class: "muted hash" }, `Root ${toHex(cp.root)}`)
    );
    if (signed && !Number.isNaN(Date.parse(signed))) {
      shown.push(h(
        "p",
        { class: "muted", "data-unsigned-time": "" },
        "The service says it signed it at ",
        h("time", { datetime: signed }, new Date(signed).toLocaleString()),
        " (not covered by the signature; advisory)."
      ));
    }
    const w = witness();
    if (!w) {
      shown.push(h("p", {}, "First check in this browser: this checkpoint is remembered, and the next visit proves the log grew from it."));
    } else {
      await consistent(w, cp);
      shown.push(verdict(true, w.size === cp.size ? "the log is the one this browser saw last time." : `the log grew from the ${w.size} entries this browser saw last time without changing them.`));
    }
    localStorage.setItem(WITNESS, JSON.stringify({ size: String(cp.size), root: toBase64(cp.root) }));
    trusted = cp;
    box.dataset.verdict = "ok";
  } catch (err) {
    box.dataset.verdict = "failed";
    shown.push(h(
      "div",
      { class: "tampered" },
      verdict(false, reason(err)),
      h("p", {}, "Do not rely on this log. Report it to the security team with the time of this check; the entries below are not checked.")
    ));
  }
  replace(box, shown, h(
    "details",
    {},
    h("summary", {}, "Pinned keys"),
    h("ul", {}, keys.map((k) => h("li", {}, h("code", { class: "key" }, k)))),
    h("button", { type: "button", class: "secondary", on: { click: () => {
      localStorage.removeItem(KEYS);
      auditPage();
    } } }, "Unpin")
  ));
}
async function consistent(w, cp) {
  if (w.size > cp.size) throw new ProofError(`the log shrank: this browser saw ${w.size} entries, the service signs ${cp.size}`);
  if (w.size === cp.size) {
    if (!equalBytes(w.root, cp.root)) throw new ProofError("the log has another root for the size this browser saw last time");
    return;
  }
  const p = await get(`/v1/audit/consistency-proof${query({ from_size: String(w.size), to_size: String(cp.size) })}`);
  if (BigInt(p.from_size ?? 0) !== w.size || BigInt(p.to_size ?? 0) !== cp.size) throw new ProofError("the consistency proof is for other sizes");
  await verifyConsistency(w.size, cp.size, w.root, cp.root, (p.hashes ?? []).map(fromBase64));
}
function pinForm(box, resp) {
  return form(
    { "aria-label": "Pin the log's key" },
    [
      field(
        "The log's verifier key",
        { name: "key", type: "textarea", rows: 3, required: true, spellcheck: false, autocomplete: "off" },
        "From your operator, out of band (the key `sotto audit verify --verifier-key` takes). Compare it with the one the service shows below; do not copy that one."
      ),
      h("p", {}, "The service says its key is ", h("code", { class: "key advertised" }, resp?.verifier_key ?? "(none)"), ".")
    ],
    "Pin key",
    async (f) => {
      const k = value(f, "key");
      try {
        await parseVerifierKey(k);
      } catch (err) {
        throw new ProofError(reason(err));
      }
      localStorage.setItem(KEYS, JSON.stringify([...pinnedKeys(), k]));
      status("The key is pinned in this browser.");
      await checkLog(box);
    }
  );
}
var reason = (err) => err instanceof ProofError ? err.message : err?.text ?? err?.message ?? String(err);
async function runSearch(f, results, logBox, pageToken = "") {
  const q = query({ subject: value(f, "subject"), action: value(f, "action"), actor_subject: value(f, "actor_subject"), page_size: 50, page_token: pageToken });
  const r = await get(`/v1/audit/events${q}`);
  const events2 = r.events ?? [];
  const summary = h("div", { id: "audit-verdict", "data-verdict": "pending" }, verdict(null, `Checking ${events2.length} entries…`));
  const list2 = h("ol", { class: "rows entries" });
  const more = r.next_page_token ? h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", on: { click: () => busy(f, () => runSearch(f, results, logBox, r.next_page_token)) } }, "Next 50 entries")) : null;
  replace(results, section(`${events2.length} entries${pageToken ? " (a later page)" : ""}`, summary, list2, more));
  if (trusted && events2.some((ev) => position(ev) >= trusted.size)) await checkLog(logBox);
  if (!trusted) {
    replace(summary, verdict(false, "the log's checkpoint is not verified, so no entry can be."));
    summary.dataset.verdict = "failed";
  }
  const rows2 = events2.map((ev) => {
    const li = h("li", { class: "row entry", "data-event": ev.event_id, "data-verdict": "pending" }, h("p", {}, `Entry ${ev.leaf_index}: checking…`));
    list2.append(li);
    return [ev, li];
  });
  if (!trusted) return;
  let failed = 0;
  let pending = 0;
  const queue = [...rows2];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [ev, li] = next;
      const out = await checkEntry(ev, trusted).catch((err) => ({ ok: false, why: reason(err), ev: err.logged }));
      if (out.ok === false) failed++;
      if (out.ok === null) pending++;
      li.dataset.verdict = out.ok === true ? "ok" : out.ok === false ? "failed" : "unsigned";
      replace(li, entryView(ev, out));
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const proved = events2.length - failed - pending;
  summary.dataset.verdict = failed ? "failed" : pending ? "unsigned" : "ok";
  replace(summary, failed ? h("div", { class: "tampered" }, verdict(false, `${failed} of ${events2.length} entries do not match the signed log. They were altered after they were recorded, or the service answered falsely.`)) : pending ? verdict(null, `${proved} verified, ${pending} not yet covered by a signed checkpoint; search again in a moment.`) : verdict(true, `${proved} entries are in the signed log as shown.`));
}
var position = (ev) => {
  try {
    return BigInt(ev.leaf_index ?? -1);
  } catch {
    return -1n;
  }
};
async function checkEntry(ev, cp) {
  const index = position(ev);
  if (index < 0n) return { ok: false, why: "the entry has no position in the log" };
  if (index >= cp.size + NEW_WINDOW) return { ok: false, why: `it claims a position the signed log does not have (${index}; the latest checkpoint signs ${cp.size} entries)` };
  if (index >= cp.size) return { ok: null, why: "not yet signed: newer than the latest checkpoint, so what the service says it holds is not shown. Search again in a moment." };
  const page = await get(`/v1/audit/entries${query({ start_index: String(index), page_size: 1 })}`);
  const entry = page.entries?.[0];
  if (!entry || BigInt(entry.leaf_index ?? -1) !== index) return { ok: false, why: "the service did not return the entry at its position" };
  const data = fromBase64(entry.leaf_data ?? "");
  const leafHash = await hashLeaf(data);
  let logged;
  try {
    logged = decodeEvent(data);
  } catch {
    return { ok: false, why: "the logged bytes are not an audit event" };
  }
  const p = await get(`/v1/audit/events/${encodeURIComponent(ev.event_id)}/inclusion-proof${query({ tree_size: String(cp.size) })}`);
  if (BigInt(p.leaf_index ?? -1) !== index || BigInt(p.tree_size ?? -1) !== cp.size) return { ok: false, why: "the proof is for another position or size", ev: logged };
  try {
    await verifyInclusion(index, cp.size, leafHash, (p.hashes ?? []).map(fromBase64), cp.root);
  } catch (err) {
    return { ok: false, why: reason(err), ev: logged };
  }
  for (const k of ["event_id", "action", "outcome", "subject_hash", "actor_subject_hash", "actor_workload", "resource_id", "reason", "purpose"]) {
    if ((logged[k] ?? "") !== (ev[k] === "OUTCOME_UNSPECIFIED" ? "" : ev[k] ?? "")) return { ok: false, why: `the search answer's ${k.replaceAll("_", " ")} differs from the logged entry`, ev: logged };
  }
  return { ok: true, ev: logged, leafHash };
}
function entryView(searched, out) {
  if (out.ok === null) return [h("div", {}, h("p", { class: "muted" }, `#${searched.leaf_index}`), verdict(null, out.why))];
  const ev = out.ev ?? searched;
  const short = (s) => s ? `${String(s).slice(0, 12)}…` : "—";
  return [
    h(
      "div",
      {},
      h("h3", {}, ev.action ?? "", " ", h("span", { class: "muted" }, enumLabel(ev.outcome, "OUTCOME_"))),
      h(
        "p",
        { class: "muted" },
        `#${searched.leaf_index} · `,
        ev.occur_time ? h("time", { datetime: ev.occur_time }, new Date(ev.occur_time).toLocaleString()) : "",
        ` · by ${ev.actor_workload ?? "—"}`,
        ev.actor_subject_hash ? ` for actor ${short(ev.actor_subject_hash)}` : "",
        ev.subject_hash ? ` · subject ${short(ev.subject_hash)}` : "",
        ev.resource_type ? ` · ${ev.resource_type} ${ev.resource_id ?? ""}` : "",
        ev.purpose ? ` · purpose ${ev.purpose}` : "",
        ev.reason ? ` · ${ev.reason}` : ""
      ),
      out.ok === true ? verdict(true, "included in the signed log (proof checked in this browser).") : out.ok === false ? verdict(false, out.why ?? "the proof does not hold.") : verdict(null, out.why)
    )
  ];
}

// src/lib/otp-qr.js
var pngSignature = "iVBORw0KGgo";
function qrImage(pngBase64, alt) {
  const b64 = String(pngBase64 ?? "");
  const img = h("img", { alt, width: 200, height: 200, class: "qr" });
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(b64) && b64.startsWith(pngSignature)) img.src = `data:image/png;base64,${b64}`;
  return img;
}

// src/console/auth.js
function loginPage() {
  const f = form(
    { "aria-label": "Sign in" },
    [
      field("E-mail address", { name: "email", type: "email", required: true, autocomplete: "username", maxlength: 254 }),
      field("Password", { name: "password", type: "password", required: true, autocomplete: "current-password", maxlength: 128 })
    ],
    "Sign in",
    async (fm) => {
      const r = await post("/v1/sessions:login", { email: value(fm, "email"), password: fm.elements.namedItem("password").value }, { headers: SESSION_HEADER, token: "" });
      setSession(r.tokens);
      if (claims().kind && claims().kind !== "staff") {
        await logout("This console is for the shop's staff. Customers use the privacy centre.");
        return;
      }
      if (!r.second_factor_available) {
        await enrolTotp();
        return;
      }
      secondStep();
    }
  );
  show("Sign in", h("p", {}, "Staff sign in with their password and a code from their authenticator app."), f);
}
function secondStep() {
  const f = form(
    { "aria-label": "Second factor" },
    field("Code from your authenticator app", { name: "code", required: true, autocomplete: "one-time-code", inputmode: "numeric", maxlength: 32, spellcheck: false }, "Six digits, or one of your recovery codes."),
    "Confirm",
    async (fm) => {
      const code = value(fm, "code").replaceAll(" ", "");
      if (!code) throw new ApiError(400, "CODE_MISSING", "Enter the code from your authenticator app.");
      const body = /^[0-9]{6}$/.test(code) ? { totp_code: code } : { recovery_code: code };
      const r = await post("/v1/sessions:stepUp", body, { headers: SESSION_HEADER });
      setSession(r.tokens);
      status("");
      navigate(home());
    }
  );
  show("Confirm it is you", f);
}
async function enrolTotp() {
  const begin = await post("/v1/account/factors:beginTotp", {});
  const secret = new URL(begin.otpauth_uri).searchParams.get("secret") ?? "";
  const f = form(
    { "aria-label": "Confirm the authenticator app" },
    field("Code shown by the app", { name: "code", required: true, inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: 6 }),
    "Confirm",
    async (fm) => {
      const code = value(fm, "code").replaceAll(" ", "");
      if (!/^[0-9]{6}$/.test(code)) throw new ApiError(400, "CODE_MISSING", "Enter the six digits your authenticator app shows.");
      const c = await post("/v1/account/factors:confirmTotp", { factor_id: begin.factor_id, code });
      recoveryCodes(c.recovery_codes ?? []);
    }
  );
  show(
    "Set up your authenticator app",
    h("p", {}, "The console needs a second factor. Scan this QR code with your authenticator app, then type the code it shows."),
    h(
      "div",
      { class: "panel enrol" },
      qrImage(begin.qr_png, "QR code for your authenticator app"),
      h("p", {}, "Or type this key into the app: ", h("code", { class: "secret" }, secret.replace(/(.{4})/g, "$1 ").trim()))
    ),
    f
  );
  document.querySelector("#app input")?.focus();
}
function recoveryCodes(codes) {
  const done = h("button", { type: "button", on: { click: () => secondStep() } }, "I have saved them");
  const area = h(
    "section",
    { class: "panel", "aria-labelledby": "codes-title" },
    h("h2", { id: "codes-title" }, "Your recovery codes"),
    h("p", {}, "Each code works once, in place of your authenticator app. Keep them somewhere safe: they are not shown again."),
    h("ol", { class: "recovery-codes" }, codes.map((c) => h("li", {}, h("code", {}, c)))),
    h("div", { class: "actions" }, done)
  );
  show("Authenticator app added", area);
  status("Authenticator app added.");
  done.focus();
}
var roles = () => Array.isArray(claims().roles) ? claims().roles : [];
function home() {
  const r = roles();
  if (r.includes("support_agent")) return "inbox";
  if (r.includes("privacy_officer")) return "requests";
  return "audit";
}
async function logout(message2 = "You are signed out.") {
  try {
    await post("/v1/sessions:logout", {}, { headers: SESSION_HEADER });
  } catch {
  }
  clearSession();
  status(message2);
  navigate("login");
}

// src/console/inbox.js
var purposes = [
  ["order_support", "Order support"],
  ["delivery", "Delivery"]
];
var placeholderRE = /\[[A-Z_]{2,16}_[0-9]{1,5}\]/g;
async function inboxPage(id) {
  if (id) return conversationPage(id);
  stopFollowing();
  const r = await get(`/v1/conversations${query({ state: "STATE_WAITING_ON_AGENT", page_size: 100 })}`);
  const me = claims().sub;
  const convs = r.conversations ?? [];
  const mine = convs.filter((c) => c.agent_subject === me);
  const waiting = convs.filter((c) => !c.agent_subject);
  show(
    "Inbox",
    section("Your conversations", mine.length ? list(mine, false) : h("p", { class: "muted" }, "You have taken no conversation.")),
    section("Waiting for a person", waiting.length ? list(waiting, true) : h("p", { class: "muted" }, "No conversation is waiting.")),
    h("div", { class: "actions" }, button("Refresh", () => inboxPage(), { cls: "secondary" }))
  );
}
function list(convs, canTake) {
  return h("ul", { class: "rows conversations" }, convs.map((c) => h(
    "li",
    { class: "row conversation", "data-id": c.conversation_id },
    h(
      "div",
      {},
      h("a", { href: href("inbox", c.conversation_id), "data-nav": "inbox", "data-arg": c.conversation_id }, c.conversation_id),
      h("p", { class: "muted" }, enumLabel(c.channel, "CHAT_CHANNEL_"), " · ", enumLabel(c.hand_off_reason, "HAND_OFF_REASON_"), " · waiting since ", time(c.update_time))
    ),
    canTake ? button("Take over", () => takeOver(c.conversation_id)) : null
  )));
}
async function takeOver(id) {
  await post(`/v1/conversations/${encodeURIComponent(id)}:assign`, {});
  status("You have taken the conversation.");
  navigate("inbox", id);
}
var following = null;
function stopFollowing() {
  following?.abort();
  following = null;
}
async function conversationPage(id) {
  stopFollowing();
  const path = `/v1/conversations/${encodeURIComponent(id)}`;
  const [c, m] = await Promise.all([get(path), get(`${path}/messages${query({ page_size: 200 })}`)]);
  const conv = c.conversation ?? {};
  const mine = conv.agent_subject && conv.agent_subject === claims().sub;
  const log = h("ol", { class: "chat-log transcript", "aria-label": "Transcript", "aria-live": "polite" });
  const reveal = h("div", { id: "reveal" });
  const msgs = m.messages ?? [];
  for (const msg of msgs) log.append(message(id, msg, reveal));
  const reply = mine ? form(
    { "aria-label": "Reply" },
    field(
      "Your reply",
      { name: "text", type: "textarea", required: true, maxlength: 4096, rows: 3 },
      "Placeholders such as [EMAIL_1] are filled in for the customer; what you type is tokenised before it is stored."
    ),
    "Send",
    async (fm) => {
      const text = value(fm, "text");
      if (!text) return;
      await post(`${path}/agentReplies`, { text });
      status("Reply sent.");
      await conversationPage(id);
    }
  ) : h("div", { class: "actions" }, conv.state === "STATE_WAITING_ON_AGENT" && !conv.agent_subject ? button("Take over", () => takeOver(id)) : h("p", { class: "muted" }, "Another agent has this conversation."));
  show(
    "Conversation",
    h("p", {}, h("a", { href: href("inbox"), "data-nav": "inbox" }, "Back to the inbox")),
    h("p", { class: "muted" }, id, " · ", enumLabel(conv.channel, "CHAT_CHANNEL_"), " · ", enumLabel(conv.state, "STATE_")),
    h("p", {}, "Values the customer typed are shown as placeholders. Choose one to ask for it: the service decides, by its policy and your purpose, whether you see it, masked or not."),
    log,
    reveal,
    reply,
    h("div", { class: "actions" }, button("Refresh", () => conversationPage(id), { cls: "secondary" }))
  );
  if (conv.state !== "STATE_CLOSED") follow(id, msgs.at(-1)?.message_id, log, reveal);
}
async function follow(id, lastId, log, reveal) {
  const ctl = new AbortController();
  following = ctl;
  let last = lastId;
  let pause = 1e3;
  while (!ctl.signal.aborted) {
    try {
      last = await events(`/v1/conversations/${encodeURIComponent(id)}/events${query({ view: "MESSAGE_VIEW_PLACEHOLDERS" })}`, {
        lastEventId: last,
        signal: ctl.signal,
        onEvent: (ev) => {
          if (ev.event === "end") ctl.abort();
          if (ev.event !== "message") return;
          let msg;
          try {
            msg = JSON.parse(ev.data)?.message;
          } catch {
            return;
          }
          if (!msg?.message_id || log.querySelector(`li[data-id="${CSS.escape(msg.message_id)}"]`)) return;
          log.append(message(id, msg, reveal));
          log.lastElementChild.scrollIntoView({ block: "nearest" });
        }
      });
      pause = 1e3;
    } catch (err) {
      if (ctl.signal.aborted || err instanceof ApiError && [401, 403, 404].includes(err.status)) return;
    }
    if (ctl.signal.aborted) return;
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 3e4);
  }
}
function message(id, msg, revealBox) {
  const who = enumLabel(msg.author, "AUTHOR_");
  const parts = [];
  const text = String(msg.text ?? "");
  let last = 0;
  for (const m of text.matchAll(placeholderRE)) {
    parts.push(text.slice(last, m.index));
    const ph = m[0];
    parts.push(h("button", { type: "button", class: "placeholder", "aria-label": `Ask for ${ph}`, on: { click: () => revealForm(id, ph, revealBox) } }, ph));
    last = m.index + ph.length;
  }
  parts.push(text.slice(last));
  const cls = msg.author === "AUTHOR_CUSTOMER" ? "customer" : msg.author === "AUTHOR_AGENT" ? "agent" : "assistant";
  return h("li", { class: `msg ${cls}`, "data-id": msg.message_id }, h("span", { class: "who" }, who), parts);
}
function revealForm(id, ph, box) {
  const result = h("p", { class: "revealed", "aria-live": "polite" });
  const f = form(
    { "aria-label": `Reveal ${ph}` },
    field("Purpose", { name: "purpose", type: "select", options: purposes }, "Why you need it. Every request is recorded in the audit log."),
    `Reveal ${ph}`,
    async (fm) => {
      replace(result, "");
      const r = await post(`/v1/conversations/${encodeURIComponent(id)}:revealValue`, { placeholder: ph, purpose: value(fm, "purpose") });
      replace(result, h("span", { class: "muted" }, `${ph}: `), h("code", { class: "value" }, r.value ?? ""), r.masked ? " (masked by policy)" : "");
    },
    button("Close", () => replace(box), { cls: "secondary" })
  );
  replace(box, h("section", { class: "panel reveal" }, h("h2", {}, `Ask for ${ph}`), f, result));
  $("select", f)?.focus();
}

// src/console/requests.js
var openStates = ["REQUEST_STATE_RECEIVED", "REQUEST_STATE_VERIFYING", "REQUEST_STATE_IN_PROGRESS", "REQUEST_STATE_WAITING_ON_PARTICIPANT", "REQUEST_STATE_EXTENDED", "REQUEST_STATE_PAUSED"];
var closed = (r) => r.state === "REQUEST_STATE_COMPLETED" || r.state === "REQUEST_STATE_REJECTED";
var opt = (prefix, names) => names.map((n) => [`${prefix}${n}`, enumLabel(n, "")]);
var showClosed = false;
async function requestsPage(id) {
  if (id) return requestPage(id);
  const q = new URLSearchParams({ page_size: "100" });
  if (!showClosed) for (const s of openStates) q.append("states", s);
  const r = await get(`/v1/privacy/requests?${q}`);
  const reqs = r.requests ?? [];
  const rows2 = reqs.map((x) => h(
    "tr",
    { class: "request", "data-id": x.request_id },
    h("td", {}, h("a", { href: href("requests", x.request_id), "data-nav": "requests", "data-arg": x.request_id }, enumLabel(x.type, "REQUEST_TYPE_"))),
    h("td", {}, enumLabel(x.state, "REQUEST_STATE_")),
    h("td", {}, h("code", {}, x.subject?.subject ?? "")),
    h("td", { class: "due" }, time(x.deadlines?.due_time), " ", badge(x))
  ));
  show(
    "Requests",
    h("p", {}, showClosed ? "Every request, soonest due first." : "Open data-subject requests, soonest due first. Subjects are account ids, never names."),
    reqs.length ? h("div", { class: "table-wrap" }, h(
      "table",
      { class: "requests" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Request"), h("th", { scope: "col" }, "State"), h("th", { scope: "col" }, "Subject"), h("th", { scope: "col" }, "Due"))),
      h("tbody", {}, rows2)
    )) : h("p", { class: "muted" }, "No request."),
    section("File a request for a customer", fileForm()),
    h(
      "div",
      { class: "actions" },
      button(showClosed ? "Open requests only" : "Show closed requests too", () => {
        showClosed = !showClosed;
        return requestsPage();
      }, { cls: "secondary" }),
      button("Refresh", () => requestsPage(), { cls: "secondary" })
    )
  );
}
function fileForm() {
  return form(
    { "aria-label": "File a request" },
    [
      field("Right exercised", { name: "type", type: "select", options: opt("REQUEST_TYPE_", ["ACCESS", "ERASURE", "PORTABILITY", "RESTRICTION"]) }),
      field("Customer's account id", { name: "subject", required: true, maxlength: 64, spellcheck: false, autocomplete: "off" }, "Never a name or an e-mail address."),
      field("Shop", { name: "tenant", required: true, maxlength: 63, value: "default", spellcheck: false, autocomplete: "off" }, "The shop the customer's account belongs to."),
      field("Jurisdiction", { name: "jurisdiction", required: true, maxlength: 6, value: "DE", spellcheck: false, autocomplete: "off" }, "Decides the deadlines, e.g. DE, FR, US-CA.")
    ],
    "File request",
    async (f) => {
      const r = await post("/v1/privacy/requests", {
        type: value(f, "type"),
        subject: value(f, "subject"),
        tenant: value(f, "tenant"),
        jurisdiction: value(f, "jurisdiction"),
        request_key: requestKey("console")
      });
      status("The request is recorded; verify the customer's identity to start it.");
      navigate("requests", r.request?.request_id);
    }
  );
}
function badge(r) {
  if (closed(r)) return null;
  if (r.deadlines?.overdue) return h("strong", { class: "badge overdue" }, "Overdue");
  if (r.deadlines?.due_soon) return h("strong", { class: "badge due-soon" }, "Due soon");
  return null;
}
async function requestPage(id) {
  const path = `/v1/privacy/requests/${encodeURIComponent(id)}`;
  const { request: r = {} } = await get(path);
  const d = r.deadlines ?? {};
  const act = (verb, body, done) => async () => {
    await post(`${path}:${verb}`, body);
    status(done);
    await requestPage(id);
  };
  const actions = [];
  if (r.state === "REQUEST_STATE_VERIFYING") {
    actions.push(form(
      { "aria-label": "Verify the subject" },
      field("How the subject's identity was verified", { name: "method", type: "select", options: opt("VERIFICATION_METHOD_", ["DOCUMENTS_CHECKED", "AUTHORISED_AGENT", "ACCOUNT_EMAIL"]) }),
      "Record verification",
      (f) => act("verify", { method: value(f, "method") }, "Verification recorded; the request is being carried out.")()
    ));
  }
  if (!closed(r) && !d.extension_reason) {
    actions.push(form(
      { "aria-label": "Extend the deadline" },
      field(
        "Reason for the extension",
        { name: "reason", type: "select", options: opt("EXTENSION_REASON_", ["COMPLEXITY", "NUMBER_OF_REQUESTS", "REASONABLY_NECESSARY"]) },
        d.max_extended_due_time ? `The law allows one extension, to ${new Date(d.max_extended_due_time).toLocaleDateString()} at the latest; the subject is told why.` : "The law allows one extension; the subject is told why."
      ),
      "Extend deadline",
      (f) => act("extend", { reason: value(f, "reason") }, "The deadline is extended.")()
    ));
  }
  if (r.state === "REQUEST_STATE_PAUSED") actions.push(h("div", { class: "actions" }, button("Resume", act("resume", {}, "The clock runs again."))));
  else if (!closed(r)) {
    actions.push(form(
      { "aria-label": "Pause the request" },
      field("Why the clock stops", { name: "reason", type: "select", options: opt("PAUSE_REASON_", ["CLARIFICATION_REQUESTED", "IDENTITY_INFORMATION_REQUESTED"]) }),
      "Pause",
      (f) => act("pause", { reason: value(f, "reason") }, "The request is paused.")()
    ));
  }
  if (r.state === "REQUEST_STATE_WAITING_ON_PARTICIPANT") actions.push(h("div", { class: "actions" }, button("Retry the participants", act("retry", {}, "Retrying."))));
  if (!closed(r)) {
    actions.push(form(
      { "aria-label": "Reject the request" },
      field("Reason for rejecting", { name: "reason", type: "select", options: opt("REJECTION_REASON_", ["IDENTITY_NOT_VERIFIED", "MANIFESTLY_UNFOUNDED", "EXEMPTION_APPLIES", "WITHDRAWN_BY_SUBJECT"]) }),
      "Reject",
      (f) => act("reject", { reason: value(f, "reason") }, "The request is rejected.")()
    ));
  }
  show(
    `${enumLabel(r.type, "REQUEST_TYPE_")} request`,
    h("p", {}, h("a", { href: href("requests"), "data-nav": "requests" }, "Back to the queue")),
    section("Request", definitions([
      ["State", h("span", { class: "state" }, enumLabel(r.state, "REQUEST_STATE_"))],
      ["Subject", h("code", {}, r.subject?.subject ?? "")],
      ["Jurisdiction", `${r.jurisdiction ?? ""} (${enumLabel(d.regime, "REGIME_").toUpperCase()})`],
      ["Received", time(r.receive_time)],
      ["Due", h("span", { class: "due" }, time(d.due_time), " ", badge(r))],
      ["First deadline", time(d.original_due_time)],
      ["Extended", d.extension_reason ? enumLabel(d.extension_reason, "EXTENSION_REASON_") : "No"],
      ["Verified by", enumLabel(r.verification_method, "VERIFICATION_METHOD_") || "—"],
      ["Closed", time(r.close_time)]
    ])),
    actions.length ? section("Actions", actions) : null,
    section("Participants", steps(r.steps ?? [])),
    section("History", h("ol", { class: "history" }, (r.history ?? []).map((t) => h(
      "li",
      {},
      time(t.time),
      " ",
      enumLabel(t.to, "REQUEST_STATE_"),
      ` by ${t.actor || "system"}`,
      t.reason ? ` (${t.reason})` : ""
    ))))
  );
}
function steps(list2) {
  if (!list2.length) return h("p", { class: "muted" }, "No participant has been called yet.");
  return h("ul", { class: "rows steps" }, list2.map((s) => {
    const e = s.evidence;
    return h(
      "li",
      { class: "row step", "data-participant": s.participant },
      h(
        "div",
        {},
        h("h3", {}, `${s.participant} · ${enumLabel(s.operation, "OPERATION_")}`),
        h("p", {}, enumLabel(s.state, "STEP_STATE_"), ` after ${s.attempts ?? 0} attempt(s)`, s.last_error_reason ? ` · last error ${s.last_error_reason}` : ""),
        e ? evidence(e, s.done_time) : null
      )
    );
  }));
}
function evidence(e, stepDone) {
  const pairs = [["Outcome", enumLabel(e.outcome, "OUTCOME_")], ["Done", time(e.done_time ?? stepDone)]];
  for (const [k, v] of Object.entries(e.counts ?? {}).sort()) pairs.push([k.replaceAll("_", " "), String(v)]);
  if (e.destroyed_key_ids?.length) pairs.push(["Keys destroyed", e.destroyed_key_ids.join(", ")]);
  for (const r of e.retained ?? []) pairs.push([`Kept: ${r.category}`, `${r.count ?? 0} (${r.reason}; ${r.basis})`]);
  for (const [k, v] of Object.entries(e.details ?? {}).sort()) pairs.push([k.replaceAll("_", " "), String(v)]);
  if (e.already_done) pairs.push(["Note", "Already done by an earlier request"]);
  return h("div", { class: "evidence" }, h("h4", {}, "Evidence"), definitions(pairs));
}

// src/console/signals.js
async function signalsPage() {
  const r = await get(`/v1/conversation-signals${query({ page_size: 100 })}`);
  const all = r.signals ?? [];
  const open = all.filter((s) => !s.clear_time);
  const cleared = all.filter((s) => s.clear_time);
  show(
    "Signals",
    h("p", {}, "Signs of abuse the service noticed and the action it took. Clear a signal once you have looked at it; its action stops."),
    section("Open", open.length ? rows(open, true) : h("p", { class: "muted" }, "No open signal.")),
    cleared.length ? section("Cleared", rows(cleared, false)) : null,
    h("div", { class: "actions" }, button("Refresh", () => signalsPage(), { cls: "secondary" }))
  );
}
function rows(list2, canClear) {
  return h("ul", { class: "rows signals" }, list2.map((s) => h(
    "li",
    { class: "row signal", "data-id": s.signal_id },
    h(
      "div",
      {},
      h("h3", {}, enumLabel(s.kind, "SIGNAL_KIND_")),
      h(
        "p",
        {},
        `${enumLabel(s.action, "SIGNAL_ACTION_")} · ${enumLabel(s.scope, "SIGNAL_SCOPE_")} · seen ${s.count ?? 0} time(s) · since `,
        time(s.create_time),
        s.clear_time ? [" · cleared ", time(s.clear_time)] : [" · until ", time(s.expire_time)]
      ),
      s.conversation_id ? h("p", {}, h("a", { href: href("inbox", s.conversation_id), "data-nav": "inbox", "data-arg": s.conversation_id }, s.conversation_id)) : null
    ),
    canClear ? button("Clear", async () => {
      await post(`/v1/conversation-signals/${encodeURIComponent(s.signal_id)}:clear`, {});
      status("Signal cleared.");
      await signalsPage();
    }) : null
  )));
}

// src/console/main.js
var pages = {
  login: { title: "Sign in", render: loginPage },
  inbox: { title: "Inbox", render: inboxPage, roles: ["support_agent"] },
  requests: { title: "Requests", render: requestsPage, roles: ["privacy_officer"] },
  audit: { title: "Audit log", render: auditPage, roles: ["privacy_officer", "admin"] },
  signals: { title: "Signals", render: signalsPage, roles: ["support_agent", "admin"] }
};
var allowed = (name) => !pages[name].roles || pages[name].roles.some((r) => roles().includes(r));
function here() {
  const [name = "", arg = ""] = location.pathname.replace(/^\/console\/?/, "").split("/");
  return { name, arg: decodeURIComponent(arg) };
}
function renderNav() {
  const signedIn = Boolean(accessToken());
  const { name: cur } = here();
  const items = signedIn ? Object.entries(pages).filter(([n, p]) => p.roles && allowed(n)).map(([n, p]) => h("li", {}, h("a", { href: href(n), "data-nav": n, "aria-current": n === cur ? "page" : void 0 }, p.title))) : [];
  if (signedIn) items.push(h("li", {}, h("button", { type: "button", class: "link", on: { click: () => logout() } }, "Sign out")));
  replace($("#nav"), items);
}
async function render() {
  let { name, arg } = here();
  if (!accessToken()) {
    name = "login";
    arg = "";
  } else if (!pages[name] || name === "login" || !allowed(name)) {
    name = home();
    arg = "";
  }
  const path = href(name, arg);
  if (location.pathname !== path) history.replaceState(null, "", path);
  renderNav();
  if (name !== "inbox") stopFollowing();
  try {
    await pages[name].render(arg);
  } catch (err) {
    showError($("#error"), err);
  }
}
setNavigator((name, arg) => {
  history.pushState(null, "", href(name, arg));
  render();
});
document.addEventListener("click", (e) => {
  const a = e.target.closest?.("a[data-nav]");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  status("");
  history.pushState(null, "", href(a.dataset.nav, a.dataset.arg));
  render();
});
window.addEventListener("popstate", () => render());
onSessionChange(() => renderNav());
await refreshSession();
render();
