// Package storage is tokenvault's database: wrapped data keys per subject,
// encrypted values, the keyed lookup index and the audit outbox, in SQLite or
// PostgreSQL through the same SQL.
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
)

// Subject is a customer's key record.
type Subject struct {
	Tenant, Subject string
	DEKVersion      int
	WrappedDEK      []byte // nil once erased
	KEKVersion      int
	Created         time.Time
	Erased          time.Time // zero unless erased
	EraseRequest    string
}

// Tenant is a tenant's wrapped lookup key.
type Tenant struct {
	Tenant     string
	WrappedKey []byte
	KEKVersion int
}

// Token is one stored value.
type Token struct {
	Token, Tenant, Subject string
	DataType, Format       int
	Scope                  string
	Ciphertext             []byte
	DEKVersion             int
	Masked                 string // "" once erased
	Created                time.Time
	Expires                time.Time // zero: never
}

// Lookup is one keyed-HMAC index entry.
type Lookup struct {
	Tenant   string
	DataType int
	MAC      []byte
	Subject  string
	Token    string
}

// Store is tokenvault's storage.
type Store struct{ db *store.DB }

// New wraps an opened, migrated database.
func New(db *store.DB) *Store { return &Store{db: db} }

// DB is the underlying database (for transactions spanning the outbox).
func (s *Store) DB() *store.DB { return s.db }

// Ping checks the database, for readiness.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

func us(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromUS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// GetSubject returns the subject's key record, NotFound if there is none.
func (s *Store) GetSubject(ctx context.Context, tenant, subject string) (Subject, error) {
	var r Subject
	var created int64
	var erased sql.NullInt64
	var req sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT tenant, subject, dek_version, wrapped_dek, kek_version, created_us, erased_us, erase_request
		FROM subjects WHERE tenant = $1 AND subject = $2`, tenant, subject).
		Scan(&r.Tenant, &r.Subject, &r.DEKVersion, &r.WrappedDEK, &r.KEKVersion, &created, &erased, &req)
	if errors.Is(err, sql.ErrNoRows) {
		return r, errs.E(errs.NotFound, "SUBJECT_NOT_FOUND", "subject not found")
	}
	r.Created, r.Erased, r.EraseRequest = time.UnixMicro(created).UTC(), fromUS(erased), req.String
	return r, store.MapError(err)
}

// InsertSubject stores a new subject; AlreadyExists if another request
// created it first (the caller then reads theirs).
func (s *Store) InsertSubject(ctx context.Context, r Subject) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO subjects (tenant, subject, dek_version, wrapped_dek, kek_version, created_us) VALUES ($1, $2, $3, $4, $5, $6)`,
		r.Tenant, r.Subject, r.DEKVersion, r.WrappedDEK, r.KEKVersion, r.Created.UnixMicro())
	return store.MapError(err)
}

// GetTenant returns a tenant's key record, NotFound if there is none.
func (s *Store) GetTenant(ctx context.Context, tenant string) (Tenant, error) {
	var r Tenant
	err := s.db.QueryRowContext(ctx, `SELECT tenant, wrapped_key, kek_version FROM tenants WHERE tenant = $1`, tenant).
		Scan(&r.Tenant, &r.WrappedKey, &r.KEKVersion)
	if errors.Is(err, sql.ErrNoRows) {
		return r, errs.E(errs.NotFound, "TENANT_NOT_FOUND", "tenant not found")
	}
	return r, store.MapError(err)
}

// InsertTenant stores a new tenant key; AlreadyExists on a race.
func (s *Store) InsertTenant(ctx context.Context, r Tenant) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO tenants (tenant, wrapped_key, kek_version, created_us) VALUES ($1, $2, $3, $4)`,
		r.Tenant, r.WrappedKey, r.KEKVersion, time.Now().UnixMicro())
	return store.MapError(err)
}

// InsertTokens writes tokens and their lookup entries in tx.
func (s *Store) InsertTokens(ctx context.Context, tx *sql.Tx, tokens []Token, lookups []Lookup) error {
	for _, t := range tokens {
		var masked any
		if t.Masked != "" {
			masked = t.Masked
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tokens (token, tenant, subject, data_type, format, scope, ciphertext, dek_version, masked, created_us, expires_us)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			t.Token, t.Tenant, t.Subject, t.DataType, t.Format, t.Scope, t.Ciphertext, t.DEKVersion, masked, t.Created.UnixMicro(), us(t.Expires)); err != nil {
			return store.MapError(err)
		}
	}
	for _, l := range lookups {
		// The same value tokenized twice for a subject keeps one entry per token.
		if _, err := tx.ExecContext(ctx, `INSERT INTO lookup (tenant, data_type, mac, subject, token) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
			l.Tenant, l.DataType, l.MAC, l.Subject, l.Token); err != nil {
			return store.MapError(err)
		}
	}
	return nil
}

// TokenExists reports whether a token string is taken in the tenant (for any
// subject), so that generated tokens can be retried before insert.
func (s *Store) TokenExists(ctx context.Context, tenant, token string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE tenant = $1 AND token = $2`, tenant, token).Scan(&n)
	return n > 0, store.MapError(err)
}

const tokenColumns = `token, tenant, subject, data_type, format, scope, ciphertext, dek_version, masked, created_us, expires_us`

func scanToken(row interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var masked sql.NullString
	var created int64
	var expires sql.NullInt64
	if err := row.Scan(&t.Token, &t.Tenant, &t.Subject, &t.DataType, &t.Format, &t.Scope, &t.Ciphertext, &t.DEKVersion, &masked, &created, &expires); err != nil {
		return t, err
	}
	t.Masked, t.Created, t.Expires = masked.String, time.UnixMicro(created).UTC(), fromUS(expires)
	return t, nil
}

// FindTokens returns the stored rows of each token (a deterministic token
// may have one row per subject).
func (s *Store) FindTokens(ctx context.Context, tokens []string) (map[string][]Token, error) {
	out := map[string][]Token{}
	for start := 0; start < len(tokens); start += 500 {
		chunk := tokens[start:min(start+500, len(tokens))]
		ph := make([]string, len(chunk))
		args := make([]any, len(chunk))
		for i, t := range chunk {
			ph[i] = fmt.Sprintf("$%d", i+1)
			args[i] = t
		}
		rows, err := s.db.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE token IN (`+strings.Join(ph, ",")+`) ORDER BY created_us`, args...)
		if err != nil {
			return nil, store.MapError(err)
		}
		for rows.Next() {
			t, err := scanToken(rows)
			if err != nil {
				rows.Close()
				return nil, store.MapError(err)
			}
			out[t.Token] = append(out[t.Token], t)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, store.MapError(err)
		}
	}
	return out, nil
}

// SubjectTokens returns every token of a subject, oldest first.
func (s *Store) SubjectTokens(ctx context.Context, tenant, subject string) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE tenant = $1 AND subject = $2 ORDER BY created_us, token`, tenant, subject)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, t)
	}
	return out, store.MapError(rows.Err())
}

// FindLookup returns the subjects and tokens indexed under mac.
func (s *Store) FindLookup(ctx context.Context, tenant string, dataType int, mac []byte) ([]Lookup, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT subject, token FROM lookup WHERE tenant = $1 AND data_type = $2 AND mac = $3 ORDER BY subject, token`, tenant, dataType, mac)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Lookup
	for rows.Next() {
		l := Lookup{Tenant: tenant, DataType: dataType, MAC: mac}
		if err := rows.Scan(&l.Subject, &l.Token); err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, l)
	}
	return out, store.MapError(rows.Err())
}

// Erasure counts what EraseSubject removed.
type Erasure struct {
	DestroyedVersions []int
	TokensAffected    int64
	LookupsRemoved    int64
	AlreadyErased     bool
	Erased            time.Time
}

// EraseSubject destroys the subject's wrapped data key, its lookup entries,
// its deterministic tokens (they are keyed hashes of the values) and masked
// views, in tx. Ciphertexts of other tokens remain: without the key they are
// noise. A second call reports the first erasure.
func (s *Store) EraseSubject(ctx context.Context, tx *sql.Tx, tenant, subject, request string, at time.Time, deterministicFormat int) (Erasure, error) {
	var e Erasure
	var dekVersion int
	var wrapped []byte
	var erased sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT dek_version, wrapped_dek, erased_us FROM subjects WHERE tenant = $1 AND subject = $2`, tenant, subject).
		Scan(&dekVersion, &wrapped, &erased)
	if errors.Is(err, sql.ErrNoRows) {
		return e, errs.E(errs.NotFound, "SUBJECT_NOT_FOUND", "subject not found")
	}
	if err != nil {
		return e, store.MapError(err)
	}
	if erased.Valid {
		e.AlreadyErased, e.Erased = true, fromUS(erased)
		return e, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE subjects SET wrapped_dek = NULL, erased_us = $1, erase_request = $2 WHERE tenant = $3 AND subject = $4`,
		at.UnixMicro(), request, tenant, subject); err != nil {
		return e, store.MapError(err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM lookup WHERE tenant = $1 AND subject = $2`, tenant, subject)
	if err != nil {
		return e, store.MapError(err)
	}
	e.LookupsRemoved, _ = res.RowsAffected()
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE tenant = $1 AND subject = $2`, tenant, subject).Scan(&e.TokensAffected); err != nil {
		return e, store.MapError(err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE tenant = $1 AND subject = $2 AND format = $3`, tenant, subject, deterministicFormat); err != nil {
		return e, store.MapError(err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE tokens SET masked = NULL WHERE tenant = $1 AND subject = $2`, tenant, subject); err != nil {
		return e, store.MapError(err)
	}
	for v := 1; v <= dekVersion; v++ {
		e.DestroyedVersions = append(e.DestroyedVersions, v)
	}
	e.Erased = at
	return e, nil
}

// SubjectsToRewrap returns up to limit live subjects whose data key is
// wrapped under a KEK version older than latest, after the given key.
func (s *Store) SubjectsToRewrap(ctx context.Context, latest int, limit int) ([]Subject, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tenant, subject, dek_version, wrapped_dek, kek_version FROM subjects
		WHERE wrapped_dek IS NOT NULL AND kek_version < $1 ORDER BY tenant, subject LIMIT $2`, latest, limit)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Subject
	for rows.Next() {
		var r Subject
		if err := rows.Scan(&r.Tenant, &r.Subject, &r.DEKVersion, &r.WrappedDEK, &r.KEKVersion); err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, r)
	}
	return out, store.MapError(rows.Err())
}

// UpdateWrappedDEK replaces a subject's wrapped key if it is still the one
// that was rewrapped (compare-and-set: a concurrent erasure wins).
func (s *Store) UpdateWrappedDEK(ctx context.Context, r Subject, oldKEK int, wrapped []byte, kekVersion int) error {
	_, err := s.db.ExecContext(ctx, `UPDATE subjects SET wrapped_dek = $1, kek_version = $2
		WHERE tenant = $3 AND subject = $4 AND kek_version = $5 AND wrapped_dek IS NOT NULL`,
		wrapped, kekVersion, r.Tenant, r.Subject, oldKEK)
	return store.MapError(err)
}

// PendingRewrap counts live subjects wrapped under an older KEK version.
func (s *Store) PendingRewrap(ctx context.Context, latest int) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM subjects WHERE wrapped_dek IS NOT NULL AND kek_version < $1`, latest).Scan(&n)
	return n, store.MapError(err)
}
