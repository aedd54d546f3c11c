// How the widget's messages travel (issue 14, ADR 0016 "Sealing in the
// browser"). By default each message is sealed end to end to the
// conversation service (lib/seal-transport.js: HPKE to the service's key,
// the reply sealed back to a key that lives in this page only), so the
// gateway and any proxy that terminates TLS relay ciphertext. A shop turns
// that off only by saying so in its tag (data-seal="off", passed to this
// page as seal=off); the widget then says the chat is not sealed, and
// messages go as PostMessage's text over TLS, as before sealing.
//
// Sealing that cannot be done (no usable key, a browser without WebCrypto)
// fails the message closed with SEAL_UNAVAILABLE: it is never sent in the
// clear instead.
import { ApiError } from '../lib/api.js';
import * as sealed from '../lib/seal-transport.js';

export const SEAL_UNAVAILABLE = 'SEAL_UNAVAILABLE';

// sealing is off only when the page was opened with seal=off.
export const sealing = new URLSearchParams(location.search).get('seal') !== 'off';

/** An error the widget shows with its own (translated) words. */
export class TransportError extends Error {
  constructor(reason, message, cause) {
    super(message, cause ? { cause } : undefined);
    this.name = 'TransportError';
    this.reason = reason;
  }
}

// canSeal: what @hpke needs from the browser (WebCrypto, which exists in
// secure contexts only).
function canSeal() {
  return globalThis.isSecureContext !== false && typeof globalThis.crypto?.subtle?.digest === 'function' &&
    typeof globalThis.crypto?.getRandomValues === 'function';
}

// outgoing is the body of POST /v1/conversations/{id}/messages for text.
// ctx holds the conversation id, the language and the view.
export async function outgoing(ctx, text) {
  if (!sealing) return { text, language: ctx.language || undefined, view: ctx.view };
  if (!canSeal()) throw new TransportError(SEAL_UNAVAILABLE, 'this browser cannot seal messages');
  try {
    return await sealed.outgoing(ctx, text);
  } catch (err) {
    // A refused key list is the gateway's answer (an ApiError, shown as
    // such); anything else (no usable key, a WebCrypto failure) means the
    // message cannot be sealed: it is not sent.
    if (err instanceof ApiError) throw err;
    throw new TransportError(SEAL_UNAVAILABLE, 'the message could not be sealed', err);
  }
}

// incoming returns the messages of a PostMessage answer that carry text:
// the opened reply when sealing (the customer's stored message comes back
// without text and is left to the event stream), else the stored message
// and the reply.
export async function incoming(ctx, resp) {
  if (!sealing) return [resp?.message, resp?.reply].filter(Boolean);
  return sealed.incoming(ctx, resp);
}

// keyRefused: the service refused the key a message was sealed to
// (SEALING_KEY_EXPIRED or SEALING_KEY_UNKNOWN); the next message is sealed
// to fresh keys. It returns whether it was such a refusal, after which
// sending again is safe (the refused post stored nothing).
export function keyRefused(err) {
  if (!sealing) return false;
  const refused = err?.reason === 'SEALING_KEY_EXPIRED' || err?.reason === 'SEALING_KEY_UNKNOWN';
  sealed.keyRefused(err);
  return refused;
}

// forget drops a conversation's reply key.
export function forget(conversationId) {
  sealed.forget(conversationId);
}

// streamView is the view the event stream may be asked for: with sealing
// on, placeholders only, since the stream is not sealed and a
// re-identified copy would cross the gateway in the clear.
export function streamView(view) {
  return sealing ? 'MESSAGE_VIEW_PLACEHOLDERS' : view;
}
