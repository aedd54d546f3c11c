package conversation

import (
	"regexp"
	"testing"
	"time"
)

// TestSortedIDsSortByCreation: ids made later sort after earlier ones (so new
// rows land at the end of their indexes), keep the API's pattern, and do
// not repeat within a millisecond. Fails with 128 random bits (the pairs
// are ordered by chance once in 2^20).
func TestSortedIDsSortByCreation(t *testing.T) {
	pattern := regexp.MustCompile(`^msg_[0-9a-z]{26}$`)
	prev := newSortedID("msg_")
	for range 20 {
		time.Sleep(2 * time.Millisecond)
		id := newSortedID("msg_")
		if !pattern.MatchString(id) {
			t.Fatalf("id %q does not match %s", id, pattern)
		}
		if id <= prev {
			t.Fatalf("id %q made after %q sorts before it", id, prev)
		}
		prev = id
	}
	seen := map[string]bool{}
	for range 10000 {
		id := newSortedID("msg_")
		if seen[id] {
			t.Fatalf("id %q made twice", id)
		}
		seen[id] = true
	}
}
