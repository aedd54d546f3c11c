// The test page's bundle entry for test/browser/seal_test.go: it exposes
// web/src/lib/seal.js to the Go test, which drives it through the DevTools
// protocol. Bytes cross as base64, errors as { reason, message }.
import {
  AEAD_ID, KDF_ID, KEM_ID, SealClient, SealError, fromBase64, messageAAD, newSuite, toBase64,
} from '../src/lib/seal.js';

const sessions = new Map();
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
};
