// RFC 9162 (Certificate Transparency 2.0, section 2.1) Merkle tree proofs,
// verified in the browser: the audit viewer believes an entry only when its
// leaf hash, the inclusion proof and the signed checkpoint agree, and the
// log only when it is consistent with the checkpoint seen last time.
//
// Written here rather than taken from npm: no maintained, small package
// does RFC 6962/9162 inclusion and consistency verification on its own
// (the registry's Merkle packages are Ethereum/Cosmos trees with other
// hashing, or parts of large clients such as Sigstore's). The algorithms
// are the RFC's pseudocode, the same as github.com/transparency-dev/merkle's
// proof package that the audit service uses (docs/adr/0002), and the
// browser test runs both against each other (test/browser/console_test.go).
//
// Sizes and indices are BigInt inside (tree sizes may pass 2^32, where
// JavaScript's bit operators stop); callers pass numbers, strings or
// BigInts. Hashes are Uint8Arrays of 32 bytes. Every function is async
// because WebCrypto's SHA-256 is.

export const HASH_SIZE = 32;

async function sha256(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const buf = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    buf.set(p, o);
    o += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
}

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

// hashLeaf is RFC 6962's leaf hash, SHA-256(0x00 || data).
export const hashLeaf = (data) => sha256(LEAF, data);

// hashChildren is the interior node hash, SHA-256(0x01 || left || right).
export const hashChildren = (l, r) => sha256(NODE, l, r);

export function equalBytes(a, b) {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

// ProofError says why a proof was refused; the viewer shows the message.
export class ProofError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ProofError';
  }
}

function big(v, what) {
  let b;
  try {
    b = typeof v === 'bigint' ? v : BigInt(v);
  } catch {
    throw new ProofError(`${what} is not an integer`);
  }
  if (b < 0n) throw new ProofError(`${what} is negative`);
  return b;
}

function checkHashes(proof) {
  if (!Array.isArray(proof)) throw new ProofError('the proof is not a list of hashes');
  for (const h of proof) if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) throw new ProofError('a proof hash is not 32 bytes');
}

// rootFromInclusionProof is RFC 9162 section 2.1.3.2: the root a proof
// leads to from leafHash at index in a tree of size.
export async function rootFromInclusionProof(index, size, leafHash, proof) {
  let fn = big(index, 'the leaf index');
  let sn = big(size, 'the tree size') - 1n;
  if (fn > sn) throw new ProofError(`leaf index ${fn} is outside a tree of ${sn + 1n}`);
  if (!(leafHash instanceof Uint8Array) || leafHash.length !== HASH_SIZE) throw new ProofError('the leaf hash is not 32 bytes');
  checkHashes(proof);
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0n) throw new ProofError('the proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      r = await hashChildren(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await hashChildren(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ProofError('the proof is too short');
  return r;
}

// verifyInclusion throws a ProofError unless the proof shows leafHash at
// index in the tree of size with root.
export async function verifyInclusion(index, size, leafHash, proof, root) {
  const got = await rootFromInclusionProof(index, size, leafHash, proof);
  if (!equalBytes(got, root)) throw new ProofError('the inclusion proof does not lead to the signed root');
}

// verifyConsistency is RFC 9162 section 2.1.4.2: the tree of size1 with
// root1 is a prefix of the tree of size2 with root2. It throws a
// ProofError otherwise. Like transparency-dev/merkle, an empty first tree
// is consistent with anything (with an empty proof).
export async function verifyConsistency(size1, size2, root1, root2, proof) {
  const m = big(size1, 'the first size');
  const n = big(size2, 'the second size');
  checkHashes(proof);
  if (m > n) throw new ProofError(`the log shrank from ${m} to ${n} entries`);
  if (m === n) {
    if (proof.length !== 0) throw new ProofError('a proof between equal sizes must be empty');
    if (!equalBytes(root1, root2)) throw new ProofError('the same size has two different roots');
    return;
  }
  if (m === 0n) {
    if (proof.length !== 0) throw new ProofError('a proof from the empty tree must be empty');
    return;
  }
  if (proof.length === 0) throw new ProofError('the consistency proof is empty');
  // A first tree that is a complete subtree is its own first node.
  const path = (m & (m - 1n)) === 0n ? [root1, ...proof] : proof;
  let fn = m - 1n;
  let sn = n - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new ProofError('the consistency proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await hashChildren(c, fr);
      sr = await hashChildren(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = await hashChildren(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ProofError('the consistency proof is too short');
  if (!equalBytes(fr, root1)) throw new ProofError('the consistency proof does not lead to the earlier root');
  if (!equalBytes(sr, root2)) throw new ProofError('the consistency proof does not lead to the signed root');
}

// Base64 (standard, as protobuf JSON writes bytes) to bytes and back.
export function fromBase64(s) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) throw new ProofError('not base64');
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export function toBase64(b) {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

export const toHex = (b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
