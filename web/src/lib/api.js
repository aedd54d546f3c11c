// The pages' one way to call the gateway's REST API (same origin only).
// Answers are JSON; a failure becomes an ApiError whose text is safe to show
// as text (the gateway's message and reason, never markup). See
// docs/adr/0016-web-front.md.
import { accessToken, refreshSession } from './session.js';

// ApiError is a refused or failed call. status is the HTTP status (0: the
// gateway could not be reached), reason the gateway's stable reason
// (e.g. STEP_UP_REQUIRED), details its numeric details.
export class ApiError extends Error {
  constructor(status, reason, message, details = {}, violations = []) {
    super(message || reason || `request failed (${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.reason = reason || '';
    this.details = details;
    this.violations = violations;
  }

  // text is what a page shows: the message, each field's problem and the
  // reason in brackets, for a person to read and to quote to support.
  get text() {
    const parts = [this.message];
    for (const v of this.violations) parts.push(`${v.field}: ${v.description}`);
    if (this.reason && this.reason !== this.message) parts.push(`(${this.reason})`);
    return parts.join(' ');
  }
}

// Paths are the API's own ("/v1/..."); an absolute URL or one with a
// scheme is refused, so that no page can be talked into sending its token
// elsewhere.
function checkPath(path) {
  if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) {
    throw new ApiError(0, 'BAD_PATH', 'internal error: not an API path');
  }
  return path;
}

// request calls the API. token is the access token to send (default: the
// session's); body is sent as JSON. On a 401 that is not a step-up, a
// cookie session is refreshed once and the call repeated.
export async function request(method, path, { body, token, signal, headers = {}, retry = true } = {}) {
  const tok = token === undefined ? accessToken() : token;
  const h = { Accept: 'application/json', ...headers };
  if (tok) h.Authorization = `Bearer ${tok}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  let resp;
  try {
    resp = await fetch(checkPath(path), {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
      referrerPolicy: 'no-referrer',
    });
  } catch (err) {
    if (err instanceof ApiError || err?.name === 'AbortError') throw err;
    throw new ApiError(0, 'UNREACHABLE', 'The service could not be reached. Check your connection and try again.');
  }
  if (resp.ok) {
    const type = resp.headers.get('Content-Type') || '';
    return type.startsWith('application/json') ? resp.json() : resp;
  }
  const err = await errorOf(resp);
  if (err.status === 401 && err.reason !== 'STEP_UP_REQUIRED' && retry && token === undefined && (await refreshSession())) {
    return request(method, path, { body, signal, headers, retry: false });
  }
  throw err;
}

export const get = (path, opts) => request('GET', path, opts);
export const post = (path, body = {}, opts = {}) => request('POST', path, { ...opts, body });
export const patch = (path, body = {}, opts = {}) => request('PATCH', path, { ...opts, body });
export const del = (path, opts) => request('DELETE', path, opts);

// errorOf reads the gateway's error body (sotto.api.v1.ErrorResponse).
export async function errorOf(resp) {
  let e = {};
  try {
    e = (await resp.json())?.error ?? {};
  } catch {
    // Not JSON (a proxy's page): the status alone.
  }
  return new ApiError(resp.status, String(e.reason ?? ''), String(e.message ?? ''), e.details ?? {}, Array.isArray(e.violations) ? e.violations : []);
}

// query builds "?a=1&b=2" from the defined values, for ids and filters only:
// personal data never goes into a URL (it would reach logs and history).
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

// events reads a Server-Sent Events route with fetch (EventSource cannot
// send the Authorization header) and calls onEvent({event, id, data}) for
// each event until the stream ends, the signal aborts it or it fails. It
// resolves with the last event id seen, so that a caller can resume with
// lastEventId.
export async function events(path, { token, lastEventId, signal, onEvent }) {
  const tok = token === undefined ? accessToken() : token;
  const h = { Accept: 'text/event-stream' };
  if (tok) h.Authorization = `Bearer ${tok}`;
  if (lastEventId) h['Last-Event-ID'] = lastEventId;
  let resp;
  try {
    resp = await fetch(checkPath(path), { headers: h, signal, credentials: 'same-origin', cache: 'no-store', redirect: 'error', referrerPolicy: 'no-referrer' });
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiError(0, 'UNREACHABLE', 'The service could not be reached. Check your connection and try again.');
  }
  if (!resp.ok) throw await errorOf(resp);
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let last = lastEventId || '';
  let ev = { event: 'message', id: '', data: '' };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return last;
    buf += value;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line === '') {
        if (ev.data !== '' || ev.event !== 'message') {
          if (ev.id) last = ev.id;
          onEvent(ev);
        }
        ev = { event: 'message', id: '', data: '' };
        continue;
      }
      if (line.startsWith(':')) continue; // a heartbeat
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') ev.event = val;
      else if (field === 'id') ev.id = val;
      else if (field === 'data') ev.data = ev.data ? `${ev.data}\n${val}` : val;
    }
  }
}
