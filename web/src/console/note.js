// The audit log's checkpoints: C2SP signed notes (c2sp.org/signed-note)
// whose text is a C2SP checkpoint (c2sp.org/tlog-checkpoint), signed with
// Ed25519 by the audit service's key in the KeyManager (docs/adr/0002,
// services/audit/internal/ledger/keys.go). Verified here with WebCrypto's
// Ed25519 against a verifier key the staff member pinned (see audit.js for
// where the key comes from); never against the key the service sends
// alongside the checkpoint, which anyone who can rewrite the log can also
// rewrite.
import { ProofError, equalBytes, fromBase64 } from './merkle.js';

const enc = new TextEncoder();
const ALG_ED25519 = 1;

// parseVerifierKey reads "<name>+<hash>+<base64(0x01 || key)>" and checks
// the key hash (the first four bytes of SHA-256(name "\n" 0x01 key)).
export async function parseVerifierKey(vkey) {
  const s = String(vkey ?? '').trim();
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(s);
  if (!m) throw new ProofError('not a note verifier key (name+hash+key)');
  const [, name, hashHex] = m;
  const raw = fromBase64(m[3]);
  if (raw.length !== 33 || raw[0] !== ALG_ED25519) throw new ProofError('not an Ed25519 verifier key');
  const hash = await keyHash(name, raw);
  if (hash.toString(16).padStart(8, '0') !== hashHex) throw new ProofError('the verifier key hash does not match its key');
  let key;
  try {
    key = await crypto.subtle.importKey('raw', raw.slice(1), { name: 'Ed25519' }, false, ['verify']);
  } catch {
    throw new ProofError('this browser cannot verify Ed25519 signatures');
  }
  return { name, hash, key, text: s };
}

async function keyHash(name, raw) {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array([...enc.encode(`${name}\n`), ...raw])));
  return ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0;
}

// verifyNote checks a signed note against the pinned verifiers and returns
// its text. At least one signature must be by a pinned key and verify;
// signatures by unknown keys are ignored (a witness may cosign), a bad one
// by a pinned key fails.
export async function verifyNote(noteBytes, verifiers) {
  const msg = typeof noteBytes === 'string' ? noteBytes : new TextDecoder('utf-8', { fatal: true }).decode(noteBytes);
  const split = msg.lastIndexOf('\n\n');
  if (split < 0 || !msg.endsWith('\n')) throw new ProofError('the checkpoint is not a signed note');
  const text = msg.slice(0, split + 1);
  const lines = msg.slice(split + 2, -1).split('\n');
  let verified = false;
  for (const line of lines) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+=*)$/.exec(line);
    if (!m) throw new ProofError('a signature line of the checkpoint is malformed');
    const sig = fromBase64(m[2]);
    if (sig.length < 5) throw new ProofError('a signature of the checkpoint is too short');
    const hash = ((sig[0] << 24) | (sig[1] << 16) | (sig[2] << 8) | sig[3]) >>> 0;
    for (const v of verifiers) {
      if (v.name !== m[1] || v.hash !== hash) continue;
      const ok = await crypto.subtle.verify({ name: 'Ed25519' }, v.key, sig.slice(4), enc.encode(text));
      if (!ok) throw new ProofError('the checkpoint signature does not verify');
      verified = true;
    }
  }
  if (!verified) throw new ProofError('the checkpoint is not signed by a pinned key');
  return text;
}

// parseCheckpoint reads a checkpoint's text: origin, size, base64 root
// hash, then optional extension lines.
export function parseCheckpoint(text) {
  const lines = text.split('\n');
  if (lines.length < 4 || lines.at(-1) !== '') throw new ProofError('the checkpoint text is malformed');
  const [origin, size, root] = lines;
  if (!/^(0|[1-9][0-9]{0,18})$/.test(size)) throw new ProofError('the checkpoint size is malformed');
  const hash = fromBase64(root);
  if (hash.length !== 32) throw new ProofError('the checkpoint root is not 32 bytes');
  return { origin, size: BigInt(size), root: hash };
}

// verifyCheckpoint checks the service's GetCheckpointResponse: the signed
// note verifies under a pinned key whose name is the origin, and the size
// and root the response states are the ones signed.
export async function verifyCheckpoint(resp, verifiers) {
  const cp = resp?.checkpoint;
  if (!cp?.signed_note) throw new ProofError('the service sent no signed checkpoint');
  const text = await verifyNote(fromBase64(cp.signed_note), verifiers);
  const c = parseCheckpoint(text);
  if (!verifiers.some((v) => v.name === c.origin)) throw new ProofError('the checkpoint is for another log');
  if (BigInt(cp.tree_size ?? 0) !== c.size || !equalBytes(fromBase64(cp.root_hash ?? ''), c.root)) {
    throw new ProofError('the checkpoint fields differ from what was signed');
  }
  return c;
}
