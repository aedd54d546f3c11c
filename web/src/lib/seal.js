// Sealing chat messages end to end to the conversation service, in the
// browser: the same wire contract as the Go client (pkg/sealclient), so
// that the gateway and any proxy that terminates TLS relay ciphertext only.
//
// HPKE (RFC 9180) in base mode with exactly one suite: X-Wing
// (MLKEM768-X25519, KEM 0x647a), HKDF-SHA256, ChaCha20Poly1305. Messages
// use the info "sotto/conversation/v1 message" and the associated data
// messageAAD(conversation id, reply key); replies use
// "sotto/conversation/v1 reply" and the conversation id. A key list that
// offers anything else (a classical-only key, say) is passed over rather
// than used, so a downgraded list cannot make the widget seal classically.
//
//   import { request } from './api.js';
//   const client = new SealClient({ request });
//   const session = await client.newSession();
//   const { reply } = await session.post(conversationId, 'Where is my order?');
//
// A session's reply private key lives only in the session object (no
// storage, no export); make one per chat and drop it with the chat.
//
// What this does not defend against (docs/adr/0014, "End-to-end sealing"):
// the key list is fetched through the same relay, unsigned.
import { CipherSuite, HkdfSha256 } from '@hpke/core';
import { XWing } from '@hpke/hybridkem-x-wing';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';

export const INFO_MESSAGE = 'sotto/conversation/v1 message';
export const INFO_REPLY = 'sotto/conversation/v1 reply';

// RFC 9180 / draft-ietf-hpke-pq identifiers of the only suite.
export const KEM_ID = 0x647a;
export const KDF_ID = 0x0001;
export const AEAD_ID = 0x0003;

// How long fetched keys are used before they are fetched again, as
// sealclient.DefaultMaxAge.
export const DEFAULT_MAX_AGE_MS = 60 * 60 * 1000;

// Reasons, the same strings as pkg/sealclient's and the service's.
export const REASON_NO_USABLE_KEY = 'SEALING_KEY_UNUSABLE';
export const REASON_REPLY_INVALID = 'SEALED_REPLY_INVALID';
export const REASON_REPLY_UNSEALED = 'SEALED_REPLY_MISSING';
export const REASON_KEY_EXPIRED = 'SEALING_KEY_EXPIRED';
export const REASON_KEY_UNKNOWN = 'SEALING_KEY_UNKNOWN';

const KEYS_PATH = '/v1/conversation-sealing-keys';

const encoder = new TextEncoder();
// fatal: an opened reply that is not UTF-8 is refused, not patched with
// replacement characters.
const decoder = new TextDecoder('utf-8', { fatal: true });

/** An error with the machine-readable reason the Go client would give. */
export class SealError extends Error {
  constructor(reason, message, { status = 0, cause } = {}) {
    super(message, cause ? { cause } : undefined);
    this.name = 'SealError';
    this.reason = reason;
    this.status = status;
  }
}

/** The one suite, a fresh instance (the KEM keeps no key state). */
export function newSuite() {
  return new CipherSuite({ kem: new XWing(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });
}

/**
 * The associated data of a message to the service, byte for byte
 * sealclient.MessageAAD: the conversation id, a zero byte, and the SHA-256
 * of the reply public key, so that a relay can change neither (a relay that
 * swapped in its own reply key would otherwise get the reply sealed to it).
 */
export async function messageAAD(conversationId, replyPublicKey) {
  const id = encoder.encode(conversationId);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', replyPublicKey));
  const aad = new Uint8Array(id.length + 1 + digest.length);
  aad.set(id, 0);
  aad[id.length] = 0;
  aad.set(digest, id.length + 1);
  return aad;
}

/** The associated data of a reply: the conversation id. */
export function replyAAD(conversationId) {
  return encoder.encode(conversationId);
}

// protojson carries bytes as standard base64 (and accepts URL-safe).
export function toBase64(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromBase64(s) {
  if (typeof s !== 'string') throw new TypeError('not a base64 string');
  const std = s.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(std + '='.repeat((4 - (std.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Picks the key to seal to from a GetSealingKeys response (protojson,
 * newest first): the first with exactly this suite, an id, an expiry after
 * now and a public key that parses. Anything else is passed over, as
 * sealclient.Client.Refresh does. Returns null when none is usable.
 */
export async function pickKey(suite, response, nowMs) {
  const keys = Array.isArray(response?.keys) ? response.keys : [];
  for (const k of keys) {
    // protojson leaves zero values out, so a missing id is 0.
    if ((k.kem_id ?? k.kemId ?? 0) !== KEM_ID || (k.kdf_id ?? k.kdfId ?? 0) !== KDF_ID ||
      (k.aead_id ?? k.aeadId ?? 0) !== AEAD_ID) {
      continue;
    }
    const id = k.key_id ?? k.keyId ?? '';
    const expire = Date.parse(k.expire_time ?? k.expireTime ?? '');
    // A missing or unparsable expiry is not "never expires".
    if (typeof id !== 'string' || id === '' || !(expire > nowMs)) continue;
    let bytes;
    try {
      bytes = fromBase64(k.public_key ?? k.publicKey ?? '');
      // Throws unless the bytes are an X-Wing public key (1216 bytes).
      const publicKey = await suite.kem.deserializePublicKey(bytes);
      return { id, bytes, publicKey, expire };
    } catch {
      continue;
    }
  }
  return null;
}

/**
 * Fetches and caches the service's current sealing key through the
 * gateway's REST route and makes sessions.
 *
 * options: request, the pages' API call (lib/api.js's request(method,
 * path, { body }), resolving to the JSON answer and throwing an error with
 * .reason and .status), so that sealed posts share its token and refresh;
 * without it, fetch (globalThis.fetch) to baseURL ('' = same origin) with
 * headers (an object, or a function returning one: the Authorization).
 * now (() => ms since the epoch) and maxAgeMs as sealclient's options.
 */
export class SealClient {
  constructor({ request, baseURL = '', fetch: f, headers = {}, now = () => Date.now(), maxAgeMs = DEFAULT_MAX_AGE_MS } = {}) {
    this.call = request
      ? (method, path, body) => request(method, path, body === undefined ? {} : { body })
      : fetchCall(baseURL, f ?? ((...a) => globalThis.fetch(...a)), headers);
    this.now = now;
    this.maxAgeMs = maxAgeMs;
    this.suite = newSuite();
    this.key = null;
    this.fetched = 0;
  }

  /** Fetches the keys now and picks the newest usable one. */
  async refresh() {
    const body = await this.call('GET', KEYS_PATH);
    const now = this.now();
    const key = await pickKey(this.suite, body, now);
    if (!key) {
      throw new SealError(REASON_NO_USABLE_KEY,
        'the conversation service lists no unexpired MLKEM768-X25519/HKDF-SHA256/ChaCha20Poly1305 key', { status: 412 });
    }
    this.key = key;
    this.fetched = now;
    return key;
  }

  /** Forgets the cached key: the next seal fetches the keys first. */
  invalidate() {
    this.key = null;
  }

  /** The key to seal to, fetched when there is none, it is stale or expired. */
  async current() {
    const now = this.now();
    if (this.key && now - this.fetched < this.maxAgeMs && now < this.key.expire) return this.key;
    return this.refresh();
  }

  /** A session with a fresh reply key pair. */
  async newSession() {
    const pair = await this.suite.kem.generateKeyPair();
    const replyPublicKey = new Uint8Array(await this.suite.kem.serializePublicKey(pair.publicKey));
    return new Session(this, pair, replyPublicKey);
  }
}

// The private key is held in a module-private map, so a session object
// handed to other code exposes no field holding it.
const replyKeys = new WeakMap();

export class Session {
  constructor(client, pair, replyPublicKey) {
    this.client = client;
    this.replyPublicKey = replyPublicKey;
    replyKeys.set(this, pair);
  }

  /**
   * Seals text for the conversation to the service's current key; returns
   * the proto's Sealed message as protojson (bytes in base64).
   */
  async seal(conversationId, text) {
    const key = await this.client.current();
    const sender = await this.client.suite.createSenderContext({
      recipientPublicKey: key.publicKey,
      info: encoder.encode(INFO_MESSAGE),
    });
    const aad = await messageAAD(conversationId, this.replyPublicKey);
    const ct = await sender.seal(encoder.encode(text), aad);
    return {
      key_id: key.id,
      enc: toBase64(new Uint8Array(sender.enc)),
      ciphertext: toBase64(new Uint8Array(ct)),
      reply_public_key: toBase64(this.replyPublicKey),
    };
  }

  /**
   * Opens a reply the service sealed to this session for the conversation
   * (protojson Sealed). Anything that does not open is one error,
   * SEALED_REPLY_INVALID, whichever part was wrong.
   */
  async openReply(conversationId, sealed) {
    try {
      const enc = fromBase64(sealed?.enc ?? '');
      const ct = fromBase64(sealed?.ciphertext ?? '');
      const recipient = await this.client.suite.createRecipientContext({
        recipientKey: replyKeys.get(this),
        enc,
        info: encoder.encode(INFO_REPLY),
      });
      return decoder.decode(await recipient.open(ct, replyAAD(conversationId)));
    } catch (e) {
      throw new SealError(REASON_REPLY_INVALID, 'the sealed reply does not open', { status: 400, cause: e });
    }
  }

  /**
   * Seals text, posts it to the conversation through the gateway and opens
   * the reply. options: view ('MESSAGE_VIEW_REIDENTIFIED', ...), language,
   * channelMessageId. Returns { reply, response }: reply is '' when there is
   * none (a conversation waiting on an agent). A key the service no longer
   * takes makes it fetch the keys and try once more, as the Go client does;
   * a reply that comes back in the clear is refused.
   */
  async post(conversationId, text, { view, language, channelMessageId } = {}) {
    const c = this.client;
    let body;
    for (let attempt = 0; ; attempt++) {
      const req = { conversation_id: conversationId, sealed: await this.seal(conversationId, text) };
      if (view) req.view = view;
      if (language) req.language = language;
      if (channelMessageId) req.channel_message_id = channelMessageId;
      try {
        body = await c.call('POST', `/v1/conversations/${encodeURIComponent(conversationId)}/messages`, req);
        break;
      } catch (err) {
        // The refused post stored nothing: sealing again to fresh keys is safe.
        if (attempt === 0 && (err?.reason === REASON_KEY_EXPIRED || err?.reason === REASON_KEY_UNKNOWN)) {
          await c.refresh();
          continue;
        }
        throw err;
      }
    }
    if (!body?.sealed_reply && !body?.sealedReply) {
      if (body?.reply?.text) {
        // The service answered a sealed message in the clear: the relay saw
        // it. Refuse rather than show it as if it had been sealed.
        throw new SealError(REASON_REPLY_UNSEALED, 'the reply came back unsealed', { status: 502 });
      }
      return { reply: '', response: body };
    }
    const reply = await this.openReply(conversationId, body.sealed_reply ?? body.sealedReply);
    return { reply, response: body };
  }
}

// fetchCall is a minimal API call for pages without lib/api.js (and the
// tests): JSON in and out, the gateway's error body as a SealError.
function fetchCall(baseURL, f, headers) {
  return async (method, path, body) => {
    const h = { Accept: 'application/json', ...(typeof headers === 'function' ? headers() : headers) };
    if (body !== undefined) h['Content-Type'] = 'application/json';
    const resp = await f(baseURL + path, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
      referrerPolicy: 'no-referrer',
    });
    let json = null;
    try {
      json = await resp.json();
    } catch {
      // Not JSON (a proxy's page): the status alone.
    }
    if (!resp.ok) {
      // {"error": {"code", "status", "message", "reason"}}
      const e = json?.error ?? {};
      throw new SealError(String(e.reason ?? ''), String(e.message ?? `HTTP ${resp.status}`), { status: resp.status });
    }
    return json;
  };
}
