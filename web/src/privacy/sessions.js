// Sessions: where the customer is signed in, and signing any of them out
// (identity revokes it; every service refuses its tokens within seconds).
import { get, post, query } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { clearSession } from '../lib/session.js';
import { navigate } from './state.js';
import { section, show, status, time } from './ui.js';

const methods = { pwd: 'password', otp: 'authenticator app', hwk: 'passkey', swk: 'passkey', mfa: 'second factor', user: 'passkey', pop: 'passkey' };

export async function sessionsPage() {
  const r = await get(`/v1/sessions${query({ page_size: 100 })}`);
  const list = r.sessions ?? [];
  const alert = h('p', { role: 'alert' });
  show('Sessions',
    section('Where you are signed in',
      h('ul', { class: 'sessions', 'aria-label': 'Your sessions' }, list.map((s) => h('li', { class: 'panel session', 'data-session': s.session_id },
        h('h3', {}, s.user_agent || 'Unknown device', s.current ? h('span', { class: 'badge' }, ' (this browser)') : null),
        h('dl', { class: 'facts' },
          h('dt', {}, 'Signed in'), h('dd', {}, time(s.create_time)),
          h('dt', {}, 'Last active'), h('dd', {}, time(s.last_used_time || s.create_time)),
          h('dt', {}, 'With'), h('dd', {}, [...new Set((s.amr ?? []).map((a) => methods[a] ?? a))].join(', ') || '—'),
          h('dt', {}, 'Ends'), h('dd', {}, time(s.expire_time))),
        h('button', { type: 'button', class: s.current ? 'secondary' : 'danger', on: { click: () => revoke(s, alert) } }, s.current ? 'Sign out here' : 'Sign out this session')))),
      alert));
}

async function revoke(s, alert) {
  alert.textContent = '';
  try {
    await post(`/v1/sessions/${encodeURIComponent(s.session_id)}:revoke`, {});
    if (s.current) {
      clearSession();
      status('You are signed out.');
      navigate('login');
      return;
    }
    await sessionsPage();
    status('The session is signed out.');
  } catch (err) {
    alert.textContent = err?.text ?? err?.message ?? String(err);
  }
}
