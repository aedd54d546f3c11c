// Signing up (with the e-mail code) and signing in (password, then a
// second factor when the account has one; or a passkey alone).
import { post } from '../lib/api.js';
import { field, h } from '../lib/dom.js';
import { SESSION_HEADER, clearSession, setSession } from '../lib/session.js';
import { carry, href, navigate, tenant } from './state.js';
import { secondFactorForm, stepUpWithPasskey } from './stepup.js';
import { form, show, status, value } from './ui.js';
import * as webauthn from './webauthn.js';

export function signUpPage() {
  const f = form(
    { 'aria-label': 'Create an account' },
    [
      field('E-mail address', { name: 'email', type: 'email', required: true, autocomplete: 'email', maxlength: 254 }),
      field('Password', { name: 'password', type: 'password', required: true, autocomplete: 'new-password', minlength: 8, maxlength: 128 },
        'At least 15 characters, or 8 once you add a second factor. A few unusual words make a good one.'),
    ],
    'Create account',
    async (fm) => {
      const email = value(fm, 'email');
      await post('/v1/accounts:signUp', { tenant, email, password: fm.elements.namedItem('password').value, language: lang() }, { token: '' });
      carry.email = email;
      verifyStep();
    },
  );
  show('Create an account', h('p', {}, 'See and control what the shop keeps about you.'), f,
    h('p', {}, 'Already have an account? ', h('a', { href: href('login'), 'data-nav': 'login' }, 'Sign in')));
}

// verifyStep asks for the code from the verification e-mail.
function verifyStep() {
  const f = form(
    { 'aria-label': 'Confirm your e-mail address' },
    field('Code from the e-mail', { name: 'code', required: true, autocomplete: 'one-time-code', maxlength: 128, spellcheck: false }),
    'Confirm address',
    async (fm) => {
      await post('/v1/accounts:verifyEmail', { code: value(fm, 'code') }, { token: '' });
      status('Your e-mail address is confirmed. Sign in to continue.');
      navigate('login');
    },
  );
  show('Check your e-mail', h('p', {}, 'We sent a code to the address you gave. Enter it here to finish.'), f);
}

const lang = () => (/^[a-z]{2}$/.test(navigator.language?.slice(0, 2) ?? '') ? navigator.language.slice(0, 2) : '');

export function loginPage() {
  const f = form(
    { 'aria-label': 'Sign in' },
    [
      field('E-mail address', { name: 'email', type: 'email', required: true, autocomplete: 'username', maxlength: 254, value: carry.email || undefined }),
      field('Password', { name: 'password', type: 'password', required: true, autocomplete: 'current-password', maxlength: 128 }),
    ],
    'Sign in',
    async (fm) => {
      const r = await post('/v1/sessions:login', { tenant, email: value(fm, 'email'), password: fm.elements.namedItem('password').value }, { headers: SESSION_HEADER, token: '' });
      carry.email = '';
      setSession(r.tokens);
      if (r.second_factor_available) secondStep();
      else navigate('data');
    },
    webauthn.supported()
      ? h('button', { type: 'button', class: 'secondary', on: { click: (e) => passkeyLogin(e.target.form) } }, 'Sign in with a passkey')
      : null,
  );
  show('Sign in', f,
    h('p', {}, h('a', { href: href('reset'), 'data-nav': 'reset' }, 'Forgot your password?')),
    h('p', {}, 'New here? ', h('a', { href: href('signup'), 'data-nav': 'signup' }, 'Create an account')));
}

// resetPage sends a reset code to the address (the answer is the same
// whether it has an account) and then sets a new password with it; every
// session of the account ends.
export function resetPage() {
  const f = form(
    { 'aria-label': 'Reset your password' },
    field('E-mail address', { name: 'email', type: 'email', required: true, autocomplete: 'username', maxlength: 254 }),
    'Send me a code',
    async (fm) => {
      await post('/v1/accounts:requestPasswordReset', { tenant, email: value(fm, 'email') }, { token: '' });
      carry.email = value(fm, 'email');
      newPasswordStep();
    },
  );
  show('Reset your password', f);
}

function newPasswordStep() {
  const f = form(
    { 'aria-label': 'Choose a new password' },
    [
      field('Code from the e-mail', { name: 'code', required: true, autocomplete: 'one-time-code', maxlength: 128, spellcheck: false }),
      field('New password', { name: 'password', type: 'password', required: true, autocomplete: 'new-password', minlength: 8, maxlength: 128 },
        'At least 15 characters, or 8 with a second factor.'),
    ],
    'Set password',
    async (fm) => {
      await post('/v1/accounts:resetPassword', { code: value(fm, 'code'), new_password: fm.elements.namedItem('password').value }, { token: '' });
      status('Your password is changed and every session of your account has ended. Sign in with the new one.');
      navigate('login');
    },
  );
  show('Choose a new password', h('p', {}, 'If the address has an account, we sent a code to it. Enter it with your new password.'), f);
}

async function passkeyLogin(f) {
  const alert = f.querySelector('[role=alert]');
  alert.textContent = '';
  try {
    await stepUpWithPasskey({ tenant, token: '' });
    navigate('data');
  } catch (err) {
    alert.textContent = webauthn.problem(err);
  }
}

// secondStep finishes a password login with the account's second factor.
function secondStep() {
  const skip = h('button', { type: 'button', class: 'secondary', on: { click: () => navigate('data') } }, 'Not now');
  show('Confirm it is you', h('p', {}, 'Your account has a second factor. Enter a code from your authenticator app, a recovery code, or use a passkey.'),
    secondFactorForm(() => navigate('data'), skip));
}

export async function logout() {
  try {
    await post('/v1/sessions:logout', {}, { headers: SESSION_HEADER });
  } catch {
    // The session ends here either way.
  }
  clearSession();
  status('You are signed out.');
  navigate('login');
}
