// Package pagetoken issues and checks the page tokens of Sotto's List RPCs.
//
// A token carries the caller-supplied cursor (where the next page starts), an
// expiry and a format version, and is authenticated with HMAC-SHA256 under a
// per-service key over those and a digest of the request that produced it. So
// a client can neither forge or edit a cursor nor carry a token over to
// another query (other filters, another RPC) to page through results it did
// not ask for; a token it did not get from this service for this query is
// InvalidArgument INVALID_PAGE_TOKEN.
//
// Tokens are opaque, not secret: the cursor is readable by anyone who
// base64-decodes it, so it must hold positions, never personal data or keys.
//
// The key must be the same on every replica and survive restarts, or clients
// lose their place when a load balancer or a deploy moves them. Derive it
// from a secret the service already shares across replicas (audit derives it
// with HKDF from its stored, KEK-wrapped subject HMAC key); a random key per
// process would be secure but would break pagination across replicas.
package pagetoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sottohq/sotto/pkg/errs"
)

const (
	// KeySize is the length of the signing key in bytes.
	KeySize = 32
	// MaxLen is the longest token issued or accepted, in characters: the
	// max_len the APIs declare on page_token.
	MaxLen = 128
	// MaxCursorLen is the longest cursor that fits in MaxLen.
	MaxCursorLen = MaxLen*6/8 - headerLen - tagLen
	// DefaultTTL is how long a token stays valid unless WithTTL says otherwise:
	// long enough for an operator paging by hand, short enough that a leaked
	// token does not live on.
	DefaultTTL = 24 * time.Hour

	version   = 1
	headerLen = 1 + 8 // version, expiry (Unix seconds, big-endian)
	// The tag is HMAC-SHA256 truncated to 128 bits (RFC 2104 section 5, NIST
	// SP 800-107): forging one takes 2^128 online guesses, and the 16 bytes
	// saved leave room in MaxLen for 64-byte cursors such as vault tokens.
	tagLen = 16
)

// ReasonInvalid is the error reason of every refused token.
const ReasonInvalid = "INVALID_PAGE_TOKEN"

// macLabel separates these MACs from any other use of the key.
var macLabel = []byte("sotto/pagetoken\x00")

// Codec issues and checks page tokens under one key. It is safe for
// concurrent use.
type Codec struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// Option configures a Codec.
type Option func(*Codec)

// WithTTL sets how long issued tokens stay valid (default DefaultTTL).
func WithTTL(ttl time.Duration) Option { return func(c *Codec) { c.ttl = ttl } }

// WithClock sets the clock that stamps and checks expiries (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Codec) { c.now = now } }

// New returns a Codec signing with key, which must be KeySize bytes.
func New(key []byte, opts ...Option) (*Codec, error) {
	if len(key) != KeySize {
		return nil, errs.E(errs.Internal, "PAGE_TOKEN_KEY_INVALID", "page token key has the wrong length")
	}
	c := &Codec{key: append([]byte(nil), key...), ttl: DefaultTTL, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	if c.ttl <= 0 {
		return nil, errs.E(errs.Internal, "PAGE_TOKEN_TTL_INVALID", "page token lifetime must be positive")
	}
	return c, nil
}

// Encode returns the token for the page of req's results that starts at
// cursor. cursor must be 1 to MaxCursorLen bytes; an empty cursor is
// reserved for "first page" (see Decode).
func (c *Codec) Encode(req proto.Message, cursor []byte) (string, error) {
	if len(cursor) == 0 || len(cursor) > MaxCursorLen {
		return "", errs.E(errs.Internal, "PAGE_CURSOR_INVALID", "page cursor is empty or too long")
	}
	digest, err := queryDigest(req)
	if err != nil {
		return "", err
	}
	b := make([]byte, headerLen, headerLen+len(cursor)+tagLen)
	b[0] = version
	binary.BigEndian.PutUint64(b[1:headerLen], uint64(c.now().Add(c.ttl).Unix()))
	b = append(b, cursor...)
	b = append(b, c.tag(b, digest)...)
	return encoding.EncodeToString(b), nil
}

// Decode returns the cursor of token, which must have been issued by Encode
// under this key for a request with the same filters as req (page_size and
// page_token may differ) and must not have expired. The empty token is the
// first page: Decode returns a nil cursor and no error.
func (c *Codec) Decode(req proto.Message, token string) ([]byte, error) {
	if token == "" {
		return nil, nil
	}
	if len(token) > MaxLen {
		return nil, invalid()
	}
	b, err := encoding.DecodeString(token)
	// The decoder skips line breaks, and other spellings of the same bytes
	// would let one token pass as many: only the issued string is accepted.
	if err != nil || encoding.EncodeToString(b) != token || len(b) <= headerLen+tagLen || b[0] != version {
		return nil, invalid()
	}
	digest, err := queryDigest(req)
	if err != nil {
		return nil, err
	}
	body, tag := b[:len(b)-tagLen], b[len(b)-tagLen:]
	if !hmac.Equal(tag, c.tag(body, digest)) {
		return nil, invalid()
	}
	// Checked after the MAC, so only the holder of a genuine token learns
	// that it has expired.
	expiry := binary.BigEndian.Uint64(body[1:headerLen])
	if now := c.now().Unix(); now < 0 || uint64(now) >= expiry {
		return nil, errs.E(errs.InvalidArgument, ReasonInvalid, "page_token has expired; list again from the first page")
	}
	return body[headerLen:], nil
}

func (c *Codec) tag(body, digest []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(macLabel)
	m.Write(digest)
	m.Write(body)
	return m.Sum(nil)[:tagLen]
}

var encoding = base64.RawURLEncoding

func invalid() error {
	return errs.E(errs.InvalidArgument, ReasonInvalid, "page_token is not a token this service issued for this query")
}

// pagingFields are left out of the query digest: a client may change its page
// size between pages, and the token cannot cover itself.
var pagingFields = []protoreflect.Name{"page_size", "page_token"}

// queryDigest identifies the query req asks for: SHA-256 over its message
// type and its deterministic encoding with the paging fields cleared. The
// type name keeps a token of one List RPC out of another whose filters happen
// to encode alike (both empty, say).
func queryDigest(req proto.Message) ([]byte, error) {
	m := proto.Clone(req).ProtoReflect()
	fields := m.Descriptor().Fields()
	for _, name := range pagingFields {
		if fd := fields.ByName(name); fd != nil {
			m.Clear(fd)
		}
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m.Interface())
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "PAGE_QUERY_DIGEST_FAILED", "cannot digest the query")
	}
	h := sha256.New()
	h.Write([]byte(m.Descriptor().FullName()))
	h.Write([]byte{0})
	h.Write(b)
	return h.Sum(nil), nil
}
