// Package sealclient seals chat messages end to end to the conversation
// service (sotto.conversation.v1) with HPKE (RFC 9180, Go's crypto/hpke),
// so that the gateway, load balancers and any proxy that terminates TLS
// relay ciphertext only, and opens the replies the service seals back to
// a key the client made for its session.
//
// The suite is MLKEM768-X25519 (X-Wing: ML-KEM-768 and X25519 together,
// so a message stays confidential if either holds), HKDF-SHA256 and
// ChaCha20Poly1305, base mode; messages use the info string
// "sotto/conversation/v1 message", replies "sotto/conversation/v1 reply",
// and the conversation id is the associated data of both (a message's
// also binds the reply key: MessageAAD). The client
// accepts only that suite from GetSealingKeys: a key of another suite (a
// classical-only one, say) is ignored rather than used.
//
// The service's keys rotate (30 days by default) and the previous key
// stays valid for one more period; the client refetches them after
// MaxAge and, when the service answers SEALING_KEY_EXPIRED or
// SEALING_KEY_UNKNOWN, once more before it gives up.
//
// Example, a platform posting a customer's message over the gRPC edge:
//
//	conv := conversationv1.NewConversationServiceClient(conn)
//	sc := sealclient.New(conv)
//	session, err := sc.NewSession()
//	if err != nil {
//		return err
//	}
//	reply, _, err := session.Post(ctx, conv, &conversationv1.PostMessageRequest{
//		ConversationId: conversationID,
//		View:           conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED,
//	}, "Where is my order? I am jane@example.com")
//	if err != nil {
//		return err
//	}
//	fmt.Println(reply) // the assistant's answer, opened with the session's key
//
// A session's reply key lives only in its memory; make one per chat
// session (or per message) and drop it with the session.
package sealclient

import (
	"context"
	"crypto/hpke"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/errs"
)

// Info strings of the two directions.
const (
	InfoMessage = "sotto/conversation/v1 message"
	InfoReply   = "sotto/conversation/v1 reply"
)

// The only suite the client seals with.
var (
	KEM  = hpke.MLKEM768X25519()
	KDF  = hpke.HKDFSHA256()
	AEAD = hpke.ChaCha20Poly1305()
)

// DefaultMaxAge is how long fetched keys are used before they are fetched
// again.
const DefaultMaxAge = time.Hour

// Reasons of this package's errors (and the service's, which Post reacts
// to).
const (
	// ReasonNoUsableKey: GetSealingKeys listed no unexpired key of the
	// suite. FailedPrecondition.
	ReasonNoUsableKey = "SEALING_KEY_UNUSABLE"
	// ReasonReplyInvalid: a sealed reply that does not open with the
	// session's key for the conversation. InvalidArgument.
	ReasonReplyInvalid = "SEALED_REPLY_INVALID"
	// ReasonKeyExpired and ReasonKeyUnknown are the service's.
	ReasonKeyExpired = "SEALING_KEY_EXPIRED"
	ReasonKeyUnknown = "SEALING_KEY_UNKNOWN"
)

// KeySource fetches the service's keys; a
// conversationv1.ConversationServiceClient is one.
type KeySource interface {
	GetSealingKeys(ctx context.Context, in *conversationv1.GetSealingKeysRequest, opts ...grpc.CallOption) (*conversationv1.GetSealingKeysResponse, error)
}

// Poster posts messages; a conversationv1.ConversationServiceClient is
// one.
type Poster interface {
	PostMessage(ctx context.Context, in *conversationv1.PostMessageRequest, opts ...grpc.CallOption) (*conversationv1.PostMessageResponse, error)
}

// Client caches the service's current key. It is safe for concurrent use.
type Client struct {
	src    KeySource
	now    func() time.Time
	maxAge time.Duration

	mu      sync.Mutex
	keyID   string
	key     hpke.PublicKey
	expire  time.Time
	fetched time.Time
}

// Option configures a Client.
type Option func(*Client)

// WithClock sets the clock (time.Now by default).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithMaxAge sets how long fetched keys are used (DefaultMaxAge).
func WithMaxAge(d time.Duration) Option { return func(c *Client) { c.maxAge = d } }

// New returns a client that fetches keys from src.
func New(src KeySource, opts ...Option) *Client {
	c := &Client{src: src, now: time.Now, maxAge: DefaultMaxAge}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Refresh fetches the keys now and picks the newest usable one.
func (c *Client) Refresh(ctx context.Context) error {
	resp, err := c.src.GetSealingKeys(ctx, &conversationv1.GetSealingKeysRequest{})
	if err != nil {
		return err
	}
	now := c.now()
	for _, k := range resp.GetKeys() { // newest first
		if k.GetKemId() != uint32(KEM.ID()) || k.GetKdfId() != uint32(KDF.ID()) || k.GetAeadId() != uint32(AEAD.ID()) {
			continue
		}
		if k.GetKeyId() == "" || !k.GetExpireTime().AsTime().After(now) {
			continue
		}
		pk, err := KEM.NewPublicKey(k.GetPublicKey())
		if err != nil {
			continue
		}
		c.mu.Lock()
		c.keyID, c.key, c.expire, c.fetched = k.GetKeyId(), pk, k.GetExpireTime().AsTime(), now
		c.mu.Unlock()
		return nil
	}
	return errs.E(errs.FailedPrecondition, ReasonNoUsableKey, "the conversation service lists no unexpired %s/HKDF-SHA256/ChaCha20Poly1305 key", "MLKEM768-X25519")
}

// current returns the key to seal to, fetching when there is none yet,
// it is older than MaxAge or expired.
func (c *Client) current(ctx context.Context) (string, hpke.PublicKey, error) {
	c.mu.Lock()
	now := c.now()
	fresh := c.key != nil && now.Sub(c.fetched) < c.maxAge && now.Before(c.expire)
	id, key := c.keyID, c.key
	c.mu.Unlock()
	if fresh {
		return id, key, nil
	}
	if err := c.Refresh(ctx); err != nil {
		return "", nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.keyID, c.key, nil
}

// Session is one chat session: a reply key pair that exists only in this
// value.
type Session struct {
	c     *Client
	reply hpke.PrivateKey
}

// NewSession makes a session with a fresh reply key.
func (c *Client) NewSession() (*Session, error) {
	sk, err := KEM.GenerateKey()
	if err != nil {
		return nil, err
	}
	return &Session{c: c, reply: sk}, nil
}

// ReplyPublicKey is the key the service seals replies to.
func (s *Session) ReplyPublicKey() []byte { return s.reply.PublicKey().Bytes() }

// Seal seals text for the conversation to the service's current key, with
// the session's reply key attached.
func (s *Session) Seal(ctx context.Context, conversationID, text string) (*conversationv1.Sealed, error) {
	id, pk, err := s.c.current(ctx)
	if err != nil {
		return nil, err
	}
	enc, sender, err := hpke.NewSender(pk, KDF, AEAD, []byte(InfoMessage))
	if err != nil {
		return nil, err
	}
	ct, err := sender.Seal(MessageAAD(conversationID, s.ReplyPublicKey()), []byte(text))
	if err != nil {
		return nil, err
	}
	return &conversationv1.Sealed{KeyId: id, Enc: enc, Ciphertext: ct, ReplyPublicKey: s.ReplyPublicKey()}, nil
}

// MessageAAD is the associated data of a message to the service: the
// conversation id and a digest of the reply key, so that neither can be
// changed by whoever relays the ciphertext. A relay that swapped the reply
// key for its own would otherwise receive the reply, re-identified values
// and all, sealed to itself.
func MessageAAD(conversationID string, replyPublicKey []byte) []byte {
	d := sha256.Sum256(replyPublicKey)
	aad := make([]byte, 0, len(conversationID)+1+len(d))
	aad = append(aad, conversationID...)
	aad = append(aad, 0)
	return append(aad, d[:]...)
}

// OpenReply opens a reply the service sealed to this session for the
// conversation.
func (s *Session) OpenReply(conversationID string, sealed *conversationv1.Sealed) (string, error) {
	r, err := hpke.NewRecipient(sealed.GetEnc(), s.reply, KDF, AEAD, []byte(InfoReply))
	if err != nil {
		return "", errs.E(errs.InvalidArgument, ReasonReplyInvalid, "the sealed reply does not open")
	}
	pt, err := r.Open([]byte(conversationID), sealed.GetCiphertext())
	if err != nil {
		return "", errs.E(errs.InvalidArgument, ReasonReplyInvalid, "the sealed reply does not open")
	}
	return string(pt), nil
}

// Post seals text into req (its conversation id, language, view and
// channel message id are kept; its text and sealed are replaced), posts
// it, and returns the opened reply ("" when there is none, while a
// conversation waits on an agent) with the response. A key the service
// no longer takes makes it fetch the keys and try once more; the refused
// post stored nothing.
func (s *Session) Post(ctx context.Context, p Poster, req *conversationv1.PostMessageRequest, text string, opts ...grpc.CallOption) (string, *conversationv1.PostMessageResponse, error) {
	var resp *conversationv1.PostMessageResponse
	for attempt := 0; ; attempt++ {
		sealed, err := s.Seal(ctx, req.GetConversationId(), text)
		if err != nil {
			return "", nil, err
		}
		r := &conversationv1.PostMessageRequest{ConversationId: req.GetConversationId(), ChannelMessageId: req.GetChannelMessageId(),
			Language: req.GetLanguage(), View: req.GetView(), Sealed: sealed}
		resp, err = p.PostMessage(ctx, r, opts...)
		if err == nil {
			break
		}
		if reason := reasonOf(err); attempt == 0 && (reason == ReasonKeyExpired || reason == ReasonKeyUnknown) {
			if rerr := s.c.Refresh(ctx); rerr != nil {
				return "", nil, errors.Join(err, rerr)
			}
			continue
		}
		return "", nil, err
	}
	if resp.GetSealedReply() == nil {
		if resp.GetReply().GetText() != "" {
			// The service answered a sealed message in the clear: the
			// relay saw it. Refuse rather than pass it on as sealed.
			return "", resp, fmt.Errorf("sealclient: the reply came back unsealed")
		}
		return "", resp, nil
	}
	reply, err := s.OpenReply(req.GetConversationId(), resp.GetSealedReply())
	return reply, resp, err
}

// reasonOf is the ErrorInfo reason of a call's error.
func reasonOf(err error) string {
	if r := errs.ReasonOf(err); r != "" {
		return r
	}
	st, ok := status.FromError(err)
	if !ok {
		return ""
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}
