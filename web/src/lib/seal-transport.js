// The widget's message transport with end-to-end sealing: the same two
// functions as web/src/widget/transport.js (outgoing builds PostMessage's
// body, incoming reads its answer), so the widget switches to sealing with
//
//   export { incoming, outgoing } from '../lib/seal-transport.js';
//
// outgoing seals the text (lib/seal.js) to the conversation service's key
// with a reply key made for the conversation, which stays in this module's
// memory for the page's life; incoming opens sealed_reply with it. A
// reply that comes back in the clear to a sealed message is refused.
//
// What the widget should know:
// - The customer's message comes back with no text (the gateway never saw
//   it); incoming leaves it out, so the copy on the conversation's event
//   stream, in placeholder view, is the one the widget adopts (and learns
//   the placeholders from).
// - The event stream is not sealed (docs/adr/0014, "End-to-end sealing"):
//   with sealing on, follow it in placeholder view only, or the
//   re-identified reply crosses the gateway in the clear after all.
// - A post refused with SEALING_KEY_EXPIRED or SEALING_KEY_UNKNOWN: pass
//   the error to keyRefused, and the next outgoing fetches the keys again
//   (the widget's own post is in between, so the widget seals and posts
//   once more itself, as Session.post does).
import { request } from './api.js';
import { REASON_KEY_EXPIRED, REASON_KEY_UNKNOWN, REASON_REPLY_UNSEALED, SealClient, SealError } from './seal.js';

let client = null;
const sessions = new Map(); // conversation id → Session

function sealClient() {
  client ??= new SealClient({ request });
  return client;
}

async function sessionFor(conversationId) {
  let s = sessions.get(conversationId);
  if (!s) {
    s = await sealClient().newSession();
    sessions.set(conversationId, s);
  }
  return s;
}

// forget drops a conversation's reply key (when the chat ends or resets).
export function forget(conversationId) {
  sessions.delete(conversationId);
}

// keyRefused tells the transport that the service refused the key a
// message was sealed to, so that the next message is sealed to fresh keys.
export function keyRefused(err) {
  if (err?.reason === REASON_KEY_EXPIRED || err?.reason === REASON_KEY_UNKNOWN) client?.invalidate();
}

// outgoing is the body of POST /v1/conversations/{id}/messages for text.
// ctx holds the conversation id, the language and the view.
export async function outgoing(ctx, text) {
  const s = await sessionFor(ctx.conversationId);
  return { sealed: await s.seal(ctx.conversationId, text), language: ctx.language || undefined, view: ctx.view };
}

// incoming returns the messages of a PostMessage answer: the reply, opened
// with the conversation's reply key, when there is one.
export async function incoming(ctx, resp) {
  const out = [];
  if (resp?.message?.text) out.push(resp.message);
  if (resp?.sealed_reply) {
    const s = sessions.get(ctx.conversationId);
    if (!s) throw new SealError('SEALED_REPLY_INVALID', 'the sealed reply does not open');
    out.push({ ...(resp.reply ?? {}), text: await s.openReply(ctx.conversationId, resp.sealed_reply) });
  } else if (resp?.reply?.text) {
    // The service answered a sealed message in the clear: the relay saw it.
    throw new SealError(REASON_REPLY_UNSEALED, 'the reply came back unsealed');
  }
  return out;
}
