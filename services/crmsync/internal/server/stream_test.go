package server_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
)

// platformShop's CRM platform pulls its changes: the e-mail address in
// plaintext, the first name masked, the last name as a token.
const (
	platformShop    = "plat"
	platformMapping = `
fields:
  - {field: email, property: email, purpose: crm_sync, form: plaintext}
  - {field: first_name, property: first_name, purpose: crm_sync, form: masked}
  - {field: last_name, property: last_name, purpose: crm_sync}
`
)

// sealedEvents is crmsync's event log as cmd/crmsync opens it
// (service.Events): payloads sealed under the queue's key.
func sealedEvents(ctx context.Context, db *store.DB, km keys.KeyManager) (*events.Outbox, error) {
	if err := km.EnsureKey(ctx, "crmsync-queue", keys.TypeAES256GCM); err != nil {
		return nil, err
	}
	sealer, err := events.NewSealer(ctx, db, km, "crmsync-queue")
	if err != nil {
		return nil, err
	}
	return events.New(ctx, db, events.Options{Sealer: sealer, PollInterval: 50 * time.Millisecond})
}

// watch opens WatchChanges as the gateway relays it and returns its
// messages, heartbeats included, on a channel.
func (h *harness) watch(ctx context.Context, cursor string) <-chan *crmsyncv1.WatchChangesResponse {
	h.t.Helper()
	st, err := h.gateway.WatchChanges(ctx, &crmsyncv1.WatchChangesRequest{Tenant: platformShop, Cursor: cursor})
	if err != nil {
		h.t.Fatal(err)
	}
	out := make(chan *crmsyncv1.WatchChangesResponse, 16)
	go func() {
		defer close(out)
		for {
			m, err := st.Recv()
			if err != nil {
				return
			}
			out <- m
		}
	}()
	return out
}

// next is the stream's next change (heartbeats skipped); it gives up after
// 30 s of real time, which no result depends on.
func (h *harness) next(ch <-chan *crmsyncv1.WatchChangesResponse) *crmsyncv1.WatchChangesResponse {
	h.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				h.t.Fatal("the stream ended")
			}
			if m.GetSubject() != "" {
				return m
			}
		case <-deadline:
			h.t.Fatal("no change streamed")
		}
	}
}

func (h *harness) recordFor(tenant string, c customer, fields map[string]string) string {
	h.t.Helper()
	resp, err := h.services.RecordCustomerEvent(context.Background(), &crmsyncv1.RecordCustomerEventRequest{EventId: newEventID(),
		Tenant: tenant, Subject: c.subject, Kind: crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_UPDATED, Fields: fields})
	if err != nil || len(resp.GetDeliveries()) != 1 {
		h.t.Fatalf("record: %v %v", resp, err)
	}
	return resp.GetDeliveries()[0].GetDeliveryId()
}

// TestPlatformPullsItsChanges: a CRM platform integrating over gRPC gets
// the shop's changes as a stream, through the same queue, mapping, consent
// and forms as a push connector (plaintext only where mapped, the masked
// view, the token; the unmapped phone never); a stream resumed from a
// change's cursor starts after it; an edit pushed back is taken as a
// rectification and comes back on the stream in its mapped form; an erasure
// removes the customer from the log and streams a marker. The log is
// sealed: no value in the database files. Only the gateway (which binds
// the tenant to the integrator's token) may open the stream.
func TestPlatformPullsItsChanges(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := h.customer("sub_platform01", true)
		first := h.watch(ctx, "")
		if m := <-first; m.GetSubject() != "" || m.GetCursor() == "" {
			t.Fatalf("first message %v, want a heartbeat with the starting cursor", m)
		}
		h.recordFor(platformShop, c, map[string]string{"email": c.tEmail, "first_name": c.tFirst, "last_name": c.tLast, "phone": c.tPhone})
		var got *crmsyncv1.WatchChangesResponse
		go func() {
			for i := 0; i < 200 && ctx.Err() == nil; i++ {
				h.clock.Advance(time.Second)
				time.Sleep(20 * time.Millisecond)
			}
		}()
		got = h.next(first)
		p := got.GetProperties()
		if got.GetSubject() != c.subject || p["email"] != c.email || p["last_name"] != c.tLast || p["first_name"] == c.first ||
			p["first_name"] == c.tFirst || p["first_name"] == "" || len(p) != 3 {
			t.Fatalf("streamed %v, want the mapped fields in their forms", got)
		}
		if bytes.Contains(storetest.StoredBytes(t, h.db), []byte(c.email)) {
			t.Fatal("the plaintext value is in the database files")
		}

		// Resumed from that change's cursor: the next change only.
		cancelFirst := got.GetCursor()
		h.recordFor(platformShop, c, map[string]string{"last_name": c.tFirst})
		resumed := h.watch(ctx, cancelFirst)
		if m := h.next(resumed); m.GetProperties()["last_name"] != c.tFirst {
			t.Fatalf("resumed stream's first change %v, want the later one", m)
		}

		corrected := "sub_platform01-pushed-canary@example.com"
		resp, err := h.gateway.PushCrmChanges(context.Background(), &crmsyncv1.PushCrmChangesRequest{Tenant: platformShop,
			Changes: []*crmsyncv1.CrmChange{{EventId: "plat-edit-1", Subject: c.subject, Property: "email", Value: corrected,
				OccurTime: timestamppb.New(h.clock.Now())}}})
		if err != nil || resp.GetResults()[0].GetOutcome() != crmsyncv1.ChangeOutcome_CHANGE_OUTCOME_APPLIED {
			t.Fatalf("push: %v %v", resp, err)
		}
		if m := h.next(resumed); m.GetProperties()["email"] != corrected {
			t.Fatalf("after the push the stream got %v, want the corrected address", m)
		}

		if _, err := h.privacy.Erase(context.Background(), &privacyv1.EraseRequest{
			Subject: &privacyv1.Subject{Tenant: platformShop, Subject: c.subject}, RequestId: "dsr-platform-erase"}); err != nil {
			t.Fatal(err)
		}
		if m := h.next(resumed); !m.GetErased() || m.GetSubject() != c.subject || len(m.GetProperties()) != 0 {
			t.Fatalf("after the erasure the stream got %v, want the erasure marker", m)
		}

		st, err := h.services.WatchChanges(ctx, &crmsyncv1.WatchChangesRequest{Tenant: platformShop})
		if err == nil {
			_, err = st.Recv()
		}
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("conversation opening the stream: %v, want PermissionDenied", err)
		}
		if n := h.audited("crmsync.platform.streamed"); n < 4 {
			t.Fatalf("%d crmsync.platform.streamed audit events, want one per change streamed", n)
		}
	})
}
