// Package crmevents records identity's customer events in crmsync (ADR
// 0015): a customer's sign-up, and each change of their contact details
// (a confirmed e-mail change, a rectified phone number), reach the shop's
// CRMs as crmsync's RecordCustomerEvent.
//
// The event is a pkg/jobs job enqueued in the transaction that makes the
// change, so it exists exactly when the change committed and survives
// crmsync being down and identity crashing. Its arguments are ids only
// (the account, the event id, created or updated): the handler reads the
// account's tokens when it runs, so the job table holds no contact detail,
// not even a token, and a later change is sent as it is then. crmsync is
// dialled, not waited for (the manifest has identity follow crmsync, which
// calls consent, which calls identity): while it cannot be reached the job
// is retried with pkg/jobs' backoff, never dropped. An account erased
// before its job runs sends nothing.
package crmevents

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
	"github.com/sottohq/sotto/services/identity/internal/storage"
)

// Kind is the pkg/jobs kind of a customer event on its way to crmsync.
const Kind = "identity.crm_event"

// MaxAttempts is about two days of pkg/jobs' backoff (capped at an hour):
// crmsync down for longer leaves the job dead, visible and re-queueable.
const MaxAttempts = 50

// Recorder is the part of crmsync the jobs call.
type Recorder interface {
	RecordCustomerEvent(ctx context.Context, in *crmsyncv1.RecordCustomerEventRequest, opts ...grpc.CallOption) (*crmsyncv1.RecordCustomerEventResponse, error)
}

// Events enqueues and runs the jobs.
type Events struct {
	jobs  *jobs.Runner
	store *storage.Store
	crm   Recorder
}

// New registers the kind on runner (before it runs).
func New(runner *jobs.Runner, st *storage.Store, crm Recorder) (*Events, error) {
	e := &Events{jobs: runner, store: st, crm: crm}
	if err := runner.Register(Kind, e.handle, jobs.Options{MaxAttempts: MaxAttempts, Timeout: time.Minute}); err != nil {
		return nil, err
	}
	return e, nil
}

// args are a job's arguments: ids only.
type args struct {
	Account string `json:"a"`
	Event   string `json:"e"`
	Created bool   `json:"c,omitempty"`
}

// CustomerChanged enqueues the event in tx (auth.CustomerEvents).
func (e *Events) CustomerChanged(ctx context.Context, tx *sql.Tx, accountID string, created bool) error {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	// The event id is crmsync's idempotency key: fixed here, so a retried
	// job records the event once.
	id := "idn_" + hex.EncodeToString(b[:])
	data, err := json.Marshal(args{Account: accountID, Event: id, Created: created})
	if err != nil {
		return err
	}
	_, err = e.jobs.EnqueueTx(ctx, tx, Kind, data, jobs.EnqueueOptions{UniqueKey: id})
	return err
}

// Request builds the event of account a: its tenant, subject (the account
// id, consent's subject) and the tokens of its contact details, never a
// value. Staff accounts have no shop and are not customers: ok is false.
func Request(a storage.Account, eventID string, created bool) (*crmsyncv1.RecordCustomerEventRequest, bool) {
	if a.Kind != storage.KindCustomer || a.Tenant == "" {
		return nil, false
	}
	kind := crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_UPDATED
	if created {
		kind = crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_CREATED
	}
	fields := map[string]string{}
	// The random token of the address is the account's own (the login
	// token is deterministic and may be shared), so crmsync can have it
	// masked or, where the shop's mapping and the vault's policy allow,
	// revealed.
	if a.EmailMaskToken != "" {
		fields["email"] = a.EmailMaskToken
	}
	if a.PhoneToken != "" {
		fields["phone"] = a.PhoneToken
	}
	return &crmsyncv1.RecordCustomerEventRequest{EventId: eventID, Tenant: a.Tenant, Subject: a.ID, Kind: kind, Fields: fields}, true
}

func (e *Events) handle(ctx context.Context, j jobs.Job) error {
	var in args
	if err := json.Unmarshal(j.Args, &in); err != nil || in.Account == "" || in.Event == "" {
		return jobs.Permanent(errs.E(errs.InvalidArgument, reasons.CRMEventInvalid, "a customer event job's arguments do not parse"))
	}
	a, err := e.store.Account(ctx, e.store.DB(), in.Account)
	if errs.Is(err, errs.NotFound) {
		return nil // erased meanwhile: nothing of it may leave
	}
	if err != nil {
		return err
	}
	req, ok := Request(a, in.Event, in.Created)
	if !ok {
		return nil
	}
	_, err = e.crm.RecordCustomerEvent(ctx, req)
	switch status.Code(err) {
	case codes.OK:
		return nil
	case codes.InvalidArgument, codes.FailedPrecondition, codes.PermissionDenied, codes.NotFound:
		// No retry changes crmsync's answer: dead, with the reason.
		return jobs.Permanent(errs.E(errs.FailedPrecondition, reasons.CRMEventRefused, "crmsync refused a customer event"))
	}
	// Unreachable, overloaded, or a deadline: retried, never dropped.
	return errs.E(errs.Unavailable, reasons.CRMSyncUnavailable, "crmsync could not record a customer event")
}
