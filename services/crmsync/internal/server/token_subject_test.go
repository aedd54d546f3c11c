package server_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
)

// TestTokenOfAnotherCustomerRefused: an event of customer A carrying
// customer B's token (a confused deputy within one shop) is refused
// InvalidArgument TOKEN_SUBJECT_MISMATCH, by the token vault's metadata of
// the token: nothing is queued nor held, and B's address reaches no CRM in
// A's record. A token the token vault does not know for the shop is
// FIELDS_INVALID. Seen failing (A's event queued with B's address) without
// the check in Record.
func TestTokenOfAnotherCustomerRefused(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		a := h.customer("sub_deputy01", true)
		b := h.customer("sub_deputy02", true)
		_, err := h.services.RecordCustomerEvent(context.Background(), &crmsyncv1.RecordCustomerEventRequest{EventId: newEventID(),
			Tenant: "shop", Subject: a.subject, Kind: crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_UPDATED,
			Fields: map[string]string{"last_name": a.tLast, "email": b.tEmail}})
		if status.Code(err) != codes.InvalidArgument || reasonOf(err) != reasons.TokenSubjectMismatch {
			t.Fatalf("A's event with B's token: %v, want InvalidArgument %s", err, reasons.TokenSubjectMismatch)
		}
		unknown := "tok_em_" + "0123456789abcdefghijABCDEFGHIJ"
		_, err = h.services.RecordCustomerEvent(context.Background(), &crmsyncv1.RecordCustomerEventRequest{EventId: newEventID(),
			Tenant: "shop", Subject: a.subject, Kind: crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_UPDATED,
			Fields: map[string]string{"email": unknown}})
		if status.Code(err) != codes.InvalidArgument || reasonOf(err) != reasons.FieldsInvalid {
			t.Fatalf("an unknown token: %v, want InvalidArgument %s", err, reasons.FieldsInvalid)
		}
		resp, err := h.operator.ListDeliveries(context.Background(), &crmsyncv1.ListDeliveriesRequest{PageSize: 100})
		if err != nil || len(resp.GetDeliveries()) != 0 {
			t.Fatalf("deliveries after the refusals: %v %v", resp.GetDeliveries(), err)
		}
		if n := h.held(a.subject); n != 0 {
			t.Fatalf("%d held events after the refusals", n)
		}
		// A's own tokens go through.
		if resp := h.record(a, map[string]string{"last_name": a.tLast, "email": a.tEmail}); len(resp.GetDeliveries()) != 2 {
			t.Fatalf("A's own event: %v", resp)
		}
	})
}
