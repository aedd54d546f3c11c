// The privacy centre's page furniture: a page's heading and body, forms
// with their alert region, labels for the API's enum values and dates.
// Everything is built with ../lib/dom.js (text, never markup).
import { $, append, busy, h, replace } from '../lib/dom.js';

// show makes the page's title and content; focus moves to the heading so
// that a screen reader announces the new page and the keyboard starts there.
export function show(title, ...content) {
  replace($('#title'), title);
  document.title = `${title} · Privacy centre`;
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
// busy; a failure lands in its role=alert paragraph. Extra buttons may be
// passed after the submit label.
export function form(attrs, children, submitLabel, onSubmit, ...extra) {
  const alert = h('p', { role: 'alert', class: 'form-error' });
  const f = h('form', { novalidate: true, ...attrs }, children, alert, h('div', { class: 'actions' }, h('button', { type: 'submit' }, submitLabel), extra));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(f, () => onSubmit(f));
  });
  return f;
}

// value of a named control of a form.
export const value = (f, name) => (f.elements.namedItem(name)?.value ?? '').trim();

// enumLabel turns "REQUEST_STATE_IN_PROGRESS" into "In progress".
export function enumLabel(v, prefix) {
  const s = String(v ?? '').replace(prefix, '').toLowerCase().replaceAll('_', ' ');
  return s ? s[0].toUpperCase() + s.slice(1) : '';
}

// when is a timestamp for people, in their locale ("" for none).
export function when(ts, withTime = true) {
  if (!ts) return '';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return '';
  return withTime ? d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : d.toLocaleDateString(undefined, { dateStyle: 'long' });
}

// time is a <time> element for a timestamp.
export const time = (ts, withTime = true) => (ts ? h('time', { datetime: ts }, when(ts, withTime)) : '—');

// requestKey is a fresh idempotency key for one user action.
export function requestKey(prefix) {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return `${prefix}-${[...b].map((x) => x.toString(16).padStart(2, '0')).join('')}`;
}

// section is a panel with a heading.
export function section(title, ...children) {
  return h('section', { class: 'panel' }, h('h2', {}, title), children);
}

// definitions is a <dl> of [term, description] pairs.
export function definitions(pairs) {
  const dl = h('dl', { class: 'facts' });
  for (const [k, v] of pairs) append(dl, h('dt', {}, k), h('dd', {}, v));
  return dl;
}

// saveFile offers bytes to the browser as a download (a blob: link that
// is clicked and revoked), so that nothing goes through a URL with data.
export function saveFile(name, blob) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
