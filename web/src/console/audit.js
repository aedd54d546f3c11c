// The audit viewer. Nothing the service says is shown as checked until the
// browser has checked it:
//  1. the latest checkpoint's signature, with WebCrypto Ed25519, against
//     the log's verifier key the staff member pinned in this browser. The
//     key comes out of band (the operator's copy, as `sotto audit verify
//     --verifier-key` takes it; `sotto dev up` writes it to its state); the
//     key the service advertises is shown only to be compared, because
//     whoever can rewrite the log can rewrite that answer too;
//  2. that the log is consistent with the checkpoint this browser verified
//     last time (RFC 9162 consistency proof), remembered in localStorage as
//     its size and root hash only (no personal data, no search);
//  3. for every entry a search finds: its leaf bytes are fetched, hashed
//     here (RFC 6962 leaf hash), decoded here (what is shown is what was
//     hashed), and proved included in the signed tree (RFC 9162 inclusion
//     proof). An entry whose position is beyond the signed tree is
//     re-checked against a fresh checkpoint (verified as in 1 and 2); if it
//     is still beyond, it FAILS unless it is within NEW_WINDOW of the
//     signed size, when it shows as not yet signed, without the content the
//     service claims for it. A position is only the service's word until a
//     proof covers it: trusting it let a forged entry moved past the tree
//     pass with no proof asked for.
// Any failure shows as FAILED, with the reason, and is never remembered.
// The summary says Verified only when every entry was proved.
//
// A search cannot prove it is complete: a row deleted from the database is
// simply not found (see docs/adr/0016-web-front.md, Staff console).
//
// What this does not defend against: the page's own script comes from the
// gateway; a gateway that is taken over can serve a viewer that lies. The
// check defends against an altered database or audit service behind an
// honest gateway, as `sotto audit verify` does from an operator's machine.
import { get, query } from '../lib/api.js';
import { busy as busyRun, field, h, replace } from '../lib/dom.js';
import { decodeEvent } from './leaf.js';
import { ProofError, equalBytes, fromBase64, hashLeaf, toBase64, toHex, verifyConsistency, verifyInclusion } from './merkle.js';
import { parseVerifierKey, verifyCheckpoint } from './note.js';
import { enumLabel, form, section, show, status, value } from './ui.js';

// localStorage keys: the pinned verifier keys (public keys) and the last
// checkpoint verified here (size and root hash).
const KEYS = 'sotto.console.audit.verifier-keys';
const WITNESS = 'sotto.console.audit.checkpoint';

// How far past the signed size an honest entry may be: appended since the
// last checkpoint (signed every second by default). Beyond it a position is
// a claim the signed log contradicts.
const NEW_WINDOW = 4096n;

function pinnedKeys() {
  try {
    const v = JSON.parse(localStorage.getItem(KEYS) ?? '[]');
    return Array.isArray(v) ? v.filter((k) => typeof k === 'string') : [];
  } catch {
    return [];
  }
}

function witness() {
  try {
    const w = JSON.parse(localStorage.getItem(WITNESS) ?? 'null');
    if (w && /^[0-9]{1,19}$/.test(w.size) && typeof w.root === 'string') return { size: BigInt(w.size), root: fromBase64(w.root) };
  } catch {
    // An unreadable witness is treated as none, and replaced.
  }
  return null;
}

const verdict = (ok, text) => h('p', { class: `verdict ${ok === true ? 'ok' : ok === false ? 'failed' : 'pending'}`, 'data-verdict': ok === true ? 'ok' : ok === false ? 'failed' : 'pending', role: ok === false ? 'alert' : undefined },
  ok === false ? h('strong', {}, 'FAILED: ') : ok === true ? h('strong', {}, 'Verified: ') : null, text);

// The state of one visit: the verified checkpoint entries are checked
// against.
let trusted = null;

export async function auditPage() {
  trusted = null;
  const logBox = h('div', { id: 'checkpoint' });
  const results = h('div', { id: 'results' });
  const search = form(
    { 'aria-label': 'Search the audit log' },
    [
      field('Subject', { name: 'subject', maxlength: 256, spellcheck: false, autocomplete: 'off' }, 'A customer\'s account id (pseudonymous); the service compares its keyed hash.'),
      field('Event type', { name: 'action', maxlength: 128, spellcheck: false, autocomplete: 'off', placeholder: 'e.g. tokenvault.detokenize' }),
      field('Actor', { name: 'actor_subject', maxlength: 256, spellcheck: false, autocomplete: 'off' }, 'A staff member\'s or customer\'s account id.'),
    ],
    'Search',
    (f) => runSearch(f, results, logBox),
  );
  show('Audit log',
    h('p', {}, 'Every entry shown here is checked in this browser against the log\'s latest signed checkpoint.'),
    section('The log', logBox),
    section('Search', search),
    results);
  await checkLog(logBox);
}

// checkLog verifies the latest checkpoint and the log's consistency with
// the last one verified here; it leaves trusted set only if both hold.
async function checkLog(box) {
  trusted = null;
  const resp = await get('/v1/audit/checkpoint');
  const keys = pinnedKeys();
  if (!keys.length) {
    replace(box, verdict(null, 'Not verified: no key of the log is pinned in this browser.'), pinForm(box, resp));
    box.dataset.verdict = 'pending';
    return;
  }
  const shown = [];
  try {
    const verifiers = [];
    for (const k of keys) verifiers.push(await parseVerifierKey(k));
    const cp = await verifyCheckpoint(resp, verifiers);
    // The signed note carries no time: the service's sign_time is shown as
    // its word only, never as part of what was verified.
    const signed = resp.checkpoint.sign_time;
    shown.push(verdict(true, `checkpoint of ${cp.size} entries signed by ${cp.origin}.`),
      h('p', { class: 'muted hash' }, `Root ${toHex(cp.root)}`));
    if (signed && !Number.isNaN(Date.parse(signed))) {
      shown.push(h('p', { class: 'muted', 'data-unsigned-time': '' }, 'The service says it signed it at ',
        h('time', { datetime: signed }, new Date(signed).toLocaleString()), ' (not covered by the signature; advisory).'));
    }
    const w = witness();
    if (!w) {
      shown.push(h('p', {}, 'First check in this browser: this checkpoint is remembered, and the next visit proves the log grew from it.'));
    } else {
      await consistent(w, cp);
      shown.push(verdict(true, w.size === cp.size ? 'the log is the one this browser saw last time.' : `the log grew from the ${w.size} entries this browser saw last time without changing them.`));
    }
    localStorage.setItem(WITNESS, JSON.stringify({ size: String(cp.size), root: toBase64(cp.root) }));
    trusted = cp;
    box.dataset.verdict = 'ok';
  } catch (err) {
    box.dataset.verdict = 'failed';
    shown.push(h('div', { class: 'tampered' }, verdict(false, reason(err)),
      h('p', {}, 'Do not rely on this log. Report it to the security team with the time of this check; the entries below are not checked.')));
  }
  replace(box, shown, h('details', {}, h('summary', {}, 'Pinned keys'),
    h('ul', {}, keys.map((k) => h('li', {}, h('code', { class: 'key' }, k)))),
    h('button', { type: 'button', class: 'secondary', on: { click: () => { localStorage.removeItem(KEYS); auditPage(); } } }, 'Unpin')));
}

async function consistent(w, cp) {
  if (w.size > cp.size) throw new ProofError(`the log shrank: this browser saw ${w.size} entries, the service signs ${cp.size}`);
  if (w.size === cp.size) {
    if (!equalBytes(w.root, cp.root)) throw new ProofError('the log has another root for the size this browser saw last time');
    return;
  }
  const p = await get(`/v1/audit/consistency-proof${query({ from_size: String(w.size), to_size: String(cp.size) })}`);
  if (BigInt(p.from_size ?? 0) !== w.size || BigInt(p.to_size ?? 0) !== cp.size) throw new ProofError('the consistency proof is for other sizes');
  await verifyConsistency(w.size, cp.size, w.root, cp.root, (p.hashes ?? []).map(fromBase64));
}

function pinForm(box, resp) {
  return form(
    { 'aria-label': 'Pin the log\'s key' },
    [
      field('The log\'s verifier key', { name: 'key', type: 'textarea', rows: 3, required: true, spellcheck: false, autocomplete: 'off' },
        'From your operator, out of band (the key `sotto audit verify --verifier-key` takes). Compare it with the one the service shows below; do not copy that one.'),
      h('p', {}, 'The service says its key is ', h('code', { class: 'key advertised' }, resp?.verifier_key ?? '(none)'), '.'),
    ],
    'Pin key',
    async (f) => {
      const k = value(f, 'key');
      try {
        await parseVerifierKey(k);
      } catch (err) {
        throw new ProofError(reason(err));
      }
      localStorage.setItem(KEYS, JSON.stringify([...pinnedKeys(), k]));
      status('The key is pinned in this browser.');
      await checkLog(box);
    },
  );
}

const reason = (err) => (err instanceof ProofError ? err.message : err?.text ?? err?.message ?? String(err));

async function runSearch(f, results, logBox, pageToken = '') {
  const q = query({ subject: value(f, 'subject'), action: value(f, 'action'), actor_subject: value(f, 'actor_subject'), page_size: 50, page_token: pageToken });
  const r = await get(`/v1/audit/events${q}`);
  const events = r.events ?? [];
  const summary = h('div', { id: 'audit-verdict', 'data-verdict': 'pending' }, verdict(null, `Checking ${events.length} entries…`));
  const list = h('ol', { class: 'rows entries' });
  // The next page is searched (and checked) on request: the same filters,
  // from the service's page token.
  const more = r.next_page_token
    ? h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', on: { click: () => busyRun(f, () => runSearch(f, results, logBox, r.next_page_token)) } }, 'Next 50 entries'))
    : null;
  replace(results, section(`${events.length} entries${pageToken ? ' (a later page)' : ''}`, summary, list, more));
  // An entry past the checkpoint checked on arrival: fetch the latest one,
  // verified and proved consistent as any checkpoint is, before judging it.
  if (trusted && events.some((ev) => position(ev) >= trusted.size)) await checkLog(logBox);
  if (!trusted) {
    replace(summary, verdict(false, 'the log\'s checkpoint is not verified, so no entry can be.'));
    summary.dataset.verdict = 'failed';
  }
  const rows = events.map((ev) => {
    const li = h('li', { class: 'row entry', 'data-event': ev.event_id, 'data-verdict': 'pending' }, h('p', {}, `Entry ${ev.leaf_index}: checking…`));
    list.append(li);
    return [ev, li];
  });
  if (!trusted) return;
  let failed = 0;
  let pending = 0;
  const queue = [...rows];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [ev, li] = next;
      const out = await checkEntry(ev, trusted).catch((err) => ({ ok: false, why: reason(err), ev: err.logged }));
      if (out.ok === false) failed++;
      if (out.ok === null) pending++;
      li.dataset.verdict = out.ok === true ? 'ok' : out.ok === false ? 'failed' : 'unsigned';
      replace(li, entryView(ev, out));
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const proved = events.length - failed - pending;
  summary.dataset.verdict = failed ? 'failed' : pending ? 'unsigned' : 'ok';
  replace(summary, failed
    ? h('div', { class: 'tampered' }, verdict(false, `${failed} of ${events.length} entries do not match the signed log. They were altered after they were recorded, or the service answered falsely.`))
    : pending
      ? verdict(null, `${proved} verified, ${pending} not yet covered by a signed checkpoint; search again in a moment.`)
      : verdict(true, `${proved} entries are in the signed log as shown.`));
}

const position = (ev) => {
  try {
    return BigInt(ev.leaf_index ?? -1);
  } catch {
    return -1n;
  }
};

// checkEntry proves one search result: {ok: true|false|null, why, ev}.
async function checkEntry(ev, cp) {
  const index = position(ev);
  if (index < 0n) return { ok: false, why: 'the entry has no position in the log' };
  if (index >= cp.size + NEW_WINDOW) return { ok: false, why: `it claims a position the signed log does not have (${index}; the latest checkpoint signs ${cp.size} entries)` };
  if (index >= cp.size) return { ok: null, why: 'not yet signed: newer than the latest checkpoint, so what the service says it holds is not shown. Search again in a moment.' };
  const page = await get(`/v1/audit/entries${query({ start_index: String(index), page_size: 1 })}`);
  const entry = page.entries?.[0];
  if (!entry || BigInt(entry.leaf_index ?? -1) !== index) return { ok: false, why: 'the service did not return the entry at its position' };
  const data = fromBase64(entry.leaf_data ?? '');
  const leafHash = await hashLeaf(data);
  let logged;
  try {
    logged = decodeEvent(data);
  } catch {
    return { ok: false, why: 'the logged bytes are not an audit event' };
  }
  const p = await get(`/v1/audit/events/${encodeURIComponent(ev.event_id)}/inclusion-proof${query({ tree_size: String(cp.size) })}`);
  if (BigInt(p.leaf_index ?? -1) !== index || BigInt(p.tree_size ?? -1) !== cp.size) return { ok: false, why: 'the proof is for another position or size', ev: logged };
  try {
    await verifyInclusion(index, cp.size, leafHash, (p.hashes ?? []).map(fromBase64), cp.root);
  } catch (err) {
    // Shown with what the altered bytes now say.
    return { ok: false, why: reason(err), ev: logged };
  }
  for (const k of ['event_id', 'action', 'outcome', 'subject_hash', 'actor_subject_hash', 'actor_workload', 'resource_id', 'reason', 'purpose']) {
    if ((logged[k] ?? '') !== (ev[k] === 'OUTCOME_UNSPECIFIED' ? '' : (ev[k] ?? ''))) return { ok: false, why: `the search answer's ${k.replaceAll('_', ' ')} differs from the logged entry`, ev: logged };
  }
  return { ok: true, ev: logged, leafHash };
}

function entryView(searched, out) {
  // Nothing but its claimed position is shown of an entry no proof covers.
  if (out.ok === null) return [h('div', {}, h('p', { class: 'muted' }, `#${searched.leaf_index}`), verdict(null, out.why))];
  const ev = out.ev ?? searched;
  const short = (s) => (s ? `${String(s).slice(0, 12)}…` : '—');
  return [
    h('div', {},
      h('h3', {}, ev.action ?? '', ' ', h('span', { class: 'muted' }, enumLabel(ev.outcome, 'OUTCOME_'))),
      h('p', { class: 'muted' }, `#${searched.leaf_index} · `, ev.occur_time ? h('time', { datetime: ev.occur_time }, new Date(ev.occur_time).toLocaleString()) : '',
        ` · by ${ev.actor_workload ?? '—'}`, ev.actor_subject_hash ? ` for actor ${short(ev.actor_subject_hash)}` : '',
        ev.subject_hash ? ` · subject ${short(ev.subject_hash)}` : '',
        ev.resource_type ? ` · ${ev.resource_type} ${ev.resource_id ?? ''}` : '', ev.purpose ? ` · purpose ${ev.purpose}` : '', ev.reason ? ` · ${ev.reason}` : ''),
      out.ok === true
        ? verdict(true, 'included in the signed log (proof checked in this browser).')
        : out.ok === false ? verdict(false, out.why ?? 'the proof does not hold.') : verdict(null, out.why)),
  ];
}
