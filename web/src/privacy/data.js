// "Your data": the account as identity describes it (the e-mail address
// masked) and the personal data the shop's assistant took from the
// customer's chats, one row per value, as the token vault lets the
// customer see it (contact details and names in full, card numbers and
// other sensitive values masked). One masked value at a time can be shown
// in full after a step-up (conversation's RevealValue, purpose
// self_service, audited by the vault).
import { get, post, query } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { align, kindOf, placeholdersOf } from './align.js';
import { withStepUp } from './stepup.js';
import { definitions, section, show, time } from './ui.js';

const kinds = {
  PERSON: 'Name', EMAIL: 'E-mail address', PHONE: 'Phone number', CARD: 'Card number', IBAN: 'Bank account (IBAN)',
  ADDRESS: 'Postal address', IP: 'IP address', NATIONAL_ID: 'National ID number', DATE_OF_BIRTH: 'Date of birth', SECRET: 'Secret',
};

// A masked view hides characters behind bullets ("•••• 4242").
const isMasked = (v) => v.includes('•');

// The one value shown in full, so that revealing another hides it again.
let revealed = null;

export async function dataPage() {
  const [acc, convs] = await Promise.all([get('/v1/account'), get(`/v1/conversations${query({ page_size: 20 })}`)]);
  const a = acc.account ?? {};
  const account = section('Your account', definitions([
    ['E-mail address', h('span', { class: 'masked' }, a.email_masked || '—')],
    ['Confirmed', a.email_verified ? 'Yes' : 'Not yet'],
    ['Customer since', time(a.create_time, false)],
    ['Account id', h('code', {}, a.account_id ?? '')],
  ]));
  const chats = section('From your chats', h('p', {}, 'What the assistant stored as placeholders, and what it stands for. Sensitive values stay masked until you confirm it is you.'));
  show('Your data', account, chats);
  const list = convs.conversations ?? [];
  if (list.length === 0) {
    chats.append(h('p', { class: 'muted' }, 'You have no chats yet.'));
    return;
  }
  const rows = (await Promise.all(list.map(valuesOf))).flat();
  if (rows.length === 0) {
    chats.append(h('p', { class: 'muted' }, 'Your chats hold no personal data.'));
    return;
  }
  chats.append(h('ul', { class: 'values', 'aria-label': 'Values from your chats' }, rows.map(row)));
}

// valuesOf is one conversation's values: its messages as stored and as
// shown to the customer, paired placeholder by placeholder.
async function valuesOf(conv) {
  const base = `/v1/conversations/${encodeURIComponent(conv.conversation_id)}/messages`;
  const [stored, shown] = await Promise.all([
    get(base + query({ view: 'MESSAGE_VIEW_PLACEHOLDERS', page_size: 200 })),
    get(base + query({ view: 'MESSAGE_VIEW_REIDENTIFIED', page_size: 200 })),
  ]);
  const shownByID = new Map((shown.messages ?? []).map((m) => [m.message_id, m]));
  const values = new Map();
  for (const m of stored.messages ?? []) {
    const s = shownByID.get(m.message_id);
    const pairs = s && s.view === 'MESSAGE_VIEW_REIDENTIFIED' ? align(m.text, s.text) : new Map();
    for (const p of placeholdersOf(m.text)) {
      if (!values.has(p) || (!values.get(p).shown && pairs.get(p))) values.set(p, { conv, placeholder: p, shown: pairs.get(p) ?? '', time: m.create_time });
    }
  }
  return [...values.values()];
}

function row(v) {
  const label = kinds[kindOf(v.placeholder)] ?? kindOf(v.placeholder);
  const out = h('output', { class: 'value', 'aria-live': 'polite' }, v.shown || 'Hidden');
  const masked = !v.shown || isMasked(v.shown);
  const alert = h('p', { role: 'alert' });
  const button = masked ? h('button', { type: 'button', class: 'secondary', 'aria-label': `Show ${label.toLowerCase()} in full` }, 'Show') : null;
  const item = h('li', { class: 'value-row' },
    h('div', {}, h('strong', {}, label), ' ', h('span', { class: 'muted' }, 'in a chat of ', time(v.time))),
    out, button, alert);
  const hide = () => {
    replace(out, v.shown || 'Hidden');
    if (button) replace(button, 'Show');
    if (revealed?.hide === hide) revealed = null;
  };
  button?.addEventListener('click', async () => {
    if (revealed?.hide === hide) return hide();
    alert.textContent = '';
    button.disabled = true;
    try {
      const r = await withStepUp(() =>
        post(`/v1/conversations/${encodeURIComponent(v.conv.conversation_id)}:revealValue`, { placeholder: v.placeholder, purpose: 'self_service' }));
      revealed?.hide();
      replace(out, r.value ?? '');
      if (!r.masked) {
        replace(button, 'Hide');
        revealed = { hide };
      }
    } catch (err) {
      alert.textContent = err?.text ?? err?.message ?? String(err);
    } finally {
      button.disabled = false;
    }
  });
  return item;
}
