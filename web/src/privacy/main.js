// The privacy centre (issue 14, docs/adr/0016-web-front.md): a customer
// signs up and in, manages second factors, sees their data and reveals a
// value after a step-up, manages consents and receipts, files and follows
// data-subject requests and manages sessions. One page that routes within
// itself (/privacy/<page>); the gateway serves index.html for every path
// under /privacy/.
import { $, h, replace, showError } from '../lib/dom.js';
import { accessToken, onSessionChange, refreshSession } from '../lib/session.js';
import { loginPage, logout, resetPage, signUpPage } from './auth.js';
import { consentsPage } from './consents.js';
import { dataPage } from './data.js';
import './privacy.css';
import { requestsPage } from './requests.js';
import { securityPage } from './security.js';
import { sessionsPage } from './sessions.js';
import { href, setNavigator } from './state.js';
import { status } from './ui.js';

// Pages by path segment; signedIn pages send a signed-out visitor to login.
const pages = {
  signup: { title: 'Create account', render: signUpPage, signedIn: false },
  login: { title: 'Sign in', render: loginPage, signedIn: false },
  reset: { title: 'Reset password', render: resetPage, signedIn: false, hidden: true },
  data: { title: 'Your data', render: dataPage, signedIn: true },
  consents: { title: 'Consents', render: consentsPage, signedIn: true },
  requests: { title: 'Requests', render: requestsPage, signedIn: true },
  security: { title: 'Security', render: securityPage, signedIn: true },
  sessions: { title: 'Sessions', render: sessionsPage, signedIn: true },
};

const current = () => location.pathname.replace(/^\/privacy\/?/, '').split('/')[0];

function renderNav() {
  const signedIn = Boolean(accessToken());
  const here = current();
  const items = Object.entries(pages)
    .filter(([, p]) => p.signedIn === signedIn && !p.hidden)
    .map(([name, p]) => h('li', {}, h('a', { href: href(name), 'data-nav': name, 'aria-current': name === here ? 'page' : undefined }, p.title)));
  if (signedIn) items.push(h('li', {}, h('button', { type: 'button', class: 'link', on: { click: logout } }, 'Sign out')));
  replace($('#nav'), items);
}

async function render() {
  let name = current();
  if (!pages[name]) name = accessToken() ? 'data' : 'login';
  // The access token lives minutes; the cookie may still hold a session.
  if (pages[name].signedIn && !accessToken() && !(await refreshSession())) name = 'login';
  if (!pages[name].signedIn && accessToken() && name === 'login') name = 'data';
  if (location.pathname !== `/privacy/${name}`) history.replaceState(null, '', href(name));
  renderNav();
  try {
    await pages[name].render();
  } catch (err) {
    showError($('#error'), err);
  }
}

// navigate pushes /privacy/<page> and renders it, keeping the status line
// (it says what just happened); a click on a link clears it.
setNavigator((name) => {
  history.pushState(null, '', href(name));
  render();
});

document.addEventListener('click', (e) => {
  const a = e.target.closest?.('a[data-nav]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  status('');
  history.pushState(null, '', href(a.dataset.nav));
  render();
});
window.addEventListener('popstate', () => render());
onSessionChange(() => renderNav());

// A reload starts from the refresh cookie, if there is one.
await refreshSession();
render();
