// The test page's bundle entry for test/browser/seal_test.go: it exposes
// web/src/lib/seal.js to the Go test, which drives it through the DevTools
// protocol. Bytes cross as base64, errors as { reason, message }.
import {
  AEAD_ID, KDF_ID, KEM_ID, SealClient, SealError, fromBase64, messageAAD, newSuite, toBase64,
} from '../src/lib/seal.js';
import { incoming, outgoing } from '../src/lib/seal-transport.js';
import { post as apiPost } from '../src/lib/api.js';

const sessions = new Map();
const standIns = new Map();
let next = 0;

// A client whose key list is the one given, instead of the gateway's: the
// interop test has no service, only a key pair Go made.
function clientWithKeys(keys, now) {
  const fetch = async (url) => {
    if (!url.endsWith('/v1/conversation-sealing-keys')) throw new Error('unexpected fetch ' + url);
    return new Response(JSON.stringify({ keys }), { status: 200, headers: { 'Content-Type': 'application/json' } });
  };
  return new SealClient({ fetch, now: now ? () => now : undefined });
}

async function outcome(f) {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    return { ok: false, reason: e instanceof SealError ? e.reason : '', message: String(e?.message ?? e) };
  }
}

window.sealTest = {
  suite: () => outcome(() => ({ kem: KEM_ID, kdf: KDF_ID, aead: AEAD_ID })),

  // Known answers: the draft-ietf-hpke-pq X-Wing vector (the key pair from
  // its 32-byte seed skRm, then every ciphertext opened in order).
  knownAnswer: (v) => outcome(async () => {
    const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
    const suite = newSuite();
    const pair = await suite.kem.generateKeyPairDerand(hex(v.skRm));
    const pk = toBase64(new Uint8Array(await suite.kem.serializePublicKey(pair.publicKey)));
    const r = await suite.createRecipientContext({ recipientKey: pair, enc: hex(v.enc), info: hex(v.info) });
    const opened = [];
    for (const e of v.encryptions) {
      opened.push(toBase64(new Uint8Array(await r.open(hex(e.ct), hex(e.aad)))));
    }
    return { publicKey: pk, opened };
  }),

  // A session sealing to the keys listed (protojson SealingKey objects).
  newSession: (keys, now) => outcome(async () => {
    const s = await clientWithKeys(keys, now).newSession();
    const id = 'session-' + next++;
    sessions.set(id, s);
    return { id, replyPublicKey: toBase64(s.replyPublicKey) };
  }),

  // A session against a stand-in gateway that lists keys and answers
  // posts with the answers ({ status, body }) standInPost gives, in order.
  standInSession: (keys, now) => outcome(async () => {
    const state = { answers: [], sent: [], keyFetches: 0 };
    const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
    const fetch = async (url, init) => {
      if (url.endsWith('/v1/conversation-sealing-keys')) {
        state.keyFetches++;
        return json(200, { keys });
      }
      state.sent.push({ url, body: JSON.parse(init.body) });
      const a = state.answers[state.sent.length - 1];
      if (!a) throw new Error('unexpected post ' + url);
      return json(a.status, a.body);
    };
    const s = await new SealClient({ fetch, now: () => now }).newSession();
    const id = 'session-' + next++;
    sessions.set(id, s);
    standIns.set(id, state);
    return { id, replyPublicKey: toBase64(s.replyPublicKey) };
  }),

  // Resolves with what the page sent, how often it fetched the keys, and
  // how the post ended.
  standInPost: (id, answers, conversationId, text) => outcome(async () => {
    const state = standIns.get(id);
    Object.assign(state, { answers, sent: [], keyFetches: 0 });
    const result = await outcome(() => sessions.get(id).post(conversationId, text));
    return { sent: state.sent, keyFetches: state.keyFetches, result };
  }),

  seal: (id, conversationId, text) => outcome(() => sessions.get(id).seal(conversationId, text)),

  openReply: (id, conversationId, sealed) => outcome(() => sessions.get(id).openReply(conversationId, sealed)),

  messageAAD: (conversationId, replyPublicKey) =>
    outcome(async () => toBase64(await messageAAD(conversationId, fromBase64(replyPublicKey)))),

  // Through a real gateway at this page's origin.
  gatewaySession: (token) => outcome(async () => {
    const c = new SealClient({ headers: () => ({ Authorization: 'Bearer ' + token }) });
    const s = await c.newSession();
    const id = 'session-' + next++;
    sessions.set(id, s);
    return { id };
  }),

  post: (id, conversationId, text, options) => outcome(() => sessions.get(id).post(conversationId, text, options)),

  // The widget's path: lib/seal-transport.js around lib/api.js's post, as
  // widget/main.js sends a message.
  transportPost: (token, conversationId, text, view) => outcome(async () => {
    const ctx = { conversationId, language: '', view };
    const body = await outgoing(ctx, text);
    const resp = await apiPost(`/v1/conversations/${conversationId}/messages`, body, { token });
    return { sent: body, messages: await incoming(ctx, resp) };
  }),

  // The control of the gateway test: the same text in the clear.
  postClear: (token, conversationId, text) => outcome(async () => {
    const resp = await fetch(`/v1/conversations/${encodeURIComponent(conversationId)}/messages`, {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ conversation_id: conversationId, text }),
    });
    if (!resp.ok) throw new Error('HTTP ' + resp.status + ' ' + (await resp.text()));
    return null;
  }),

  // Posts after relabelling the cached key as the period starting at the
  // epoch, which the service refuses as expired: the client must fetch the
  // keys again and seal anew.
  postWithStaleKey: (id, conversationId, text) => outcome(async () => {
    const s = sessions.get(id);
    s.client.key = { ...(await s.client.current()), id: 'xwing-0' };
    const r = await s.post(conversationId, text);
    if (s.client.key.id === 'xwing-0') throw new Error('the keys were not fetched again');
    return r;
  }),
};
