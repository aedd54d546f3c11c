// The staff console (issue 14, docs/adr/0016-web-front.md, "Staff
// console"): support agents take over handed-off chats, privacy officers
// run the data-subject request queue and read the audit log with every
// entry proved in the browser, agents and administrators clear
// suspicious-activity signals. One page that routes within itself
// (/console/<page>[/<id>]); the gateway serves index.html for every path
// under /console/. Which pages a person sees follows their roles; the
// gateway and the services decide what they may do.
import { $, h, replace, showError } from '../lib/dom.js';
import { accessToken, onSessionChange, refreshSession } from '../lib/session.js';
import { auditPage } from './audit.js';
import { home, loginPage, logout, roles } from './auth.js';
import './console.css';
import { inboxPage, stopFollowing } from './inbox.js';
import { requestsPage } from './requests.js';
import { signalsPage } from './signals.js';
import { href, setNavigator, status } from './ui.js';

const pages = {
  login: { title: 'Sign in', render: loginPage },
  inbox: { title: 'Inbox', render: inboxPage, roles: ['support_agent'] },
  requests: { title: 'Requests', render: requestsPage, roles: ['privacy_officer'] },
  audit: { title: 'Audit log', render: auditPage, roles: ['privacy_officer', 'admin'] },
  signals: { title: 'Signals', render: signalsPage, roles: ['support_agent', 'admin'] },
};

const allowed = (name) => !pages[name].roles || pages[name].roles.some((r) => roles().includes(r));

function here() {
  const [name = '', arg = ''] = location.pathname.replace(/^\/console\/?/, '').split('/');
  return { name, arg: decodeURIComponent(arg) };
}

function renderNav() {
  const signedIn = Boolean(accessToken());
  const { name: cur } = here();
  const items = signedIn
    ? Object.entries(pages).filter(([n, p]) => p.roles && allowed(n)).map(([n, p]) => h('li', {}, h('a', { href: href(n), 'data-nav': n, 'aria-current': n === cur ? 'page' : undefined }, p.title)))
    : [];
  if (signedIn) items.push(h('li', {}, h('button', { type: 'button', class: 'link', on: { click: () => logout() } }, 'Sign out')));
  replace($('#nav'), items);
}

async function render() {
  let { name, arg } = here();
  if (!accessToken()) {
    name = 'login';
    arg = '';
  } else if (!pages[name] || name === 'login' || !allowed(name)) {
    name = home();
    arg = '';
  }
  const path = href(name, arg);
  if (location.pathname !== path) history.replaceState(null, '', path);
  renderNav();
  if (name !== 'inbox') stopFollowing();
  try {
    await pages[name].render(arg);
  } catch (err) {
    showError($('#error'), err);
  }
}

setNavigator((name, arg) => {
  history.pushState(null, '', href(name, arg));
  render();
});

document.addEventListener('click', (e) => {
  const a = e.target.closest?.('a[data-nav]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  status('');
  history.pushState(null, '', href(a.dataset.nav, a.dataset.arg));
  render();
});
window.addEventListener('popstate', () => render());
onSessionChange(() => renderNav());

// A reload starts from the refresh cookie, if there is one.
await refreshSession();
render();
