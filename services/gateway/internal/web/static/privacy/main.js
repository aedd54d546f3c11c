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

// src/privacy/main.js
replace($("#app"), h("p", {}, "The privacy centre is being built."));
