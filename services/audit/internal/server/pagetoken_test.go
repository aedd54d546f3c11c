package server

import (
	"testing"

	"github.com/sottohq/sotto/pkg/errs"
)

// FuzzDecodePageToken: page tokens come from clients, so any string must
// either decode to a position this service could have issued or be rejected
// with InvalidArgument, never panic.
func FuzzDecodePageToken(f *testing.F) {
	for _, seed := range []string{"", encodePageToken(0), encodePageToken(99), "cDE", "p-1", "%%%", "cA"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		n, err := decodePageToken(tok)
		switch {
		case err != nil:
			if !errs.Is(err, errs.InvalidArgument) {
				t.Fatalf("decode(%q) error kind %v, want InvalidArgument", tok, errs.KindOf(err))
			}
		case tok == "":
			if n != -1 {
				t.Fatalf("empty token decoded to %d", n)
			}
		default:
			if n < 0 {
				t.Fatalf("decode(%q) = %d, negative", tok, n)
			}
			if again, err := decodePageToken(encodePageToken(n)); err != nil || again != n {
				t.Fatalf("round trip of %d failed: %d, %v", n, again, err)
			}
		}
	})
}
