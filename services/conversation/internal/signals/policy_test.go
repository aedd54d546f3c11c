package signals_test

import (
	"testing"

	"github.com/sottohq/sotto/services/conversation/internal/signals"
)

// TestShippedPolicyNeverRefusesByAddress: many customers share an address
// (an office, a carrier's NAT), so the shipped policy only records what it
// counts per address; a rule that throttled, blocked or demanded step-up by
// address would let one visitor lock every customer behind it out of the
// chat (an outside probe did exactly that with twelve card numbers).
func TestShippedPolicyNeverRefusesByAddress(t *testing.T) {
	rules := signals.DefaultPolicy().For("any-shop")
	var byAddress int
	for _, r := range rules {
		if r.Scope != signals.ScopeSourceAddress {
			continue
		}
		byAddress++
		if r.Action != signals.Record {
			t.Errorf("shipped rule %v refuses by address", r)
		}
	}
	if byAddress == 0 {
		t.Fatal("the shipped policy has no address rules: the test checks nothing")
	}
}
