// The console's page furniture: a page's heading and body, forms with their
// alert region, labels for the API's enum values and dates. Everything is
// built with ../lib/dom.js (text, never markup).
import { $, append, busy, h, replace } from '../lib/dom.js';

// show makes the page's title and content; focus moves to the heading so
// that a screen reader announces the new page and the keyboard starts there.
export function show(title, ...content) {
  replace($('#title'), title);
  document.title = `${title} · Staff console`;
  replace($('#app'), ...content);
  replace($('#error'), '');
  $('#title').setAttribute('tabindex', '-1');
  $('#title').focus({ preventScroll: false });
}

// status says something politely (role=status).
export function status(text) {
  replace($('#status'), text);
}

// form builds a form whose submit runs onSubmit(form) while the form is
// busy; a failure lands in its role=alert paragraph.
export function form(attrs, children, submitLabel, onSubmit, ...extra) {
  const alert = h('p', { role: 'alert', class: 'form-error' });
  const f = h('form', { novalidate: true, ...attrs }, children, alert, h('div', { class: 'actions' }, h('button', { type: 'submit' }, submitLabel), extra));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(f, () => onSubmit(f));
  });
  return f;
}

export const value = (f, name) => (f.elements.namedItem(name)?.value ?? '').trim();

// enumLabel turns "REQUEST_STATE_IN_PROGRESS" into "In progress".
export function enumLabel(v, prefix) {
  const s = String(v ?? '').replace(prefix, '').toLowerCase().replaceAll('_', ' ');
  return s ? s[0].toUpperCase() + s.slice(1) : '';
}

export function when(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export const time = (ts) => (ts ? h('time', { datetime: ts }, when(ts)) : '—');

// requestKey is a fresh idempotency key for one action.
export function requestKey(prefix) {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return `${prefix}-${[...b].map((x) => x.toString(16).padStart(2, '0')).join('')}`;
}

export function section(title, ...children) {
  return h('section', { class: 'panel' }, h('h2', {}, title), children);
}

export function definitions(pairs) {
  const dl = h('dl', { class: 'facts' });
  for (const [k, v] of pairs) append(dl, h('dt', {}, k), h('dd', {}, v));
  return dl;
}

// button is a plain button running f while it is disabled; a failure goes
// to the alert element given (or the page's).
export function button(label, f, { cls, alert, attrs = {} } = {}) {
  const b = h('button', { type: 'button', class: cls, ...attrs }, label);
  b.addEventListener('click', async () => {
    const target = alert ?? $('#error');
    replace(target, '');
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

// Navigation within the console, set by main.js.
let go = () => {};
export function setNavigator(f) {
  go = f;
}
export const navigate = (page, arg) => go(page, arg);
export const href = (page, arg) => `/console/${page}${arg ? `/${encodeURIComponent(arg)}` : ''}`;
