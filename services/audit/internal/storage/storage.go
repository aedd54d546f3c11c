// Package storage is the audit service's database: the log's entries, its
// Merkle tree nodes, signed checkpoints and wrapped HMAC keys, in SQLite or
// PostgreSQL through the same SQL.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/audit/internal/ledger"
	"github.com/sottohq/sotto/services/audit/internal/reasons"
)

// Store implements ledger.Store.
type Store struct {
	db *store.DB
}

var _ ledger.Store = (*Store)(nil)

// New wraps an opened, migrated database (see migrations.FS).
func New(db *store.DB) *Store { return &Store{db: db} }

// Ping checks the database, for readiness.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

func (s *Store) TreeSize(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT size FROM tree_head WHERE id = 1`).Scan(&n)
	return n, store.MapError(err)
}

func (s *Store) Nodes(ctx context.Context, ids []compact.NodeID) ([][]byte, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var q strings.Builder
	q.WriteString(`SELECT level, idx, hash FROM tree_nodes WHERE `)
	args := make([]any, 0, 2*len(ids))
	for i, id := range ids {
		if i > 0 {
			q.WriteString(" OR ")
		}
		fmt.Fprintf(&q, "(level = $%d AND idx = $%d)", len(args)+1, len(args)+2)
		args = append(args, int64(id.Level), int64(id.Index))
	}
	rows, err := s.db.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	found := make(map[compact.NodeID][]byte, len(ids))
	for rows.Next() {
		var level, idx int64
		var h []byte
		if err := rows.Scan(&level, &idx, &h); err != nil {
			return nil, store.MapError(err)
		}
		found[compact.NewNodeID(uint(level), uint64(idx))] = h
	}
	if err := rows.Err(); err != nil {
		return nil, store.MapError(err)
	}
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := found[id]
		if !ok {
			return nil, errs.E(errs.Internal, reasons.TreeNodeMissing, "tree node missing")
		}
		out[i] = h
	}
	return out, nil
}

func (s *Store) FindEvents(ctx context.Context, eventIDs []string) (map[string]ledger.Logged, error) {
	out := make(map[string]ledger.Logged)
	for start := 0; start < len(eventIDs); start += insertChunk {
		chunk := eventIDs[start:min(start+insertChunk, len(eventIDs))]
		// Padded by repeating the last id (IN ignores repeats), so that the
		// prepared statements come in a few sizes.
		args := make([]any, store.PaddedSize(len(chunk)))
		for i := range args {
			args[i] = chunk[min(i, len(chunk)-1)]
		}
		q := `SELECT event_id, leaf_index, input_digest FROM entries WHERE event_id IN (` + s.db.Placeholders(1, len(args)) + `)`
		rows, err := s.db.Prepared(s.db).QueryContext(ctx, q, args...)
		if err != nil {
			return nil, store.MapError(err)
		}
		for rows.Next() {
			var id string
			var l ledger.Logged
			if err := rows.Scan(&id, &l.Index, &l.InputDigest); err != nil {
				rows.Close()
				return nil, store.MapError(err)
			}
			out[id] = l
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, store.MapError(err)
		}
	}
	return out, nil
}

// Batches are inserted as multi-row INSERTs of at most this many rows (a
// power of two, store.Pieces: prepared statements of a few sizes), and
// looked up (FindEvents) this many ids at a time, well under both
// databases' bind-parameter limits.
const insertChunk = 256

func (s *Store) Append(ctx context.Context, fromSize int64, entries []ledger.Entry, nodes []ledger.Node) error {
	return store.MapError(s.db.InTx(ctx, func(tx *sql.Tx) error {
		q := s.db.Prepared(tx)
		res, err := q.ExecContext(ctx, `UPDATE tree_head SET size = $1 WHERE id = 1 AND size = $2`,
			fromSize+int64(len(entries)), fromSize)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return ledger.ErrConflict
		}
		args := make([]any, 0, 9*min(len(entries), insertChunk))
		for _, n := range store.Pieces(len(entries), insertChunk) {
			args = args[:0]
			for _, e := range entries[:n] {
				args = append(args, e.Index, e.EventID, e.Data, e.InputDigest, e.SubjectHash, e.ActorSubjectHash, e.ActorWorkload, e.Action, e.OccurTime.UnixMicro())
			}
			entries = entries[n:]
			if _, err := q.ExecContext(ctx, s.insertSQL(insertEntriesSQL, 9, n), args...); err != nil {
				return err
			}
		}
		for _, n := range store.Pieces(len(nodes), insertChunk) {
			args = args[:0]
			for _, nd := range nodes[:n] {
				args = append(args, int64(nd.ID.Level), int64(nd.ID.Index), nd.Hash)
			}
			nodes = nodes[n:]
			if _, err := q.ExecContext(ctx, s.insertSQL(insertNodesSQL, 3, n), args...); err != nil {
				return err
			}
		}
		return nil
	}))
}

const (
	insertEntriesSQL = `INSERT INTO entries (leaf_index, event_id, leaf_data, input_digest, subject_hash, actor_subject_hash, actor_workload, action, occur_time_us) VALUES `
	insertNodesSQL   = `INSERT INTO tree_nodes (level, idx, hash) VALUES `
)

// insertSQL is head followed by rows rows of cols placeholders each.
func (s *Store) insertSQL(head string, cols, rows int) string {
	var q strings.Builder
	q.WriteString(head)
	for i := range rows {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(" + s.db.Placeholders(i*cols+1, cols) + ")")
	}
	return q.String()
}

const entryColumns = `leaf_index, event_id, leaf_data, subject_hash, actor_subject_hash, actor_workload, action, occur_time_us`

func scanEntry(row interface{ Scan(...any) error }, extra ...any) (ledger.Entry, error) {
	var e ledger.Entry
	var us int64
	dest := append([]any{&e.Index, &e.EventID, &e.Data, &e.SubjectHash, &e.ActorSubjectHash, &e.ActorWorkload, &e.Action, &us}, extra...)
	if err := row.Scan(dest...); err != nil {
		return e, err
	}
	e.OccurTime = time.UnixMicro(us).UTC()
	return e, nil
}

func (s *Store) Entry(ctx context.Context, eventID string) (ledger.Entry, error) {
	e, err := scanEntry(s.db.QueryRowContext(ctx, `SELECT `+entryColumns+` FROM entries WHERE event_id = $1`, eventID))
	if errors.Is(err, sql.ErrNoRows) {
		return e, errs.E(errs.NotFound, reasons.EventNotFound, "event not found")
	}
	return e, store.MapError(err)
}

func (s *Store) ListEntries(ctx context.Context, f ledger.Filter) ([]ledger.Entry, error) {
	q, args := listQuery(f)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []ledger.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, e)
	}
	return out, store.MapError(rows.Err())
}

func (s *Store) CountSubject(ctx context.Context, hashes []string) (int64, error) {
	if len(hashes) == 0 {
		return 0, nil
	}
	q, args := countSubjectQuery(hashes)
	var n int64
	err := s.db.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, store.MapError(err)
}

// The subject indexes are partial (empty hashes, events about no one, are
// most of the log and never searched for), and SQLite uses a partial index
// only when the query repeats its condition word for word: so every search
// by a hash column repeats the not-empty condition, although a searched
// hash is never empty. PostgreSQL would infer it; saying it costs nothing
// there. TestSubjectLookupsUseTheIndex holds both planners to it.
const (
	subjectIndexed      = "subject_hash <> ''"
	actorSubjectIndexed = "actor_subject_hash <> ''"
)

// listQuery is ListEntries' SQL.
func listQuery(f ledger.Filter) (string, []any) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	in := func(col string, vals []string) {
		ph := make([]string, len(vals))
		for i, v := range vals {
			ph[i] = arg(v)
		}
		where = append(where, col+" IN ("+strings.Join(ph, ",")+")")
	}
	where = append(where, "leaf_index > "+arg(f.AfterIndex))
	if len(f.SubjectHashes) > 0 {
		where = append(where, subjectIndexed)
		in("subject_hash", f.SubjectHashes)
	}
	if len(f.ActorSubjectHashes) > 0 {
		where = append(where, actorSubjectIndexed)
		in("actor_subject_hash", f.ActorSubjectHashes)
	}
	if f.ActorWorkload != "" {
		where = append(where, "actor_workload = "+arg(f.ActorWorkload))
	}
	if f.Action != "" {
		where = append(where, "action = "+arg(f.Action))
	}
	if !f.Start.IsZero() {
		where = append(where, "occur_time_us >= "+arg(f.Start.UnixMicro()))
	}
	if !f.End.IsZero() {
		where = append(where, "occur_time_us < "+arg(f.End.UnixMicro()))
	}
	return `SELECT ` + entryColumns + ` FROM entries WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY leaf_index LIMIT ` + arg(f.Limit), args
}

// countSubjectQuery is CountSubject's SQL.
func countSubjectQuery(hashes []string) (string, []any) {
	ph := make([]string, len(hashes))
	args := make([]any, len(hashes))
	for i, h := range hashes {
		ph[i] = fmt.Sprintf("$%d", i+1)
		args[i] = h
	}
	return `SELECT COUNT(*) FROM entries WHERE ` + subjectIndexed + ` AND subject_hash IN (` + strings.Join(ph, ",") + `)`, args
}

func (s *Store) EntriesRange(ctx context.Context, start int64, limit int) ([]ledger.Entry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT e.leaf_index, e.event_id, e.leaf_data, e.subject_hash, e.actor_subject_hash, e.actor_workload, e.action, e.occur_time_us, n.hash
		FROM entries e LEFT JOIN tree_nodes n ON n.level = 0 AND n.idx = e.leaf_index
		WHERE e.leaf_index >= $1 ORDER BY e.leaf_index LIMIT $2`, start, limit)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []ledger.Entry
	for rows.Next() {
		var h []byte
		e, err := scanEntry(rows, &h)
		if err != nil {
			return nil, store.MapError(err)
		}
		e.LeafHash = h
		out = append(out, e)
	}
	return out, store.MapError(rows.Err())
}

func (s *Store) PutCheckpoint(ctx context.Context, c ledger.Checkpoint) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO checkpoints (tree_size, root_hash, signed_note, sign_time_us) VALUES ($1, $2, $3, $4) ON CONFLICT (tree_size) DO NOTHING`,
		c.Size, c.Root, c.Note, c.SignTime.UnixMicro())
	return store.MapError(err)
}

const checkpointColumns = `tree_size, root_hash, signed_note, sign_time_us`

func scanCheckpoint(row interface{ Scan(...any) error }) (ledger.Checkpoint, error) {
	var c ledger.Checkpoint
	var us int64
	err := row.Scan(&c.Size, &c.Root, &c.Note, &us)
	c.SignTime = time.UnixMicro(us).UTC()
	if errors.Is(err, sql.ErrNoRows) {
		return c, errs.E(errs.NotFound, reasons.CheckpointNotFound, "no checkpoint for that tree size")
	}
	return c, store.MapError(err)
}

func (s *Store) LatestCheckpoint(ctx context.Context) (ledger.Checkpoint, error) {
	return scanCheckpoint(s.db.QueryRowContext(ctx, `SELECT `+checkpointColumns+` FROM checkpoints ORDER BY tree_size DESC LIMIT 1`))
}

func (s *Store) ListCheckpoints(ctx context.Context, afterSize int64, limit int) ([]ledger.Checkpoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+checkpointColumns+` FROM checkpoints WHERE tree_size > $1 ORDER BY tree_size LIMIT $2`, afterSize, limit)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []ledger.Checkpoint
	for rows.Next() {
		c, err := scanCheckpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, store.MapError(rows.Err())
}

func (s *Store) HMACKeys(ctx context.Context) (map[int][]byte, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, wrapped FROM hmac_keys`)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	out := map[int][]byte{}
	for rows.Next() {
		var v int
		var w []byte
		if err := rows.Scan(&v, &w); err != nil {
			return nil, store.MapError(err)
		}
		out[v] = w
	}
	return out, store.MapError(rows.Err())
}

func (s *Store) AddHMACKey(ctx context.Context, version int, wrapped []byte) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO hmac_keys (version, wrapped, created_us) VALUES ($1, $2, $3)`,
		version, wrapped, time.Now().UnixMicro())
	return store.MapError(err)
}
