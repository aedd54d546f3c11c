package storage

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/consent/internal/catalogue"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

const purposeColumns = `purpose_id, display_name, description, legal_basis, jurisdictions, sale_or_share,
retention_days, retired, revision, source, update_time`

func scanPurpose(sc interface{ Scan(...any) error }) (catalogue.Purpose, error) {
	var p catalogue.Purpose
	var basis, sale, retired int
	var juris string
	var updated int64
	if err := sc.Scan(&p.ID, &p.DisplayName, &p.Description, &basis, &juris, &sale, &p.RetentionDays,
		&retired, &p.Revision, &p.Source, &updated); err != nil {
		return p, err
	}
	p.Basis, p.Jurisdictions, p.SaleOrShare, p.Retired = catalogue.LegalBasis(basis), splitList(juris), sale != 0, retired != 0
	p.Updated = fromUS(updated)
	return p, nil
}

// Purposes returns the catalogue, by id.
func (s *Store) Purposes(ctx context.Context, q Q) ([]catalogue.Purpose, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+purposeColumns+` FROM purposes ORDER BY purpose_id`)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []catalogue.Purpose
	for rows.Next() {
		p, err := scanPurpose(rows)
		if err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, p)
	}
	return out, store.MapError(rows.Err())
}

// Purpose returns one purpose, or NotFound PURPOSE_UNKNOWN.
func (s *Store) Purpose(ctx context.Context, q Q, id string) (catalogue.Purpose, error) {
	p, err := scanPurpose(q.QueryRowContext(ctx, `SELECT `+purposeColumns+` FROM purposes WHERE purpose_id = $1`, id))
	if err != nil {
		return p, notFound(err, reasons.PurposeUnknown, "purpose")
	}
	return p, nil
}

// InsertPurpose adds a purpose at its revision (normally 1) and records the
// revision; an existing id is AlreadyExists PURPOSE_EXISTS.
func (s *Store) InsertPurpose(ctx context.Context, q Q, p catalogue.Purpose, actor string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO purposes (`+purposeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		p.ID, p.DisplayName, p.Description, int(p.Basis), joinList(p.Jurisdictions), boolInt(p.SaleOrShare),
		p.RetentionDays, boolInt(p.Retired), p.Revision, p.Source, us(p.Updated))
	if err != nil {
		if store.IsUniqueViolation(err) {
			return errs.Wrap(err, errs.AlreadyExists, reasons.PurposeExists, "a purpose with this id exists")
		}
		return store.MapError(err)
	}
	return s.insertRevision(ctx, q, p, actor)
}

// UpdatePurpose replaces a purpose's values with p's (p.Revision is the new
// revision) if its stored revision is still previous: a compare-and-set, so
// of two concurrent updates from one revision only one applies. Otherwise
// Aborted PURPOSE_REVISION_MISMATCH.
func (s *Store) UpdatePurpose(ctx context.Context, q Q, p catalogue.Purpose, previous int64, actor string) error {
	res, err := q.ExecContext(ctx, `UPDATE purposes SET display_name = $1, description = $2, legal_basis = $3,
jurisdictions = $4, sale_or_share = $5, retention_days = $6, retired = $7, revision = $8, source = $9, update_time = $10
WHERE purpose_id = $11 AND revision = $12`,
		p.DisplayName, p.Description, int(p.Basis), joinList(p.Jurisdictions), boolInt(p.SaleOrShare),
		p.RetentionDays, boolInt(p.Retired), p.Revision, p.Source, us(p.Updated), p.ID, previous)
	if err != nil {
		return store.MapError(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return store.MapError(err)
	} else if n == 0 {
		return errs.E(errs.Aborted, reasons.PurposeRevisionMismatch, "the purpose changed since that revision; read it again")
	}
	return s.insertRevision(ctx, q, p, actor)
}

func (s *Store) insertRevision(ctx context.Context, q Q, p catalogue.Purpose, actor string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO purpose_revisions (purpose_id, revision, display_name, description,
legal_basis, jurisdictions, sale_or_share, retention_days, retired, source, actor, update_time)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		p.ID, p.Revision, p.DisplayName, p.Description, int(p.Basis), joinList(p.Jurisdictions), boolInt(p.SaleOrShare),
		p.RetentionDays, boolInt(p.Retired), p.Source, actor, us(p.Updated))
	return store.MapError(err)
}

// PurposeRevision returns a purpose as it was at a revision (what a record
// made at that revision relied on).
func (s *Store) PurposeRevision(ctx context.Context, q Q, id string, revision int64) (catalogue.Purpose, error) {
	var p catalogue.Purpose
	var basis, sale, retired int
	var juris, actor string
	var updated int64
	err := q.QueryRowContext(ctx, `SELECT purpose_id, revision, display_name, description, legal_basis, jurisdictions,
sale_or_share, retention_days, retired, source, actor, update_time FROM purpose_revisions WHERE purpose_id = $1 AND revision = $2`,
		id, revision).Scan(&p.ID, &p.Revision, &p.DisplayName, &p.Description, &basis, &juris, &sale, &p.RetentionDays,
		&retired, &p.Source, &actor, &updated)
	if err != nil {
		return p, notFound(err, reasons.PurposeUnknown, "purpose revision")
	}
	p.Basis, p.Jurisdictions, p.SaleOrShare, p.Retired = catalogue.LegalBasis(basis), splitList(juris), sale != 0, retired != 0
	p.Updated = fromUS(updated)
	return p, nil
}

// CatalogueVersion is the catalogue file version last applied (0: none).
func (s *Store) CatalogueVersion(ctx context.Context, q Q) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, `SELECT file_version FROM consent_catalogue WHERE singleton = 1`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, store.MapError(err)
}

// SetCatalogueVersion records that the file version was applied. Call it
// in the transaction that applied it, after CatalogueVersion read the
// previous one: on PostgreSQL the row lock (or the unique key on the first
// insert) makes a second replica applying the same version at once fail
// or wait rather than apply it twice.
func (s *Store) SetCatalogueVersion(ctx context.Context, q Q, previous, version int64) error {
	if previous == 0 {
		_, err := q.ExecContext(ctx, `INSERT INTO consent_catalogue (singleton, file_version) VALUES (1, $1)`, version)
		return store.MapError(err)
	}
	res, err := q.ExecContext(ctx, `UPDATE consent_catalogue SET file_version = $1 WHERE singleton = 1 AND file_version = $2`, version, previous)
	if err != nil {
		return store.MapError(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return store.MapError(err)
	} else if n == 0 {
		return errs.E(errs.Aborted, reasons.PurposeRevisionMismatch, "the catalogue was applied concurrently")
	}
	return nil
}

// Notice returns a notice version (0: the latest) with its texts, or
// NotFound NOTICE_VERSION_UNKNOWN.
func (s *Store) Notice(ctx context.Context, q Q, id string, version int64) (catalogue.Notice, error) {
	n := catalogue.Notice{ID: id}
	var purposes string
	var created int64
	var err error
	if version == 0 {
		err = q.QueryRowContext(ctx, `SELECT version, purposes, actor, create_time FROM notices WHERE notice_id = $1
ORDER BY version DESC LIMIT 1`, id).Scan(&n.Version, &purposes, &n.Actor, &created)
	} else {
		err = q.QueryRowContext(ctx, `SELECT version, purposes, actor, create_time FROM notices WHERE notice_id = $1 AND version = $2`,
			id, version).Scan(&n.Version, &purposes, &n.Actor, &created)
	}
	if err != nil {
		return n, notFound(err, reasons.NoticeVersionUnknown, "notice version")
	}
	n.Purposes, n.Created = splitList(purposes), fromUS(created)
	return n, s.noticeTexts(ctx, q, &n)
}

// noticeTexts reads a notice version's texts into n, by language.
func (s *Store) noticeTexts(ctx context.Context, q Q, n *catalogue.Notice) error {
	rows, err := q.QueryContext(ctx, `SELECT language, body, sha256 FROM notice_texts WHERE notice_id = $1 AND version = $2
ORDER BY language`, n.ID, n.Version)
	if err != nil {
		return store.MapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var t catalogue.NoticeText
		if err := rows.Scan(&t.Language, &t.Text, &t.SHA256); err != nil {
			return store.MapError(err)
		}
		n.Texts = append(n.Texts, t)
	}
	if err := rows.Err(); err != nil {
		return store.MapError(err)
	}
	if len(n.Texts) == 0 {
		return errInternal("notice version without texts")
	}
	return nil
}

// LatestNotices returns up to limit notices, each at its latest version
// with its texts, by notice_id after the id after (empty: from the first).
// With purpose set, only notices whose latest version asks for it: an
// older version that asked for it is not what a customer is shown now.
func (s *Store) LatestNotices(ctx context.Context, q Q, purpose, after string, limit int) ([]catalogue.Notice, error) {
	// purposes is a space-separated list (joinList); the purpose is matched
	// as a whole word, with LIKE's "_" (in purpose ids) escaped so that
	// "crm_sync" does not match "crmxsync".
	word := "% " + strings.ReplaceAll(purpose, "_", `\_`) + " %"
	rows, err := q.QueryContext(ctx, `SELECT n.notice_id, n.version, n.purposes, n.actor, n.create_time FROM notices n
WHERE n.version = (SELECT MAX(m.version) FROM notices m WHERE m.notice_id = n.notice_id)
AND n.notice_id > $1 AND (CAST($2 AS TEXT) = '' OR (' ' || n.purposes || ' ') LIKE $3 ESCAPE '\')
ORDER BY n.notice_id LIMIT $4`, after, purpose, word, limit)
	if err != nil {
		return nil, store.MapError(err)
	}
	var out []catalogue.Notice
	for rows.Next() {
		var n catalogue.Notice
		var purposes string
		var created int64
		if err := rows.Scan(&n.ID, &n.Version, &purposes, &n.Actor, &created); err != nil {
			rows.Close()
			return nil, store.MapError(err)
		}
		n.Purposes, n.Created = splitList(purposes), fromUS(created)
		out = append(out, n)
	}
	// Closed before the texts are read: a *sql.Tx runs one statement at a
	// time.
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, store.MapError(err)
	}
	for i := range out {
		if err := s.noticeTexts(ctx, q, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// InsertNotice stores a notice version (checked) with its texts; a version
// that exists is AlreadyExists (two officers publishing at once: one
// retries with the next number).
func (s *Store) InsertNotice(ctx context.Context, q Q, n catalogue.Notice) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO notices (notice_id, version, purposes, actor, create_time) VALUES ($1, $2, $3, $4, $5)`,
		n.ID, n.Version, joinList(n.Purposes), n.Actor, us(n.Created)); err != nil {
		return store.MapError(err)
	}
	for _, t := range n.Texts {
		if _, err := q.ExecContext(ctx, `INSERT INTO notice_texts (notice_id, version, language, body, sha256) VALUES ($1, $2, $3, $4, $5)`,
			n.ID, n.Version, t.Language, t.Text, t.SHA256); err != nil {
			return store.MapError(err)
		}
	}
	return nil
}
