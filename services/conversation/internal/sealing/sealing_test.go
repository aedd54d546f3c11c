package sealing_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/hpke"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/sealing"
)

type vector struct {
	KEM         uint16 `json:"kem_id"`
	KDF         uint16 `json:"kdf_id"`
	AEAD        uint16 `json:"aead_id"`
	Info        string `json:"info"`
	IkmR        string `json:"ikmR"`
	SkRm        string `json:"skRm"`
	PkRm        string `json:"pkRm"`
	Enc         string `json:"enc"`
	Encryptions []struct {
		Aad string `json:"aad"`
		Ct  string `json:"ct"`
		Pt  string `json:"pt"`
	} `json:"encryptions"`
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKnownAnswers opens published test vectors with crypto/hpke on the
// recipient side (the sender's ephemeral randomness cannot be fixed from
// outside the standard library): the X-Wing vector of draft-ietf-hpke-pq
// in exactly the service's suite, and RFC 9180 A.1.1 for DHKEM(X25519).
// The key pair derived from ikmR must be the vector's, and every
// ciphertext must open to its plaintext in order.
func TestKnownAnswers(t *testing.T) {
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Vectors []vector }
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) != 2 {
		t.Fatalf("%d vectors, want 2", len(file.Vectors))
	}
	if v := file.Vectors[0]; v.KEM != sealing.KEM.ID() || v.KDF != sealing.KDF.ID() || v.AEAD != sealing.AEAD.ID() {
		t.Fatalf("first vector is suite %#x/%#x/%#x, the service uses %#x/%#x/%#x", v.KEM, v.KDF, v.AEAD,
			sealing.KEM.ID(), sealing.KDF.ID(), sealing.AEAD.ID())
	}
	for _, v := range file.Vectors {
		kem, err := hpke.NewKEM(v.KEM)
		if err != nil {
			t.Fatal(err)
		}
		kdf, err := hpke.NewKDF(v.KDF)
		if err != nil {
			t.Fatal(err)
		}
		aead, err := hpke.NewAEAD(v.AEAD)
		if err != nil {
			t.Fatal(err)
		}
		sk, err := kem.DeriveKeyPair(unhex(t, v.IkmR))
		if err != nil {
			t.Fatal(err)
		}
		if got := sk.PublicKey().Bytes(); !bytes.Equal(got, unhex(t, v.PkRm)) {
			t.Fatalf("kem %#x: derived public key %x…, want the vector's", v.KEM, got[:8])
		}
		if v.KEM == sealing.KEM.ID() {
			b, err := sk.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, unhex(t, v.SkRm)) {
				t.Fatalf("derived private key differs from skRm")
			}
		}
		r, err := hpke.NewRecipient(unhex(t, v.Enc), sk, kdf, aead, unhex(t, v.Info))
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Encryptions) == 0 {
			t.Fatal("vector without encryptions")
		}
		for i, e := range v.Encryptions {
			pt, err := r.Open(unhex(t, e.Aad), unhex(t, e.Ct))
			if err != nil {
				t.Fatalf("kem %#x encryption %d: %v", v.KEM, i, err)
			}
			if !bytes.Equal(pt, unhex(t, e.Pt)) {
				t.Fatalf("kem %#x encryption %d: plaintext differs", v.KEM, i)
			}
		}
	}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newKeys(t *testing.T, keyring string, c *clock) *sealing.Keys {
	t.Helper()
	km, err := keys.NewLocal(keyring)
	if err != nil {
		t.Fatal(err)
	}
	if err := km.EnsureKey(context.Background(), "conversation-secrets", keys.TypeAES256GCM); err != nil {
		t.Fatal(err)
	}
	k, err := sealing.New(km, "conversation-secrets", 0, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// seal is what a client does: seal to a published key with the message
// info and the conversation id as aad.
func seal(t *testing.T, pub []byte, aad, pt string) (enc, ct []byte) {
	t.Helper()
	pk, err := sealing.KEM.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	enc, s, err := hpke.NewSender(pk, sealing.KDF, sealing.AEAD, []byte(sealing.InfoMessage))
	if err != nil {
		t.Fatal(err)
	}
	ct, err = s.Seal([]byte(aad), []byte(pt))
	if err != nil {
		t.Fatal(err)
	}
	return enc, ct
}

func wantReason(t *testing.T, err error, kind errs.Kind, reason string) {
	t.Helper()
	if err == nil || errs.KindOf(err) != kind || errs.ReasonOf(err) != reason {
		t.Fatalf("err = %v, want %v %s", err, kind, reason)
	}
}

const conv = "cnv_0123456789abcdefghijklmnop"

// TestRotation: the current and the previous key are published and open;
// after two rotations a key is refused as expired, and ids the service
// never published (a future period, another shape) are unknown.
func TestRotation(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	k := newKeys(t, filepath.Join(t.TempDir(), "keyring.json"), c)
	first, err := k.Published(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || first[0].ID == first[1].ID || bytes.Equal(first[0].Bytes, first[1].Bytes) {
		t.Fatalf("published %d keys, want two distinct", len(first))
	}
	if !first[0].Expire.After(first[1].Expire) || first[0].Expire.Sub(first[1].Expire) != sealing.DefaultRotation {
		t.Fatalf("expiries %v and %v are not one rotation apart", first[0].Expire, first[1].Expire)
	}
	enc, ct := seal(t, first[0].Bytes, conv, "hello")
	if pt, err := k.Open(ctx, first[0].ID, enc, ct, []byte(conv)); err != nil || string(pt) != "hello" {
		t.Fatalf("open = %q, %v", pt, err)
	}

	c.Add(sealing.DefaultRotation)
	second, err := k.Published(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second[1].ID != first[0].ID || !bytes.Equal(second[1].Bytes, first[0].Bytes) || second[0].ID == first[0].ID {
		t.Fatalf("after one rotation the previous key is not the former current one")
	}
	if pt, err := k.Open(ctx, first[0].ID, enc, ct, []byte(conv)); err != nil || string(pt) != "hello" {
		t.Fatalf("previous key: open = %q, %v", pt, err)
	}
	// The period after the current one has not been published.
	enc2, ct2 := seal(t, second[0].Bytes, conv, "x")
	_, err = k.Open(ctx, sealing.KeyID(start(t, second[0].ID)+int64(sealing.DefaultRotation/time.Second)), enc2, ct2, []byte(conv))
	wantReason(t, err, errs.InvalidArgument, reasons.SealingKeyUnknown)

	c.Add(sealing.DefaultRotation)
	_, err = k.Open(ctx, first[0].ID, enc, ct, []byte(conv))
	wantReason(t, err, errs.FailedPrecondition, reasons.SealingKeyExpired)
	_, err = k.Open(ctx, sealing.KeyID(0), enc, ct, []byte(conv))
	wantReason(t, err, errs.FailedPrecondition, reasons.SealingKeyExpired)
	for _, id := range []string{"", "xwing-", "xwing-01", "xwing-+1", "rsa-1", first[0].ID + " ", "xwing-99999999999999999999"} {
		_, err = k.Open(ctx, id, enc, ct, []byte(conv))
		wantReason(t, err, errs.InvalidArgument, reasons.SealingKeyUnknown)
	}
}

// start is the period start a key id names.
func start(t *testing.T, id string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.TrimPrefix(id, "xwing-"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOpenRefusesWhatWasNotSealedForIt: a flipped bit in the ciphertext or
// the encapsulated key, another conversation id as aad, and a message
// sealed to the other published key all fail alike (SEALED_INVALID).
func TestOpenRefusesWhatWasNotSealedForIt(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	k := newKeys(t, filepath.Join(t.TempDir(), "keyring.json"), c)
	pub, err := k.Published(ctx)
	if err != nil {
		t.Fatal(err)
	}
	enc, ct := seal(t, pub[0].Bytes, conv, "hello")
	if _, err := k.Open(ctx, pub[0].ID, enc, ct, []byte(conv)); err != nil {
		t.Fatal(err)
	}
	flip := func(b []byte, i int) []byte { b = bytes.Clone(b); b[i] ^= 1; return b }
	cases := map[string]func() error{
		"ciphertext": func() error { _, err := k.Open(ctx, pub[0].ID, enc, flip(ct, 0), []byte(conv)); return err },
		"tag":        func() error { _, err := k.Open(ctx, pub[0].ID, enc, flip(ct, len(ct)-1), []byte(conv)); return err },
		"enc":        func() error { _, err := k.Open(ctx, pub[0].ID, flip(enc, 3), ct, []byte(conv)); return err },
		"short enc":  func() error { _, err := k.Open(ctx, pub[0].ID, enc[:10], ct, []byte(conv)); return err },
		"aad": func() error {
			_, err := k.Open(ctx, pub[0].ID, enc, ct, []byte("cnv_zzzzzzzzzzzzzzzzzzzzzzzzzz"))
			return err
		},
		"other key": func() error { _, err := k.Open(ctx, pub[1].ID, enc, ct, []byte(conv)); return err },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) { wantReason(t, f(), errs.InvalidArgument, reasons.SealedInvalid) })
	}
}

// TestReplicasAgree: two processes over the same key manager derive the
// same keys (each opens what was sealed to the other's published key);
// another key manager derives others.
func TestReplicasAgree(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	a := newKeys(t, filepath.Join(dir, "keyring.json"), c)
	b := newKeys(t, filepath.Join(dir, "keyring.json"), c)
	other := newKeys(t, filepath.Join(t.TempDir(), "keyring.json"), c)
	pa, err := a.Published(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.Published(ctx)
	if err != nil {
		t.Fatal(err)
	}
	po, err := other.Published(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pa[0].ID != pb[0].ID || !bytes.Equal(pa[0].Bytes, pb[0].Bytes) {
		t.Fatal("replicas over one key manager publish different keys")
	}
	if bytes.Equal(pa[0].Bytes, po[0].Bytes) {
		t.Fatal("another key manager derived the same key")
	}
	enc, ct := seal(t, pa[0].Bytes, conv, "hello")
	if _, err := b.Open(ctx, pa[0].ID, enc, ct, []byte(conv)); err != nil {
		t.Fatal(err)
	}
	_, err = other.Open(ctx, pa[0].ID, enc, ct, []byte(conv))
	wantReason(t, err, errs.InvalidArgument, reasons.SealedInvalid)
}

// TestReplyKey: the reply key must be the suite's; a reply sealed to it
// opens with the client's private key and the reply info only.
func TestReplyKey(t *testing.T) {
	for _, bad := range [][]byte{nil, {1, 2, 3}, bytes.Repeat([]byte{7}, 32)} {
		_, err := sealing.ReplyKey(bad)
		wantReason(t, err, errs.InvalidArgument, reasons.ReplyKeyInvalid)
	}
	x, err := hpke.DHKEM(ecdh.X25519()).GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	_, err = sealing.ReplyKey(x.PublicKey().Bytes())
	wantReason(t, err, errs.InvalidArgument, reasons.ReplyKeyInvalid)

	client, err := sealing.KEM.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pk, err := sealing.ReplyKey(client.PublicKey().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	enc, ct, err := sealing.SealReply(pk, []byte(conv), []byte("your parcel ships today"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hpke.Open(client, sealing.KDF, sealing.AEAD, []byte(sealing.InfoReply), append(bytes.Clone(enc), ct...)); err == nil {
		t.Fatal("opened without the conversation id as aad")
	}
	r, err := hpke.NewRecipient(enc, client, sealing.KDF, sealing.AEAD, []byte(sealing.InfoReply))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := r.Open([]byte(conv), ct); err != nil || string(pt) != "your parcel ships today" {
		t.Fatalf("reply = %q, %v", pt, err)
	}
	if r, err := hpke.NewRecipient(enc, client, sealing.KDF, sealing.AEAD, []byte(sealing.InfoMessage)); err == nil {
		if _, err := r.Open([]byte(conv), ct); err == nil {
			t.Fatal("a reply opened under the message info")
		}
	}
}

// BenchmarkSealOpen is the cryptography of one message each way: the
// client seals (X-Wing encapsulation, ChaCha20Poly1305), the service opens
// (decapsulation with a cached key), seals the reply to the client's key,
// and the client opens it.
func BenchmarkSealOpen(b *testing.B) {
	ctx := context.Background()
	km, err := keys.NewLocal(filepath.Join(b.TempDir(), "keyring.json"))
	if err != nil {
		b.Fatal(err)
	}
	if err := km.EnsureKey(ctx, "conversation-secrets", keys.TypeAES256GCM); err != nil {
		b.Fatal(err)
	}
	k, err := sealing.New(km, "conversation-secrets", 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	pub, err := k.Published(ctx)
	if err != nil {
		b.Fatal(err)
	}
	pk, err := sealing.KEM.NewPublicKey(pub[0].Bytes)
	if err != nil {
		b.Fatal(err)
	}
	client, err := sealing.KEM.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("Hello, my name is Quentin Fairweather. Where is my order? My e-mail is quentin@example.com.")
	reply := []byte("I will send the tracking details to [EMAIL_1].")
	for b.Loop() {
		enc, s, err := hpke.NewSender(pk, sealing.KDF, sealing.AEAD, []byte(sealing.InfoMessage))
		if err != nil {
			b.Fatal(err)
		}
		ct, err := s.Seal([]byte(conv), msg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := k.Open(ctx, pub[0].ID, enc, ct, []byte(conv)); err != nil {
			b.Fatal(err)
		}
		renc, rct, err := sealing.SealReply(client.PublicKey(), []byte(conv), reply)
		if err != nil {
			b.Fatal(err)
		}
		r, err := hpke.NewRecipient(renc, client, sealing.KDF, sealing.AEAD, []byte(sealing.InfoReply))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Open([]byte(conv), rct); err != nil {
			b.Fatal(err)
		}
	}
}
