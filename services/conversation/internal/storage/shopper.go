package storage

import (
	"context"
	"database/sql"
	"time"

	"github.com/sottohq/sotto/pkg/store"
)

// ShopperEvent is one stored event of a customer's shopping history, under
// the pseudonymous shopper id (never the account id).
type ShopperEvent struct {
	// EventDigest is the keyed digest of (tenant, the shop's event id).
	EventDigest string
	// ShopperID is the keyed digest of (tenant, customer subject).
	ShopperID  string
	Kind       int32
	SKU        string
	EventTime  time.Time
	RecordTime time.Time
}

// RecordShopperEvent stores ev unless an event of that digest is stored
// already (then it returns false and changes nothing), and keeps only the
// shopper's keep most recent events (by event time).
func (s *Store) RecordShopperEvent(ctx context.Context, ev ShopperEvent, keep int) (bool, error) {
	var inserted bool
	err := s.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO shopper_events (event_digest, shopper_id, kind, sku, event_time, record_time)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_digest) DO NOTHING`,
			ev.EventDigest, ev.ShopperID, ev.Kind, ev.SKU, us(ev.EventTime), us(ev.RecordTime))
		if err != nil {
			return store.MapError(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return store.MapError(err)
		}
		if inserted = n == 1; !inserted {
			return nil
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM shopper_events WHERE shopper_id = $1 AND event_digest NOT IN (
SELECT event_digest FROM shopper_events WHERE shopper_id = $1 ORDER BY event_time DESC, event_digest DESC LIMIT `+itoa(keep)+`)`,
			ev.ShopperID)
		return store.MapError(err)
	})
	return inserted, err
}

// ShopperEvents returns up to limit of the shopper's events, newest first.
func (s *Store) ShopperEvents(ctx context.Context, q Q, shopperID string, limit int) ([]ShopperEvent, error) {
	rows, err := q.QueryContext(ctx, `SELECT event_digest, shopper_id, kind, sku, event_time, record_time FROM shopper_events
WHERE shopper_id = $1 ORDER BY event_time DESC, event_digest DESC LIMIT `+itoa(limit), shopperID)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []ShopperEvent
	for rows.Next() {
		var e ShopperEvent
		var et, rt int64
		if err := rows.Scan(&e.EventDigest, &e.ShopperID, &e.Kind, &e.SKU, &et, &rt); err != nil {
			return nil, store.MapError(err)
		}
		e.EventTime, e.RecordTime = fromUS(et), fromUS(rt)
		out = append(out, e)
	}
	return out, store.MapError(rows.Err())
}

// DeleteShopperEvents deletes all of the shopper's events and returns how
// many there were.
func (s *Store) DeleteShopperEvents(ctx context.Context, q Q, shopperID string) (int64, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM shopper_events WHERE shopper_id = $1`, shopperID)
	if err != nil {
		return 0, store.MapError(err)
	}
	n, err := res.RowsAffected()
	return n, store.MapError(err)
}

// DeleteShopperEventsBefore deletes every event recorded before cutoff and
// returns how many.
func (s *Store) DeleteShopperEventsBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM shopper_events WHERE record_time < $1`, us(cutoff))
	if err != nil {
		return 0, store.MapError(err)
	}
	n, err := res.RowsAffected()
	return n, store.MapError(err)
}
