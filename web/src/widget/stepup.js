// Step-up inside the widget (ADR 0016, "Chat widget"): when the assistant's
// reply says REQUIRED_ACTION_STEP_UP, the customer confirms it is them here,
// with a code from their authenticator app, a recovery code or a passkey,
// and the widget swaps its in-memory access token for the aal2 one that
// identity returns (sessions:stepUp with the current token; in browser mode,
// so that no refresh token reaches this page). Nothing is stored.
import { ApiError, post } from '../lib/api.js';
import { field, h } from '../lib/dom.js';
import { SESSION_HEADER, setSession } from '../lib/session.js';

// stepUp raises the session with a TOTP code (six digits) or a recovery
// code.
export async function stepUp(code) {
  const body = /^[0-9]{6}$/.test(code) ? { totp_code: code } : { recovery_code: code };
  const r = await post('/v1/sessions:stepUp', body, { headers: SESSION_HEADER });
  setSession(r.tokens);
}

// passkeys: the browser has WebAuthn with its JSON helpers and this frame
// may use it (the shop's iframe delegates publickey-credentials-get).
export function passkeys() {
  if (typeof PublicKeyCredential !== 'function' || typeof PublicKeyCredential.parseRequestOptionsFromJSON !== 'function') return false;
  const policy = document.permissionsPolicy ?? document.featurePolicy;
  return !policy?.allowsFeature || policy.allowsFeature('publickey-credentials-get');
}

function fromBase64(b64) {
  const bin = atob(String(b64 ?? ''));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function toBase64(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

// stepUpWithPasskey is the WebAuthn login ceremony with the current access
// token: identity raises the session to aal2.
export async function stepUpWithPasskey() {
  const begin = await post('/v1/sessions:beginWebAuthn', {}, { headers: SESSION_HEADER });
  const o = JSON.parse(new TextDecoder().decode(fromBase64(begin.options_json)));
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(o.publicKey ?? o);
  const cred = await navigator.credentials.get({ publicKey });
  const credential = toBase64(new TextEncoder().encode(JSON.stringify(cred.toJSON())));
  const r = await post('/v1/sessions:finishWebAuthn', { ceremony_id: begin.ceremony_id, credential_json: credential }, { headers: SESSION_HEADER });
  setSession(r.tokens);
}

// stepUpPanel is the form, in the widget's words T; onDone runs once the
// session is raised, onCancel when the customer closes it.
export function stepUpPanel(T, onDone, onCancel) {
  const alert = h('p', { role: 'alert', class: 'error' });
  const code = field(T.codeLabel, { name: 'code', id: 'stepup-code', required: true, autocomplete: 'one-time-code', inputmode: 'text', maxlength: 32, spellcheck: false }, T.codeHint);
  const submit = h('button', { type: 'submit' }, T.confirm);
  const fail = (err) => {
    alert.textContent = err instanceof ApiError ? (err.text ?? err.message) : T.passkeyFailed;
  };
  const busy = async (f) => {
    form.setAttribute('aria-busy', 'true');
    submit.disabled = true;
    alert.textContent = '';
    try {
      await f();
      onDone();
    } catch (err) {
      fail(err);
    } finally {
      form.removeAttribute('aria-busy');
      submit.disabled = false;
    }
  };
  const passkey = passkeys()
    ? h('button', { type: 'button', class: 'secondary', on: { click: () => busy(stepUpWithPasskey) } }, T.usePasskey)
    : null;
  const form = h('form', {
    class: 'panel stepup', 'aria-labelledby': 'stepup-title', novalidate: true,
    on: {
      submit: (e) => {
        e.preventDefault();
        const v = (form.elements.code.value ?? '').replaceAll(' ', '');
        if (!v) {
          alert.textContent = T.codeMissing;
          form.elements.code.focus();
          return;
        }
        busy(() => stepUp(v));
      },
    },
  },
  h('h2', { id: 'stepup-title' }, T.confirm),
  h('p', { class: 'hint' }, T.stepUpWhy),
  code,
  alert,
  h('div', { class: 'actions' }, submit, ...(passkey ? [passkey] : []),
    h('button', { type: 'button', class: 'secondary', on: { click: onCancel } }, T.cancel)));
  return form;
}
