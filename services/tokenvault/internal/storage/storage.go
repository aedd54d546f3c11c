// Package storage is tokenvault's database: wrapped data keys per subject,
// encrypted values (deterministic tokens double as the exact-match index)
// and the audit outbox, in SQLite or PostgreSQL through the same SQL.
package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
)

// Subject is a customer's record.
type Subject struct {
	Tenant, Subject string
	// CurrentVersion is the data key version new values are sealed with.
	CurrentVersion int
	Created        time.Time
	Erased         time.Time // zero unless erased
	EraseRequest   string
	// Restricted is when the subject's processing was restricted (zero
	// unless it is): see SetRestricted.
	Restricted      time.Time
	RestrictRequest string
}

// SubjectKey is one version of a subject's data key, wrapped.
type SubjectKey struct {
	Tenant, Subject string
	Version         int
	Wrapped         []byte
	KEKVersion      int
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
	Created                time.Time
	Expires                time.Time // zero: never
	// SubjectErased is read with the row (from subjects), so that a key
	// cached anywhere is never used for an erased subject.
	SubjectErased bool
	// SubjectRestricted is read with the row too: a restriction set by
	// another replica holds at once, with no cache to invalidate.
	SubjectRestricted bool
}

// Store is tokenvault's storage.
type Store struct {
	// db runs the write path's statements and the token reads prepared
	// (store.DB.Prepared, on SQLite; pgx caches them on PostgreSQL): parsing
	// a 2,000-parameter statement on every request cost a fifth of
	// Tokenize's CPU. Batch statements come in
	// power-of-two sizes only (see preparedSize), so the cache holds a
	// fixed handful of texts.
	db *store.DB
}

// Why statements come in few sizes: database/sql prepares a cached *sql.Stmt
// again on every pool connection that runs it and keeps it there until the
// connection closes, and SQLite holds each compiled statement outside the Go
// heap (a 200-row INSERT is about 200 KiB of bytecode). With one statement
// per exact batch size, the cache grew by every size a group commit happened
// to reach, on every one of the pool's connections: about 19 MiB per
// connection for the INSERTs of 1 to 200 rows alone, up to 300 MiB over 16
// connections, reached slowly as rare sizes met new connections. The chat
// soak saw tokenvault's resident memory climb (60 → 109 MiB in 10 minutes)
// while its Go heap stayed at 10-15 MiB. Rounding to powers of two keeps the
// parsing saved and holds the cache to a few dozen statements whatever the
// load (TestPreparedStatementsStayFew).

// maxBatchRows is the most rows one prepared INSERT writes (10 parameters
// each, under SQLite's limit and PostgreSQL's 65,535).
const maxBatchRows = 128

// preparedSize is the size of the prepared statement that takes the next n
// items: the largest power of two not above min(n, limit). A batch is written
// as a few of them (200 rows: 128, 64, 8).
func preparedSize(n, limit int) int {
	n = min(n, limit)
	size := 1
	for size*2 <= n {
		size *= 2
	}
	return size
}

// PreparedStatements is how many statements the store keeps prepared (for
// tests and diagnostics).
func (s *Store) PreparedStatements() int { return s.db.PreparedStatements() }

// New wraps an opened, migrated database.
func New(db *store.DB) *Store { return &Store{db: db} }

// Exec runs q in tx through a cached prepared statement (for statements the
// write path repeats, such as savepoints).
func (s *Store) Exec(ctx context.Context, tx *sql.Tx, q string, args ...any) error {
	_, err := s.execPrepared(ctx, tx, q, args...)
	return store.MapError(err)
}

// execPrepared runs q in tx through a prepared statement
// (store.DB.Prepared: one not prepared yet runs plain while it is prepared
// in the background, so the writer never waits for a pool connection while
// it holds SQLite's write lock).
func (s *Store) execPrepared(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	return s.db.Prepared(tx).ExecContext(ctx, q, args...)
}

// maxPreparedReads bounds how many tokens a read may name and still use a
// prepared statement (one per power of two up to it; the list is padded).
const maxPreparedReads = 64

// query runs a read, through a prepared statement when prepared is set:
// parsing the token lookup cost Detokenize an eighth of its CPU. Reads hold
// no lock, so a statement is prepared on first use.
func (s *Store) query(ctx context.Context, q string, prepared bool, args ...any) (*sql.Rows, error) {
	if !prepared {
		return s.db.QueryContext(ctx, q, args...)
	}
	return s.db.Prepared(s.db).QueryContext(ctx, q, args...)
}

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

// GetSubject returns the subject's record, NotFound if there is none.
func (s *Store) GetSubject(ctx context.Context, tenant, subject string) (Subject, error) {
	var r Subject
	var created int64
	var erased, restricted sql.NullInt64
	var req, restrictReq sql.NullString
	err := s.db.Prepared(s.db).QueryRowContext(ctx, `SELECT s.tenant, s.subject, s.current_version, s.created_us, s.erased_us, s.erase_request, r.restricted_us, r.restrict_request
		FROM subjects s LEFT JOIN subject_restrictions r ON r.tenant = s.tenant AND r.subject = s.subject
		WHERE s.tenant = $1 AND s.subject = $2`, tenant, subject).
		Scan(&r.Tenant, &r.Subject, &r.CurrentVersion, &created, &erased, &req, &restricted, &restrictReq)
	if errors.Is(err, sql.ErrNoRows) {
		return r, errs.E(errs.NotFound, reasons.SubjectNotFound, "subject not found")
	}
	r.Created, r.Erased, r.EraseRequest = time.UnixMicro(created).UTC(), fromUS(erased), req.String
	r.Restricted, r.RestrictRequest = fromUS(restricted), restrictReq.String
	return r, store.MapError(err)
}

// GetSubjectKey returns one version of a subject's wrapped data key;
// NotFound if the subject was erased or the version was retired.
func (s *Store) GetSubjectKey(ctx context.Context, tenant, subject string, version int) (SubjectKey, error) {
	k := SubjectKey{Tenant: tenant, Subject: subject, Version: version}
	err := s.db.Prepared(s.db).QueryRowContext(ctx, `SELECT wrapped, kek_version FROM subject_keys WHERE tenant = $1 AND subject = $2 AND version = $3`,
		tenant, subject, version).Scan(&k.Wrapped, &k.KEKVersion)
	if errors.Is(err, sql.ErrNoRows) {
		return k, errs.E(errs.NotFound, reasons.SubjectKeyNotFound, "no such data key")
	}
	return k, store.MapError(err)
}

// InsertSubject stores a new subject with its first data key; AlreadyExists
// if another request created it first (the caller then reads theirs).
func (s *Store) InsertSubject(ctx context.Context, r Subject, k SubjectKey) error {
	return store.MapError(s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkKEKFloor(ctx, tx, k.KEKVersion); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO subjects (tenant, subject, current_version, created_us) VALUES ($1, $2, $3, $4)`,
			r.Tenant, r.Subject, k.Version, r.Created.UnixMicro()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO subject_keys (tenant, subject, version, wrapped, kek_version, created_us) VALUES ($1, $2, $3, $4, $5, $6)`,
			k.Tenant, k.Subject, k.Version, k.Wrapped, k.KEKVersion, r.Created.UnixMicro())
		return err
	}))
}

// AddSubjectKey stores a new data key version and makes it current, if the
// current version is still prev and the subject is not erased.
func (s *Store) AddSubjectKey(ctx context.Context, k SubjectKey, prev int, at time.Time) error {
	return store.MapError(s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkKEKFloor(ctx, tx, k.KEKVersion); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE subjects SET current_version = $1 WHERE tenant = $2 AND subject = $3 AND current_version = $4 AND erased_us IS NULL`,
			k.Version, k.Tenant, k.Subject, prev)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.E(errs.Aborted, reasons.SubjectChanged, "the subject changed concurrently; retry")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO subject_keys (tenant, subject, version, wrapped, kek_version, created_us) VALUES ($1, $2, $3, $4, $5, $6)`,
			k.Tenant, k.Subject, k.Version, k.Wrapped, k.KEKVersion, at.UnixMicro())
		return err
	}))
}

// GetTenant returns a tenant's key record, NotFound if there is none.
func (s *Store) GetTenant(ctx context.Context, tenant string) (Tenant, error) {
	var r Tenant
	err := s.db.QueryRowContext(ctx, `SELECT tenant, wrapped_key, kek_version FROM tenants WHERE tenant = $1`, tenant).
		Scan(&r.Tenant, &r.WrappedKey, &r.KEKVersion)
	if errors.Is(err, sql.ErrNoRows) {
		return r, errs.E(errs.NotFound, reasons.TenantNotFound, "tenant not found")
	}
	return r, store.MapError(err)
}

// InsertTenant stores a new tenant key; AlreadyExists on a race.
func (s *Store) InsertTenant(ctx context.Context, r Tenant) error {
	return store.MapError(s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkKEKFloor(ctx, tx, r.KEKVersion); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO tenants (tenant, wrapped_key, kek_version, created_us) VALUES ($1, $2, $3, $4)`,
			r.Tenant, r.WrappedKey, r.KEKVersion, time.Now().UnixMicro())
		return err
	}))
}

// ErrKEKVersionRetired refuses to store a key wrapped under a key-encryption
// key version below the floor: the version is being retired, and the key
// would never open again. Wrapping it anew uses the latest version.
var ErrKEKVersionRetired = errs.E(errs.Aborted, reasons.KekVersionRetired, "the key was wrapped under a key-encryption key version being retired; retry")

// checkKEKFloor refuses, in tx, a wrapped key of a KEK version below the
// floor. On PostgreSQL it holds the floor row's share lock until tx ends, so
// RaiseKEKFloor waits for tx and the epoch's check for unrewrapped keys,
// which follows the raise, sees what tx stored. (SQLite runs one write
// transaction at a time.)
func (s *Store) checkKEKFloor(ctx context.Context, tx *sql.Tx, kekVersion int) error {
	q := `SELECT floor FROM kek_floor WHERE id = 1`
	if s.db.Dialect == store.Postgres {
		q += ` FOR SHARE`
	}
	var floor int
	if err := tx.QueryRowContext(ctx, q).Scan(&floor); err != nil {
		return store.MapError(err)
	}
	if kekVersion < floor {
		return ErrKEKVersionRetired
	}
	return nil
}

// RaiseKEKFloor raises the oldest KEK version a wrapped key may be stored
// under to floor (never lowers it). It returns once every transaction that
// checked the old floor has ended.
func (s *Store) RaiseKEKFloor(ctx context.Context, floor int) error {
	_, err := s.db.ExecContext(ctx, `UPDATE kek_floor SET floor = $1 WHERE id = 1 AND floor < $1`, floor)
	return store.MapError(err)
}

// KEKFloor returns the oldest KEK version a wrapped key may be stored under.
func (s *Store) KEKFloor(ctx context.Context) (int, error) {
	var floor int
	err := s.db.QueryRowContext(ctx, `SELECT floor FROM kek_floor WHERE id = 1`).Scan(&floor)
	return floor, store.MapError(err)
}

// NewestErasedKEKVersion returns the newest KEK version any copy of an
// erased subject's data keys can be wrapped under, over every erasure (0 if
// none).
func (s *Store) NewestErasedKEKVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(erased_kek_version) FROM subjects WHERE erased_kek_version IS NOT NULL`).Scan(&v)
	return int(v.Int64), store.MapError(err)
}

// InsertTokens writes tokens in tx as multi-row INSERTs, after checking,
// under the subject row's lock, that the subject is not erased and still
// seals with dekVersion. So no value is ever stored for an erased subject or
// under a data key that a rotation is about to retire, whatever another
// replica has cached.
func (s *Store) InsertTokens(ctx context.Context, tx *sql.Tx, tenant, subject string, dekVersion int, tokens []Token) error {
	if err := s.CheckSubject(ctx, tx, tenant, subject, dekVersion); err != nil {
		return err
	}
	return s.InsertRows(ctx, tx, tokens)
}

// CheckSubject verifies in tx, under the subject row's lock, that the
// subject is not erased and still seals with dekVersion.
func (s *Store) CheckSubject(ctx context.Context, tx *sql.Tx, tenant, subject string, dekVersion int) error {
	res, err := s.execPrepared(ctx, tx, `UPDATE subjects SET current_version = current_version
		WHERE tenant = $1 AND subject = $2 AND current_version = $3 AND erased_us IS NULL`, tenant, subject, dekVersion)
	if err != nil {
		return store.MapError(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrSubjectChanged
	}
	return nil
}

// SubjectVersion names a subject and the data key version a writer used.
type SubjectVersion struct {
	Tenant, Subject string
	Version         int
}

// maxPreparedSubjects bounds the group sizes whose subject check is kept
// prepared (one statement per power of two up to it).
const maxPreparedSubjects = 128

// CheckSubjects is CheckSubject for many subjects in one statement (group
// commit): every named subject must be live and at the named version, or
// ErrSubjectChanged.
func (s *Store) CheckSubjects(ctx context.Context, tx *sql.Tx, subjects []SubjectVersion) error {
	seen := map[SubjectVersion]bool{}
	var q strings.Builder
	q.WriteString(`UPDATE subjects SET current_version = current_version WHERE erased_us IS NULL AND (tenant, subject, current_version) IN (VALUES `)
	var args []any
	for _, sv := range subjects {
		if seen[sv] {
			continue
		}
		if len(seen) > 0 {
			q.WriteByte(',')
		}
		seen[sv] = true
		// VALUES gives PostgreSQL no column types to infer the parameters
		// from, so the version is cast explicitly (SQLite accepts the same).
		q.WriteString("(" + s.db.Placeholders(len(args)+1, 2) + ", CAST(" + s.db.Placeholders(len(args)+3, 1) + " AS INTEGER))")
		args = append(args, sv.Tenant, sv.Subject, sv.Version)
	}
	exec := tx.ExecContext
	if len(seen) > 0 && len(seen) <= maxPreparedSubjects {
		// A prepared statement per group size, rounded up to a power of two
		// by repeating the last subject (which the IN list matches once):
		// parsing it on every group cost the writer a sixth of its time.
		last := slices.Clone(args[len(args)-3:])
		for n := len(seen); n < store.PaddedSize(len(seen)); n++ {
			q.WriteString(",(" + s.db.Placeholders(len(args)+1, 2) + ", CAST(" + s.db.Placeholders(len(args)+3, 1) + " AS INTEGER))")
			args = append(args, last...)
		}
		exec = func(ctx context.Context, q string, args ...any) (sql.Result, error) {
			return s.execPrepared(ctx, tx, q, args...)
		}
	}
	q.WriteString(")")
	res, err := exec(ctx, q.String(), args...)
	if err != nil {
		return store.MapError(err)
	}
	if n, _ := res.RowsAffected(); n != int64(len(seen)) {
		return ErrSubjectChanged
	}
	return nil
}

// InsertRows writes token rows in tx as multi-row INSERTs. Callers check
// their subjects first (CheckSubject). A deterministic token the subject
// already holds (a concurrent request for the same value, or an expired one
// being renewed) is refreshed in place; any other conflict is an error
// (AlreadyExists), never a silently dropped value. A deterministic token an
// erasure retired is refused (ErrTokenRetired).
func (s *Store) InsertRows(ctx context.Context, tx *sql.Tx, tokens []Token) error {
	var det, other []Token
	for _, t := range tokens {
		if t.Format == deterministicFormat {
			det = append(det, t)
		} else {
			other = append(other, t)
		}
	}
	if err := s.insertChunks(ctx, tx, other, ""); err != nil {
		return err
	}
	if len(det) > 0 {
		if err := s.checkRetired(ctx, tx, det); err != nil {
			return err
		}
	}
	return s.insertChunks(ctx, tx, det, ` ON CONFLICT (token, tenant, subject) DO UPDATE SET
		ciphertext = excluded.ciphertext, dek_version = excluded.dek_version,
		created_us = excluded.created_us, expires_us = excluded.expires_us`)
}

// deterministicFormat is tokens.FormatDeterministic (storage does not
// import the token package).
const deterministicFormat = 2

func (s *Store) insertChunks(ctx context.Context, tx *sql.Tx, tokens []Token, suffix string) error {
	for start := 0; start < len(tokens); {
		chunk := tokens[start : start+preparedSize(len(tokens)-start, maxBatchRows)]
		start += len(chunk)
		var q strings.Builder
		q.WriteString(`INSERT INTO tokens (token, tenant, subject, data_type, format, scope, ciphertext, dek_version, created_us, expires_us) VALUES `)
		args := make([]any, 0, 10*len(chunk))
		for i, t := range chunk {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(" + s.db.Placeholders(len(args)+1, 10) + ")")
			args = append(args, t.Token, t.Tenant, t.Subject, t.DataType, t.Format, t.Scope, t.Ciphertext, t.DEKVersion, t.Created.UnixMicro(), us(t.Expires))
		}
		q.WriteString(suffix)
		if _, err := s.execPrepared(ctx, tx, q.String(), args...); err != nil {
			return store.MapError(err)
		}
	}
	return nil
}

// ErrSubjectChanged means the subject was erased or its data key rotated
// since the caller read it.
var ErrSubjectChanged = errs.E(errs.Aborted, reasons.SubjectChanged, "the subject changed concurrently")

// TakenTokens returns which of the candidate token strings already exist
// (in any tenant: detokenize takes bare tokens), in one query.
func (s *Store) TakenTokens(ctx context.Context, candidates []string) (map[string]bool, error) {
	taken := map[string]bool{}
	for start := 0; start < len(candidates); start += 500 {
		chunk := candidates[start:min(start+500, len(candidates))]
		args := make([]any, len(chunk))
		for i, c := range chunk {
			args[i] = c
		}
		rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT token FROM tokens WHERE token IN (`+s.db.Placeholders(1, len(chunk))+`)`, args...)
		if err != nil {
			return nil, store.MapError(err)
		}
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				rows.Close()
				return nil, store.MapError(err)
			}
			taken[t] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, store.MapError(err)
		}
	}
	return taken, nil
}

// tokenSelect reads tokens with their subject's erasure and restriction
// state.
const tokenSelect = `SELECT t.token, t.tenant, t.subject, t.data_type, t.format, t.scope, t.ciphertext, t.dek_version, t.created_us, t.expires_us,
		s.erased_us IS NOT NULL, ` + restrictedExpr + `
	FROM tokens t JOIN subjects s ON s.tenant = t.tenant AND s.subject = t.subject `

// restrictedExpr is whether the subject of the token row t is restricted
// (see SetRestricted).
const restrictedExpr = `EXISTS (SELECT 1 FROM subject_restrictions r WHERE r.tenant = t.tenant AND r.subject = t.subject)`

func scanToken(row interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var created int64
	var expires sql.NullInt64
	if err := row.Scan(&t.Token, &t.Tenant, &t.Subject, &t.DataType, &t.Format, &t.Scope, &t.Ciphertext, &t.DEKVersion, &created, &expires, &t.SubjectErased, &t.SubjectRestricted); err != nil {
		return t, err
	}
	t.Created, t.Expires = time.UnixMicro(created).UTC(), fromUS(expires)
	return t, nil
}

// FindTokens returns the stored rows of each token (a deterministic token
// may have one row per subject).
func (s *Store) FindTokens(ctx context.Context, tokens []string) (map[string][]Token, error) {
	out := map[string][]Token{}
	for start := 0; start < len(tokens); start += 500 {
		chunk := tokens[start:min(start+500, len(tokens))]
		prepared := len(chunk) <= maxPreparedReads
		n := len(chunk)
		if prepared {
			n = store.PaddedSize(n) // repeating a token in IN changes nothing
		}
		args := make([]any, n)
		for i := range args {
			args[i] = chunk[min(i, len(chunk)-1)]
		}
		rows, err := s.query(ctx, tokenSelect+`WHERE t.token IN (`+s.db.Placeholders(1, n)+`) ORDER BY t.created_us, t.subject`, prepared, args...)
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

// SubjectTokensPage returns up to limit tokens of a subject after the given
// token, in token order (for paged exports).
func (s *Store) SubjectTokensPage(ctx context.Context, tenant, subject, after string, limit int) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx, tokenSelect+`WHERE t.tenant = $1 AND t.subject = $2 AND t.token > $3 ORDER BY t.token LIMIT $4`, tenant, subject, after, limit)
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

// SubjectTokens returns every token of a subject, oldest first.
func (s *Store) SubjectTokens(ctx context.Context, tenant, subject string) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx, tokenSelect+`WHERE t.tenant = $1 AND t.subject = $2 ORDER BY t.created_us, t.token`, tenant, subject)
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

// Erasure counts what EraseSubject removed.
type Erasure struct {
	DestroyedVersions []int
	TokensAffected    int64
	// LookupsRemoved counts deterministic tokens deleted: they are keyed
	// hashes of the values and the exact-match index.
	LookupsRemoved int64
	// TokensRetired counts the deleted deterministic tokens that no other
	// live subject held: they are never issued again (retired_tokens), so
	// copies of them elsewhere stay unlinkable to the value.
	TokensRetired int64
	// TokensKept counts the deleted deterministic tokens that other live
	// subjects hold too (the same value): they stay in use for those.
	TokensKept int64
	// KEKVersion is the newest key-encryption key version any copy of the
	// destroyed data keys can be wrapped under (rewrapping only moves keys
	// forward): those copies stop opening once the versions up to it are
	// retired. 0 if the subject had no key.
	KEKVersion    int
	AlreadyErased bool
	Erased        time.Time
}

// EraseSubject, in tx, destroys every version of the subject's data key
// (overwritten, then deleted) and its deterministic tokens (keyed hashes of
// the values, the lookup index; retired unless another live subject holds
// them), and overwrites the ciphertexts of its other tokens with nothing: the
// rows stay, so their tokens answer SUBJECT_ERASED rather than UNKNOWN_TOKEN,
// and masked views are computed from values and never stored. On SQLite,
// secure_delete zeroes what the old cells held, and the caller truncates the
// WAL after the commit (store.DB.TruncateWAL); copies elsewhere (PostgreSQL's
// dead tuples and WAL, replicas, backups) keep the wrapped keys until their
// KEK versions are retired (docs/adr/0007). A second call reports the first
// erasure.
//
// The subject row is updated first: that takes its lock, so a concurrent
// data key rotation or tokenization either finished before (and its key is
// destroyed here) or waits and then sees the erasure.
//
// latestKEK is the KEK's latest version when the erasure began: a data key
// version deleted earlier (after re-encryption) may have been rewrapped up
// to it, so its old copies are retired only once that version is, whatever
// the remaining rows say.
func (s *Store) EraseSubject(ctx context.Context, tx *sql.Tx, tenant, subject, request string, at time.Time, deterministicFormat, latestKEK int) (Erasure, error) {
	e := Erasure{KEKVersion: latestKEK}
	res, err := tx.ExecContext(ctx, `UPDATE subjects SET erased_us = $1, erase_request = $2 WHERE tenant = $3 AND subject = $4 AND erased_us IS NULL`,
		at.UnixMicro(), request, tenant, subject)
	if err != nil {
		return e, store.MapError(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		var erased, kek sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT erased_us, erased_kek_version FROM subjects WHERE tenant = $1 AND subject = $2`, tenant, subject).Scan(&erased, &kek)
		if errors.Is(err, sql.ErrNoRows) {
			return e, errs.E(errs.NotFound, reasons.SubjectNotFound, "subject not found")
		}
		if err != nil {
			return e, store.MapError(err)
		}
		e.AlreadyErased, e.Erased, e.KEKVersion = true, fromUS(erased), int(kek.Int64)
		return e, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT version, LENGTH(wrapped), kek_version FROM subject_keys WHERE tenant = $1 AND subject = $2 ORDER BY version`, tenant, subject)
	if err != nil {
		return e, store.MapError(err)
	}
	lengths := map[int]int{}
	for rows.Next() {
		var v, n, kek int
		if err := rows.Scan(&v, &n, &kek); err != nil {
			rows.Close()
			return e, store.MapError(err)
		}
		e.DestroyedVersions = append(e.DestroyedVersions, v)
		lengths[v] = n
		e.KEKVersion = max(e.KEKVersion, kek)
	}
	rows.Close()
	for v, n := range lengths {
		if _, err := tx.ExecContext(ctx, `UPDATE subject_keys SET wrapped = $1 WHERE tenant = $2 AND subject = $3 AND version = $4`,
			make([]byte, n), tenant, subject, v); err != nil {
			return e, store.MapError(err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM subject_keys WHERE tenant = $1 AND subject = $2`, tenant, subject); err != nil {
		return e, store.MapError(err)
	}
	if e.KEKVersion > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE subjects SET erased_kek_version = $1 WHERE tenant = $2 AND subject = $3`, e.KEKVersion, tenant, subject); err != nil {
			return e, store.MapError(err)
		}
	}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE tenant = $1 AND subject = $2`, tenant, subject).Scan(&e.TokensAffected); err != nil {
		return e, store.MapError(err)
	}
	dets, err := queryStrings(ctx, tx, `SELECT token FROM tokens WHERE tenant = $1 AND subject = $2 AND format = $3`, tenant, subject, deterministicFormat)
	if err != nil {
		return e, err
	}
	if e.TokensRetired, e.TokensKept, err = s.retireTokens(ctx, tx, tenant, subject, dets, at); err != nil {
		return e, err
	}
	res, err = tx.ExecContext(ctx, `DELETE FROM tokens WHERE tenant = $1 AND subject = $2 AND format = $3`, tenant, subject, deterministicFormat)
	if err != nil {
		return e, store.MapError(err)
	}
	e.LookupsRemoved, _ = res.RowsAffected()
	if _, err := tx.ExecContext(ctx, `UPDATE tokens SET ciphertext = $1 WHERE tenant = $2 AND subject = $3`, []byte{}, tenant, subject); err != nil {
		return e, store.MapError(err)
	}
	e.Erased = at
	return e, nil
}

// ErrTokenRetired refuses to store a deterministic token that an erasure
// retired; the value's next generation has another token.
var ErrTokenRetired = errs.E(errs.Aborted, reasons.TokenRetired, "the deterministic token was retired by an erasure; retry")

// retiredMark is what retired_tokens keeps of a token: a hash, so that the
// table is not a list of tokens to match copies against, yet any token can
// be checked against it.
func retiredMark(token string) []byte {
	h := sha256.Sum256([]byte("sotto/tokenvault/retired-token\x00" + token))
	return h[:]
}

// tokenLockClass is the first key of the PostgreSQL advisory locks that
// serialise retiring a deterministic token with storing it (two-key locks;
// pkg/jobs and pkg/events use other classes).
const tokenLockClass = 0x74766474 // "tvdt"

// lockTokens takes, in tx, a transaction-scoped advisory lock per token of
// tenant (shared to store them, exclusive to retire them), in sorted order
// so that two transactions never wait for each other in a cycle. Without it,
// under READ COMMITTED, an erasure and an insert of the same token by
// another subject could each miss the other's uncommitted row and both
// commit: a retired token in use. SQLite needs none: one write transaction
// at a time.
func (s *Store) lockTokens(ctx context.Context, tx *sql.Tx, tenant string, toks []string, exclusive bool) error {
	if s.db.Dialect != store.Postgres || len(toks) == 0 {
		return nil
	}
	keys := make([]string, len(toks))
	for i, t := range toks {
		keys[i] = tenant + "/" + t
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	fn := "pg_advisory_xact_lock_shared"
	if exclusive {
		fn = "pg_advisory_xact_lock"
	}
	// An aggregate over unnest takes the locks in the array's order.
	_, err := tx.ExecContext(ctx, `SELECT COUNT(`+fn+`($1, hashtext(k))) FROM unnest($2::text[]) AS k`, tokenLockClass, keys)
	return store.MapError(err)
}

// retireTokens retires those of an erased subject's deterministic tokens
// that no other live subject holds (an expired row does not count), and
// returns how many it retired and kept.
func (s *Store) retireTokens(ctx context.Context, tx *sql.Tx, tenant, subject string, toks []string, at time.Time) (retired, kept int64, err error) {
	if err := s.lockTokens(ctx, tx, tenant, toks, true); err != nil {
		return 0, 0, err
	}
	for start := 0; start < len(toks); start += 500 {
		chunk := toks[start:min(start+500, len(toks))]
		args := []any{tenant, subject, at.UnixMicro()}
		for _, t := range chunk {
			args = append(args, t)
		}
		held, err := queryStrings(ctx, tx, `SELECT DISTINCT t.token FROM tokens t JOIN subjects s ON s.tenant = t.tenant AND s.subject = t.subject
			WHERE t.tenant = $1 AND t.subject <> $2 AND s.erased_us IS NULL AND (t.expires_us IS NULL OR t.expires_us > $3)
			AND t.token IN (`+s.db.Placeholders(4, len(chunk))+`)`, args...)
		if err != nil {
			return 0, 0, err
		}
		for _, t := range chunk {
			if slices.Contains(held, t) {
				kept++
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO retired_tokens (tenant, mark, retired_us) VALUES ($1, $2, $3) ON CONFLICT (tenant, mark) DO NOTHING`,
				tenant, retiredMark(t), at.UnixMicro()); err != nil {
				return 0, 0, store.MapError(err)
			}
			retired++
		}
	}
	return retired, kept, nil
}

// checkRetired refuses, in tx, deterministic tokens that an erasure retired
// (ErrTokenRetired), holding their locks until tx ends (see lockTokens).
func (s *Store) checkRetired(ctx context.Context, tx *sql.Tx, rows []Token) error {
	byTenant := map[string][]string{}
	for _, r := range rows {
		byTenant[r.Tenant] = append(byTenant[r.Tenant], r.Token)
	}
	for tenant, toks := range byTenant {
		if err := s.lockTokens(ctx, tx, tenant, toks, false); err != nil {
			return err
		}
		retired, err := s.retired(ctx, tx, tenant, toks)
		if err != nil {
			return err
		}
		if len(retired) > 0 {
			return ErrTokenRetired
		}
	}
	return nil
}

// RetiredTokens returns which of the tenant's candidate deterministic tokens
// an erasure retired.
func (s *Store) RetiredTokens(ctx context.Context, tenant string, candidates []string) (map[string]bool, error) {
	return s.retired(ctx, s.db, tenant, candidates)
}

func (s *Store) retired(ctx context.Context, q querier, tenant string, toks []string) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(toks); start += 500 {
		chunk := toks[start:min(start+500, len(toks))]
		byMark := make(map[string]string, len(chunk))
		args := []any{tenant}
		for _, t := range chunk {
			m := retiredMark(t)
			byMark[string(m)] = t
			args = append(args, m)
		}
		marks, err := queryStrings(ctx, q, `SELECT mark FROM retired_tokens WHERE tenant = $1 AND mark IN (`+s.db.Placeholders(2, len(chunk))+`)`, args...)
		if err != nil {
			return nil, err
		}
		for _, m := range marks {
			out[byMark[m]] = true
		}
	}
	return out, nil
}

// querier is a *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// queryStrings returns the single column of q's rows.
func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v []byte
		if err := rows.Scan(&v); err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, string(v))
	}
	return out, store.MapError(rows.Err())
}

// TenantsToRewrap returns up to limit tenant keys wrapped under a KEK
// version older than latest.
func (s *Store) TenantsToRewrap(ctx context.Context, latest, limit int) ([]Tenant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tenant, wrapped_key, kek_version FROM tenants WHERE kek_version < $1 ORDER BY tenant LIMIT $2`, latest, limit)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Tenant
	for rows.Next() {
		var t Tenant
		if err := rows.Scan(&t.Tenant, &t.WrappedKey, &t.KEKVersion); err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, t)
	}
	return out, store.MapError(rows.Err())
}

// UpdateTenantWrapped replaces a tenant's wrapped key (compare-and-set).
func (s *Store) UpdateTenantWrapped(ctx context.Context, t Tenant, wrapped []byte, kekVersion int) error {
	return store.MapError(s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkKEKFloor(ctx, tx, kekVersion); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE tenants SET wrapped_key = $1, kek_version = $2 WHERE tenant = $3 AND kek_version = $4`,
			wrapped, kekVersion, t.Tenant, t.KEKVersion)
		return err
	}))
}

// KeysToRewrap returns up to limit data keys wrapped under a KEK version
// older than latest.
func (s *Store) KeysToRewrap(ctx context.Context, latest int, limit int) ([]SubjectKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tenant, subject, version, wrapped, kek_version FROM subject_keys
		WHERE kek_version < $1 ORDER BY tenant, subject, version LIMIT $2`, latest, limit)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []SubjectKey
	for rows.Next() {
		var k SubjectKey
		if err := rows.Scan(&k.Tenant, &k.Subject, &k.Version, &k.Wrapped, &k.KEKVersion); err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, k)
	}
	return out, store.MapError(rows.Err())
}

// UpdateWrapped replaces a wrapped data key if it is still the one that was
// rewrapped (compare-and-set: a concurrent erasure or rewrap wins).
func (s *Store) UpdateWrapped(ctx context.Context, k SubjectKey, wrapped []byte, kekVersion int) error {
	return store.MapError(s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkKEKFloor(ctx, tx, kekVersion); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE subject_keys SET wrapped = $1, kek_version = $2
			WHERE tenant = $3 AND subject = $4 AND version = $5 AND kek_version = $6`,
			wrapped, kekVersion, k.Tenant, k.Subject, k.Version, k.KEKVersion)
		return err
	}))
}

// PendingRewrap counts data keys wrapped under an older KEK version.
func (s *Store) PendingRewrap(ctx context.Context, latest int) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM subject_keys WHERE kek_version < $1) + (SELECT COUNT(*) FROM tenants WHERE kek_version < $1)`, latest).Scan(&n)
	return n, store.MapError(err)
}

// Stale is a token sealed with a retired data key version, and the
// subject's current version.
type Stale struct {
	Token
	CurrentVersion int
}

// TokensToReencrypt returns up to limit tokens of live subjects sealed with
// a data key version older than the subject's current one.
func (s *Store) TokensToReencrypt(ctx context.Context, limit int) ([]Stale, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.token, t.tenant, t.subject, t.data_type, t.format, t.scope, t.ciphertext, t.dek_version, t.created_us, t.expires_us,
			s.erased_us IS NOT NULL, `+restrictedExpr+`, s.current_version
		FROM tokens t JOIN subjects s ON s.tenant = t.tenant AND s.subject = t.subject
		WHERE s.erased_us IS NULL AND t.dek_version < s.current_version
		ORDER BY t.tenant, t.subject, t.token LIMIT $1`, limit)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Stale
	for rows.Next() {
		var st Stale
		var cur int
		t, err := scanToken(scanExtra{rows, &cur})
		if err != nil {
			return nil, store.MapError(err)
		}
		st.Token, st.CurrentVersion = t, cur
		out = append(out, st)
	}
	return out, store.MapError(rows.Err())
}

// scanExtra appends destinations to a row scan.
type scanExtra struct {
	row   interface{ Scan(...any) error }
	extra any
}

func (s scanExtra) Scan(dest ...any) error { return s.row.Scan(append(dest, s.extra)...) }

// Reseal replaces a token's ciphertext with one sealed under version, in one
// transaction that first checks, under the subject row's lock, that version
// is still current and the subject not erased (so no value ever moves onto a
// key that a concurrent rotation is retiring), and then that the token is
// still sealed with the old version (compare-and-set). ErrSubjectChanged
// means the caller's view of the subject is stale.
func (s *Store) Reseal(ctx context.Context, t Token, ciphertext []byte, version int) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.CheckSubject(ctx, tx, t.Tenant, t.Subject, version); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE tokens SET ciphertext = $1, dek_version = $2
			WHERE token = $3 AND tenant = $4 AND subject = $5 AND dek_version = $6`,
			ciphertext, version, t.Token, t.Tenant, t.Subject, t.DEKVersion)
		return store.MapError(err)
	})
}

// PendingReencrypt counts tokens sealed with a retired data key version.
func (s *Store) PendingReencrypt(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens t JOIN subjects s ON s.tenant = t.tenant AND s.subject = t.subject
		WHERE s.erased_us IS NULL AND t.dek_version < s.current_version`).Scan(&n)
	return n, store.MapError(err)
}

// DeleteRetiredKeys destroys data key versions older than the current one
// that no token uses any more, and returns how many.
func (s *Store) DeleteRetiredKeys(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM subject_keys WHERE EXISTS (
			SELECT 1 FROM subjects s WHERE s.tenant = subject_keys.tenant AND s.subject = subject_keys.subject AND subject_keys.version < s.current_version)
		AND NOT EXISTS (
			SELECT 1 FROM tokens t WHERE t.tenant = subject_keys.tenant AND t.subject = subject_keys.subject AND t.dek_version = subject_keys.version)`)
	if err != nil {
		return 0, store.MapError(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DeleteExpired deletes tokens whose TTL has passed.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM tokens WHERE expires_us IS NOT NULL AND expires_us <= $1`, now.UnixMicro())
	if err != nil {
		return 0, store.MapError(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
