// Package ff1 implements the FF1 format-preserving encryption mode from
// NIST SP 800-38G Rev. 1 ("Recommendation for Block Cipher Modes of
// Operation: Methods for Format-Preserving Encryption"), using AES as the
// underlying block cipher.
//
// FF1 encrypts a string of numerals in a given radix (for example a
// 16-digit card number in radix 10) into another string of numerals of the
// same length and radix. FF3/FF3-1 are not provided; FF3 was withdrawn by
// the Rev. 1 revision of the standard.
//
// This package is hand-written: no FF1 implementation was available from
// the Go module proxy for this project, and it depends only on the
// standard library. It follows Algorithms 7 (FF1.Encrypt) and 8
// (FF1.Decrypt) of the standard, and the comments use the standard's step
// numbering. It is tested against the NIST FF1 sample vectors
// (FF1samples.pdf, Samples 1-9) and a few published cross-implementation
// vectors that exercise longer inputs and tweaks.
//
// Domain restrictions enforced (SP 800-38G Rev. 1, Section 5.2):
//   - radix ∈ [2 .. 2^16];
//   - radix^minlen ≥ 1,000,000, with minlen ≥ 2;
//   - maxlen ≤ 2^32 - 1 (the input length n is encoded as [n]^4 in P).
//
// Error messages never include the input value or tweak, which may be
// sensitive (for example a card number); at most they include lengths and
// positions.
//
// A Cipher and a Codec are safe for concurrent use by multiple goroutines.
package ff1

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"math/big"
)

const (
	// MinRadix and MaxRadix bound the radix accepted by New (SP 800-38G
	// Rev. 1, Section 5.2).
	MinRadix = 2
	MaxRadix = 1 << 16

	// minDomainSize is the Rev. 1 requirement radix^minlen ≥ 1,000,000.
	minDomainSize = 1_000_000

	// maxLen is the largest input length: n and t are each encoded in four
	// bytes in the block P (Algorithm 7, step 5).
	maxLen = 1<<32 - 1

	blockSize = aes.BlockSize // 16 bytes
)

// Cipher is FF1 with AES (key of 16, 24 or 32 bytes) over a given radix.
type Cipher struct {
	block       cipher.Block // CIPH_K, precomputed once in New
	radix       int
	bigRadix    *big.Int
	minLen      int
	maxTweakLen int
}

// New returns an FF1 cipher for the AES key (16, 24 or 32 bytes) and the
// radix (2..65536). Tweaks longer than maxTweakLen bytes are rejected;
// maxTweakLen must be in [0, 2^32-1].
//
// Inputs must be at least MinLen() numerals long, where MinLen is the
// smallest length ≥ 2 with radix^MinLen ≥ 1,000,000 (6 for radix 10, 4 for
// radix 36 and 62, 20 for radix 2).
func New(key []byte, radix int, maxTweakLen int) (*Cipher, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("ff1: invalid key size %d bytes: must be 16, 24 or 32", len(key))
	}
	if radix < MinRadix || radix > MaxRadix {
		return nil, fmt.Errorf("ff1: invalid radix %d: must be in [%d, %d]", radix, MinRadix, MaxRadix)
	}
	if maxTweakLen < 0 || uint64(maxTweakLen) > maxLen {
		return nil, fmt.Errorf("ff1: invalid maximum tweak length %d: must be in [0, %d]", maxTweakLen, uint64(maxLen))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		// Unreachable given the length check above; never echo the key.
		return nil, errors.New("ff1: cannot initialise AES")
	}

	// minlen: the smallest length ≥ 2 such that radix^minlen ≥ 1,000,000.
	// Overflow is impossible: p < 10^6 before multiplying by at most 2^16.
	minLen := 0
	for p := 1; p < minDomainSize; p *= radix {
		minLen++
	}
	minLen = max(minLen, 2)

	return &Cipher{
		block:       block,
		radix:       radix,
		bigRadix:    big.NewInt(int64(radix)),
		minLen:      minLen,
		maxTweakLen: maxTweakLen,
	}, nil
}

// Radix returns the radix the cipher was created with.
func (c *Cipher) Radix() int { return c.radix }

// MinLen returns the minimum number of numerals accepted by Encrypt and
// Decrypt.
func (c *Cipher) MinLen() int { return c.minLen }

// MaxTweakLen returns the maximum tweak length in bytes.
func (c *Cipher) MaxTweakLen() int { return c.maxTweakLen }

// Encrypt enciphers the numeral string (each numeral in [0, radix)) under
// the tweak and returns a new numeral string of the same length. The input
// slice is not modified.
func (c *Cipher) Encrypt(numerals []uint16, tweak []byte) ([]uint16, error) {
	return c.crypt(numerals, tweak, true)
}

// Decrypt deciphers a numeral string produced by Encrypt with the same key,
// radix and tweak. The input slice is not modified.
func (c *Cipher) Decrypt(numerals []uint16, tweak []byte) ([]uint16, error) {
	return c.crypt(numerals, tweak, false)
}

// validate checks the input against the domain of the cipher. Messages
// carry lengths and positions only, never numeral values.
func (c *Cipher) validate(x []uint16, tweak []byte) error {
	if c == nil || c.block == nil {
		return errors.New("ff1: cipher not initialised (use New)")
	}
	if len(x) < c.minLen || uint64(len(x)) > maxLen {
		return fmt.Errorf("ff1: input length %d out of range: must be in [%d, %d] for radix %d",
			len(x), c.minLen, uint64(maxLen), c.radix)
	}
	if len(tweak) > c.maxTweakLen {
		return fmt.Errorf("ff1: tweak too long: %d bytes, maximum is %d", len(tweak), c.maxTweakLen)
	}
	if c.radix <= 0xFFFF { // with radix 2^16 every uint16 is a valid numeral
		for i, d := range x {
			if int(d) >= c.radix {
				return fmt.Errorf("ff1: numeral at position %d is out of range for radix %d", i, c.radix)
			}
		}
	}
	return nil
}

// crypt implements Algorithm 7 (FF1.Encrypt) when encrypt is true and
// Algorithm 8 (FF1.Decrypt) otherwise. Steps 1-5 are shared.
//
// A and B are carried as integers (NUM_radix(A), NUM_radix(B)) across the
// rounds instead of as numeral strings: step 6.vi always yields
// c < radix^m, so NUM_radix(STR^m_radix(c)) = c and the conversion in
// step 6.vii only needs to happen once, at the end (step 7).
func (c *Cipher) crypt(x []uint16, tweak []byte, encrypt bool) ([]uint16, error) {
	if err := c.validate(x, tweak); err != nil {
		return nil, err
	}
	n, t := len(x), len(tweak)

	// Step 1: u = floor(n/2); v = n - u.
	u := n / 2
	v := n - u

	// Step 2: A = X[1..u]; B = X[u+1..n].
	A := c.num(x[:u])
	B := c.num(x[u:])

	// radix^u and radix^v, the moduli of step 6.vi.
	radixU := new(big.Int).Exp(c.bigRadix, big.NewInt(int64(u)), nil)
	radixV := radixU
	if v != u {
		radixV = new(big.Int).Mul(radixU, c.bigRadix)
	}

	// Step 3: b = ceil(ceil(v·LOG(radix))/8), the byte length of
	// NUM_radix(B). Computed exactly, without floating point:
	// ceil(log2(radix^v)) is the bit length of radix^v - 1.
	b := (new(big.Int).Sub(radixV, big.NewInt(1)).BitLen() + 7) / 8

	// Step 4: d = 4·ceil(b/4) + 4.
	d := 4*((b+3)/4) + 4

	// Step 5: P = [1]^1 || [2]^1 || [1]^1 || [radix]^3 || [10]^1 ||
	//             [u mod 256]^1 || [n]^4 || [t]^4.
	// Step 6.i builds Q = T || [0]^((−t−b−1) mod 16) || [i]^1 || [NUM]^b.
	// P||Q is laid out once in buf; only [i]^1 and [NUM]^b change per round.
	pad := mod(-t-b-1, blockSize)
	buf := make([]byte, blockSize+t+pad+1+b)
	P := buf[:blockSize]
	P[0], P[1], P[2] = 1, 2, 1
	putUint(P[3:6], uint64(c.radix))
	P[6] = 10
	P[7] = byte(u)
	putUint(P[8:12], uint64(n))
	putUint(P[12:16], uint64(t))
	Q := buf[blockSize:]
	copy(Q, tweak) // the [0]^pad bytes after T are already zero
	roundIdx := &Q[t+pad]
	numBytes := Q[t+pad+1:]

	numBlocks := (d + blockSize - 1) / blockSize
	S := make([]byte, numBlocks*blockSize)
	mac := make([]byte, len(buf)) // CBC output scratch for the PRF
	y := new(big.Int)

	// Step 6: ten Feistel rounds; i runs 0..9 to encrypt, 9..0 to decrypt.
	for r := range 10 {
		i := r
		if !encrypt {
			i = 9 - r
		}

		// Step 6.i: Q = T || [0]^pad || [i]^1 || [NUM_radix(B)]^b.
		// (Decrypt: [NUM_radix(A)]^b.) The value is < radix^v ≤ 2^(8b).
		*roundIdx = byte(i)
		if encrypt {
			B.FillBytes(numBytes)
		} else {
			A.FillBytes(numBytes)
		}

		// Step 6.ii: R = PRF(P || Q).
		R := S[:blockSize]
		c.prf(R, buf, mac)

		// Step 6.iii: S = first d bytes of
		// R || CIPH_K(R ⊕ [1]^16) || ... || CIPH_K(R ⊕ [ceil(d/16)−1]^16).
		for j := 1; j < numBlocks; j++ {
			blk := S[j*blockSize : (j+1)*blockSize]
			copy(blk, R)
			var jBlock [blockSize]byte // [j]^16
			putUint(jBlock[8:], uint64(j))
			for k := range blk {
				blk[k] ^= jBlock[k]
			}
			c.block.Encrypt(blk, blk)
		}

		// Step 6.iv: y = NUM(S).
		y.SetBytes(S[:d])

		// Step 6.v: m = u if i is even, else v.
		modulus := radixU
		if i%2 == 1 {
			modulus = radixV
		}

		if encrypt {
			// Step 6.vi: c = (NUM_radix(A) + y) mod radix^m.
			// Step 6.vii: C = STR^m_radix(c) (kept as the integer c).
			// Steps 6.viii-ix: A = B; B = C.
			A.Add(A, y)
			A.Mod(A, modulus)
			A, B = B, A
		} else {
			// Step 6.vi: c = (NUM_radix(B) − y) mod radix^m.
			// (big.Int.Mod is Euclidean, so c is in [0, radix^m).)
			// Step 6.vii: C = STR^m_radix(c) (kept as the integer c).
			// Steps 6.viii-ix: B = A; A = C.
			B.Sub(B, y)
			B.Mod(B, modulus)
			A, B = B, A
		}
	}

	// Step 7: return A || B, with A of length u and B of length v.
	out := make([]uint16, n)
	c.str(out[:u], A)
	c.str(out[u:], B)
	return out, nil
}

// prf computes PRF(X) of Algorithm 6: the CBC-MAC of X under CIPH_K with a
// zero IV, i.e. the last block of CBC encryption. len(x) must be a multiple
// of 16; scratch must be at least len(x) bytes. The result goes to dst.
func (c *Cipher) prf(dst, x, scratch []byte) {
	var iv [blockSize]byte
	cbc := cipher.NewCBCEncrypter(c.block, iv[:])
	scratch = scratch[:len(x)]
	cbc.CryptBlocks(scratch, x)
	copy(dst, scratch[len(scratch)-blockSize:])
}

// num computes NUM_radix(X): the integer whose base-radix representation,
// most significant numeral first, is X.
func (c *Cipher) num(x []uint16) *big.Int {
	z := new(big.Int)
	d := new(big.Int)
	for _, numeral := range x {
		z.Mul(z, c.bigRadix)
		z.Add(z, d.SetUint64(uint64(numeral)))
	}
	return z
}

// str computes STR^m_radix(z) into out (m = len(out)): the base-radix
// representation of z, most significant numeral first, left-padded with
// zeros. z must be in [0, radix^m); it is not modified.
func (c *Cipher) str(out []uint16, z *big.Int) {
	q := new(big.Int).Set(z)
	r := new(big.Int)
	for k := len(out) - 1; k >= 0; k-- {
		q.QuoRem(q, c.bigRadix, r)
		out[k] = uint16(r.Uint64())
	}
}

// putUint writes v big-endian into dst, using all of len(dst) bytes (the
// spec's [v]^len(dst)); higher-order bits that do not fit are dropped.
func putUint(dst []byte, v uint64) {
	for k := len(dst) - 1; k >= 0; k-- {
		dst[k] = byte(v)
		v >>= 8
	}
}

// mod returns a mod m in [0, m) for m > 0.
func mod(a, m int) int {
	r := a % m
	if r < 0 {
		r += m
	}
	return r
}
