package assistant

import (
	"context"
	"errors"
	"testing"
)

// history is a ShopperHistory over a fixed list, counting its uses.
type history struct {
	events          []ShopperEvent
	reads, refusals int
}

func (h *history) Recent(context.Context) ([]ShopperEvent, error) {
	h.reads++
	return h.events, nil
}

func (h *history) Refused(context.Context) { h.refusals++ }

// bob's shop events, newest first: a jacket out of stock, socks he then
// ordered, the trail runner.
func bobsHistory() *history {
	return &history{events: []ShopperEvent{{SKU: "CR-1"}, {SKU: "WS-3", Ordered: true}, {SKU: "WS-3"}, {SKU: "TR-2"}}}
}

// TestShopperHistoryWordForWord: with consent, the recommendation names the
// newest product the customer looked at that is in stock and not ordered,
// in each language.
func TestShopperHistoryWordForWord(t *testing.T) {
	want := map[string]string{
		"en": "Based on what you looked at recently, you might like: Trail Runner 2.",
		"de": "Passend zu dem, was Sie sich zuletzt angesehen haben, gefällt Ihnen vielleicht: Trail Runner 2.",
		"fr": "D'après ce que vous avez regardé récemment, ceci pourrait vous plaire : Trail Runner 2.",
		"es": "Según lo que ha visto recientemente, quizá le guste: Trail Runner 2.",
		"nl": "Op basis van wat u onlangs hebt bekeken, vindt u dit misschien leuk: Trail Runner 2.",
		"it": "In base a ciò che ha guardato di recente, potrebbe piacerle: Trail Runner 2.",
	}
	yes := &purposes{allow: map[string]bool{"cus_bob/personalisation": true}}
	b := NewBuiltin(testFixtures(t), yes)
	for lang, w := range want {
		h := bobsHistory()
		r := b.Reply(context.Background(), Request{Caller: bob, Language: lang, Text: "recommend something", Shopping: h})
		if r.Text != w || r.Intent != Recommend {
			t.Errorf("%s: %q (%s), want %q", lang, r.Text, r.Intent, w)
		}
		if h.reads != 1 || h.refusals != 0 {
			t.Errorf("%s: %d reads, %d refusals; want 1, 0", lang, h.reads, h.refusals)
		}
	}
}

// TestShopperHistoryOnlyWithConsent: without consent the history is not
// read and is told to forget (deleted); when consent cannot be asked it is
// neither read nor deleted; a visitor's is never touched.
func TestShopperHistoryOnlyWithConsent(t *testing.T) {
	f := testFixtures(t)
	ctx := context.Background()
	generic := "A customer favourite right now: Day Pack 20."
	for name, c := range map[string]struct {
		p        Purposes
		refusals int
	}{
		"refused":     {&purposes{allow: map[string]bool{"cus_bob/order_support": true}}, 1},
		"none":        {nil, 1},
		"unreachable": {&purposes{allow: map[string]bool{"cus_bob/personalisation": true}, err: errors.New("consent unavailable")}, 0},
	} {
		h := bobsHistory()
		got := NewBuiltin(f, c.p).Reply(ctx, Request{Caller: bob, Language: "en", Text: "Can you recommend something?", Shopping: h}).Text
		if got != generic || h.reads != 0 || h.refusals != c.refusals {
			t.Errorf("%s: %q, %d reads, %d refusals; want %q, 0 reads, %d refusals", name, got, h.reads, h.refusals, generic, c.refusals)
		}
	}
	h := bobsHistory()
	yes := &purposes{allow: map[string]bool{"/personalisation": true}}
	if got := NewBuiltin(f, yes).Reply(ctx, Request{Caller: visitor, Language: "en", Text: "recommend something", Shopping: h}).Text; got != generic || h.reads+h.refusals != 0 {
		t.Errorf("visitor: %q, %d reads, %d refusals", got, h.reads, h.refusals)
	}
}
