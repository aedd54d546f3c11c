// Staff sign in with their password and then a code from their
// authenticator app: every console route needs aal2 (the gateway's
// routeAccess). A staff member without a second factor enrols an
// authenticator app right after the password (identity lets any signed-in
// person begin and confirm a TOTP enrolment), sees the recovery codes once
// and confirms it is them with the new app.
import { ApiError, post } from '../lib/api.js';
import { field, h } from '../lib/dom.js';
import { qrImage } from '../lib/otp-qr.js';
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
        await enrolTotp();
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

// enrolTotp is the first sign-in of a staff member with no second factor:
// the QR code identity drew (and the key, for typing), a code from the app
// to confirm it, then the recovery codes, once, then the step-up with the
// new app that every sign-in ends with. Leaving the page before confirming
// leaves no factor.
async function enrolTotp() {
  const begin = await post('/v1/account/factors:beginTotp', {});
  const secret = new URL(begin.otpauth_uri).searchParams.get('secret') ?? '';
  const f = form(
    { 'aria-label': 'Confirm the authenticator app' },
    field('Code shown by the app', { name: 'code', required: true, inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6 }),
    'Confirm',
    async (fm) => {
      const code = value(fm, 'code').replaceAll(' ', '');
      if (!/^[0-9]{6}$/.test(code)) throw new ApiError(400, 'CODE_MISSING', 'Enter the six digits your authenticator app shows.');
      // Confirming does not raise the session (identity): after the codes
      // the staff member steps up with the new app, as at every sign-in.
      const c = await post('/v1/account/factors:confirmTotp', { factor_id: begin.factor_id, code });
      recoveryCodes(c.recovery_codes ?? []);
    },
  );
  show('Set up your authenticator app',
    h('p', {}, 'The console needs a second factor. Scan this QR code with your authenticator app, then type the code it shows.'),
    h('div', { class: 'panel enrol' },
      qrImage(begin.qr_png, 'QR code for your authenticator app'),
      h('p', {}, 'Or type this key into the app: ', h('code', { class: 'secret' }, secret.replace(/(.{4})/g, '$1 ').trim()))),
    f);
  document.querySelector('#app input')?.focus();
}

// recoveryCodes shows the codes made with the first factor, this once.
function recoveryCodes(codes) {
  const done = h('button', { type: 'button', on: { click: () => secondStep() } }, 'I have saved them');
  const area = h('section', { class: 'panel', 'aria-labelledby': 'codes-title' },
    h('h2', { id: 'codes-title' }, 'Your recovery codes'),
    h('p', {}, 'Each code works once, in place of your authenticator app. Keep them somewhere safe: they are not shown again.'),
    h('ol', { class: 'recovery-codes' }, codes.map((c) => h('li', {}, h('code', {}, c)))),
    h('div', { class: 'actions' }, done));
  show('Authenticator app added', area);
  status('Authenticator app added.');
  done.focus();
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
