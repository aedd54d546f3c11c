// Consents per purpose: what each purpose is, its legal basis, the
// customer's decision, the notice text they agree to when they grant (the
// latest version of a notice asking for the purpose, from ListNotices), and
// the signed receipt of each decision (a JWS, downloaded as a file and
// checkable offline with `sotto consent verify-receipt`).
import { get, post } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { requestKey, saveFile, section, show, status, time } from './ui.js';

const bases = {
  LEGAL_BASIS_CONSENT: 'Your consent',
  LEGAL_BASIS_CONTRACT: 'Needed for your orders (contract)',
  LEGAL_BASIS_LEGITIMATE_INTEREST: "The shop's legitimate interest (you may object)",
  LEGAL_BASIS_LEGAL_OBLIGATION: 'Required by law',
};

// Purposes a customer can decide about.
const choosable = (basis) => basis === 'LEGAL_BASIS_CONSENT' || basis === 'LEGAL_BASIS_LEGITIMATE_INTEREST';

export async function consentsPage() {
  const [r, notices] = await Promise.all([get('/v1/consent/consents'), listNotices()]);
  const states = r.consents ?? [];
  const open = states.filter((s) => choosable(s.purpose?.legal_basis));
  const fixed = states.filter((s) => !choosable(s.purpose?.legal_basis));
  show('Consents',
    h('p', {}, 'Choose what the shop may use your data for. You can change your mind at any time; each decision gets a signed receipt.'),
    h('div', { class: 'consents' }, open.map((s) => card(s, noticeFor(s.purpose.purpose_id, notices)))),
    section('Always in use', h('p', {}, 'These do not rest on your consent. You can still ask for your data to be erased or restricted under Requests.'),
      h('ul', {}, fixed.map((s) => h('li', {}, h('strong', {}, s.purpose.display_name), ' — ', s.purpose.description, ' ', h('span', { class: 'muted' }, `(${bases[s.purpose.legal_basis] ?? ''})`))))));
}

// listNotices reads every notice at its latest version (ListNotices, page
// by page): the text a grant made here is a grant of.
async function listNotices() {
  const out = [];
  let token = '';
  do {
    const q = new URLSearchParams({ page_size: '100' });
    if (token) q.set('page_token', token);
    const r = await get(`/v1/consent/notices?${q}`);
    out.push(...(r.notices ?? []));
    token = r.next_page_token ?? '';
  } while (token);
  return out;
}

// noticeFor picks the notice shown for a purpose: the one named after it,
// else the first (by id) that asks for it.
function noticeFor(purposeID, notices) {
  const asking = notices.filter((n) => (n.purpose_ids ?? []).includes(purposeID));
  return asking.find((n) => n.notice_id === purposeID) ?? asking[0] ?? null;
}

// textFor picks the notice text in the reader's language, else English,
// else the first.
function textFor(notice) {
  const texts = notice?.texts ?? [];
  const want = (navigator.language || 'en').toLowerCase();
  return texts.find((t) => t.language.toLowerCase() === want) ?? texts.find((t) => want.startsWith(t.language.toLowerCase())) ??
    texts.find((t) => t.language === 'en') ?? texts[0];
}

function card(s, notice) {
  const p = s.purpose;
  const text = textFor(notice);
  const allowed = Boolean(s.check?.allowed);
  const id = `purpose-${p.purpose_id}`;
  const alert = h('p', { role: 'alert' });
  const stateLine = h('p', { class: `consent-state ${allowed ? 'ok' : 'muted'}` }, allowed ? 'Allowed' : 'Not allowed',
    s.latest_record ? [' since ', time(s.latest_record.record_time)] : null);
  const receipt = s.latest_record?.receipt_id
    ? h('button', { type: 'button', class: 'secondary', on: { click: () => download(s.latest_record.receipt_id, alert) } }, 'Download receipt')
    : null;
  let action;
  if (allowed) {
    action = h('button', { type: 'button', class: 'danger', on: { click: () => decide(p, 'withdraw', null, alert) } },
      p.legal_basis === 'LEGAL_BASIS_CONSENT' ? 'Withdraw consent' : 'Object');
  } else if (text) {
    // The grant names exactly the version and text on the screen; the
    // service refuses it if that text is not the version's.
    action = h('button', { type: 'button', on: { click: () => decide(p, 'grant', { notice_id: notice.notice_id, version: Number(notice.version), language: text.language, text_sha256: text.text_sha256 }, alert) } },
      p.legal_basis === 'LEGAL_BASIS_CONSENT' ? 'Give consent' : 'Allow again');
  }
  const noticeBlock = text
    ? [h('blockquote', { class: 'notice-text', lang: text.language }, text.text),
      h('p', { class: 'muted notice-version' }, `Notice “${notice.notice_id}”, version ${notice.version}`, notice.create_time ? [', published ', time(notice.create_time, false)] : null)]
    : h('p', { class: 'muted' }, 'No notice is published for this purpose, so it cannot be granted here.');
  return h('section', { class: 'panel consent', 'aria-labelledby': id, 'data-purpose': p.purpose_id, 'data-notice': text ? `${notice.notice_id}/${notice.version}` : null },
    h('h2', { id }, p.display_name),
    h('p', {}, p.description),
    h('p', { class: 'muted' }, 'Legal basis: ', bases[p.legal_basis] ?? p.legal_basis, p.retention_days ? `. Kept for ${p.retention_days} days.` : '.'),
    noticeBlock,
    stateLine,
    h('div', { class: 'actions' }, action, receipt),
    alert);
}

async function decide(p, verb, notice, alert) {
  alert.textContent = '';
  try {
    const body = { channel: 'CHANNEL_WEB', request_id: requestKey(verb) };
    if (notice) body.notice = notice;
    const r = await post(`/v1/consent/purposes/${encodeURIComponent(p.purpose_id)}:${verb}`, body);
    await consentsPage();
    status(`${p.display_name}: ${verb === 'grant' ? 'allowed' : 'withdrawn'}. Receipt ${r.receipt?.receipt_id ?? ''} is ready to download.`);
  } catch (err) {
    alert.textContent = err?.text ?? err?.message ?? String(err);
  }
}

async function download(receiptID, alert) {
  alert.textContent = '';
  try {
    const r = await get(`/v1/consent/receipts/${encodeURIComponent(receiptID)}`);
    saveFile(`consent-receipt-${receiptID}.jws`, new Blob([r.receipt.jws], { type: 'application/jose' }));
    status('Receipt downloaded.');
  } catch (err) {
    alert.textContent = err?.text ?? err?.message ?? String(err);
  }
}
