// Building the page from data without markup: every string becomes a text
// node or an attribute value, never HTML. The pages run under a CSP with
// require-trusted-types-for 'script' and no policy, so innerHTML and the
// like throw anyway; these helpers are the way round it. See
// docs/adr/0016-web-front.md.

// Attributes h may set. Event handlers are functions passed as on: {...},
// never attribute strings; href and src are checked by safeURL.
const allowedAttrs = new Set([
  'id', 'class', 'type', 'name', 'value', 'placeholder', 'for', 'role', 'title', 'lang', 'dir',
  'autocomplete', 'inputmode', 'enterkeyhint', 'maxlength', 'minlength', 'pattern', 'rows', 'cols',
  'tabindex', 'hidden', 'disabled', 'required', 'checked', 'readonly', 'multiple', 'selected', 'open',
  'href', 'src', 'alt', 'target', 'rel', 'download', 'datetime', 'width', 'height', 'min', 'max', 'step',
  'spellcheck', 'form', 'colspan', 'rowspan', 'scope', 'method', 'action', 'novalidate', 'autofocus',
]);

// safeURL keeps same-origin paths and https/blob links only (no javascript:
// or data: URLs from data).
export function safeURL(u) {
  const s = String(u);
  if (s.startsWith('/') && !s.startsWith('//')) return s;
  try {
    const url = new URL(s, location.href);
    if (url.protocol === 'https:' || url.protocol === 'blob:' || url.origin === location.origin) return url.href;
  } catch {
    // fall through
  }
  return '#';
}

// h builds an element: h('p', {class: 'x'}, 'text', child, ...). Attributes
// named aria-* and data-* are allowed too; on: {click: f} adds listeners.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'on') {
      for (const [ev, f] of Object.entries(v)) el.addEventListener(ev, f);
      continue;
    }
    if (!(allowedAttrs.has(k) || k.startsWith('aria-') || k.startsWith('data-'))) {
      throw new Error(`h: attribute ${k} is not allowed`);
    }
    const val = v === true ? '' : k === 'href' || k === 'src' || k === 'action' ? safeURL(v) : String(v);
    el.setAttribute(k, val);
  }
  append(el, ...children);
  return el;
}

// append adds children: strings as text nodes, nodes as they are, arrays
// flattened, null/undefined/false skipped.
export function append(el, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// replace empties el and adds children.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, ...children);
}

export const $ = (sel, root = document) => root.querySelector(sel);

// showError puts an error's text (ApiError.text, or a message) in the
// element, which should be a role="alert" region so screen readers say it.
export function showError(el, err) {
  const text = err?.text ?? err?.message ?? String(err ?? '');
  replace(el, text);
  el.hidden = !text;
}

// announce sets a polite live region's text (status for screen readers).
export function announce(el, text) {
  replace(el, text);
}

// busy disables a form's controls while f runs, shows a failure in the
// form's [role=alert] element, and returns f's result (undefined on error).
export async function busy(form, f) {
  const controls = [...form.querySelectorAll('button, input, select, textarea')];
  const alert = form.querySelector('[role=alert]');
  const was = controls.map((c) => c.disabled);
  controls.forEach((c) => (c.disabled = true));
  form.setAttribute('aria-busy', 'true');
  if (alert) showError(alert, '');
  try {
    return await f();
  } catch (err) {
    if (alert) showError(alert, err);
    else throw err;
    return undefined;
  } finally {
    controls.forEach((c, i) => (c.disabled = was[i]));
    form.removeAttribute('aria-busy');
  }
}

// field is a labelled input: a <label> tied to the control by id, with an
// optional hint tied by aria-describedby.
let fieldSeq = 0;
export function field(label, attrs = {}, hint = '') {
  const id = attrs.id ?? `f${++fieldSeq}`;
  const hintId = hint ? `${id}-hint` : undefined;
  const tag = attrs.type === 'textarea' ? 'textarea' : attrs.type === 'select' ? 'select' : 'input';
  const { options = [], ...rest } = attrs;
  if (tag !== 'input') delete rest.type;
  const control = h(tag, { ...rest, id, 'aria-describedby': hintId }, ...options.map(([v, t]) => h('option', { value: v }, t)));
  return h('div', { class: 'field' }, h('label', { for: id }, label), hint ? h('p', { class: 'hint', id: hintId }, hint) : null, control);
}
