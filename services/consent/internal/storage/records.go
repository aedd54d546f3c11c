package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/consent/internal/catalogue"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

// Record is one decision as kept for proof.
type Record struct {
	ID       string
	Subject  string
	Purpose  string
	Decision catalogue.Decision
	Method   catalogue.Method
	Channel  catalogue.Channel
	// The notice shown (grants; empty otherwise).
	NoticeID       string
	NoticeVersion  int64
	NoticeLanguage string
	TextSHA256     string
	// PurposeRevision is the purpose's revision when it was recorded.
	PurposeRevision int64
	Jurisdiction    string
	// Actor is the account that recorded it: the subject, or the staff
	// member acting for them (ByStaff).
	Actor     string
	ByStaff   bool
	ReceiptID string
	Time      time.Time
}

// State is the latest decision of a subject about a purpose.
type State struct {
	Subject  string
	Purpose  string
	Decision catalogue.Decision
	Method   catalogue.Method
	RecordID string
	Time     time.Time
}

// Receipt is a signed receipt as issued.
type Receipt struct {
	ID           string
	Subject      string
	JWS          string
	SHA256       string
	KeyID        string
	AuditEventID string
	Issued       time.Time
}

// Request is an idempotency key of a grant or withdrawal. The client
// chooses the request id and its pattern admits a card number or a name,
// so only a keyed digest of it is stored (Digest, made by the domain).
type Request struct {
	Subject string
	// Digest is the hex HMAC-SHA256 of the request id (internal/consent).
	Digest      string
	Fingerprint string
	ReceiptID   string
	Created     time.Time
}

const recordColumns = `record_id, subject, purpose_id, decision, method, channel, notice_id, notice_version,
notice_language, text_sha256, purpose_revision, jurisdiction, actor, by_staff, receipt_id, record_time`

func scanRecord(sc interface{ Scan(...any) error }) (Record, error) {
	var r Record
	var decision, method, channel, byStaff int
	var t int64
	err := sc.Scan(&r.ID, &r.Subject, &r.Purpose, &decision, &method, &channel, &r.NoticeID, &r.NoticeVersion,
		&r.NoticeLanguage, &r.TextSHA256, &r.PurposeRevision, &r.Jurisdiction, &r.Actor, &byStaff, &r.ReceiptID, &t)
	r.Decision, r.Method, r.Channel = catalogue.Decision(decision), catalogue.Method(method), catalogue.Channel(channel)
	r.ByStaff, r.Time = byStaff != 0, fromUS(t)
	return r, err
}

// InsertRequest claims an idempotency key; a key the subject used before
// is AlreadyExists (read it with RequestByDigest after the transaction).
func (s *Store) InsertRequest(ctx context.Context, q Q, r Request) error {
	if !validDigest(r.Digest) {
		return errInternal("a request id is stored only as its digest")
	}
	_, err := q.ExecContext(ctx, `INSERT INTO consent_requests (subject, request_hmac, fingerprint, receipt_id, create_time)
VALUES ($1, $2, $3, $4, $5)`, r.Subject, r.Digest, r.Fingerprint, r.ReceiptID, us(r.Created))
	return store.MapError(err)
}

// RequestByDigest returns a subject's idempotency key, or NotFound.
func (s *Store) RequestByDigest(ctx context.Context, q Q, subject, digest string) (Request, error) {
	r := Request{Subject: subject, Digest: digest}
	var created int64
	err := q.QueryRowContext(ctx, `SELECT fingerprint, receipt_id, create_time FROM consent_requests
WHERE subject = $1 AND request_hmac = $2`, subject, digest).Scan(&r.Fingerprint, &r.ReceiptID, &created)
	r.Created = fromUS(created)
	return r, store.MapError(err)
}

// InsertRecord appends a record and makes it the subject's state for the
// purpose unless a later record already is (two decisions racing: the
// later one, by time then id, stands, whichever commits last).
func (s *Store) InsertRecord(ctx context.Context, q Q, r Record) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO consent_records (`+recordColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		r.ID, r.Subject, r.Purpose, int(r.Decision), int(r.Method), int(r.Channel), r.NoticeID, r.NoticeVersion,
		r.NoticeLanguage, r.TextSHA256, r.PurposeRevision, r.Jurisdiction, r.Actor, boolInt(r.ByStaff), r.ReceiptID, us(r.Time)); err != nil {
		return store.MapError(err)
	}
	_, err := q.ExecContext(ctx, `INSERT INTO consent_state (subject, purpose_id, decision, method, record_id, record_time)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (subject, purpose_id) DO UPDATE SET decision = excluded.decision, method = excluded.method,
  record_id = excluded.record_id, record_time = excluded.record_time
WHERE excluded.record_time > consent_state.record_time
   OR (excluded.record_time = consent_state.record_time AND excluded.record_id > consent_state.record_id)`,
		r.Subject, r.Purpose, int(r.Decision), int(r.Method), r.ID, us(r.Time))
	return store.MapError(err)
}

// validDigest: 64 lower-case hex digits (an HMAC-SHA256). The check is the
// store's last line against a caller passing the raw request id.
func validDigest(d string) bool {
	if len(d) != 64 {
		return false
	}
	for _, c := range d {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func scanState(sc interface{ Scan(...any) error }) (State, error) {
	var st State
	var decision, method int
	var t int64
	err := sc.Scan(&st.Subject, &st.Purpose, &decision, &method, &st.RecordID, &t)
	st.Decision, st.Method, st.Time = catalogue.Decision(decision), catalogue.Method(method), fromUS(t)
	return st, err
}

// State returns the subject's latest decision about a purpose; ok is false
// when there is none.
func (s *Store) State(ctx context.Context, q Q, subject, purpose string) (State, bool, error) {
	st, err := scanState(q.QueryRowContext(ctx, `SELECT subject, purpose_id, decision, method, record_id, record_time
FROM consent_state WHERE subject = $1 AND purpose_id = $2`, subject, purpose))
	if errors.Is(err, sql.ErrNoRows) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, store.MapError(err)
	}
	return st, true, nil
}

// maxSubjectsPerQuery bounds the IN list of States (PostgreSQL's limit is
// 65535 parameters; SQLite's default 32766).
const maxSubjectsPerQuery = 500

// States returns the latest decisions of the subjects, every purpose,
// keyed by subject then purpose.
func (s *Store) States(ctx context.Context, q Q, subjects []string) (map[string]map[string]State, error) {
	out := map[string]map[string]State{}
	for len(subjects) > 0 {
		n := min(len(subjects), maxSubjectsPerQuery)
		chunk := subjects[:n]
		subjects = subjects[n:]
		args := make([]any, len(chunk))
		for i, sub := range chunk {
			args[i] = sub
		}
		rows, err := q.QueryContext(ctx, `SELECT subject, purpose_id, decision, method, record_id, record_time
FROM consent_state WHERE subject IN (`+s.db.Placeholders(1, len(chunk))+`)`, args...)
		if err != nil {
			return nil, store.MapError(err)
		}
		for rows.Next() {
			st, err := scanState(rows)
			if err != nil {
				rows.Close()
				return nil, store.MapError(err)
			}
			if out[st.Subject] == nil {
				out[st.Subject] = map[string]State{}
			}
			out[st.Subject][st.Purpose] = st
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, store.MapError(err)
		}
	}
	return out, nil
}

// Page is where a page of records starts: after the record (Time, ID), in
// newest-first order; the zero Page starts at the newest.
type Page struct {
	Time time.Time
	ID   string
}

// Records returns up to limit of the subject's records (of one purpose, if
// purpose is set), newest first, after page.
func (s *Store) Records(ctx context.Context, q Q, subject, purpose string, page Page, limit int) ([]Record, error) {
	// Numbered parameters throughout ($N, which both dialects take): the
	// cursor's time appears twice.
	var where strings.Builder
	args := []any{subject}
	where.WriteString(`subject = $1`)
	if purpose != "" {
		args = append(args, purpose)
		fmt.Fprintf(&where, ` AND purpose_id = $%d`, len(args))
	}
	if page.ID != "" {
		args = append(args, us(page.Time), page.ID)
		n := len(args)
		fmt.Fprintf(&where, ` AND (record_time < $%d OR (record_time = $%d AND record_id < $%d))`, n-1, n-1, n)
	}
	args = append(args, limit)
	rows, err := q.QueryContext(ctx, `SELECT `+recordColumns+` FROM consent_records WHERE `+where.String()+
		fmt.Sprintf(` ORDER BY record_time DESC, record_id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, r)
	}
	return out, store.MapError(rows.Err())
}

// RecordsByReceipt returns the records a receipt covers, by purpose.
func (s *Store) RecordsByReceipt(ctx context.Context, q Q, receiptID string) ([]Record, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+recordColumns+` FROM consent_records WHERE receipt_id = $1 ORDER BY purpose_id`, receiptID)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, r)
	}
	return out, store.MapError(rows.Err())
}

// InsertReceipt stores an issued receipt.
func (s *Store) InsertReceipt(ctx context.Context, q Q, r Receipt) error {
	_, err := q.ExecContext(ctx, `INSERT INTO consent_receipts (receipt_id, subject, jws, sha256, key_id, audit_event_id, issue_time)
VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.ID, r.Subject, r.JWS, r.SHA256, r.KeyID, r.AuditEventID, us(r.Issued))
	return store.MapError(err)
}

// Receipt returns a receipt, or NotFound RECEIPT_NOT_FOUND.
func (s *Store) Receipt(ctx context.Context, q Q, id string) (Receipt, error) {
	r := Receipt{ID: id}
	var issued int64
	err := q.QueryRowContext(ctx, `SELECT subject, jws, sha256, key_id, audit_event_id, issue_time FROM consent_receipts
WHERE receipt_id = $1`, id).Scan(&r.Subject, &r.JWS, &r.SHA256, &r.KeyID, &r.AuditEventID, &issued)
	if err != nil {
		return r, notFound(err, reasons.ReceiptNotFound, "receipt")
	}
	r.Issued = fromUS(issued)
	return r, nil
}

// Record returns one record, or NotFound.
func (s *Store) Record(ctx context.Context, q Q, id string) (Record, error) {
	r, err := scanRecord(q.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM consent_records WHERE record_id = $1`, id))
	if err != nil {
		return r, notFound(err, reasons.StoreInvariant, "record")
	}
	return r, nil
}
