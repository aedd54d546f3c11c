package pagetoken

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/errs"
)

var (
	key1 = bytes.Repeat([]byte{1}, KeySize)
	key2 = bytes.Repeat([]byte{2}, KeySize)
	t0   = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
)

// clock is a settable fake clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newCodec(t testing.TB, key []byte, clk *clock) *Codec {
	t.Helper()
	c, err := New(key, WithClock(clk.now), WithTTL(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func subjectQuery(subject string) *auditv1.ListEventsRequest {
	return &auditv1.ListEventsRequest{Subject: subject, Action: "tokenvault.detokenize", PageSize: 10}
}

func TestRoundTrip(t *testing.T) {
	c := newCodec(t, key1, &clock{t0})
	for _, cursor := range [][]byte{{0}, []byte("p42"), bytes.Repeat([]byte{0xff}, MaxCursorLen)} {
		tok, err := c.Encode(subjectQuery("cus_a"), cursor)
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) > MaxLen {
			t.Fatalf("token of a %d-byte cursor is %d characters, over %d", len(cursor), len(tok), MaxLen)
		}
		// The next page may ask for another page size, and carries the token.
		next := subjectQuery("cus_a")
		next.PageSize, next.PageToken = 500, tok
		got, err := c.Decode(next, next.PageToken)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !bytes.Equal(got, cursor) {
			t.Fatalf("cursor %x, want %x", got, cursor)
		}
	}
	if got, err := c.Decode(subjectQuery("cus_a"), ""); got != nil || err != nil {
		t.Fatalf("empty token = %x, %v; want the first page", got, err)
	}
}

func TestUsableUntilExpiry(t *testing.T) {
	clk := &clock{t0}
	c := newCodec(t, key1, clk)
	tok, err := c.Encode(subjectQuery("cus_a"), []byte{7})
	if err != nil {
		t.Fatal(err)
	}
	clk.t = t0.Add(time.Hour - time.Second)
	if _, err := c.Decode(subjectQuery("cus_a"), tok); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
}

func TestRefused(t *testing.T) {
	clk := &clock{t0}
	c := newCodec(t, key1, clk)
	q := subjectQuery("cus_alice")
	tok, err := c.Encode(q, []byte("cursor"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		return base64.RawURLEncoding.EncodeToString(b)
	}
	// A token of another format version, signed under the right key.
	digest, err := queryDigest(q)
	if err != nil {
		t.Fatal(err)
	}
	v2 := bytes.Clone(raw[:len(raw)-tagLen])
	v2[0] = version + 1
	otherVersion := base64.RawURLEncoding.EncodeToString(append(v2, c.tag(v2, digest)...))
	otherKey, err := newCodec(t, key2, clk).Encode(q, []byte("cursor"))
	if err != nil {
		t.Fatal(err)
	}
	// The same bytes spelled with other trailing bits decode alike in
	// non-strict base64; only the issued spelling may be accepted.
	last := strings.IndexByte(base64URLAlphabet, tok[len(tok)-1])
	respelled := tok[:len(tok)-1] + string(base64URLAlphabet[last^1])

	tests := []struct {
		name    string
		query   proto.Message
		token   string
		advance time.Duration
	}{
		{"version byte changed", q, flip(0), 0},
		{"other format version", q, otherVersion, 0},
		{"expiry changed", q, flip(headerLen - 1), 0},
		{"cursor changed", q, flip(headerLen), 0},
		{"tag changed", q, flip(len(raw) - 1), 0},
		{"tag cut off", q, base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1]), 0},
		{"signed with another key", q, otherKey, 0},
		{"other filter value", subjectQuery("cus_bob"), tok, 0},
		{"filter dropped", &auditv1.ListEventsRequest{Action: q.Action}, tok, 0},
		{"other List RPC", &auditv1.ListCheckpointsRequest{}, emptyQueryToken(t, c), 0},
		{"expired", q, tok, time.Hour},
		{"long expired", q, tok, 1000 * time.Hour},
		{"respelled", q, respelled, 0},
		{"garbage", q, "not-a-token", 0},
		{"not base64", q, "%%%%", 0},
		{"over MaxLen", q, tok + strings.Repeat("A", MaxLen), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk.t = t0.Add(tc.advance)
			defer func() { clk.t = t0 }()
			got, err := c.Decode(tc.query, tc.token)
			if err == nil {
				t.Fatalf("accepted, cursor %q", got)
			}
			if !isInvalid(err) {
				t.Fatalf("error %v, want InvalidArgument %s", err, ReasonInvalid)
			}
			if msg := err.Error(); strings.Contains(msg, "alice") || strings.Contains(msg, "bob") || strings.Contains(msg, "cursor") {
				t.Fatalf("error names a value: %q", msg)
			}
		})
	}
}

// emptyQueryToken is a token of ListEvents without filters, which encodes
// exactly as ListCheckpoints does once the paging fields are cleared.
func emptyQueryToken(t *testing.T, c *Codec) string {
	t.Helper()
	tok, err := c.Encode(&auditv1.ListEventsRequest{PageSize: 5}, []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decode(&auditv1.ListEventsRequest{}, tok); err != nil {
		t.Fatalf("the token does not even work for its own query: %v", err)
	}
	return tok
}

func isInvalid(err error) bool {
	return errs.Is(err, errs.InvalidArgument) && errs.ReasonOf(err) == ReasonInvalid
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func TestEncodeRefusesCursorsItCannotCarry(t *testing.T) {
	c := newCodec(t, key1, &clock{t0})
	for _, cursor := range [][]byte{nil, {}, make([]byte, MaxCursorLen+1)} {
		if tok, err := c.Encode(subjectQuery("cus_a"), cursor); err == nil {
			t.Errorf("%d-byte cursor encoded as %q", len(cursor), tok)
		}
	}
}

func TestNewRefusesBadKeysAndTTLs(t *testing.T) {
	for _, key := range [][]byte{nil, make([]byte, 16), make([]byte, KeySize+1)} {
		if _, err := New(key); err == nil {
			t.Errorf("New accepted a %d-byte key", len(key))
		}
	}
	if _, err := New(key1, WithTTL(0)); err == nil {
		t.Error("New accepted a zero TTL")
	}
}

func TestNewCopiesTheKey(t *testing.T) {
	key := bytes.Clone(key1)
	c := newCodec(t, key, &clock{t0})
	tok, err := c.Encode(subjectQuery("cus_a"), []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	clear(key)
	if _, err := c.Decode(subjectQuery("cus_a"), tok); err != nil {
		t.Fatalf("the codec changed with the caller's key buffer: %v", err)
	}
}

// FuzzDecode: page tokens come from clients, so any string must be refused
// with InvalidArgument INVALID_PAGE_TOKEN, never panic, unless it is exactly
// a token this codec issues for the query.
func FuzzDecode(f *testing.F) {
	c := newCodec(f, key1, &clock{t0})
	q := subjectQuery("cus_a")
	for _, cursor := range [][]byte{{0}, []byte("p99"), bytes.Repeat([]byte{0xff}, MaxCursorLen)} {
		tok, err := c.Encode(q, cursor)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
		f.Add(tok[:len(tok)-1])
		f.Add(tok + "A")
	}
	for _, seed := range []string{"", "cDE", "p-1", "%%%", "cA", "AQ", "=", strings.Repeat("A", 1<<16), "\x00\xff"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		cursor, err := c.Decode(q, tok)
		switch {
		case err != nil:
			if !isInvalid(err) {
				t.Fatalf("decode(%q): %v, want InvalidArgument %s", tok, err, ReasonInvalid)
			}
		case tok == "":
			if cursor != nil {
				t.Fatalf("empty token decoded to %x", cursor)
			}
		default:
			again, err := c.Encode(q, cursor)
			if err != nil || again != tok {
				t.Fatalf("accepted %q, which is not the token issued for its cursor (%q, %v)", tok, again, err)
			}
		}
	})
}
