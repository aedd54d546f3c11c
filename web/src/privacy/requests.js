// Data-subject requests: file one (access, portability, erasure,
// restriction, opt-out of sale), follow its state and deadline, and
// download the export of a completed access or portability request (once;
// it holds the customer's raw values, so it needs a recent second factor,
// as does every call here).
import { ApiError, errorOf, get, post, query } from '../lib/api.js';
import { field, h } from '../lib/dom.js';
import { accessToken } from '../lib/session.js';
import { withStepUp } from './stepup.js';
import { enumLabel, form, requestKey, saveFile, section, show, status, time, value, when } from './ui.js';

const types = [
  ['REQUEST_TYPE_ACCESS', 'A copy of my data (access)'],
  ['REQUEST_TYPE_PORTABILITY', 'My data in a machine-readable file (portability)'],
  ['REQUEST_TYPE_ERASURE', 'Erase my data and account (erasure)'],
  ['REQUEST_TYPE_RESTRICTION', 'Stop using my data for now (restriction)'],
  ['REQUEST_TYPE_OPT_OUT_OF_SALE', 'Do not sell or share my data (opt-out)'],
];

// Where the customer lives decides the law and its deadlines (GDPR: a
// month; CCPA: 45 days).
const places = [
  ['DE', 'Germany'], ['AT', 'Austria'], ['BE', 'Belgium'], ['DK', 'Denmark'], ['ES', 'Spain'], ['FI', 'Finland'], ['FR', 'France'],
  ['IE', 'Ireland'], ['IT', 'Italy'], ['NL', 'Netherlands'], ['PL', 'Poland'], ['PT', 'Portugal'], ['SE', 'Sweden'],
  ['GB', 'United Kingdom'], ['US-CA', 'California, United States'],
];

const typeLabel = (t) => (types.find(([k]) => k === t)?.[1] ?? enumLabel(t, 'REQUEST_TYPE_')).replace(/ \(.*\)$/, '');

export async function requestsPage() {
  const r = await withStepUp(() => get(`/v1/privacy/requests${query({ page_size: 50 })}`));
  const list = r.requests ?? [];
  const filing = form(
    { 'aria-label': 'File a request' },
    [
      field('What would you like?', { type: 'select', name: 'type', required: true, options: types }),
      field('Where do you live?', { type: 'select', name: 'jurisdiction', required: true, options: places }, 'This decides which law and deadlines apply.'),
      h('div', { class: 'field check' },
        h('input', { type: 'checkbox', name: 'understood', id: 'erasure-understood' }),
        h('label', { for: 'erasure-understood' }, 'For an erasure: I understand that it deletes my account and the data the shop holds about me, signs me out everywhere and cannot be undone.')),
    ],
    'File request',
    async (f) => {
      const type = value(f, 'type');
      if (type === 'REQUEST_TYPE_ERASURE' && !f.elements.namedItem('understood').checked) {
        throw new ApiError(400, 'CONFIRMATION_MISSING', 'To erase your data, first tick the box that says you understand what erasure does.');
      }
      const c = await withStepUp(() => post('/v1/privacy/requests', { type, jurisdiction: value(f, 'jurisdiction'), request_key: requestKey('web') }));
      const said = `Request filed: ${typeLabel(c.request.type)}, due by ${when(c.request.deadlines?.due_time, false)}.`;
      if (type === 'REQUEST_TYPE_ERASURE') {
        // The erasure may be carried out at once, ending this session with
        // the account: what was filed is shown from the answer, not
        // fetched again.
        show('Request filed',
          section('Your erasure request', h('ul', { class: 'requests', 'aria-label': 'Your requests' }, item(c.request))),
          h('p', {}, 'When it is carried out your account is deleted and you are signed out everywhere. Keep the reference if you want to ask the shop about it.'));
      } else {
        await requestsPage();
      }
      status(said);
    },
  );
  const refresh = h('button', { type: 'button', class: 'secondary', on: { click: () => requestsPage().then(() => status('Requests updated.')) } }, 'Refresh');
  show('Requests',
    section('Your requests', list.length
      ? h('ul', { class: 'requests', 'aria-label': 'Your requests' }, list.map(item))
      : h('p', { class: 'muted' }, 'You have not filed a request yet.'), list.length ? refresh : null),
    section('File a request', h('p', {}, 'The shop must answer within the deadline the law sets; you can follow it here.'), filing));
}

function item(r) {
  const d = r.deadlines ?? {};
  const alert = h('p', { role: 'alert' });
  const done = r.state === 'REQUEST_STATE_COMPLETED';
  const exportable = done && (r.type === 'REQUEST_TYPE_ACCESS' || r.type === 'REQUEST_TYPE_PORTABILITY');
  const exportState = !exportable ? null
    : r.export_download_time ? h('p', { class: 'muted' }, 'Export downloaded ', time(r.export_download_time), '.')
      : r.export_expire_time && Date.parse(r.export_expire_time) < Date.now() ? h('p', { class: 'muted' }, 'The export has expired.')
        : h('div', { class: 'actions' },
          h('button', { type: 'button', on: { click: () => download(r, 'EXPORT_FORMAT_JSON', alert) } }, 'Download export (JSON)'),
          h('button', { type: 'button', class: 'secondary', on: { click: () => download(r, 'EXPORT_FORMAT_CSV', alert) } }, 'Download export (CSV)'),
          h('p', { class: 'hint' }, 'You can download it once, until ', time(r.export_expire_time), '.'));
  return h('li', { class: 'panel request', 'data-request': r.request_id },
    h('h3', {}, typeLabel(r.type)),
    h('dl', { class: 'facts' },
      h('dt', {}, 'State'), h('dd', { class: 'state' }, enumLabel(r.state, 'REQUEST_STATE_')),
      h('dt', {}, 'Filed'), h('dd', {}, time(r.receive_time)),
      h('dt', {}, done ? 'Completed' : 'Due by'), h('dd', { class: 'due' }, done ? time(r.close_time) : time(d.due_time, false),
        d.overdue && !done ? h('strong', { class: 'flag' }, ' overdue') : null,
        r.state === 'REQUEST_STATE_EXTENDED' ? [' (extended: ', enumLabel(d.extension_reason, 'EXTENSION_REASON_'), ')'] : null),
      h('dt', {}, 'Reference'), h('dd', {}, h('code', {}, r.request_id))),
    exportState, alert);
}

// download fetches the export with the access token (a file, not JSON to
// parse) and hands it to the browser as a download.
async function download(r, format, alert) {
  alert.textContent = '';
  const fetchExport = async () => {
    const resp = await fetch(`/v1/privacy/requests/${encodeURIComponent(r.request_id)}/export${query({ format })}`, {
      headers: { Authorization: `Bearer ${accessToken()}` },
      credentials: 'same-origin', cache: 'no-store', redirect: 'error', referrerPolicy: 'no-referrer',
    }).catch(() => {
      throw new ApiError(0, 'UNREACHABLE', 'The service could not be reached. Check your connection and try again.');
    });
    if (!resp.ok) throw await errorOf(resp);
    return resp.blob();
  };
  try {
    const blob = await withStepUp(fetchExport);
    saveFile(`privacy-export-${r.request_id}.${format === 'EXPORT_FORMAT_CSV' ? 'csv' : 'json'}`, blob);
    status('Export downloaded.');
    await requestsPage();
  } catch (err) {
    alert.textContent = err?.text ?? err?.message ?? String(err);
  }
}
