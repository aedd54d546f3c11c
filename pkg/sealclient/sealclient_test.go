package sealclient_test

import (
	"context"
	"crypto/ecdh"
	"crypto/hpke"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/sealclient"
)

// keyServer answers GetSealingKeys with the keys it is given and counts
// the calls. (The round trip through the real conversation service is
// services/conversation/internal/server's TestSealedMessage.)
type keyServer struct {
	mu    sync.Mutex
	keys  []*conversationv1.SealingKey
	calls int
}

func (k *keyServer) GetSealingKeys(context.Context, *conversationv1.GetSealingKeysRequest, ...grpc.CallOption) (*conversationv1.GetSealingKeysResponse, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls++
	return &conversationv1.GetSealingKeysResponse{Keys: k.keys}, nil
}

func (k *keyServer) set(keys ...*conversationv1.SealingKey) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys = keys
}

func (k *keyServer) n() int { k.mu.Lock(); defer k.mu.Unlock(); return k.calls }

func key(t *testing.T, id string, kem hpke.KEM, expire time.Time) (*conversationv1.SealingKey, hpke.PrivateKey) {
	t.Helper()
	sk, err := kem.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &conversationv1.SealingKey{KeyId: id, KemId: uint32(kem.ID()), KdfId: uint32(sealclient.KDF.ID()),
		AeadId: uint32(sealclient.AEAD.ID()), PublicKey: sk.PublicKey().Bytes(), ExpireTime: timestamppb.New(expire)}, sk
}

// TestSealsOnlyToTheSuitesUnexpiredKey: a classical-only key listed first
// and an expired key are passed over; the message opens with the X-Wing
// key's private half under the message info and the conversation id; with
// no usable key at all, nothing is sealed.
func TestSealsOnlyToTheSuitesUnexpiredKey(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	classical, _ := key(t, "x25519-1", hpke.DHKEM(ecdh.X25519()), now.Add(time.Hour))
	expired, _ := key(t, "xwing-0", sealclient.KEM, now.Add(-time.Second))
	good, goodSK := key(t, "xwing-1", sealclient.KEM, now.Add(time.Hour))
	ks := &keyServer{}
	ks.set(classical, expired, good)
	c := sealclient.New(ks, sealclient.WithClock(func() time.Time { return now }))
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal(context.Background(), "cnv_a", "hello")
	if err != nil {
		t.Fatal(err)
	}
	if sealed.GetKeyId() != "xwing-1" || len(sealed.GetReplyPublicKey()) != 1216 {
		t.Fatalf("sealed to %q with a %d-byte reply key", sealed.GetKeyId(), len(sealed.GetReplyPublicKey()))
	}
	r, err := hpke.NewRecipient(sealed.GetEnc(), goodSK, sealclient.KDF, sealclient.AEAD, []byte(sealclient.InfoMessage))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := r.Open(sealclient.MessageAAD("cnv_a", sealed.GetReplyPublicKey()), sealed.GetCiphertext()); err != nil || string(pt) != "hello" {
		t.Fatalf("open = %q, %v", pt, err)
	}
	// The reply key is bound: the conversation id alone does not open it
	// (a fresh recipient, so the sequence number is the first one again).
	r2, err := hpke.NewRecipient(sealed.GetEnc(), goodSK, sealclient.KDF, sealclient.AEAD, []byte(sealclient.InfoMessage))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Open([]byte("cnv_a"), sealed.GetCiphertext()); err == nil {
		t.Fatal("the message opened without the reply key in its associated data")
	}

	ks.set(classical, expired)
	if err := c.Refresh(context.Background()); errs.ReasonOf(err) != sealclient.ReasonNoUsableKey {
		t.Fatalf("refresh without a usable key: %v", err)
	}
}

// TestRefetchesAfterMaxAge: keys are fetched once, used until MaxAge, then
// fetched again.
func TestRefetchesAfterMaxAge(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	first, _ := key(t, "xwing-1", sealclient.KEM, now.Add(48*time.Hour))
	ks := &keyServer{}
	ks.set(first)
	c := sealclient.New(ks, sealclient.WithClock(clock), sealclient.WithMaxAge(time.Hour))
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.Seal(context.Background(), "cnv_a", "hi"); err != nil {
			t.Fatal(err)
		}
	}
	if ks.n() != 1 {
		t.Fatalf("%d fetches, want 1", ks.n())
	}
	second, _ := key(t, "xwing-2", sealclient.KEM, now.Add(72*time.Hour))
	ks.set(second, first)
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	sealed, err := s.Seal(context.Background(), "cnv_a", "hi")
	if err != nil {
		t.Fatal(err)
	}
	if ks.n() != 2 || sealed.GetKeyId() != "xwing-2" {
		t.Fatalf("after MaxAge: %d fetches, sealed to %q", ks.n(), sealed.GetKeyId())
	}
}

// TestOpenReplyNeedsTheSessionKeyAndConversation: a reply sealed to the
// session opens only there and only for its conversation.
func TestOpenReplyNeedsTheSessionKeyAndConversation(t *testing.T) {
	good, _ := key(t, "xwing-1", sealclient.KEM, time.Now().Add(time.Hour))
	c := sealclient.New(&keyServer{keys: []*conversationv1.SealingKey{good}})
	a, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	pk, err := sealclient.KEM.NewPublicKey(a.ReplyPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	enc, sender, err := hpke.NewSender(pk, sealclient.KDF, sealclient.AEAD, []byte(sealclient.InfoReply))
	if err != nil {
		t.Fatal(err)
	}
	ct, err := sender.Seal([]byte("cnv_a"), []byte("your parcel ships today"))
	if err != nil {
		t.Fatal(err)
	}
	reply := &conversationv1.Sealed{Enc: enc, Ciphertext: ct}
	if got, err := a.OpenReply("cnv_a", reply); err != nil || got != "your parcel ships today" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := b.OpenReply("cnv_a", reply); errs.ReasonOf(err) != sealclient.ReasonReplyInvalid {
		t.Fatalf("another session: %v", err)
	}
	if _, err := a.OpenReply("cnv_b", reply); errs.ReasonOf(err) != sealclient.ReasonReplyInvalid {
		t.Fatalf("another conversation: %v", err)
	}
}
