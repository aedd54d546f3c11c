package crmevents_test

import (
	"strings"
	"testing"

	"github.com/sottohq/sotto/pkg/pii"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
	"github.com/sottohq/sotto/services/conversation/internal/crmevents"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// TestIdentified: only an account's conversation, closed by its customer,
// becomes a CRM event; a visitor's or an unlinked channel user's never,
// whatever the caller claims.
func TestIdentified(t *testing.T) {
	for _, tc := range []struct {
		subject    string
		identified bool
		want       bool
	}{
		{"acc_7x", true, true},
		{"acc_7x", false, false},
		{"vis_7x", true, false},
		{"chu_7x", true, false},
		{"", true, false},
	} {
		if got := crmevents.Identified(storage.Conversation{CustomerSubject: tc.subject}, tc.identified); got != tc.want {
			t.Errorf("%q (identified %v): %v", tc.subject, tc.identified, got)
		}
	}
}

// TestSummaryIsThePlaceholderView: the summary counts the messages and
// lists the placeholders the customer's messages hold, bounded, and quotes
// none of their words: a name the detector missed, or a remark about the
// customer's health, stays out of the CRM (seen failing with the customer's
// first messages quoted, as the summary did before the security review).
func TestSummaryIsThePlaceholderView(t *testing.T) {
	conv := storage.Conversation{ID: "conv_1", AgentSubject: "acc_agent"}
	msgs := []storage.Message{
		{Author: conversation.AuthorCustomer, Text: "My name is [PERSON_1], write to [EMAIL_1]"},
		{Author: conversation.AuthorAssistant, Text: "Thanks [PERSON_1]."},
		{Author: conversation.AuthorCustomer, Text: "Hier ist Jonas Brückner, my insulin order [EMAIL_1] " + strings.Repeat("long ", 200)},
		{Author: conversation.AuthorAgent, Text: "Done."},
	}
	s := crmevents.Summary(conv, msgs)
	for _, want := range []string{"conv_1", "2 messages from the customer, 1 from the assistant, 1 from an agent", "handed off",
		"placeholders in the customer's messages: [PERSON_1], [EMAIL_1]."} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
	for _, word := range []string{"Jonas", "Brückner", "insulin", "My name", "write to", "long", "Thanks", "Done."} {
		if strings.Contains(s, word) {
			t.Errorf("summary %q quotes %q", s, word)
		}
	}
	// crmsync refuses a summary in which pkg/pii finds anything.
	engine, err := pii.New(pii.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if f := engine.Detect(s, "en"); len(f) > 0 {
		t.Errorf("pkg/pii finds %v in the summary %q: crmsync would refuse it", f, s)
	}
	if len([]rune(s)) > 1000 {
		t.Errorf("summary unbounded: %d runes", len([]rune(s)))
	}
	if id := crmevents.EventID("conv_1"); id != crmevents.EventID(conv.ID) || id == crmevents.EventID("conv_2") {
		t.Error("event ids are not one per conversation")
	}
}
