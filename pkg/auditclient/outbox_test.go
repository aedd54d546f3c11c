package auditclient_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"log/slog"
	"testing"

	"google.golang.org/grpc"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
)

// outboxMigrations is a service with no tables of its own: the outbox
// table comes from the platform schema, which storetest applies as
// pkg/service does.
var outboxMigrations fs.FS

// TestSealValidates: an event that breaks the audit service's rules fails
// the caller when it is sealed (or recorded), before any transaction, so it can never sit
// in the outbox blocking the relay; and nothing unsealed gets in either.
func TestSealValidates(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		event  auditclient.Event
		reason string
	}{
		{"action not in the audit service's format", auditclient.New(ctx, "Consent Grant", auditclient.Success), "AUDIT_EVENT_INVALID"},
		{"no ID or time", auditclient.Event{Action: "consent.grant"}, "AUDIT_EVENT_INCOMPLETE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auditclient.Seal(tc.event)
			if !errs.Is(err, errs.InvalidArgument) || errs.ReasonOf(err) != tc.reason {
				t.Fatalf("Seal: %v, want InvalidArgument %s", err, tc.reason)
			}
			// Validate (which stand-ins for the client use) and the
			// synchronous Record refuse the same events, before any call.
			if err := auditclient.Validate(tc.event); errs.ReasonOf(err) != tc.reason {
				t.Fatalf("Validate: %v, want %s", err, tc.reason)
			}
			if err := auditclient.NewClient(liar{}).Record(ctx, tc.event); errs.ReasonOf(err) != tc.reason {
				t.Fatalf("Record: %v, want %s", err, tc.reason)
			}
		})
	}
	good, err := auditclient.Seal(auditclient.New(ctx, "consent.grant", auditclient.Success))
	if err != nil || len(good) != 1 {
		t.Fatalf("Seal of a valid event: %v, %v", good, err)
	}

	storetest.ForEachDialect(t, outboxMigrations, func(t *testing.T, db *store.DB) {
		o := auditclient.NewOutbox(db, nil, nil)
		err := db.InTx(ctx, func(tx *sql.Tx) error { return o.EnqueueSealed(ctx, tx, good[0], auditclient.Sealed{}) })
		if !errs.Is(err, errs.Internal) {
			t.Fatalf("EnqueueSealed with an unsealed event: %v, want Internal", err)
		}
		if n, err := o.Pending(ctx); err != nil || n != 0 {
			t.Fatalf("after the refused enqueue: %d pending (%v), want 0", n, err)
		}
		if err := db.InTx(ctx, func(tx *sql.Tx) error {
			return o.Enqueue(ctx, tx, auditclient.New(ctx, "consent.grant", auditclient.Success))
		}); err != nil {
			t.Fatal(err)
		}
		if n, err := o.Pending(ctx); err != nil || n != 1 {
			t.Fatalf("after a valid enqueue: %d pending (%v), want 1", n, err)
		}
	})
}

// TestOutboxKeepsRowsOnAnAnswerForOtherEvents: the relay deletes a row only
// when the audit service confirmed that very event.
func TestOutboxKeepsRowsOnAnAnswerForOtherEvents(t *testing.T) {
	ctx := context.Background()
	storetest.ForEachDialect(t, outboxMigrations, func(t *testing.T, db *store.DB) {
		o := auditclient.NewOutbox(db, auditclient.NewClient(liar{}), slog.New(slog.DiscardHandler))
		if err := db.InTx(ctx, func(tx *sql.Tx) error {
			return o.Enqueue(ctx, tx, auditclient.New(ctx, "consent.grant", auditclient.Success))
		}); err != nil {
			t.Fatal(err)
		}
		if n, err := o.Flush(ctx); err == nil || n != 0 {
			t.Fatalf("flush against a wrong answer: %d delivered, %v; want an error", n, err)
		}
		if n, err := o.Pending(ctx); err != nil || n != 1 {
			t.Fatalf("%d rows pending (%v), want the row kept", n, err)
		}
	})
}

// liar is a connection whose audit service answers for an event nobody sent.
type liar struct{}

func (liar) Invoke(_ context.Context, _ string, args, reply any, _ ...grpc.CallOption) error {
	for range args.(*auditv1.AppendEventsRequest).Events {
		r := reply.(*auditv1.AppendEventsResponse)
		r.Results = append(r.Results, &auditv1.AppendResult{EventId: "0193a5b0-0000-7000-8000-000000000000"})
	}
	return nil
}

func (liar) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, errors.New("no streams")
}
