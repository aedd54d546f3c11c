package delivery

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/crmsync/internal/connector"
	"github.com/sottohq/sotto/services/crmsync/internal/mapping"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
	"github.com/sottohq/sotto/services/crmsync/internal/storage"
)

// A delivery's job leads a batch: it takes its own delivery and the other
// deliveries due for the same shop and CRM (up to the connector's batch
// size, one per customer, since a CRM refuses a batch that names a record
// twice), leases them to itself for BatchLease, sends them in one request
// and finishes each on its own outcome. The others' jobs then find their
// delivery finished, or superseded by the job of its next attempt, and do
// nothing. A leader that dies leaves its lease to its own job's next run,
// which takes the same deliveries again, or to the lease's end.
const (
	// BatchLease is how long a leader holds the deliveries it took.
	BatchLease = time.Minute
	// sendTimeout bounds the CRM call well inside the lease, so no other
	// leader takes a delivery still being sent.
	sendTimeout = 40 * time.Second
)

// backoffBase is the first retry's backoff: attempt n waits
// min(ceiling, backoffBase·2ⁿ⁻¹), with equal jitter (half of it fixed, half
// random), as pkg/jobs' own.
const backoffBase = time.Second

func backoff(attempt int, ceiling time.Duration) time.Duration {
	d := backoffBase << min(attempt-1, 30)
	if d <= 0 || d > ceiling {
		d = ceiling
	}
	return d/2 + time.Duration(mrand.Int64N(int64(d/2)+1))
}

var errCancelled = errors.New("cancelled")

func (s *Service) limits(d storage.Delivery) Limiter {
	if s.d.RateLimits != nil {
		if l := s.d.RateLimits(d.Tenant, d.Connector); l != nil {
			return l
		}
		return nil
	}
	if s.d.Limits == nil {
		return nil
	}
	if l := s.d.Limits(d.Tenant, d.Connector); l != nil {
		return xrate{l}
	}
	return nil
}

// xrate is a bare x/time/rate limiter as a Limiter.
type xrate struct{ l *rate.Limiter }

func (x xrate) Take(now time.Time) (time.Duration, bool) {
	if x.l.AllowN(now, 1) {
		return 0, true
	}
	return time.Duration(float64(time.Second) / float64(x.l.Limit())), false
}

// handle runs a delivery's job: the batch it leads.
func (s *Service) handle(ctx context.Context, job jobs.Job) error {
	var a jobArgs
	if err := json.Unmarshal(job.Args, &a); err != nil || a.Delivery == "" {
		return jobs.Permanent(errs.E(errs.Internal, reasons.DeliveryNotFound, "malformed delivery job"))
	}
	db := s.d.Store.DB()
	d, err := s.d.Store.Get(ctx, db, a.Delivery)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil
		}
		return err
	}
	if d.State != storage.Queued || d.JobID != job.ID {
		return nil // finished, discarded, or superseded by a later job
	}
	now := s.d.Now()
	until, mine, err := s.lease(ctx, d.ID, job.ID, now)
	if err != nil {
		return err
	}
	if !mine {
		// In another leader's batch: look again once its lease is over
		// (by then it is finished, or has a job of its own again).
		at := until.Add(time.Duration(mrand.Int64N(int64(time.Second))))
		return db.InTx(ctx, func(tx *sql.Tx) error {
			_, err := s.enqueue(ctx, tx, d.ID, "l"+strconv.FormatInt(job.ID, 10), at)
			return err
		})
	}
	// The shop's rate for this CRM counts requests (a batch is one), before
	// any value is fetched: over it, the attempt moves to when a token is
	// due, not counted as one.
	if lim := s.limits(d); lim != nil {
		if wait, ok := lim.Take(now); !ok {
			// Spread the waiting deliveries over the next interval (up
			// to twice the wait), so they do not all come back at once.
			at := now.Add(wait + time.Duration(mrand.Int64N(int64(wait)+1)))
			return db.InTx(ctx, func(tx *sql.Tx) error {
				if _, err := s.enqueue(ctx, tx, d.ID, "t"+strconv.FormatInt(job.ID, 10), at); err != nil {
					return err
				}
				return s.release(ctx, tx, d.ID, job.ID)
			})
		}
	}
	batch := []storage.Delivery{d}
	if conn, err := s.d.Connectors(d.Tenant, d.Connector); err == nil && connector.BatchSize(conn) > 1 {
		more, err := s.claim(ctx, d, job.ID, connector.BatchSize(conn)-1, now)
		if err != nil {
			return err
		}
		batch = append(batch, more...)
	}
	return s.send(ctx, job.ID, batch)
}

// lease takes delivery id for job's batch: free, expired, or already
// job's (its earlier run died). Otherwise it reports the other lease's end.
func (s *Service) lease(ctx context.Context, id string, job int64, now time.Time) (time.Time, bool, error) {
	ok, err := store.Affected(s.d.Store.DB().ExecContext(ctx, `UPDATE crm_deliveries SET lease_job = $2, lease_until = $3
		WHERE delivery_id = $1 AND state = $4 AND (lease_until < $5 OR lease_job = $2)`,
		id, job, store.Micros(now.Add(BatchLease)), storage.Queued, store.Micros(now)))
	if err != nil || ok {
		return time.Time{}, ok, err
	}
	var until int64
	if err := s.d.Store.DB().QueryRowContext(ctx, `SELECT lease_until FROM crm_deliveries WHERE delivery_id = $1`, id).Scan(&until); err != nil {
		return time.Time{}, false, err
	}
	return store.FromMicros(until), false, nil
}

// release gives a delivery's lease back (its next attempt is a job of its
// own again).
func (s *Service) release(ctx context.Context, q store.Q, id string, job int64) error {
	_, err := q.ExecContext(ctx, `UPDATE crm_deliveries SET lease_job = 0, lease_until = 0 WHERE delivery_id = $1 AND lease_job = $2`, id, job)
	return err
}

// claim leases up to n more deliveries for lead's batch: queued, due, of
// the same shop and CRM, not leased by another live leader, one per
// customer and none of lead's customer; the earliest first. Those job
// already leased (its earlier run died while sending them) are taken again
// whether due or not: their own jobs wait for the lease's end.
func (s *Service) claim(ctx context.Context, lead storage.Delivery, job int64, n int, now time.Time) ([]storage.Delivery, error) {
	db := s.d.Store.DB()
	rows, err := db.QueryContext(ctx, `SELECT delivery_id, subject FROM crm_deliveries
		WHERE tenant = $1 AND connector = $2 AND state = $3 AND ((due_time <= $4 AND lease_until < $4) OR lease_job = $5)
		AND delivery_id <> $6 ORDER BY due_time, delivery_id LIMIT $7`,
		lead.Tenant, lead.Connector, storage.Queued, store.Micros(now), job, lead.ID, 2*n)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{lead.Subject: true}
	var ids []string
	for rows.Next() {
		var id, subject string
		if err := rows.Scan(&id, &subject); err != nil {
			rows.Close()
			return nil, err
		}
		if !seen[subject] && len(ids) < n {
			seen[subject] = true
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var taken []string
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		taken = taken[:0]
		for _, id := range ids {
			// Again in the update: another leader may have taken it since.
			ok, err := store.Affected(tx.ExecContext(ctx, `UPDATE crm_deliveries SET lease_job = $2, lease_until = $3
				WHERE delivery_id = $1 AND state = $4 AND ((due_time <= $5 AND lease_until < $5) OR lease_job = $2)`,
				id, job, store.Micros(now.Add(BatchLease)), storage.Queued, store.Micros(now)))
			if err != nil {
				return err
			}
			if ok {
				taken = append(taken, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]storage.Delivery, 0, len(taken))
	for _, id := range taken {
		d, err := s.d.Store.Get(ctx, db, id)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// ready is a delivery of a batch, checked and in the forms it is sent in.
type ready struct {
	d      storage.Delivery
	record connector.Record
	sent   []sentProperty
	dek    []byte
}

// prepare checks one delivery again (restriction, consent: a purpose
// withdrawn since it was queued takes its fields out, none left cancels
// it), opens its payload and resolves its forms. errCancelled: finished.
func (s *Service) prepare(ctx context.Context, d storage.Delivery) (ready, error) {
	// A restriction placed after the delivery was queued (Restrict cancels
	// the queued ones; this closes the gap of one racing it).
	if reason, err := s.held(ctx, d); err != nil || reason != "" {
		if err != nil {
			return ready{}, err
		}
		return ready{}, s.finish(ctx, d, storage.Cancelled, d.Attempts, reason, ActionCancelled, auditclient.Success, errCancelled)
	}
	denied := map[string]bool{}
	for _, purpose := range d.Purposes {
		ok, err := s.d.Consent(ctx, d.Subject, purpose)
		if err != nil {
			return ready{}, err
		}
		if !ok {
			denied[purpose] = true
		}
	}
	// An opt-out is sent whatever its under purpose says (ADR 0015,
	// "Opt-outs first"), so its delivery is not cancelled for that alone.
	if len(denied) == len(d.Purposes) && !d.OptOut {
		return ready{}, s.finish(ctx, d, storage.Cancelled, d.Attempts, reasons.ConsentWithdrawn, ActionCancelled, auditclient.Success, errCancelled)
	}
	p, dek, err := open(ctx, s.d.Keys, s.d.QueueKey, d.ID, d.WrappedKey, d.Payload)
	if err != nil {
		return ready{}, err
	}
	var items []mapping.Item
	reason := reasons.ConsentWithdrawn
	for _, it := range p.Items {
		if denied[it.Purpose] && !it.OptOut() {
			continue
		}
		if it.StateOf != "" {
			// A consent state queued before a later change of that consent
			// is stale: the later change has its own delivery (security
			// review: a grant retried after a withdrawal re-subscribed).
			now, err := s.d.Consent(ctx, d.Subject, it.StateOf)
			if err != nil {
				clear(dek)
				return ready{}, err
			}
			if now != it.Granted {
				reason = reasons.ConsentStateStale
				continue
			}
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		clear(dek)
		return ready{}, s.finish(ctx, d, storage.Cancelled, d.Attempts, reason, ActionCancelled, auditclient.Success, errCancelled)
	}
	props, err := s.resolve(ctx, d.Tenant, items)
	if err != nil {
		clear(dek)
		return ready{}, err
	}
	// The ledger keeps what was sent, in the forms sent; a plaintext value
	// is kept as its token.
	var sent []sentProperty
	for _, it := range items {
		sp := sentProperty{Property: it.Property, Form: it.Form, Value: props[it.Property]}
		if it.Form == mapping.Plaintext {
			sp.Value, sp.Token = "", it.Value
		}
		sent = append(sent, sp)
	}
	return ready{d: d, record: connector.Record{ExternalID: p.Subject, Properties: props}, sent: sent, dek: dek}, nil
}

// held says why a delivery's customer may not be sent now: restricted, or
// being erased (an erasure's marker, ADR 0015); "" when they may.
func (s *Service) held(ctx context.Context, d storage.Delivery) (string, error) {
	var requestID string
	err := s.d.Store.DB().QueryRowContext(ctx, `SELECT request_id FROM crm_restrictions WHERE tenant = $1 AND subject = $2`,
		d.Tenant, d.Subject).Scan(&requestID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil:
		return "", err
	case strings.HasPrefix(requestID, erasureMarker):
		return reasons.SubjectErased, nil
	default:
		return reasons.SubjectRestricted, nil
	}
}

// send sends the batch and then gives back the leases of the deliveries it
// finished: an erasure waits for them (ADR 0015, "Privacy participant"), so
// one held to its end would hold the erasure up to BatchLease.
func (s *Service) send(ctx context.Context, job int64, batch []storage.Delivery) error {
	if err := s.sendBatch(ctx, job, batch); err != nil {
		return err
	}
	ids := make([]any, 0, len(batch)+2)
	ids = append(ids, job, storage.Queued)
	in := make([]string, 0, len(batch))
	for _, d := range batch {
		ids = append(ids, d.ID)
		in = append(in, "$"+strconv.Itoa(len(ids)))
	}
	_, err := s.d.Store.DB().ExecContext(ctx, `UPDATE crm_deliveries SET lease_job = 0, lease_until = 0
		WHERE lease_job = $1 AND state <> $2 AND delivery_id IN (`+strings.Join(in, ",")+`)`, ids...)
	return err
}

// sendBatch checks each delivery of the batch, sends the ones still to go
// in one request, and finishes each on its own outcome.
func (s *Service) sendBatch(ctx context.Context, job int64, batch []storage.Delivery) error {
	var go_ []ready
	defer func() {
		for _, r := range go_ {
			clear(r.dek)
		}
	}()
	for _, d := range batch {
		r, err := s.prepare(ctx, d)
		if errors.Is(err, errCancelled) {
			continue
		}
		if err != nil {
			if err := s.failed(ctx, job, d, err); err != nil {
				return err
			}
			continue
		}
		go_ = append(go_, r)
	}
	if len(go_) == 0 {
		return nil
	}
	// An erasure placed its marker, or a restriction came, while the batch
	// was prepared: those customers are dropped right before the upsert.
	// One that passed here is covered by its lease, which the erasure
	// waits out before it deletes in the CRM.
	kept := go_[:0]
	for _, r := range go_ {
		reason, err := s.held(ctx, r.d)
		if err == nil && reason != "" {
			err = s.finish(ctx, r.d, storage.Cancelled, r.d.Attempts, reason, ActionCancelled, auditclient.Success, errCancelled)
		}
		if err == nil {
			kept = append(kept, r)
			continue
		}
		clear(r.dek)
		if !errors.Is(err, errCancelled) {
			if err := s.failed(ctx, job, r.d, err); err != nil {
				return err
			}
		}
	}
	go_ = kept
	if len(go_) == 0 {
		return nil
	}
	conn, err := s.d.Connectors(go_[0].d.Tenant, go_[0].d.Connector)
	var each []error
	if err == nil {
		records := make([]connector.Record, len(go_))
		for i, r := range go_ {
			records[i] = r.record
		}
		sctx, cancel := context.WithTimeout(ctx, sendTimeout)
		var ids []string
		each, ids, err = connector.UpsertIDs(sctx, conn, records)
		cancel()
		// The CRM's own record id of each customer, which an inbound change
		// must name (ADR 0015, "Inbound"): kept before the deliveries are
		// finished, so a failure here leaves them to be sent again.
		for i, r := range go_ {
			if err == nil && each[i] == nil && ids[i] != "" {
				if err := s.d.Store.BindRecord(ctx, s.d.Store.DB(), r.d.Tenant, r.d.Connector, r.d.Subject, ids[i], s.d.Now()); err != nil {
					return err
				}
			}
		}
	}
	if err != nil {
		for _, r := range go_ {
			if err := s.failed(ctx, job, r.d, err); err != nil {
				return err
			}
		}
		return nil
	}
	var done []ready
	for i, r := range go_ {
		if each[i] == nil {
			done = append(done, r)
			continue
		}
		if err := s.failed(ctx, job, r.d, each[i]); err != nil {
			return err
		}
	}
	return s.delivered(ctx, done)
}

// delivered finishes the deliveries the CRM applied, in one transaction:
// each delivered (unless discarded meanwhile), what was sent sealed under
// its data key for the ledger, audited.
func (s *Service) delivered(ctx context.Context, done []ready) error {
	if len(done) == 0 {
		return nil
	}
	sealed := make([][]byte, len(done))
	for i, r := range done {
		var err error
		if sealed[i], err = sealSent(r.dek, r.d.ID, r.sent); err != nil {
			return err
		}
	}
	now := s.d.Now()
	err := s.d.Store.DB().InTx(ctx, func(tx *sql.Tx) error {
		for i, r := range done {
			err := s.d.Store.Finish(ctx, tx, r.d.ID, []int{storage.Queued}, storage.Delivered, r.d.Attempts+1, "", now)
			if errors.Is(err, storage.ErrNotQueued) {
				continue // discarded meanwhile: nothing more to do
			}
			if err != nil {
				return err
			}
			if err := s.d.Store.SetSent(ctx, tx, r.d.ID, r.d.WrappedKey, sealed[i]); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, r.d, ActionDelivered, auditclient.Success, ""); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if s.d.Audit != nil {
		s.d.Audit.Notify()
	}
	return nil
}

// failed records a failed attempt of a delivery of job's batch:
// dead-lettered when no retry can fix it or attempts are used up;
// otherwise a new job at the CRM's Retry-After (after a 429), or after an
// exponential backoff with jitter. The lease is given back with it.
func (s *Service) failed(ctx context.Context, job int64, d storage.Delivery, cause error) error {
	if errors.Is(cause, context.Canceled) && ctx.Err() != nil {
		return ctx.Err() // shutting down: the job runs again, the lease is its own
	}
	attempts := d.Attempts + 1
	reason := errs.ReasonOf(cause)
	if reason == "" {
		reason = jobs.ReasonHandlerFailed
	}
	s.d.Logger.LogAttrs(ctx, slog.LevelWarn, "crm delivery attempt failed", slog.String("delivery", d.ID),
		slog.String("connector", d.Connector), slog.Int("attempt", attempts), slog.String("reason", reason))
	if !errs.Is(cause, errs.Unavailable) && !errors.Is(cause, context.DeadlineExceeded) || attempts >= s.d.MaxAttempts {
		err := s.finish(ctx, d, storage.DeadLettered, attempts, reason, ActionDead, auditclient.Failure, nil)
		if errors.Is(err, errCancelled) {
			return nil
		}
		return err
	}
	wait, ok := connector.RetryAfter(cause)
	if !ok {
		wait = backoff(attempts, s.d.RetryBackoffMax)
	}
	at := s.d.Now().Add(wait)
	return s.d.Store.DB().InTx(ctx, func(tx *sql.Tx) error {
		if err := s.d.Store.Attempted(ctx, tx, d.ID, attempts, reason, s.d.Now()); err != nil {
			return err
		}
		if _, err := s.enqueue(ctx, tx, d.ID, "f"+strconv.FormatInt(job, 10)+"-"+strconv.Itoa(attempts), at); err != nil {
			return err
		}
		return s.release(ctx, tx, d.ID, job)
	})
}
