// Package inbound turns edits made in a shop's CRM into rectifications of
// the customer's tokenised values (ADR 0015, "Inbound"). The gateway has
// verified the CRM's signed webhook and names the shop; here each change is
// mapped back through the shop's mapping (only a property the mapping sends
// in plaintext can carry a new value: a token or a masked view in the CRM
// is Sotto's, not the customer's data), its record's subject is found, the
// new value is tokenised by the token vault and queued as the customer's
// update to the shop's CRMs, under the same restriction, consent and forms
// as any other change. Each decided change is recorded once by the CRM's
// event id (a replay is a duplicate) and audited; no value, token or
// subject is kept here.
package inbound

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/crmsync/internal/delivery"
	"github.com/sottohq/sotto/services/crmsync/internal/mapping"
	"github.com/sottohq/sotto/services/crmsync/internal/storage"
)

// Outcome of one change (the proto's ChangeOutcome).
type Outcome int

// Outcomes.
const (
	Applied   Outcome = 1
	Duplicate Outcome = 2
	Refused   Outcome = 3
	Stale     Outcome = 4
	Failed    Outcome = 5
)

// Reasons of refusals and failures.
const (
	// ReasonNotMapped: the shop has no mapping for this CRM, or the
	// property is not in it. Fields a mapping does not name are not
	// Sotto's to correct.
	ReasonNotMapped = "PROPERTY_NOT_MAPPED"
	// ReasonNotPlaintext: the property carries a token or a masked view
	// (or a conversation summary): what the CRM holds is Sotto's stand-in,
	// and an edit of it is not a new value of the customer's.
	ReasonNotPlaintext = "PROPERTY_NOT_PLAINTEXT"
	// ReasonSubjectUnknown: the record has no subject crmsync can read
	// (not a record crmsync made, or deleted since).
	ReasonSubjectUnknown = "SUBJECT_UNKNOWN"
	// ReasonRestricted: the customer asked to restrict processing.
	ReasonRestricted = "SUBJECT_RESTRICTED"
	// ReasonRecordMismatch: the change's record is not the one crmsync
	// delivered the subject to (the CRM's own record id, kept at delivery),
	// or names none. The external id or subject property in the CRM is
	// editable by the shop's CRM users: without this, one who set contact
	// X's to customer Y's subject would rectify Y's values by editing X.
	ReasonRecordMismatch = "RECORD_SUBJECT_MISMATCH"
	// ReasonNoData: crmsync never delivered this customer to this CRM.
	ReasonNoData = "NO_DATA"
	// ReasonValueInvalid: the token vault refused the value for the
	// field's data type.
	ReasonValueInvalid = "VALUE_INVALID"
	// ReasonEventInvalid: the change lacks what it needs (a record or a
	// subject, a time).
	ReasonEventInvalid = "CHANGE_INVALID"
	// ReasonTokenVaultUnavailable, ReasonCRMUnavailable and
	// ReasonQueueUnavailable fail a change for now: the CRM redelivers.
	ReasonTokenVaultUnavailable = "TOKENVAULT_UNAVAILABLE"
	ReasonCRMUnavailable        = "CRM_UNAVAILABLE"
	ReasonQueueUnavailable      = "QUEUE_UNAVAILABLE"
	// ReasonCRMNotConfigured: the shop's CRM secret or settings are
	// missing or malformed, so its records cannot be read.
	ReasonCRMNotConfigured = "CRM_NOT_CONFIGURED"
	// ReasonStaleChange: a change older than one already applied to the
	// same property.
	ReasonStaleChange = "STALE_CHANGE"
)

// Audit actions.
const (
	ActionRectified auditclient.Action = "crmsync.inbound.rectified"
	ActionRefused   auditclient.Action = "crmsync.inbound.refused"
)

// resourceChange is the audit resource type of a CRM change; its id is
// "<connector>/<event id>".
const resourceChange = "crm_change"

// Change is one property of one CRM record set to a new value.
type Change struct {
	EventID  string
	RecordID string
	Subject  string
	Property string
	Value    string
	Occurred time.Time
}

// Result is what became of a change.
type Result struct {
	Outcome Outcome
	Reason  string
}

// Vault tokenises corrected values.
type Vault interface {
	Tokenize(ctx context.Context, in *tokenvaultv1.TokenizeRequest, opts ...grpc.CallOption) (*tokenvaultv1.TokenizeResponse, error)
}

// Recorder queues a customer update (delivery.Service.Record).
type Recorder interface {
	Record(ctx context.Context, ev delivery.Event) ([]storage.Delivery, []delivery.Skipped, error)
}

// Records reads a CRM record's subject by the CRM's own id (ErrNoSubject
// when the CRM has no such record or it has no subject).
type Records interface {
	Subject(ctx context.Context, m mapping.Mapping, recordID string) (string, error)
}

// ErrNoSubject is Records' answer for a record without a subject.
var ErrNoSubject = errors.New("inbound: the record has no subject")

// Deps of a Service.
type Deps struct {
	Store    *storage.Store
	Mappings *mapping.Set
	Vault    Vault
	Recorder Recorder
	// Records by connector name; a connector without one needs the
	// change's subject.
	Records map[string]Records
	Audit   *auditclient.Outbox
	// DigestKey keys the digest of (tenant, subject, field) kept to order
	// changes.
	DigestKey []byte
	Logger    *slog.Logger
	Now       func() time.Time
}

// Service takes CRM changes.
type Service struct{ d Deps }

// New returns the service.
func New(d Deps) (*Service, error) {
	if d.Store == nil || d.Mappings == nil || d.Vault == nil || d.Recorder == nil || len(d.DigestKey) < 16 {
		return nil, errors.New("inbound: store, mappings, vault, recorder and a digest key are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{d: d}, nil
}

// Ingest decides each change, in order; one change's failure does not
// stop the others. An error is returned only when nothing could be
// decided (the database unreachable).
func (s *Service) Ingest(ctx context.Context, tenant, conn string, changes []Change) ([]Result, error) {
	var m *mapping.Mapping
	for _, mm := range s.d.Mappings.For(tenant) {
		if mm.Connector == conn {
			m = &mm
			break
		}
	}
	out := make([]Result, len(changes))
	for i, c := range changes {
		r, err := s.one(ctx, tenant, conn, m, c)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	if s.d.Audit != nil {
		s.d.Audit.Notify()
	}
	return out, nil
}

// fieldOf maps a CRM property back to the mapping's field.
func fieldOf(m *mapping.Mapping, property string) (mapping.Field, bool) {
	if m == nil {
		return mapping.Field{}, false
	}
	i := slices.IndexFunc(m.Fields, func(f mapping.Field) bool { return f.Property == property })
	if i < 0 {
		return mapping.Field{}, false
	}
	return m.Fields[i], true
}

func (s *Service) one(ctx context.Context, tenant, conn string, m *mapping.Mapping, c Change) (Result, error) {
	st, db := s.d.Store, s.d.Store.DB()
	if ok, err := s.seen(ctx, db, tenant, conn, c.EventID); err != nil || ok {
		return Result{Outcome: Duplicate}, err
	}
	refuse := func(subject, reason string) (Result, error) {
		return s.decide(ctx, tenant, conn, c, subject, "", Result{Outcome: Refused, Reason: reason})
	}
	if c.Occurred.IsZero() || (c.Subject == "" && c.RecordID == "") {
		return refuse("", ReasonEventInvalid)
	}
	f, ok := fieldOf(m, c.Property)
	if !ok {
		return refuse("", ReasonNotMapped)
	}
	if f.Form != mapping.Plaintext || f.Field == mapping.SummaryField {
		return refuse("", ReasonNotPlaintext)
	}
	subject := c.Subject
	if subject == "" {
		rec, ok := s.d.Records[conn]
		if !ok {
			return refuse("", ReasonSubjectUnknown)
		}
		var err error
		subject, err = rec.Subject(ctx, *m, c.RecordID)
		switch {
		case errors.Is(err, ErrNoSubject):
			return refuse("", ReasonSubjectUnknown)
		case err != nil:
			s.d.Logger.LogAttrs(ctx, slog.LevelWarn, "crm record unreadable", slog.String("connector", conn),
				slog.String("reason", errs.ReasonOf(err)))
			return Result{Outcome: Failed, Reason: ReasonCRMUnavailable}, nil
		}
	}
	restricted, err := st.Restricted(ctx, db, tenant, subject)
	if err != nil {
		return Result{}, err
	}
	if restricted {
		return refuse(subject, ReasonRestricted)
	}
	ds, err := st.OfSubject(ctx, db, tenant, subject)
	if err != nil {
		return Result{}, err
	}
	if !slices.ContainsFunc(ds, func(d storage.Delivery) bool { return d.Connector == conn && d.State == storage.Delivered }) {
		// A record crmsync never delivered is the shop's own contact, or a
		// subject property typed in by hand: not a Sotto customer's data.
		return refuse(subject, ReasonNoData)
	}
	// The platform (the pull stream's PushCrmChanges) has no record ids of
	// its own: it is trusted as the shop's own system for its tenant (the
	// gateway binds the call to the integrator's tenant), limited to the
	// subjects it has been sent (NO_DATA above). A CRM's change must come
	// from the very record crmsync delivered the subject to.
	if conn != mapping.Platform {
		bound, err := st.RecordOf(ctx, db, tenant, conn, subject)
		if err != nil {
			return Result{}, err
		}
		if bound == "" || c.RecordID == "" || !sameRecord(conn, bound, c.RecordID) {
			return refuse(subject, ReasonRecordMismatch)
		}
	}
	key := s.fieldKey(tenant, subject, f.Field)
	last, err := s.lastApplied(ctx, db, key)
	if err != nil {
		return Result{}, err
	}
	if last > c.Occurred.UnixMicro() {
		return s.decide(ctx, tenant, conn, c, subject, key, Result{Outcome: Stale})
	}
	resp, err := s.d.Vault.Tokenize(ctx, &tokenvaultv1.TokenizeRequest{Tenant: tenant, Subject: subject,
		Items: []*tokenvaultv1.TokenizeItem{{Value: c.Value, DataType: dataTypeOf(f.Field)}}})
	switch {
	case retryable(err):
		return Result{Outcome: Failed, Reason: ReasonTokenVaultUnavailable}, nil
	case err != nil || len(resp.GetResults()) != 1 || resp.GetResults()[0].GetToken() == "":
		return refuse(subject, ReasonValueInvalid)
	}
	token := resp.GetResults()[0].GetToken()
	// The update's event id derives from the CRM's, so a redelivery that
	// failed after queueing finds the same deliveries.
	sum := sha256.Sum256([]byte(tenant + "/" + conn + "/" + c.EventID))
	_, _, err = s.d.Recorder.Record(ctx, delivery.Event{ID: "crm_" + hex.EncodeToString(sum[:])[:40], Tenant: tenant,
		Subject: subject, Kind: updatedKind, Fields: map[string]string{f.Field: token}, Partial: true})
	if err != nil {
		if errs.Is(err, errs.InvalidArgument) {
			return refuse(subject, ReasonValueInvalid)
		}
		s.d.Logger.LogAttrs(ctx, slog.LevelWarn, "crm change not queued", slog.String("reason", errs.ReasonOf(err)))
		return Result{Outcome: Failed, Reason: ReasonQueueUnavailable}, nil
	}
	return s.decide(ctx, tenant, conn, c, subject, key, Result{Outcome: Applied})
}

// sameRecord compares a CRM's record ids. Salesforce's Ids come in a
// case-sensitive 15-character form and an 18-character one (the 15 and a
// checksum of their case): the REST API answers 18, a trigger may send
// either.
func sameRecord(conn, bound, got string) bool {
	if conn == "salesforce" && len(bound) == 18 && len(got) == 15 {
		return bound[:15] == got
	}
	return bound == got
}

// updatedKind is EVENT_KIND_CUSTOMER_UPDATED.
const updatedKind = 2

func retryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted, codes.Canceled:
		return true
	}
	return false
}

// fieldKey is the keyed digest of a customer's field: it orders changes
// without naming the customer.
func (s *Service) fieldKey(tenant, subject, field string) string {
	mac := hmac.New(sha256.New, s.d.DigestKey)
	for _, p := range []string{tenant, subject, field} {
		mac.Write([]byte(p))
		mac.Write([]byte{0})
	}
	return hex.EncodeToString(mac.Sum(nil))
}

// decide records the change's outcome once, and audits it, in one
// transaction. A concurrent delivery of the same event that recorded it
// first makes this one a duplicate.
func (s *Service) decide(ctx context.Context, tenant, conn string, c Change, subject, key string, r Result) (Result, error) {
	occurred := c.Occurred
	if occurred.IsZero() {
		occurred = s.d.Now()
	}
	err := s.d.Store.DB().InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO crm_inbound (tenant, connector, event_id, field_key, outcome, reason,
			occur_time, create_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, tenant, conn, c.EventID, key, int(r.Outcome),
			r.Reason, occurred.UnixMicro(), store.Micros(s.d.Now())); err != nil {
			return err
		}
		if s.d.Audit == nil {
			return nil
		}
		action, outcome := ActionRefused, auditclient.Denied
		if r.Outcome == Applied {
			action, outcome = ActionRectified, auditclient.Success
		}
		ev := auditclient.New(ctx, action, outcome)
		ev.Subject, ev.ResourceType, ev.ResourceID, ev.Reason = subject, resourceChange, conn+"/"+c.EventID, r.Reason
		if r.Outcome == Stale {
			ev.Reason = ReasonStaleChange
		}
		return s.d.Audit.Enqueue(ctx, tx, ev)
	})
	if store.IsUniqueViolation(err) {
		return Result{Outcome: Duplicate}, nil
	}
	if err != nil {
		return Result{}, err
	}
	level := slog.LevelInfo
	if r.Outcome == Refused {
		level = slog.LevelWarn
	}
	s.d.Logger.LogAttrs(ctx, level, "crm change decided", slog.String("connector", conn),
		slog.Int("outcome", int(r.Outcome)), slog.String("reason", r.Reason))
	return r, nil
}

func (s *Service) seen(ctx context.Context, q store.Q, tenant, conn, eventID string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM crm_inbound WHERE tenant = $1 AND connector = $2 AND event_id = $3`,
		tenant, conn, eventID).Scan(&n)
	return n > 0, err
}

func (s *Service) lastApplied(ctx context.Context, q store.Q, key string) (int64, error) {
	var last sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT MAX(occur_time) FROM crm_inbound WHERE field_key = $1 AND outcome = $2`,
		key, int(Applied)).Scan(&last)
	return last.Int64, err
}

// dataTypeOf is the token vault's data type of a field, by its name as the
// mappings use it (as the privacy participant's rectification decides it).
func dataTypeOf(field string) tokenvaultv1.DataType {
	switch {
	case field == "email":
		return tokenvaultv1.DataType_DATA_TYPE_EMAIL
	case field == "phone" || strings.HasSuffix(field, "_phone"):
		return tokenvaultv1.DataType_DATA_TYPE_PHONE
	case field == "name" || strings.HasSuffix(field, "_name"):
		return tokenvaultv1.DataType_DATA_TYPE_NAME
	case strings.Contains(field, "address"):
		return tokenvaultv1.DataType_DATA_TYPE_POSTAL_ADDRESS
	case field == "date_of_birth":
		return tokenvaultv1.DataType_DATA_TYPE_DATE_OF_BIRTH
	}
	return tokenvaultv1.DataType_DATA_TYPE_FREE_TEXT
}
