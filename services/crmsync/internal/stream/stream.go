// Package stream is the "platform" connector: a CRM platform that
// integrates over gRPC pulls a shop's changes instead of being sent them
// (ADR 0015, "Pull stream"). A delivery to it goes through the same
// queue, mapping, consent checks, forms and audit as a push connector's;
// where a push connector would upsert the record in a CRM, this one
// appends the record, in its mapped forms, to crmsync's event log
// (pkg/events: sealed under the service's key, ordered, trimmed after the
// retention), one topic per shop. WatchChanges streams that topic from a
// client's cursor: the backlog, then live changes. An erasure deletes the
// customer's entries from the log and appends a marker, so the platform
// deletes its record too.
package stream

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/crmsync/internal/connector"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
)

// ActionStreamed is audited for each change a platform reads.
const ActionStreamed auditclient.Action = "crmsync.platform.streamed"

// erasedKeyPrefix marks the erasure entry's key, so that Exists tells the
// customer's records from the marker without opening sealed payloads.
const erasedKeyPrefix = "erased/"

// Log is the platform connector's change log, for every shop.
type Log struct {
	db     *store.DB
	events *events.Outbox
	audit  *auditclient.Outbox
	now    func() time.Time
}

// New returns the log over the service's event outbox (sealed: its
// payloads hold the mapped forms, values included where a mapping says
// plaintext).
func New(db *store.DB, ev *events.Outbox, audit *auditclient.Outbox, now func() time.Time) (*Log, error) {
	if db == nil || ev == nil {
		return nil, errors.New("stream: a database and an event outbox are required")
	}
	if now == nil {
		now = time.Now
	}
	return &Log{db: db, events: ev, audit: audit, now: now}, nil
}

// Topic is a shop's topic in the event log. The shop's name is hashed into
// it: topics are lower-case dotted words, shop names may hold digits first
// and dashes.
func Topic(tenant string) string {
	sum := sha256.Sum256([]byte("crmsync-platform/" + tenant))
	return "crmsync.platform.t" + hex.EncodeToString(sum[:16])
}

// For is the shop's connector.
func (l *Log) For(tenant string) connector.Connector { return &shop{log: l, tenant: tenant} }

type shop struct {
	log    *Log
	tenant string
}

var _ connector.Connector = (*shop)(nil)

// Upsert implements connector.Connector: the records join the shop's log,
// all or none.
func (s *shop) Upsert(ctx context.Context, records []connector.Record) error {
	now := timestamppb.New(s.log.now())
	evs := make([]events.Event, len(records))
	for i, r := range records {
		evs[i] = events.Event{Topic: Topic(s.tenant), Key: r.ExternalID,
			Message: &crmsyncv1.WatchChangesResponse{Subject: r.ExternalID, Properties: r.Properties, ChangeTime: now}}
	}
	err := s.log.db.InTx(ctx, func(tx *sql.Tx) error { return s.log.events.Publish(ctx, tx, evs...) })
	if err != nil {
		return errs.Wrap(err, errs.Unavailable, reasons.ChangeLogUnavailable, "the platform's change log could not be written")
	}
	s.log.events.Notify()
	return nil
}

// Delete implements connector.Connector: the customer's entries leave the
// log, and an erasure marker tells the platform to delete its record.
func (s *shop) Delete(ctx context.Context, externalID string) error {
	err := s.log.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM event_outbox WHERE topic = $1 AND event_key = $2`, Topic(s.tenant), externalID); err != nil {
			return err
		}
		return s.log.events.Publish(ctx, tx, events.Event{Topic: Topic(s.tenant), Key: erasedKeyPrefix + externalID,
			Message: &crmsyncv1.WatchChangesResponse{Subject: externalID, Erased: true, ChangeTime: timestamppb.New(s.log.now())}})
	})
	if err != nil {
		return errs.Wrap(err, errs.Unavailable, reasons.ChangeLogUnavailable, "the platform's change log could not be written")
	}
	s.log.events.Notify()
	return nil
}

// Exists implements connector.Connector: whether the log still holds a
// record of the customer (the erasure's read-back).
func (s *shop) Exists(ctx context.Context, externalID string) (bool, error) {
	var n int
	err := s.log.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM event_outbox WHERE topic = $1 AND event_key = $2`,
		Topic(s.tenant), externalID).Scan(&n)
	if err != nil {
		return false, errs.Wrap(store.MapError(err), errs.Unavailable, reasons.ChangeLogUnavailable, "the platform's change log could not be read")
	}
	return n > 0, nil
}

// Watch streams the shop's changes after cursor to send: a message
// without a subject is a heartbeat that only moves the cursor. Each change
// sent is audited (the customer as subject) before it is sent.
func (l *Log) Watch(ctx context.Context, tenant, cursor string, send func(*crmsyncv1.WatchChangesResponse) error) error {
	return l.events.Feed(ctx, events.Subscription{Topics: []string{Topic(tenant)}, Cursor: cursor}, func(c events.Change) error {
		out := &crmsyncv1.WatchChangesResponse{}
		if c.Event != nil {
			if err := proto.Unmarshal(c.Event.Payload, out); err != nil {
				return errs.E(errs.Internal, reasons.StreamEntryInvalid, "a change log entry does not decode")
			}
			if l.audit != nil {
				ev := auditclient.New(ctx, ActionStreamed, auditclient.Success)
				ev.Subject, ev.ResourceType, ev.ResourceID = out.GetSubject(), "crm_platform_change", c.Event.ID
				if err := l.db.InTx(ctx, func(tx *sql.Tx) error { return l.audit.Enqueue(ctx, tx, ev) }); err != nil {
					return err
				}
				l.audit.Notify()
			}
		}
		out.Cursor = c.Cursor
		return send(out)
	})
}
