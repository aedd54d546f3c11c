// What the customer sees instead of placeholders. The conversation service
// stores and streams messages with personal data replaced by typed
// placeholders ("[EMAIL_1]", ADR 0014). A signed-in customer asks for the
// re-identified view and gets their values from the server; an anonymous
// visitor may not (whoever holds a visitor token could be anyone), so the
// widget learns the values from what the visitor typed in this very page:
// the stored text of their own message, aligned with what they typed, says
// which value each placeholder stands for. The values stay in this page's
// memory only. A placeholder the widget cannot fill (after a reload, or an
// alignment that is not certain) reads as a plain description ("your
// e-mail address"), never as the raw placeholder.

// The pkg/pii entity types and the literal marker, as placeholders spell
// them.
const TYPES = ['PERSON', 'EMAIL', 'PHONE', 'CARD', 'IBAN', 'ADDRESS', 'IP', 'NATIONAL_ID', 'DATE_OF_BIRTH', 'SECRET', 'LITERAL'];
const PLACEHOLDER = new RegExp(`\\[(${TYPES.join('|')})_([1-9][0-9]{0,5})\\]`, 'g');

export const LABELS = {
  PERSON: 'a name',
  EMAIL: 'your e-mail address',
  PHONE: 'your phone number',
  CARD: 'your card',
  IBAN: 'your bank account',
  ADDRESS: 'your address',
  IP: 'an IP address',
  NATIONAL_ID: 'your ID number',
  DATE_OF_BIRTH: 'your date of birth',
  SECRET: 'a secret',
  LITERAL: 'your text',
};

// split cuts a stored text into literal strings and placeholders:
// [{text}|{placeholder, type}].
export function split(text) {
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

// learn aligns what the customer typed with the text as stored and adds
// each placeholder's value to known (a Map). It learns nothing unless the
// whole text aligns one way only: the literal pieces in order, some literal
// text between two placeholders, and the shortest and the longest matches
// agreeing on every value.
export function learn(typed, stored, known) {
  const parts = split(stored);
  const holders = [];
  let lazy = '^';
  let greedy = '^';
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.text !== undefined) {
      const lit = p.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      lazy += lit;
      greedy += lit;
      continue;
    }
    if (parts[i - 1]?.placeholder) return false; // adjacent: where one ends is a guess
    holders.push(p.placeholder);
    lazy += '(.+?)';
    greedy += '(.+)';
  }
  if (holders.length === 0) return false;
  const a = new RegExp(`${lazy}$`, 's').exec(typed);
  const b = new RegExp(`${greedy}$`, 's').exec(typed);
  if (!a || !b || a.some((v, i) => v !== b[i])) return false;
  const seen = new Map();
  for (let i = 0; i < holders.length; i++) {
    const v = a[i + 1];
    // The same placeholder twice must stand for the same value.
    if (!v.trim() || (seen.has(holders[i]) && seen.get(holders[i]) !== v)) return false;
    seen.set(holders[i], v);
  }
  for (const [k, v] of seen) if (!known.has(k)) known.set(k, v);
  return true;
}

// render returns DOM nodes for a stored text: literal text as text,
// each placeholder as the known value (marked) or a description.
export function render(text, known, labels = LABELS) {
  return split(text).map((p) => {
    if (p.text !== undefined) return document.createTextNode(p.text);
    const span = document.createElement('span');
    const value = known.get(p.placeholder);
    if (value !== undefined) {
      span.className = 'pii';
      span.textContent = value;
    } else {
      span.className = 'pii unknown';
      span.textContent = labels[p.type] ?? LABELS[p.type] ?? 'a detail you gave';
    }
    return span;
  });
}

// hasPlaceholder reports whether text still holds a placeholder.
export function hasPlaceholder(text) {
  PLACEHOLDER.lastIndex = 0;
  return new RegExp(PLACEHOLDER.source).test(text);
}
