// The privacy officer's queue of data-subject requests: open requests,
// soonest due first (consent's order), with their deadlines; one request's
// record with the actions the law and its state allow (the consent service
// refuses the others with a reason, shown as it came), each participant's
// step and evidence, and the history.
import { get, post } from '../lib/api.js';
import { field, h } from '../lib/dom.js';
import { button, definitions, enumLabel, form, href, navigate, requestKey, section, show, status, time, value } from './ui.js';

const openStates = ['REQUEST_STATE_RECEIVED', 'REQUEST_STATE_VERIFYING', 'REQUEST_STATE_IN_PROGRESS', 'REQUEST_STATE_WAITING_ON_PARTICIPANT', 'REQUEST_STATE_EXTENDED', 'REQUEST_STATE_PAUSED'];
const closed = (r) => r.state === 'REQUEST_STATE_COMPLETED' || r.state === 'REQUEST_STATE_REJECTED';
const opt = (prefix, names) => names.map((n) => [`${prefix}${n}`, enumLabel(n, '')]);

let showClosed = false;

export async function requestsPage(id) {
  if (id) return requestPage(id);
  const q = new URLSearchParams({ page_size: '100' });
  if (!showClosed) for (const s of openStates) q.append('states', s);
  const r = await get(`/v1/privacy/requests?${q}`);
  const reqs = r.requests ?? [];
  const rows = reqs.map((x) => h('tr', { class: 'request', 'data-id': x.request_id },
    h('td', {}, h('a', { href: href('requests', x.request_id), 'data-nav': 'requests', 'data-arg': x.request_id }, enumLabel(x.type, 'REQUEST_TYPE_'))),
    h('td', {}, enumLabel(x.state, 'REQUEST_STATE_')),
    h('td', {}, h('code', {}, x.subject?.subject ?? '')),
    h('td', { class: 'due' }, time(x.deadlines?.due_time), ' ', badge(x))));
  show(
    'Requests',
    h('p', {}, showClosed ? 'Every request, soonest due first.' : 'Open data-subject requests, soonest due first. Subjects are account ids, never names.'),
    reqs.length
      ? h('div', { class: 'table-wrap' }, h('table', { class: 'requests' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Request'), h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col' }, 'Subject'), h('th', { scope: 'col' }, 'Due'))),
        h('tbody', {}, rows)))
      : h('p', { class: 'muted' }, 'No request.'),
    section('File a request for a customer', fileForm()),
    h('div', { class: 'actions' },
      button(showClosed ? 'Open requests only' : 'Show closed requests too', () => {
        showClosed = !showClosed;
        return requestsPage();
      }, { cls: 'secondary' }),
      button('Refresh', () => requestsPage(), { cls: 'secondary' })),
  );
}

// fileForm records a request a customer made by letter, phone or through
// an agent: it starts in VERIFYING until the officer records how the
// customer's identity was checked.
function fileForm() {
  return form({ 'aria-label': 'File a request' },
    [
      field('Right exercised', { name: 'type', type: 'select', options: opt('REQUEST_TYPE_', ['ACCESS', 'ERASURE', 'PORTABILITY', 'RESTRICTION']) }),
      field('Customer\'s account id', { name: 'subject', required: true, maxlength: 64, spellcheck: false, autocomplete: 'off' }, 'Never a name or an e-mail address.'),
      field('Shop', { name: 'tenant', required: true, maxlength: 63, value: 'default', spellcheck: false, autocomplete: 'off' }, 'The shop the customer\'s account belongs to.'),
      field('Jurisdiction', { name: 'jurisdiction', required: true, maxlength: 6, value: 'DE', spellcheck: false, autocomplete: 'off' }, 'Decides the deadlines, e.g. DE, FR, US-CA.'),
    ],
    'File request',
    async (f) => {
      const r = await post('/v1/privacy/requests', {
        type: value(f, 'type'), subject: value(f, 'subject'), tenant: value(f, 'tenant'), jurisdiction: value(f, 'jurisdiction'), request_key: requestKey('console'),
      });
      status('The request is recorded; verify the customer\'s identity to start it.');
      navigate('requests', r.request?.request_id);
    });
}

function badge(r) {
  if (closed(r)) return null;
  if (r.deadlines?.overdue) return h('strong', { class: 'badge overdue' }, 'Overdue');
  if (r.deadlines?.due_soon) return h('strong', { class: 'badge due-soon' }, 'Due soon');
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
  if (r.state === 'REQUEST_STATE_VERIFYING') {
    actions.push(form({ 'aria-label': 'Verify the subject' },
      field('How the subject\'s identity was verified', { name: 'method', type: 'select', options: opt('VERIFICATION_METHOD_', ['DOCUMENTS_CHECKED', 'AUTHORISED_AGENT', 'ACCOUNT_EMAIL']) }),
      'Record verification', (f) => act('verify', { method: value(f, 'method') }, 'Verification recorded; the request is being carried out.')()));
  }
  if (!closed(r) && !d.extension_reason) {
    actions.push(form({ 'aria-label': 'Extend the deadline' },
      field('Reason for the extension', { name: 'reason', type: 'select', options: opt('EXTENSION_REASON_', ['COMPLEXITY', 'NUMBER_OF_REQUESTS', 'REASONABLY_NECESSARY']) },
        d.max_extended_due_time ? `The law allows one extension, to ${new Date(d.max_extended_due_time).toLocaleDateString()} at the latest; the subject is told why.` : 'The law allows one extension; the subject is told why.'),
      'Extend deadline', (f) => act('extend', { reason: value(f, 'reason') }, 'The deadline is extended.')()));
  }
  if (r.state === 'REQUEST_STATE_PAUSED') actions.push(h('div', { class: 'actions' }, button('Resume', act('resume', {}, 'The clock runs again.'))));
  else if (!closed(r)) {
    actions.push(form({ 'aria-label': 'Pause the request' },
      field('Why the clock stops', { name: 'reason', type: 'select', options: opt('PAUSE_REASON_', ['CLARIFICATION_REQUESTED', 'IDENTITY_INFORMATION_REQUESTED']) }),
      'Pause', (f) => act('pause', { reason: value(f, 'reason') }, 'The request is paused.')()));
  }
  if (r.state === 'REQUEST_STATE_WAITING_ON_PARTICIPANT') actions.push(h('div', { class: 'actions' }, button('Retry the participants', act('retry', {}, 'Retrying.'))));
  if (!closed(r)) {
    actions.push(form({ 'aria-label': 'Reject the request' },
      field('Reason for rejecting', { name: 'reason', type: 'select', options: opt('REJECTION_REASON_', ['IDENTITY_NOT_VERIFIED', 'MANIFESTLY_UNFOUNDED', 'EXEMPTION_APPLIES', 'WITHDRAWN_BY_SUBJECT']) }),
      'Reject', (f) => act('reject', { reason: value(f, 'reason') }, 'The request is rejected.')()));
  }
  show(
    `${enumLabel(r.type, 'REQUEST_TYPE_')} request`,
    h('p', {}, h('a', { href: href('requests'), 'data-nav': 'requests' }, 'Back to the queue')),
    section('Request', definitions([
      ['State', h('span', { class: 'state' }, enumLabel(r.state, 'REQUEST_STATE_'))],
      ['Subject', h('code', {}, r.subject?.subject ?? '')],
      ['Jurisdiction', `${r.jurisdiction ?? ''} (${enumLabel(d.regime, 'REGIME_').toUpperCase()})`],
      ['Received', time(r.receive_time)],
      ['Due', h('span', { class: 'due' }, time(d.due_time), ' ', badge(r))],
      ['First deadline', time(d.original_due_time)],
      ['Extended', d.extension_reason ? enumLabel(d.extension_reason, 'EXTENSION_REASON_') : 'No'],
      ['Verified by', enumLabel(r.verification_method, 'VERIFICATION_METHOD_') || '—'],
      ['Closed', time(r.close_time)],
    ])),
    actions.length ? section('Actions', actions) : null,
    section('Participants', steps(r.steps ?? [])),
    section('History', h('ol', { class: 'history' }, (r.history ?? []).map((t) => h('li', {},
      time(t.time), ' ', enumLabel(t.to, 'REQUEST_STATE_'), ` by ${t.actor || 'system'}`, t.reason ? ` (${t.reason})` : ''))))
  );
}

function steps(list) {
  if (!list.length) return h('p', { class: 'muted' }, 'No participant has been called yet.');
  return h('ul', { class: 'rows steps' }, list.map((s) => {
    const e = s.evidence;
    return h('li', { class: 'row step', 'data-participant': s.participant },
      h('div', {},
        h('h3', {}, `${s.participant} · ${enumLabel(s.operation, 'OPERATION_')}`),
        h('p', {}, enumLabel(s.state, 'STEP_STATE_'), ` after ${s.attempts ?? 0} attempt(s)`, s.last_error_reason ? ` · last error ${s.last_error_reason}` : ''),
        e ? evidence(e, s.done_time) : null));
  }));
}

function evidence(e, stepDone) {
  const pairs = [['Outcome', enumLabel(e.outcome, 'OUTCOME_')], ['Done', time(e.done_time ?? stepDone)]];
  for (const [k, v] of Object.entries(e.counts ?? {}).sort()) pairs.push([k.replaceAll('_', ' '), String(v)]);
  if (e.destroyed_key_ids?.length) pairs.push(['Keys destroyed', e.destroyed_key_ids.join(', ')]);
  for (const r of e.retained ?? []) pairs.push([`Kept: ${r.category}`, `${r.count ?? 0} (${r.reason}; ${r.basis})`]);
  for (const [k, v] of Object.entries(e.details ?? {}).sort()) pairs.push([k.replaceAll('_', ' '), String(v)]);
  if (e.already_done) pairs.push(['Note', 'Already done by an earlier request']);
  return h('div', { class: 'evidence' }, h('h4', {}, 'Evidence'), definitions(pairs));
}
