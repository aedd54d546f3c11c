// Security: second factors (an authenticator app enrolled with a QR code,
// passkeys), recovery codes (shown once, when made) and removing a factor
// or making new codes (both after a step-up).
import { del, get, post } from '../lib/api.js';
import { field, h, replace } from '../lib/dom.js';
import { setSession } from '../lib/session.js';
import { qrImage } from '../lib/otp-qr.js';
import { withStepUp } from './stepup.js';
import { form, section, show, status, time, value } from './ui.js';
import * as webauthn from './webauthn.js';

const kindName = (f) => (f.type === 'FACTOR_TYPE_TOTP' ? 'Authenticator app' : 'Passkey');

export async function securityPage() {
  const r = await get('/v1/account/factors');
  const factors = r.factors ?? [];
  const alert = h('p', { role: 'alert' });
  const area = h('div', { id: 'enrol' });
  const list = factors.length
    ? h('ul', { class: 'factors', 'aria-label': 'Your second factors' }, factors.map((f) => h('li', { class: 'factor' },
      h('strong', {}, kindName(f)), ' ', f.display_name && f.display_name.toLowerCase() !== kindName(f).toLowerCase() ? `“${f.display_name}”` : '',
      h('span', { class: 'muted' }, ' added ', time(f.create_time), f.last_used_time ? [', last used ', time(f.last_used_time)] : ''),
      h('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${kindName(f).toLowerCase()} ${f.display_name ?? ''}`.trim(), on: { click: () => removeFactor(f, alert) } }, 'Remove'))))
    : h('p', { class: 'muted' }, 'No second factor yet. Add one: it protects your account if your password leaks, and you need it to see sensitive data or file requests.');
  show('Security',
    section('Second factors', list,
      h('div', { class: 'actions' },
        h('button', { type: 'button', on: { click: () => enrolTotp(area).catch((err) => (alert.textContent = err?.text ?? err?.message ?? String(err))) } }, 'Add an authenticator app'),
        webauthn.supported() ? h('button', { type: 'button', class: 'secondary', on: { click: () => enrolPasskey(area) } }, 'Add a passkey') : null),
      alert, area),
    section('Recovery codes',
      h('p', {}, factors.length ? `You have ${r.recovery_codes_remaining ?? 0} unused recovery codes. Each works once, in place of your second factor.` : 'You get recovery codes with your first second factor.'),
      factors.length ? h('button', { type: 'button', class: 'secondary', on: { click: () => newCodes(area, alert) } }, 'Make new recovery codes') : null),
    section('Password', form(
      { 'aria-label': 'Change your password' },
      [
        field('Current password', { name: 'current', type: 'password', required: true, autocomplete: 'current-password', maxlength: 128 }),
        field('New password', { name: 'new', type: 'password', required: true, autocomplete: 'new-password', minlength: 8, maxlength: 128 }, 'Your other sessions end when it changes.'),
      ],
      'Change password',
      async (fm) => {
        await post('/v1/account:changePassword', { current_password: fm.elements.namedItem('current').value, new_password: fm.elements.namedItem('new').value });
        fm.reset();
        status('Password changed. Your other sessions have ended.');
      },
    )));
}

async function enrolTotp(area) {
  // Adding a factor to an account that has one may need a step-up.
  const begin = await withStepUp(() => post('/v1/account/factors:beginTotp', {}));
  const secret = new URL(begin.otpauth_uri).searchParams.get('secret') ?? '';
  const f = form(
    { 'aria-label': 'Confirm the authenticator app' },
    field('Code shown by the app', { name: 'code', required: true, inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6 }),
    'Confirm',
    async (fm) => {
      const c = await post('/v1/account/factors:confirmTotp', { factor_id: begin.factor_id, code: value(fm, 'code') });
      if (c.tokens?.access_token) setSession(c.tokens);
      await finished(area, 'Authenticator app added.', c.recovery_codes);
    },
  );
  replace(area, h('div', { class: 'panel enrol' },
    h('h3', {}, 'Scan this with your authenticator app'),
    qrImage(begin.qr_png, 'QR code for your authenticator app'),
    h('p', {}, 'Or type this key into the app: ', h('code', { class: 'secret' }, secret.replace(/(.{4})/g, '$1 ').trim())),
    f));
  area.querySelector('input')?.focus();
}

async function enrolPasskey(area) {
  const f = form(
    { 'aria-label': 'Add a passkey' },
    field('A name for it', { name: 'name', maxlength: 64, autocomplete: 'off' }, 'For example “phone” or “work laptop”.'),
    'Create passkey',
    async (fm) => {
      const begin = await withStepUp(() => post('/v1/account/factors:beginWebAuthn', { display_name: value(fm, 'name') }));
      let credential;
      try {
        credential = await webauthn.create(begin.options_json);
      } catch (err) {
        throw new Error(webauthn.problem(err));
      }
      const r = await post('/v1/account/factors:finishWebAuthn', { ceremony_id: begin.ceremony_id, credential_json: credential });
      await finished(area, 'Passkey added.', r.recovery_codes);
    },
  );
  replace(area, h('div', { class: 'panel enrol' }, h('h3', {}, 'Add a passkey'), f));
  area.querySelector('input')?.focus();
}

// finished re-renders the page and, when the change made recovery codes,
// shows them once.
async function finished(area, message, codes) {
  await securityPage();
  status(message);
  if (codes?.length) showCodes(document.getElementById('enrol'), codes);
}

function showCodes(area, codes) {
  const text = codes.join('\n');
  replace(area, h('div', { class: 'panel codes', role: 'region', 'aria-labelledby': 'codes-title' },
    h('h3', { id: 'codes-title' }, 'Your recovery codes'),
    h('p', {}, 'Keep these somewhere safe. Each works once if you lose your second factor. They are shown only now.'),
    h('ol', { class: 'recovery-codes' }, codes.map((c) => h('li', {}, h('code', {}, c)))),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', on: { click: () => navigator.clipboard?.writeText(text).then(() => status('Codes copied.')) } }, 'Copy'),
      h('button', { type: 'button', on: { click: () => { replace(area); status('Recovery codes hidden.'); } } }, 'I have saved them'))));
  area.querySelector('h3').setAttribute('tabindex', '-1');
  area.querySelector('h3').focus();
}

async function removeFactor(f, alert) {
  alert.textContent = '';
  try {
    await withStepUp(() => del(`/v1/account/factors/${encodeURIComponent(f.factor_id)}`));
    await securityPage();
    status(`${kindName(f)} removed.`);
  } catch (err) {
    alert.textContent = err?.text ?? err?.message ?? String(err);
  }
}

async function newCodes(area, alert) {
  alert.textContent = '';
  try {
    const r = await withStepUp(() => post('/v1/account/factors:regenerateRecoveryCodes', {}));
    showCodes(area, r.recovery_codes ?? []);
  } catch (err) {
    alert.textContent = err?.text ?? err?.message ?? String(err);
  }
}
