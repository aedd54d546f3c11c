package server_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// TestPostRefusedViewStoresNothing: a visitor (who may not have the
// re-identified view) posting with it is refused before anything is
// stored or tokenised: no message, no placeholder, no vault call.
func TestPostRefusedViewStoresNothing(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	vis, _ := h.visitor()
	id := h.open(vis)
	c := newCanaries(t)
	_, err := h.client.PostMessage(vis, &conversationv1.PostMessageRequest{ConversationId: id, Text: c.message(),
		View: conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED})
	wantStatus(t, err, codes.PermissionDenied, reasons.ReidentifiedCustomersOnly)
	if n, p, v := h.count("messages"), h.count("placeholders"), len(h.vault.requests()); n != 0 || p != 0 || v != 0 {
		t.Errorf("refused post left %d messages, %d placeholders, %d vault calls; want none", n, p, v)
	}
}
