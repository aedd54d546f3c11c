package consent

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/services/consent/internal/catalogue"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

// ApplyFile brings the catalogue up to a catalogue file, once per file
// version, in one transaction: purposes the database lacks are added,
// purposes still as the file last set them take the file's values, notices
// the database lacks are added, and a notice whose latest version the file
// made and whose text changed gets a new version. Each change is audited
// and published to the change feed. Edits by privacy officers are kept.
func (s *Service) ApplyFile(ctx context.Context, f catalogue.File) error {
	var evs []events.Event
	applied := false
	err := s.store.InTx(ctx, func(tx *sql.Tx) error {
		evs, applied = nil, false
		prev, err := s.store.CatalogueVersion(ctx, tx)
		if err != nil || prev >= f.Version {
			return err
		}
		now := s.clock()
		var audits []auditclient.Event
		for _, fp := range f.Purposes {
			cur, err := s.store.Purpose(ctx, tx, fp.ID)
			switch {
			case errs.Is(err, errs.NotFound):
				p := fp
				p.Revision, p.Updated, p.Source = 1, now, catalogue.SourceFile
				if err := s.store.InsertPurpose(ctx, tx, p, catalogue.FileActor); err != nil {
					return err
				}
				audits = append(audits, s.purposeEvent(ctx, ActionPurposeCreate, p))
				evs = append(evs, purposeEvent(p))
			case err != nil:
				return err
			case cur.Source == catalogue.SourceFile && !cur.SameValues(fp):
				p := fp
				p.Revision, p.Updated, p.Source = cur.Revision+1, now, catalogue.SourceFile
				if err := s.store.UpdatePurpose(ctx, tx, p, cur.Revision, catalogue.FileActor); err != nil {
					return err
				}
				audits = append(audits, s.purposeEvent(ctx, ActionPurposeUpdate, p))
				evs = append(evs, purposeEvent(p))
			}
		}
		for _, fn := range f.Notices {
			latest, err := s.store.Notice(ctx, tx, fn.ID, 0)
			n := fn
			n.Created, n.Actor = now, catalogue.FileActor
			switch {
			case errs.Is(err, errs.NotFound):
				n.Version = 1
			case err != nil:
				return err
			case latest.Actor == catalogue.FileActor && !latest.SameContent(fn):
				n.Version = latest.Version + 1
			default:
				continue
			}
			for _, p := range n.Purposes {
				if _, err := s.store.Purpose(ctx, tx, p); err != nil {
					return errs.Wrap(err, errs.InvalidArgument, reasons.CatalogueInvalid, "catalogue: notice %s asks for an unknown purpose", n.ID)
				}
			}
			if err := s.store.InsertNotice(ctx, tx, n); err != nil {
				return err
			}
			audits = append(audits, s.noticeEvent(ctx, n))
		}
		if err := s.store.SetCatalogueVersion(ctx, tx, prev, f.Version); err != nil {
			return err
		}
		ev := auditclient.New(ctx, ActionCatalogueApply, auditclient.Success)
		ev.ResourceType, ev.ResourceID = "catalogue", "v"+strconv.FormatInt(f.Version, 10)
		if err := s.audit.Enqueue(ctx, tx, append(audits, ev)...); err != nil {
			return err
		}
		applied = true
		return s.events.Publish(ctx, tx, evs...)
	})
	if err != nil {
		return err
	}
	if applied {
		s.logger.InfoContext(ctx, "catalogue file applied", slog.Int64("version", f.Version), slog.Int("count", len(evs)))
		s.notify()
	}
	return nil
}

func (s *Service) purposeEvent(ctx context.Context, action auditclient.Action, p catalogue.Purpose) auditclient.Event {
	ev := auditclient.New(ctx, action, auditclient.Success)
	ev.ResourceType, ev.ResourceID, ev.Purpose = resourcePurpose, p.ID+"/"+strconv.FormatInt(p.Revision, 10), p.ID
	return ev
}

func (s *Service) noticeEvent(ctx context.Context, n catalogue.Notice) auditclient.Event {
	ev := auditclient.New(ctx, ActionNoticeCreate, auditclient.Success)
	ev.ResourceType, ev.ResourceID = resourceNotice, n.ID+"/"+strconv.FormatInt(n.Version, 10)
	return ev
}

// PurposeChange is the payload of a TopicPurpose event.
type PurposeChange struct {
	Purpose catalogue.Purpose `json:"purpose"`
}

func purposeEvent(p catalogue.Purpose) events.Event {
	b, _ := json.Marshal(PurposeChange{Purpose: p}) // plain data: cannot fail
	return events.Event{Topic: TopicPurpose, Key: p.ID, Payload: b}
}

// Purposes returns the catalogue, by id, with or without retired purposes.
func (s *Service) Purposes(ctx context.Context, includeRetired bool) ([]catalogue.Purpose, error) {
	ps, err := s.store.Purposes(ctx, s.store.DB())
	if err != nil {
		return nil, err
	}
	if !includeRetired {
		ps = slices.DeleteFunc(ps, func(p catalogue.Purpose) bool { return p.Retired })
	}
	return ps, nil
}

// Purpose returns one purpose, or NotFound PURPOSE_UNKNOWN.
func (s *Service) Purpose(ctx context.Context, id string) (catalogue.Purpose, error) {
	return s.store.Purpose(ctx, s.store.DB(), id)
}

// CreatePurpose adds a purpose on a privacy officer's request (the
// end-user table requires the role at aal2).
func (s *Service) CreatePurpose(ctx context.Context, c Caller, p catalogue.Purpose) (catalogue.Purpose, error) {
	p, err := p.Check()
	if err != nil {
		return p, err
	}
	p.Revision, p.Updated, p.Source = 1, s.clock(), catalogue.SourceAPI
	err = s.store.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.store.InsertPurpose(ctx, tx, p, c.Subject); err != nil {
			return err
		}
		if err := s.audit.Enqueue(ctx, tx, s.purposeEvent(ctx, ActionPurposeCreate, p)); err != nil {
			return err
		}
		return s.events.Publish(ctx, tx, purposeEvent(p))
	})
	if err != nil {
		return catalogue.Purpose{}, err
	}
	s.notify()
	return p, nil
}

// Purpose fields an update may name.
const (
	FieldDisplayName   = "display_name"
	FieldDescription   = "description"
	FieldLegalBasis    = "legal_basis"
	FieldJurisdictions = "jurisdictions"
	FieldSaleOrShare   = "ccpa_sale_or_share"
	FieldRetentionDays = "retention_days"
	FieldRetired       = "retired"
)

// UpdatePurpose changes the fields of mask (every mutable field when it is
// empty) to p's values, if the purpose is still at expected. A change that
// changes nothing returns the purpose as it is.
func (s *Service) UpdatePurpose(ctx context.Context, c Caller, p catalogue.Purpose, mask []string, expected int64) (catalogue.Purpose, error) {
	if len(mask) == 0 {
		mask = []string{FieldDisplayName, FieldDescription, FieldLegalBasis, FieldJurisdictions, FieldSaleOrShare, FieldRetentionDays, FieldRetired}
	}
	var out catalogue.Purpose
	changed := false
	err := s.store.InTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.store.Purpose(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		if cur.Revision != expected {
			return errs.E(errs.Aborted, reasons.PurposeRevisionMismatch, "the purpose changed since that revision; read it again")
		}
		next := cur
		for _, f := range mask {
			switch f {
			case FieldDisplayName:
				next.DisplayName = p.DisplayName
			case FieldDescription:
				next.Description = p.Description
			case FieldLegalBasis:
				next.Basis = p.Basis
			case FieldJurisdictions:
				next.Jurisdictions = p.Jurisdictions
			case FieldSaleOrShare:
				next.SaleOrShare = p.SaleOrShare
			case FieldRetentionDays:
				next.RetentionDays = p.RetentionDays
			case FieldRetired:
				next.Retired = p.Retired
			default:
				return errs.E(errs.InvalidArgument, reasons.UpdateMaskInvalid, "update_mask names a field that cannot change")
			}
		}
		if next, err = next.Check(); err != nil {
			return err
		}
		if next.SameValues(cur) {
			out = cur
			return nil
		}
		next.Revision, next.Updated, next.Source = cur.Revision+1, s.clock(), catalogue.SourceAPI
		if err := s.store.UpdatePurpose(ctx, tx, next, cur.Revision, c.Subject); err != nil {
			return err
		}
		if err := s.audit.Enqueue(ctx, tx, s.purposeEvent(ctx, ActionPurposeUpdate, next)); err != nil {
			return err
		}
		out, changed = next, true
		return s.events.Publish(ctx, tx, purposeEvent(next))
	})
	if err != nil {
		return catalogue.Purpose{}, err
	}
	if changed {
		s.notify()
	}
	return out, nil
}

// CreateNoticeVersion publishes the next version of a notice on a privacy
// officer's request. Every purpose it asks for must exist.
func (s *Service) CreateNoticeVersion(ctx context.Context, c Caller, n catalogue.Notice) (catalogue.Notice, error) {
	n, err := n.Check()
	if err != nil {
		return n, err
	}
	n.Created, n.Actor = s.clock(), c.Subject
	err = s.store.InTx(ctx, func(tx *sql.Tx) error {
		for _, p := range n.Purposes {
			if _, err := s.store.Purpose(ctx, tx, p); err != nil {
				if errs.Is(err, errs.NotFound) {
					return errs.E(errs.InvalidArgument, reasons.PurposeUnknown, "the notice asks for a purpose the catalogue does not have")
				}
				return err
			}
		}
		latest, err := s.store.Notice(ctx, tx, n.ID, 0)
		switch {
		case errs.Is(err, errs.NotFound):
			n.Version = 1
		case err != nil:
			return err
		default:
			n.Version = latest.Version + 1
		}
		if err := s.store.InsertNotice(ctx, tx, n); err != nil {
			if errs.Is(err, errs.AlreadyExists) {
				return errs.Wrap(err, errs.Aborted, reasons.NoticeInvalid, "another version was published at the same time; retry")
			}
			return err
		}
		return s.audit.Enqueue(ctx, tx, s.noticeEvent(ctx, n))
	})
	if err != nil {
		return catalogue.Notice{}, err
	}
	s.audit.Notify()
	return n, nil
}

// NoticeVersion returns a notice version (0: the latest), or NotFound
// NOTICE_VERSION_UNKNOWN.
func (s *Service) NoticeVersion(ctx context.Context, id string, version int64) (catalogue.Notice, error) {
	return s.store.Notice(ctx, s.store.DB(), id, version)
}

// Notices returns a page of notices at their latest versions, by id after
// the id after, only those asking for purpose if it is set, and whether
// more follow. Notices are public: no caller is needed.
func (s *Service) Notices(ctx context.Context, purpose, after string, size int) ([]catalogue.Notice, bool, error) {
	if size <= 0 || size > MaxPageSize {
		size = DefaultPageSize
	}
	ns, err := s.store.LatestNotices(ctx, s.store.DB(), purpose, after, size+1)
	if err != nil {
		return nil, false, err
	}
	more := len(ns) > size
	if more {
		ns = ns[:size]
	}
	return ns, more, nil
}
