// Step-up: a call that needs a recent second factor answers 401
// STEP_UP_REQUIRED (RFC 9470); withStepUp asks the person for a code from
// their authenticator app, a recovery code or a passkey in a modal dialog,
// raises the session (identity's StepUp or the WebAuthn login ceremony)
// and repeats the call once.
import { ApiError, post } from '../lib/api.js';
import { field, h } from '../lib/dom.js';
import { SESSION_HEADER, setSession } from '../lib/session.js';
import { form, value } from './ui.js';
import * as webauthn from './webauthn.js';

// stepUpWith raises the session with a TOTP or recovery code.
export async function stepUpWith(code) {
  const body = /^[0-9]{6}$/.test(code) ? { totp_code: code } : { recovery_code: code };
  const r = await post('/v1/sessions:stepUp', body, { headers: SESSION_HEADER });
  setSession(r.tokens);
  return r;
}

// stepUpWithPasskey raises the session with a passkey (or, with token ''
// and a tenant, signs in without a password).
export async function stepUpWithPasskey({ tenant, token } = {}) {
  const begin = await post('/v1/sessions:beginWebAuthn', tenant ? { tenant } : {}, { headers: SESSION_HEADER, token });
  const credential = await webauthn.get(begin.options_json);
  const r = await post('/v1/sessions:finishWebAuthn', { ceremony_id: begin.ceremony_id, credential_json: credential }, { headers: SESSION_HEADER, token });
  setSession(r.tokens);
  return r;
}

// secondFactorForm is the code form the login page and the dialog share:
// one field takes an app's 6-digit code or a recovery code.
export function secondFactorForm(onDone, ...extra) {
  const passkey = webauthn.supported()
    ? h('button', { type: 'button', class: 'secondary', on: { click: () => usePasskey() } }, 'Use a passkey')
    : null;
  const f = form(
    { class: 'step-up', 'aria-label': 'Second factor' },
    field('Code from your authenticator app', { name: 'code', required: true, autocomplete: 'one-time-code', inputmode: 'text', maxlength: 32, spellcheck: false }, 'Six digits, or one of your recovery codes.'),
    'Confirm',
    async (fm) => {
      const code = value(fm, 'code').replaceAll(' ', '');
      if (!code) throw new ApiError(400, 'CODE_MISSING', 'Enter the code from your authenticator app or a recovery code.');
      await stepUpWith(code);
      onDone();
    },
    passkey,
    ...extra,
  );
  async function usePasskey() {
    const alert = f.querySelector('[role=alert]');
    alert.textContent = '';
    try {
      await stepUpWithPasskey();
      onDone();
    } catch (err) {
      alert.textContent = webauthn.problem(err);
    }
  }
  return f;
}

// askStepUp shows the dialog; true once the session is raised, false when
// the person cancels.
export function askStepUp() {
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      resolve(ok);
    };
    const cancel = h('button', { type: 'button', class: 'secondary', on: { click: () => finish(false) } }, 'Cancel');
    const dlg = h(
      'dialog',
      { 'aria-labelledby': 'stepup-title', class: 'dialog' },
      h('h2', { id: 'stepup-title' }, 'Confirm it is you'),
      h('p', {}, 'This needs a second factor from the last few minutes.'),
      secondFactorForm(() => finish(true), cancel),
    );
    dlg.addEventListener('cancel', () => finish(false));
    document.body.append(dlg);
    dlg.showModal();
    dlg.querySelector('input')?.focus();
  });
}

// withStepUp runs f; when it answers STEP_UP_REQUIRED, the person steps
// up and f runs once more.
export async function withStepUp(f) {
  try {
    return await f();
  } catch (err) {
    if (!(err instanceof ApiError) || err.reason !== 'STEP_UP_REQUIRED') throw err;
    if (!(await askStepUp())) throw new ApiError(401, 'STEP_UP_CANCELLED', 'Cancelled: this needs you to confirm it is you.');
    return f();
  }
}
