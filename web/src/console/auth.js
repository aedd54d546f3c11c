// Staff sign in with their password and then a code from their
// authenticator app: every console route needs aal2 (the gateway's
// routeAccess), so a staff account without a second factor cannot use it.
import { ApiError, post } from '../lib/api.js';
import { field, h } from '../lib/dom.js';
import { SESSION_HEADER, claims, clearSession, setSession } from '../lib/session.js';
import { form, navigate, show, status, value } from './ui.js';

export function loginPage() {
  const f = form(
    { 'aria-label': 'Sign in' },
    [
      field('E-mail address', { name: 'email', type: 'email', required: true, autocomplete: 'username', maxlength: 254 }),
      field('Password', { name: 'password', type: 'password', required: true, autocomplete: 'current-password', maxlength: 128 }),
    ],
    'Sign in',
    async (fm) => {
      const r = await post('/v1/sessions:login', { email: value(fm, 'email'), password: fm.elements.namedItem('password').value }, { headers: SESSION_HEADER, token: '' });
      setSession(r.tokens);
      if (claims().kind && claims().kind !== 'staff') {
        await logout('This console is for the shop\'s staff. Customers use the privacy centre.');
        return;
      }
      if (!r.second_factor_available) {
        await logout('The console needs a second factor. Enrol an authenticator app on your account first.');
        return;
      }
      secondStep();
    },
  );
  show('Sign in', h('p', {}, 'Staff sign in with their password and a code from their authenticator app.'), f);
}

function secondStep() {
  const f = form(
    { 'aria-label': 'Second factor' },
    field('Code from your authenticator app', { name: 'code', required: true, autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 32, spellcheck: false }, 'Six digits, or one of your recovery codes.'),
    'Confirm',
    async (fm) => {
      const code = value(fm, 'code').replaceAll(' ', '');
      if (!code) throw new ApiError(400, 'CODE_MISSING', 'Enter the code from your authenticator app.');
      const body = /^[0-9]{6}$/.test(code) ? { totp_code: code } : { recovery_code: code };
      const r = await post('/v1/sessions:stepUp', body, { headers: SESSION_HEADER });
      setSession(r.tokens);
      status('');
      navigate(home());
    },
  );
  show('Confirm it is you', f);
}

// roles of the signed-in staff member (from the token, for the page's own
// choices; the services check them again).
export const roles = () => (Array.isArray(claims().roles) ? claims().roles : []);

// home is the first page for the roles: agents answer chats, privacy
// officers run requests, administrators read the audit log.
export function home() {
  const r = roles();
  if (r.includes('support_agent')) return 'inbox';
  if (r.includes('privacy_officer')) return 'requests';
  return 'audit';
}

export async function logout(message = 'You are signed out.') {
  try {
    await post('/v1/sessions:logout', {}, { headers: SESSION_HEADER });
  } catch {
    // The session ends here either way.
  }
  clearSession();
  status(message);
  navigate('login');
}
