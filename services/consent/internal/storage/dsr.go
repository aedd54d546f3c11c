package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

// DSR is a data-subject request as stored. Enum fields hold the API's enum
// numbers (consentv1), which internal/dsr names.
type DSR struct {
	ID           string
	Tenant       string
	Subject      string
	Type         int
	State        int
	Jurisdiction string
	Regime       int
	Received     time.Time
	AckDue       time.Time
	Acked        time.Time
	Due          time.Time
	OriginalDue  time.Time
	// ExtensionReason is set once the deadline was extended.
	ExtensionReason int
	Paused          time.Duration
	PausedSince     time.Time
	PauseReason     int
	ByStaff         bool
	Verification    int
	Rejection       int
	Lift            bool
	// Sealed is the corrections sealed under the request key (nil once
	// closed, or when there are none).
	Sealed         []byte
	Corrections    int
	Closed         time.Time
	ExportExpire   time.Time
	ExportDownload time.Time
	KeyHMAC        string
	ContentHMAC    string
	// Transitions counts the request's history rows (the next one's seq).
	Transitions int
}

// Open reports whether the request is neither completed nor rejected.
func (r DSR) Open() bool { return r.Closed.IsZero() }

// Step is one participant's part of a request.
type Step struct {
	RequestID   string
	Participant string
	Operation   int
	State       int
	Attempts    int
	LastError   string
	Evidence    string // privacy.v1.Evidence as JSON, "" before done
	Done        time.Time
}

// Transition is one history row.
type Transition struct {
	RequestID    string
	Seq          int
	From, To     int
	Time         time.Time
	Actor        string
	Reason       string
	AuditEventID string
}

const dsrColumns = `request_id, tenant, subject, type, state, jurisdiction, regime, receive_time, ack_due_time, ack_time,
due_time, original_due_time, extension_reason, paused_us, paused_since, pause_reason, created_by_staff,
verification_method, rejection_reason, lift_restriction, sealed_corrections, correction_count, close_time,
export_expire_time, export_download_time, request_key_hmac, content_hmac, transitions`

func dsrArgs(r DSR) []any {
	var sealed any
	if r.Sealed != nil {
		sealed = r.Sealed
	}
	return []any{r.ID, r.Tenant, r.Subject, r.Type, r.State, r.Jurisdiction, r.Regime, us(r.Received), us(r.AckDue), us(r.Acked),
		us(r.Due), us(r.OriginalDue), r.ExtensionReason, r.Paused.Microseconds(), us(r.PausedSince), r.PauseReason, boolInt(r.ByStaff),
		r.Verification, r.Rejection, boolInt(r.Lift), sealed, r.Corrections, us(r.Closed),
		us(r.ExportExpire), us(r.ExportDownload), r.KeyHMAC, r.ContentHMAC, r.Transitions}
}

func scanDSR(sc interface{ Scan(...any) error }) (DSR, error) {
	var r DSR
	var received, ackDue, acked, due, origDue, paused, pausedSince, closed, expire, download int64
	var byStaff, lift int
	err := sc.Scan(&r.ID, &r.Tenant, &r.Subject, &r.Type, &r.State, &r.Jurisdiction, &r.Regime, &received, &ackDue, &acked,
		&due, &origDue, &r.ExtensionReason, &paused, &pausedSince, &r.PauseReason, &byStaff,
		&r.Verification, &r.Rejection, &lift, &r.Sealed, &r.Corrections, &closed,
		&expire, &download, &r.KeyHMAC, &r.ContentHMAC, &r.Transitions)
	r.Received, r.AckDue, r.Acked, r.Due, r.OriginalDue = fromUS(received), fromUS(ackDue), fromUS(acked), fromUS(due), fromUS(origDue)
	r.Paused, r.PausedSince, r.Closed = time.Duration(paused)*time.Microsecond, fromUS(pausedSince), fromUS(closed)
	r.ExportExpire, r.ExportDownload = fromUS(expire), fromUS(download)
	r.ByStaff, r.Lift = byStaff != 0, lift != 0
	if len(r.Sealed) == 0 {
		r.Sealed = nil
	}
	return r, err
}

// InsertDSR stores a new request. A second open request of the same type
// for the subject, or a request key the subject used before, is
// AlreadyExists (the caller tells them apart with DSRByKey).
func (s *Store) InsertDSR(ctx context.Context, q Q, r DSR) error {
	if !validDigest(r.KeyHMAC) || !validDigest(r.ContentHMAC) {
		return errInternal("a request key is stored only as its digest")
	}
	_, err := q.ExecContext(ctx, `INSERT INTO dsr_requests (`+dsrColumns+`) VALUES (`+s.db.Placeholders(1, 28)+`)`, dsrArgs(r)...)
	return store.MapError(err)
}

// UpdateDSR writes every mutable column of the request, if its history
// has not moved since it was read (prev transitions): two changes racing
// cannot both apply; the loser is Aborted.
func (s *Store) UpdateDSR(ctx context.Context, q Q, r DSR, prevTransitions int) error {
	var sealed any
	if r.Sealed != nil {
		sealed = r.Sealed
	}
	res, err := q.ExecContext(ctx, `UPDATE dsr_requests SET state = $2, ack_time = $3, due_time = $4, original_due_time = $5,
extension_reason = $6, paused_us = $7, paused_since = $8, pause_reason = $9, verification_method = $10, rejection_reason = $11,
sealed_corrections = $12, close_time = $13, export_expire_time = $14, export_download_time = $15, transitions = $16,
ack_due_time = $17
WHERE request_id = $1 AND transitions = $18`,
		r.ID, r.State, us(r.Acked), us(r.Due), us(r.OriginalDue), r.ExtensionReason, r.Paused.Microseconds(), us(r.PausedSince),
		r.PauseReason, r.Verification, r.Rejection, sealed, us(r.Closed), us(r.ExportExpire), us(r.ExportDownload), r.Transitions,
		us(r.AckDue), prevTransitions)
	ok, err := store.Affected(res, err)
	if err == nil && !ok {
		err = errs.E(errs.Aborted, reasons.DSRStateInvalid, "the request changed meanwhile; read it again")
	}
	return err
}

// DSR returns a request, or NotFound.
func (s *Store) DSR(ctx context.Context, q Q, id string) (DSR, error) {
	r, err := scanDSR(q.QueryRowContext(ctx, `SELECT `+dsrColumns+` FROM dsr_requests WHERE request_id = $1`, id))
	if err != nil {
		return r, notFound(err, reasons.DSRNotFound, "request")
	}
	return r, nil
}

// DSRByKey returns the subject's request made with a request key (by its
// digest), or NotFound.
func (s *Store) DSRByKey(ctx context.Context, q Q, tenant, subject, keyHMAC string) (DSR, error) {
	r, err := scanDSR(q.QueryRowContext(ctx, `SELECT `+dsrColumns+` FROM dsr_requests
WHERE tenant = $1 AND subject = $2 AND request_key_hmac = $3`, tenant, subject, keyHMAC))
	if err != nil {
		return r, notFound(err, reasons.DSRNotFound, "request")
	}
	return r, nil
}

// DSRFilter selects requests for ListDSRs.
type DSRFilter struct {
	// Tenant and Subject, when Subject is set.
	Tenant, Subject string
	// AnyTenant lists the subject's requests whatever the tenant (a
	// privacy officer filtering by subject only).
	AnyTenant bool
	States    []int
	// OpenOnly, DueBefore: open requests (due before, if set).
	OpenOnly  bool
	DueBefore time.Time
	// After is the last (due time, id) of the previous page.
	AfterDue time.Time
	AfterID  string
	Limit    int
}

// ListDSRs returns requests, soonest due first.
func (s *Store) ListDSRs(ctx context.Context, q Q, f DSRFilter) ([]DSR, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Subject != "" {
		where = append(where, "subject = "+arg(f.Subject))
		if !f.AnyTenant {
			where = append(where, "tenant = "+arg(f.Tenant))
		}
	}
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, st := range f.States {
			ph[i] = arg(st)
		}
		where = append(where, "state IN ("+strings.Join(ph, ", ")+")")
	}
	if f.OpenOnly || !f.DueBefore.IsZero() {
		where = append(where, "close_time = 0")
	}
	if !f.DueBefore.IsZero() {
		where = append(where, "due_time < "+arg(us(f.DueBefore)))
	}
	if f.AfterID != "" {
		d := arg(us(f.AfterDue))
		where = append(where, "(due_time > "+d+" OR (due_time = "+d+" AND request_id > "+arg(f.AfterID)+"))")
	}
	query := `SELECT ` + dsrColumns + ` FROM dsr_requests`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY due_time, request_id LIMIT ` + arg(f.Limit)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []DSR
	for rows.Next() {
		r, err := scanDSR(rows)
		if err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, r)
	}
	return out, store.MapError(rows.Err())
}

// MarkDownloaded sets the export's download time if it was not downloaded
// and has not expired at now; it reports whether this call did it (so that
// of two downloads racing, one gets the file).
func (s *Store) MarkDownloaded(ctx context.Context, q Q, id string, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE dsr_requests SET export_download_time = $2
WHERE request_id = $1 AND export_download_time = 0 AND export_expire_time > $2`, id, us(now))
	if err != nil {
		return false, store.MapError(err)
	}
	n, err := res.RowsAffected()
	return n == 1, store.MapError(err)
}

// UnmarkDownloaded undoes MarkDownloaded at mark, when the file could not
// be assembled (it was never delivered).
func (s *Store) UnmarkDownloaded(ctx context.Context, q Q, id string, mark time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE dsr_requests SET export_download_time = 0
WHERE request_id = $1 AND export_download_time = $2`, id, us(mark))
	return store.MapError(err)
}

// InsertSteps stores the steps of a request.
func (s *Store) InsertSteps(ctx context.Context, q Q, steps []Step) error {
	for _, st := range steps {
		if _, err := q.ExecContext(ctx, `INSERT INTO dsr_steps (request_id, participant, operation, state, attempts, last_error_reason,
evidence, done_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, st.RequestID, st.Participant, st.Operation, st.State, st.Attempts,
			st.LastError, st.Evidence, us(st.Done)); err != nil {
			return store.MapError(err)
		}
	}
	return nil
}

// UpdateStep writes a step's state, attempts, error and evidence.
func (s *Store) UpdateStep(ctx context.Context, q Q, st Step) error {
	res, err := q.ExecContext(ctx, `UPDATE dsr_steps SET state = $3, attempts = $4, last_error_reason = $5, evidence = $6, done_time = $7
WHERE request_id = $1 AND participant = $2`, st.RequestID, st.Participant, st.State, st.Attempts, st.LastError, st.Evidence, us(st.Done))
	ok, err := store.Affected(res, err)
	if err == nil && !ok {
		err = errInternal("no such step")
	}
	return err
}

// Steps returns a request's steps by participant.
func (s *Store) Steps(ctx context.Context, q Q, requestID string) ([]Step, error) {
	rows, err := q.QueryContext(ctx, `SELECT request_id, participant, operation, state, attempts, last_error_reason, evidence, done_time
FROM dsr_steps WHERE request_id = $1 ORDER BY participant`, requestID)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Step
	for rows.Next() {
		var st Step
		var done int64
		if err := rows.Scan(&st.RequestID, &st.Participant, &st.Operation, &st.State, &st.Attempts, &st.LastError, &st.Evidence, &done); err != nil {
			return nil, store.MapError(err)
		}
		st.Done = fromUS(done)
		out = append(out, st)
	}
	return out, store.MapError(rows.Err())
}

// InsertTransition appends a history row.
func (s *Store) InsertTransition(ctx context.Context, q Q, t Transition) error {
	_, err := q.ExecContext(ctx, `INSERT INTO dsr_transitions (request_id, seq, from_state, to_state, time, actor, reason, audit_event_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, t.RequestID, t.Seq, t.From, t.To, us(t.Time), t.Actor, t.Reason, t.AuditEventID)
	return store.MapError(err)
}

// Transitions returns a request's history, oldest first.
func (s *Store) Transitions(ctx context.Context, q Q, requestID string) ([]Transition, error) {
	rows, err := q.QueryContext(ctx, `SELECT request_id, seq, from_state, to_state, time, actor, reason, audit_event_id
FROM dsr_transitions WHERE request_id = $1 ORDER BY seq`, requestID)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Transition
	for rows.Next() {
		var t Transition
		var tm int64
		if err := rows.Scan(&t.RequestID, &t.Seq, &t.From, &t.To, &tm, &t.Actor, &t.Reason, &t.AuditEventID); err != nil {
			return nil, store.MapError(err)
		}
		t.Time = fromUS(tm)
		out = append(out, t)
	}
	return out, store.MapError(rows.Err())
}

// OpenDSRs returns every open request (the metrics' gauge reads them at
// each scrape; open requests are few).
func (s *Store) OpenDSRs(ctx context.Context, q Q) ([]DSR, error) {
	return s.ListDSRs(ctx, q, DSRFilter{OpenOnly: true, Limit: 1 << 20})
}

// DSRsOfSubject returns the subject's requests, newest first (consent's
// own export).
func (s *Store) DSRsOfSubject(ctx context.Context, q Q, subject string) ([]DSR, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+dsrColumns+` FROM dsr_requests WHERE subject = $1 ORDER BY receive_time DESC, request_id`, subject)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []DSR
	for rows.Next() {
		r, err := scanDSR(rows)
		if err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, r)
	}
	return out, store.MapError(rows.Err())
}

// Restrict records that the subject's processing is restricted; a
// restriction already in place is kept (ok false).
func (s *Store) Restrict(ctx context.Context, q Q, subject, requestID string, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO consent_restrictions (subject, request_id, create_time) VALUES ($1, $2, $3)
ON CONFLICT (subject) DO NOTHING`, subject, requestID, us(now))
	if err != nil {
		return false, store.MapError(err)
	}
	n, err := res.RowsAffected()
	return n == 1, store.MapError(err)
}

// Unrestrict lifts a restriction; ok is false when there was none.
func (s *Store) Unrestrict(ctx context.Context, q Q, subject string) (bool, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM consent_restrictions WHERE subject = $1`, subject)
	if err != nil {
		return false, store.MapError(err)
	}
	n, err := res.RowsAffected()
	return n == 1, store.MapError(err)
}

// Restricted returns which of the subjects are restricted.
func (s *Store) Restricted(ctx context.Context, q Q, subjects []string) (map[string]bool, error) {
	out := map[string]bool{}
	for len(subjects) > 0 {
		n := min(len(subjects), maxSubjectsPerQuery)
		chunk := subjects[:n]
		subjects = subjects[n:]
		args := make([]any, len(chunk))
		for i, sub := range chunk {
			args[i] = sub
		}
		rows, err := q.QueryContext(ctx, `SELECT subject FROM consent_restrictions WHERE subject IN (`+s.db.Placeholders(1, len(chunk))+`)`, args...)
		if err != nil {
			return nil, store.MapError(err)
		}
		for rows.Next() {
			var sub string
			if err := rows.Scan(&sub); err != nil {
				rows.Close()
				return nil, store.MapError(err)
			}
			out[sub] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, store.MapError(err)
		}
	}
	return out, nil
}

// ParticipantOp returns what consent's participant answered for a request
// and operation; ok is false when it has not run.
func (s *Store) ParticipantOp(ctx context.Context, q Q, requestID string, op int) (string, bool, error) {
	var ev string
	err := q.QueryRowContext(ctx, `SELECT evidence FROM dsr_participant_ops WHERE request_id = $1 AND operation = $2`, requestID, op).Scan(&ev)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return ev, err == nil, store.MapError(err)
}

// InsertParticipantOp records consent's participant's answer; a second one
// for the same request and operation is AlreadyExists.
func (s *Store) InsertParticipantOp(ctx context.Context, q Q, requestID string, op int, evidence string, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO dsr_participant_ops (request_id, operation, evidence, create_time) VALUES ($1, $2, $3, $4)`,
		requestID, op, evidence, us(now))
	return store.MapError(err)
}

// ReceiptsOfSubject returns the ids and times of the subject's receipts,
// oldest first.
func (s *Store) ReceiptsOfSubject(ctx context.Context, q Q, subject string) ([]Receipt, error) {
	rows, err := q.QueryContext(ctx, `SELECT receipt_id, sha256, key_id, audit_event_id, issue_time FROM consent_receipts
WHERE subject = $1 ORDER BY issue_time, receipt_id`, subject)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Receipt
	for rows.Next() {
		r := Receipt{Subject: subject}
		var t int64
		if err := rows.Scan(&r.ID, &r.SHA256, &r.KeyID, &r.AuditEventID, &t); err != nil {
			return nil, store.MapError(err)
		}
		r.Issued = fromUS(t)
		out = append(out, r)
	}
	return out, store.MapError(rows.Err())
}

// CountOfSubject counts the subject's consent records and receipts.
func (s *Store) CountOfSubject(ctx context.Context, q Q, subject string) (records, receipts int64, err error) {
	err = q.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM consent_records WHERE subject = $1),
(SELECT COUNT(*) FROM consent_receipts WHERE subject = $1)`, subject).Scan(&records, &receipts)
	return records, receipts, store.MapError(err)
}

// LockDSR takes the request's row lock for the rest of tx (on PostgreSQL;
// SQLite's transactions hold the database's write lock already), so that
// changes of the request and of its steps serialise.
func (s *Store) LockDSR(ctx context.Context, q Q, id string) error {
	res, err := q.ExecContext(ctx, `UPDATE dsr_requests SET transitions = transitions WHERE request_id = $1`, id)
	ok, err := store.Affected(res, err)
	if err == nil && !ok {
		err = errs.E(errs.NotFound, reasons.DSRNotFound, "request not found")
	}
	return err
}
