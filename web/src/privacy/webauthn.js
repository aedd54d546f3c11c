// Passkeys (WebAuthn) for the privacy centre: identity sends the ceremony's
// options as JSON bytes (base64 in the REST answer) and takes the
// credential back the same way. The browser's own JSON helpers
// (parseCreationOptionsFromJSON, toJSON) do the base64url work.

const enc = new TextEncoder();
const dec = new TextDecoder();

export const supported = () =>
  typeof PublicKeyCredential === 'function' && typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function';

function fromBase64(b64) {
  const bin = atob(String(b64 ?? ''));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function toBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}

// options decodes identity's options_json: go-webauthn wraps them as
// {"publicKey": {...}}.
function options(b64) {
  const o = JSON.parse(dec.decode(fromBase64(b64)));
  return o.publicKey ?? o;
}

const credentialJSON = (cred) => toBase64(enc.encode(JSON.stringify(cred.toJSON())));

// create runs navigator.credentials.create for BeginWebAuthnRegistration's
// options and returns FinishWebAuthnRegistration's credential_json.
export async function create(optionsJSON) {
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options(optionsJSON));
  const cred = await navigator.credentials.create({ publicKey });
  return credentialJSON(cred);
}

// get runs navigator.credentials.get for BeginWebAuthnLogin's options and
// returns FinishWebAuthnLogin's credential_json.
export async function get(optionsJSON) {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options(optionsJSON));
  const cred = await navigator.credentials.get({ publicKey });
  return credentialJSON(cred);
}

// problem turns a refused ceremony into a sentence (the browser's own
// messages name internals).
export function problem(err) {
  if (err?.name === 'NotAllowedError') return 'The passkey request was cancelled or timed out.';
  if (err?.name === 'InvalidStateError') return 'This authenticator is already registered.';
  if (err?.name === 'SecurityError') return 'Passkeys do not work on this address.';
  return err?.text ?? err?.message ?? String(err);
}
