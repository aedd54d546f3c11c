package server_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/store/storetest"
)

// TestErasedSendersRetryIsADuplicate: after the account a WhatsApp number
// was linked to is erased, the platform retrying one of the number's
// messages is a duplicate: no channel identity, conversation or message is
// made again, and nothing is sent. Only the message ids' keyed digests are
// kept (no identity, no subject, not the number), and the retention sweep
// deletes them after seven days.
func TestErasedSendersRetryIsADuplicate(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		alice := h.customerAt("cus_alice", accesstoken.AAL2)
		num := waNumber(t)
		first := wamid(t, num)
		h.ingest("shop", whatsApp, num, first, "Hi, where is my order?")
		h.ingest("shop", whatsApp, num, wamid(t, num), "LINK "+h.linkCode(alice, whatsApp))
		h.ingest("shop", whatsApp, num, wamid(t, num), "YES")
		linked := wamid(t, num)
		h.ingest("shop", whatsApp, num, linked, "And my invoice?")
		h.channels.waitDeliveries(t, 4)
		ctx := context.Background()
		if _, err := h.privacy("consent").Erase(ctx, &privacyv1.EraseRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_tomb"}); err != nil {
			t.Fatal(err)
		}
		if _, ok := h.identityOf(num); ok {
			t.Fatal("the number's identity outlived the erasure")
		}
		if n := h.count("channel_message_tombstones"); n != 4 {
			t.Errorf("%d tombstones, want the 4 messages' digests", n)
		}
		convs, msgs := h.count("conversations"), h.count("messages")
		for _, id := range []string{first, linked} {
			again := h.ingest("shop", whatsApp, num, id, "And my invoice?")
			if !again.GetDuplicate() || again.GetConversationId() != "" {
				t.Errorf("retry of %s after the erasure: %v, want a duplicate", id, again)
			}
		}
		if _, ok := h.identityOf(num); ok || h.count("channel_identities") != 0 || h.count("conversations") != convs || h.count("messages") != msgs {
			t.Error("a retry after the erasure created the sender again")
		}
		h.channels.settle()
		if n := len(h.channels.api.Deliveries()); n != 4 {
			t.Errorf("%d deliveries, want the 4 from before the erasure", n)
		}
		if stored := storetest.StoredBytes(t, h.db); bytes.Contains(stored, []byte(first)) || bytes.Contains(stored, []byte(num)) {
			t.Error("the message id or the number is in the database files")
		}
		sweep := func(after time.Duration) {
			now := h.channels.now().Add(after)
			if _, err := h.app.Domain.NewRetention(policy(t, testRetention), nil, func() time.Time { return now }).Sweep(ctx, "run:test"); err != nil {
				t.Fatal(err)
			}
		}
		sweep(6 * 24 * time.Hour)
		if n := h.count("channel_message_tombstones"); n != 4 {
			t.Errorf("%d tombstones after 6 days, want 4", n)
		}
		sweep(7*24*time.Hour + time.Minute)
		if n := h.count("channel_message_tombstones"); n != 0 {
			t.Errorf("%d tombstones after 7 days, want none", n)
		}
	})
}
