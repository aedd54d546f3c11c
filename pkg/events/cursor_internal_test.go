package events

import (
	"bytes"
	"testing"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store/storetest"
)

// TestCursorAheadOfTheLogIsExpired: a cursor past the log's end (the
// database was restored from a backup taken before the client read that
// far) is refused: the seqs after the restore point will be drawn again
// for other events, which the client would skip.
func TestCursorAheadOfTheLogIsExpired(t *testing.T) {
	db := storetest.SQLite(t, nil)
	o, err := New(t.Context(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pos := range []int64{0, 1} {
		err := o.Feed(t.Context(), Subscription{Topics: []string{"consent.withdrawn"}, Cursor: o.encodeCursor(pos)}, func(Change) error {
			// Sent only if the cursor was accepted; stop there.
			return errs.E(errs.Aborted, "ACCEPTED", "accepted")
		})
		want := ReasonCursorExpired
		if pos == 0 {
			want = "ACCEPTED" // the end of an empty log
		}
		if errs.ReasonOf(err) != want {
			t.Fatalf("cursor at %d: %v, want %s", pos, err, want)
		}
	}
}

// FuzzDecodeCursor: decoding a client's cursor never panics, and accepts
// only the one spelling this log issues for a position.
func FuzzDecodeCursor(f *testing.F) {
	o := &Outbox{logID: bytes.Repeat([]byte{7}, logIDLen)}
	f.Add(o.encodeCursor(0))
	f.Add(o.encodeCursor(1 << 40))
	f.Add("")
	f.Add("AQcHBwcHBwcHBwcHBwcHBwcAAAAAAAAAAQ\n")
	f.Fuzz(func(t *testing.T, s string) {
		pos, err := o.decodeCursor(s)
		if err != nil {
			if k := errs.KindOf(err); k != errs.InvalidArgument && k != errs.FailedPrecondition {
				t.Fatalf("%q: %v, want InvalidArgument or FailedPrecondition", s, err)
			}
			return
		}
		if pos < 0 || o.encodeCursor(pos) != s {
			t.Fatalf("%q accepted as %d, which encodes as %q", s, pos, o.encodeCursor(pos))
		}
	})
}
