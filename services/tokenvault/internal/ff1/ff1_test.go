package ff1

import (
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

const (
	key128 = "2B7E151628AED2A6ABF7158809CF4F3C"
	key192 = key128 + "EF4359D8D580AA4F"
	key256 = key192 + "7F036D6F04FC6A94"
)

type vector struct {
	name       string
	key        string // hex
	radix      int
	tweak      string // hex
	pt, ct     string // over Base36[:radix] (radix ≤ 36)
	maxTweakLn int
}

// nistVectors are Samples 1-9 of NIST's FF1samples.pdf (SP 800-38G examples).
var nistVectors = []vector{
	{"Sample1", key128, 10, "", "0123456789", "2433477484", 16},
	{"Sample2", key128, 10, "39383736353433323130", "0123456789", "6124200773", 16},
	{"Sample3", key128, 36, "3737373770717273373737", "0123456789abcdefghi", "a9tv40mll9kdu509eum", 16},
	{"Sample4", key192, 10, "", "0123456789", "2830668132", 16},
	{"Sample5", key192, 10, "39383736353433323130", "0123456789", "2496655549", 16},
	{"Sample6", key192, 36, "3737373770717273373737", "0123456789abcdefghi", "xbj3kv35jrawxv32ysr", 16},
	{"Sample7", key256, 10, "", "0123456789", "6657667009", 16},
	{"Sample8", key256, 10, "39383736353433323130", "0123456789", "1001623463", 16},
	{"Sample9", key256, 36, "3737373770717273373737", "0123456789abcdefghi", "xs8a0azh2avyalyzuwd", 16},
}

// extraVectors are not NIST's: they are published vectors that several
// independent FF1 implementations agree on (capitalone/fpe's long radix-36
// vector, and Zcash's radix-2 vectors from zcash-test-vectors ff1.py). They
// cover what the NIST samples do not: d > 16 (the S extension of step
// 6.iii, here b = 42, d = 48), radix 2, and a 255-byte tweak.
var extraVectors = []vector{
	{
		"CapitalOneLong", key256, 36, "",
		"xs8a0azh2avyalyzuwdxs8a0azh2avyalyzuwdxs8a0azh2avyalyzuwdxs8a0azh2avyalyzuwdxs8a0azh2avyalyzuwdxs8a0azh2avyalyzuwdxs8a0azh2avyal",
		"lwulibfp1ju3ksztumqomwenpv7duy9q7pg7zf3eg3rjlfy46gmgkqjfwvromfjjktmbey8meqk9zkcmgvkv4s9ll5ctozme1hf15w7xo6zsylqcr0nbx9jbf10umzok",
		0,
	},
	{
		"ZcashBinary1", key256, 2, "",
		"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
		"0000100100110101011101111111110011000001101100111110011101110101011010100100010011001111",
		0,
	},
	{
		"ZcashBinary2", key256, 2, "",
		"0000100100110101011101111111110011000001101100111110011101110101011010100100010011001111",
		"1101101011010001100011110000010011001111110110011101010110100001111001000101011111011000",
		0,
	},
	{
		"ZcashBinary3", key256, 2, "",
		"0101010101010101010101010101010101010101010101010101010101010101010101010101010101010101",
		"0000111101000001111011010111011111110001100101000000001101101110100010010111001100100110",
		0,
	},
	{
		"ZcashBinary4Tweak255", key256, 2, seqHex(255),
		"0101010101010101010101010101010101010101010101010101010101010101010101010101010101010101",
		"0111110110001000000111010110000100010101101000000011100111100100100010101101111010100011",
		255,
	},
}

// seqHex returns the hex encoding of the bytes 0, 1, ..., n-1.
func seqHex(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return hex.EncodeToString(b)
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func mustCipher(t testing.TB, key []byte, radix, maxTweakLen int) *Cipher {
	t.Helper()
	c, err := New(key, radix, maxTweakLen)
	if err != nil {
		t.Fatalf("New(radix %d): %v", radix, err)
	}
	return c
}

func mustCodec(t testing.TB, c *Cipher, alphabet string) *Codec {
	t.Helper()
	cd, err := NewCodec(c, alphabet)
	if err != nil {
		t.Fatalf("NewCodec: %v", err)
	}
	return cd
}

// toNumerals maps a string over Base36 to numerals.
func toNumerals(t testing.TB, s string) []uint16 {
	t.Helper()
	out := make([]uint16, len(s))
	for i := range len(s) {
		k := strings.IndexByte(Base36, s[i])
		if k < 0 {
			t.Fatalf("character %q not in Base36", s[i])
		}
		out[i] = uint16(k)
	}
	return out
}

func runVectors(t *testing.T, vs []vector) {
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			maxT := max(v.maxTweakLn, 16)
			c := mustCipher(t, mustHex(t, v.key), v.radix, maxT)
			tweak := mustHex(t, v.tweak)
			pt, ct := toNumerals(t, v.pt), toNumerals(t, v.ct)

			// Numeral API.
			ptCopy := slices.Clone(pt)
			got, err := c.Encrypt(pt, tweak)
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			if !slices.Equal(got, ct) {
				t.Errorf("Encrypt = %v, want %v", got, ct)
			}
			if !slices.Equal(pt, ptCopy) {
				t.Errorf("Encrypt modified its input")
			}
			got, err = c.Decrypt(ct, tweak)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if !slices.Equal(got, pt) {
				t.Errorf("Decrypt = %v, want %v", got, pt)
			}

			// String API.
			cd := mustCodec(t, c, Base36[:v.radix])
			s, err := cd.EncryptString(v.pt, tweak)
			if err != nil || s != v.ct {
				t.Errorf("EncryptString = %q, %v; want %q", s, err, v.ct)
			}
			s, err = cd.DecryptString(v.ct, tweak)
			if err != nil || s != v.pt {
				t.Errorf("DecryptString = %q, %v; want %q", s, err, v.pt)
			}
		})
	}
}

func TestNISTSamples(t *testing.T) { runVectors(t, nistVectors) }

func TestCrossImplementationVectors(t *testing.T) { runVectors(t, extraVectors) }

func TestMinLen(t *testing.T) {
	key := mustHex(t, key128)
	for _, tc := range []struct{ radix, want int }{
		{2, 20}, {10, 6}, {16, 5}, {36, 4}, {62, 4}, {100, 3}, {1000, 2}, {1 << 16, 2},
	} {
		if got := mustCipher(t, key, tc.radix, 0).MinLen(); got != tc.want {
			t.Errorf("radix %d: MinLen = %d, want %d", tc.radix, got, tc.want)
		}
	}
}

// TestRoundTrip is a seeded property test: Decrypt(Encrypt(x)) == x, and the
// ciphertext has the same length and alphabet as the plaintext.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const maxTweak = 32
	iters := 1000
	if testing.Short() {
		iters = 100
	}
	for _, radix := range []int{10, 36, 62} {
		alphabet := Base62[:radix]
		for _, keyHex := range []string{key128, key192, key256} {
			c := mustCipher(t, mustHex(t, keyHex), radix, maxTweak)
			cd := mustCodec(t, c, alphabet)
			for range iters / 3 {
				// Mostly short inputs (realistic), sometimes long ones so that
				// d > 16 (the S extension) is exercised.
				n := c.MinLen() + rng.IntN(24)
				if rng.IntN(10) == 0 {
					n = c.MinLen() + rng.IntN(200)
				}
				var sb strings.Builder
				for range n {
					sb.WriteByte(alphabet[rng.IntN(radix)])
				}
				pt := sb.String()
				tweak := make([]byte, rng.IntN(maxTweak+1))
				for i := range tweak {
					tweak[i] = byte(rng.Uint32())
				}

				ct, err := cd.EncryptString(pt, tweak)
				if err != nil {
					t.Fatalf("radix %d len %d: EncryptString: %v", radix, n, err)
				}
				if len(ct) != len(pt) {
					t.Fatalf("radix %d: ciphertext length %d, want %d", radix, len(ct), len(pt))
				}
				for _, r := range ct {
					if !strings.ContainsRune(alphabet, r) {
						t.Fatalf("radix %d: ciphertext character %q outside alphabet", radix, r)
					}
				}
				back, err := cd.DecryptString(ct, tweak)
				if err != nil {
					t.Fatalf("radix %d len %d: DecryptString: %v", radix, n, err)
				}
				if back != pt {
					t.Fatalf("radix %d len %d: round trip mismatch", radix, n)
				}
			}
		}
	}
}

// TestRoundTripEdgeRadices covers the extremes of the radix range through
// the numeral API, including odd and even lengths.
func TestRoundTripEdgeRadices(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, radix := range []int{2, 3, 255, 256, 65535, 65536} {
		c := mustCipher(t, mustHex(t, key256), radix, 8)
		for range 20 {
			n := c.MinLen() + rng.IntN(40)
			x := make([]uint16, n)
			for i := range x {
				x[i] = uint16(rng.IntN(radix))
			}
			tweak := []byte{byte(n), 1, 2}
			y, err := c.Encrypt(x, tweak)
			if err != nil {
				t.Fatalf("radix %d: Encrypt: %v", radix, err)
			}
			for _, d := range y {
				if int(d) >= radix {
					t.Fatalf("radix %d: ciphertext numeral out of range", radix)
				}
			}
			z, err := c.Decrypt(y, tweak)
			if err != nil {
				t.Fatalf("radix %d: Decrypt: %v", radix, err)
			}
			if !slices.Equal(x, z) {
				t.Fatalf("radix %d len %d: round trip mismatch", radix, n)
			}
		}
	}
}

func TestTweakChangesCiphertext(t *testing.T) {
	cd := mustCodec(t, mustCipher(t, mustHex(t, key128), 10, 8), Digits)
	a, err1 := cd.EncryptString("4111111111111111", []byte("a"))
	b, err2 := cd.EncryptString("4111111111111111", []byte("b"))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if a == b {
		t.Errorf("different tweaks gave the same ciphertext")
	}
}

// checkErr asserts err is non-nil, and that its message contains want and
// none of the secret strings.
func checkErr(t *testing.T, err error, want string, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected error containing %q, got nil", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not mention %q", err, want)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q leaks the input", err)
		}
	}
}

func TestErrors(t *testing.T) {
	key := mustHex(t, key128)

	t.Run("KeySize", func(t *testing.T) {
		for _, n := range []int{0, 1, 15, 17, 23, 31, 33, 64} {
			_, err := New(make([]byte, n), 10, 8)
			checkErr(t, err, "key size")
		}
		_, err := New(nil, 10, 8)
		checkErr(t, err, "key size")
	})
	t.Run("Radix", func(t *testing.T) {
		for _, r := range []int{-1, 0, 1, 65537, 1 << 20} {
			_, err := New(key, r, 8)
			checkErr(t, err, "radix")
		}
	})
	t.Run("MaxTweakLen", func(t *testing.T) {
		_, err := New(key, 10, -1)
		checkErr(t, err, "tweak length")
	})

	c := mustCipher(t, key, 10, 8)
	cd := mustCodec(t, c, Digits)

	t.Run("TooShort", func(t *testing.T) {
		// 10^5 < 10^6: five digits is below minlen.
		_, err := cd.EncryptString("12345", nil)
		checkErr(t, err, "input length 5 out of range", "12345")
		_, err = cd.DecryptString("12345", nil)
		checkErr(t, err, "input length", "12345")
		_, err = c.Encrypt(nil, nil)
		checkErr(t, err, "input length")
		_, err = c.Decrypt([]uint16{1}, nil)
		checkErr(t, err, "input length")
		// Six digits is the minimum and must work.
		if _, err := cd.EncryptString("123456", nil); err != nil {
			t.Errorf("6 digits: %v", err)
		}
	})
	t.Run("NumeralOutOfRange", func(t *testing.T) {
		_, err := c.Encrypt([]uint16{1, 2, 3, 4, 5, 6, 10}, nil)
		checkErr(t, err, "numeral at position 6 is out of range")
		_, err = c.Decrypt([]uint16{65535, 2, 3, 4, 5, 6, 7}, nil)
		checkErr(t, err, "numeral at position 0 is out of range", "65535")
	})
	t.Run("BadAlphabetChar", func(t *testing.T) {
		const card = "4111111111111111"
		_, err := cd.EncryptString(card[:8]+"x"+card[8:], nil)
		checkErr(t, err, "position 8 is not in the alphabet", "41111111", "11111111")
		_, err = cd.DecryptString(card+" ", nil)
		checkErr(t, err, "not in the alphabet", card)
		_, err = cd.EncryptString(card+"\xff", nil)
		checkErr(t, err, "not valid UTF-8", card)
		_, err = cd.EncryptString("１２３４５６７", nil) // full-width digits
		checkErr(t, err, "not in the alphabet", "１２３")
	})
	t.Run("TweakTooLong", func(t *testing.T) {
		_, err := cd.EncryptString("0123456789", make([]byte, 9))
		checkErr(t, err, "tweak too long")
		if _, err := cd.EncryptString("0123456789", make([]byte, 8)); err != nil {
			t.Errorf("tweak of maximum length: %v", err)
		}
	})
	t.Run("Codec", func(t *testing.T) {
		_, err := NewCodec(c, Base36)
		checkErr(t, err, "radix is 10")
		_, err = NewCodec(c, "0123456780")
		checkErr(t, err, "duplicate")
		_, err = NewCodec(c, "012345678\xff")
		checkErr(t, err, "UTF-8")
		_, err = NewCodec(nil, Digits)
		checkErr(t, err, "nil cipher")
	})
	t.Run("NilReceivers", func(t *testing.T) {
		var nc *Cipher
		_, err := nc.Encrypt([]uint16{1, 2, 3, 4, 5, 6}, nil)
		checkErr(t, err, "not initialised")
		var zc Cipher
		_, err = zc.Decrypt([]uint16{1, 2, 3, 4, 5, 6}, nil)
		checkErr(t, err, "not initialised")
		var ncd *Codec
		_, err = ncd.EncryptString("123456", nil)
		checkErr(t, err, "not initialised")
		_, err = (&Codec{}).DecryptString("123456", nil)
		checkErr(t, err, "not initialised")
	})
}

func TestNonASCIIAlphabet(t *testing.T) {
	const alphabet = "αβγδεζηθικ" // radix 10, multi-byte runes
	cd := mustCodec(t, mustCipher(t, mustHex(t, key128), 10, 0), alphabet)
	pt := "αβγδεζηθικ"
	ct, err := cd.EncryptString(pt, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Same as NIST Sample 1 with the alphabet substituted.
	want := strings.Map(func(r rune) rune { return []rune(alphabet)[r-'0'] }, "2433477484")
	if ct != want {
		t.Errorf("EncryptString = %q, want %q", ct, want)
	}
	if back, err := cd.DecryptString(ct, nil); err != nil || back != pt {
		t.Errorf("DecryptString = %q, %v", back, err)
	}
}

// fuzzMaxLen bounds fuzz inputs so that each iteration stays cheap; FF1
// itself accepts far longer inputs.
const fuzzMaxLen = 1024

func fuzzCodec(t testing.TB) *Codec {
	return mustCodec(t, mustCipher(t, mustHex(t, key256), 62, 64), Base62)
}

func FuzzFF1RoundTrip(f *testing.F) {
	f.Add("0123456789", []byte{})
	f.Add("abcd", []byte("tweak"))
	f.Add("4111111111111111", []byte{0, 1, 2, 3})
	f.Add("ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", make([]byte, 64))
	f.Add("abc", []byte{})     // too short: skipped
	f.Add("abc-def", []byte{}) // outside alphabet: skipped
	cd := fuzzCodec(f)
	f.Fuzz(func(t *testing.T, s string, tweak []byte) {
		n := utf8.RuneCountInString(s)
		if n < cd.cipher.MinLen() || n > fuzzMaxLen || len(tweak) > cd.cipher.MaxTweakLen() {
			t.Skip()
		}
		for _, r := range s {
			if !strings.ContainsRune(Base62, r) {
				t.Skip()
			}
		}
		ct, err := cd.EncryptString(s, tweak)
		if err != nil {
			t.Fatalf("EncryptString: %v", err)
		}
		if len(ct) != len(s) {
			t.Fatalf("ciphertext length %d, want %d", len(ct), len(s))
		}
		for _, r := range ct {
			if !strings.ContainsRune(Base62, r) {
				t.Fatalf("ciphertext character %q outside alphabet", r)
			}
		}
		back, err := cd.DecryptString(ct, tweak)
		if err != nil {
			t.Fatalf("DecryptString: %v", err)
		}
		if back != s {
			t.Fatalf("round trip: got %q, want %q", back, s)
		}
	})
}

func FuzzFF1Decode(f *testing.F) {
	f.Add("0123456789", []byte{})
	f.Add("", []byte{})
	f.Add("a", []byte("x"))
	f.Add("abc-def!", []byte{})
	f.Add("\xff\xfe0123", []byte{})
	f.Add("０１２３４５", make([]byte, 65))
	cd := fuzzCodec(f)
	f.Fuzz(func(t *testing.T, s string, tweak []byte) {
		if len(s) > 4*fuzzMaxLen {
			t.Skip()
		}
		// Any input must yield a result or an error, never a panic.
		out, err := cd.DecryptString(s, tweak)
		if err == nil && len(out) != len(s) {
			t.Fatalf("plaintext length %d, want %d", len(out), len(s))
		}
	})
}

func BenchmarkEncrypt16Digits(b *testing.B) {
	c := mustCipher(b, mustHex(b, key128), 10, 16)
	x := toNumerals(b, "4111111111111111")
	tweak := []byte("merchant-42")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Encrypt(x, tweak); err != nil {
			b.Fatal(err)
		}
	}
}
