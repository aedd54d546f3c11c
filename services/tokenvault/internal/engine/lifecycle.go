package engine

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
)

// Evidence records what an erasure destroyed, what it kept, and when the
// copies of the destroyed keys made before it stop opening (ADR 0007).
type Evidence struct {
	Subject, RequestID string
	// Erasure counts what was destroyed and kept: the data key versions,
	// the tokens whose values are now unrecoverable, the deterministic
	// tokens deleted (retired, or kept because other live subjects hold the
	// same value), and KEKVersion, the newest KEK version any copy of the
	// destroyed keys (a WAL, a replica, a backup) can be wrapped under.
	storage.Erasure
	// OldCopiesRetired is set once the KEK versions up to KEKVersion are
	// retired: no copy of the destroyed keys opens any more, anywhere.
	OldCopiesRetired bool
	// RetireDue, while they are not, is when the kek-epoch job is due to
	// start the epoch that retires them; they stop opening when that epoch
	// has rewrapped every live key (RotationStatus.MinDecryptionVersion then
	// exceeds KEKVersion). Zero when no epochs are scheduled or the key
	// backend did not answer: then nothing is promised.
	RetireDue time.Time
}

// walTruncateTimeout is Options.WALTimeout's default: how long an erasure
// waits for readers to let go of SQLite's WAL; the kek-epoch job tries
// again later.
const walTruncateTimeout = 10 * time.Second

// EraseSubject crypto-shreds a subject. The erasure is recorded in the audit
// log first; if that fails nothing is erased (the request can be retried).
// After the commit, SQLite's WAL is truncated (it holds the pages from
// before the erasure) and the kek-epoch job is woken to retire the KEK
// versions the destroyed keys were wrapped under.
func (e *Engine) EraseSubject(ctx context.Context, caller Caller, tenant, subject, requestID string) (Evidence, error) {
	return e.eraseSubject(ctx, caller, ActionErase, tenant, subject, requestID)
}

// eraseSubject is EraseSubject, recorded as action.
func (e *Engine) eraseSubject(ctx context.Context, caller Caller, action auditclient.Action, tenant, subject, requestID string) (Evidence, error) {
	tenant, err := e.tenant(tenant)
	if err != nil {
		return Evidence{}, err
	}
	// An unknown subject is answered before anything is audited as done.
	if _, err := e.store.GetSubject(ctx, tenant, subject); err != nil {
		return Evidence{}, err
	}
	ev := caller.event(ctx, action, auditclient.Success)
	ev.Subject, ev.ResourceType, ev.ResourceID, ev.Purpose = subject, ResourceErasureRequest, requestID, auditclient.PurposeDSRErasure
	if err := e.audit.Record(ctx, ev); err != nil {
		return Evidence{}, errs.Wrap(err, errs.Unavailable, reasons.AuditUnavailable, "the audit log did not record the erasure; nothing was erased")
	}
	// Any KEK version up to the latest may have wrapped a copy of one of the
	// subject's data keys (versions deleted after re-encryption included):
	// the evidence promises retirement only once the latest is retired.
	latestKEK, err := e.km.LatestVersion(ctx, e.opts.KEK)
	if err != nil {
		e.recordFailure(ctx, ev, err)
		return Evidence{}, errs.Wrap(err, errs.Unavailable, reasons.KeyUnavailable, "the key service did not answer; nothing was erased")
	}
	var er storage.Erasure
	err = e.store.DB().InTx(ctx, func(tx *sql.Tx) error {
		var err error
		er, err = e.store.EraseSubject(ctx, tx, tenant, subject, requestID, e.opts.Now().UTC(), int(tokens.FormatDeterministic), latestKEK)
		return err
	})
	// Whatever happened in the database, this process drops the keys it
	// holds; only a committed erasure leaves a tombstone.
	e.dropKeys(tenant, subject)
	if err != nil {
		e.recordFailure(ctx, ev, err)
		return Evidence{}, err
	}
	e.erased.Add(tenant+"\x00"+subject, struct{}{})
	e.dropKeys(tenant, subject) // an unwrap in flight during the erasure may have re-added one
	// The erasure is committed: what follows must happen even if the caller
	// has gone.
	bg := context.WithoutCancel(ctx)
	if !er.AlreadyErased {
		e.truncateWAL(bg)
		e.pokeEpoch()
	}
	out := Evidence{Subject: subject, RequestID: requestID, Erasure: er}
	out.RetireDue, out.OldCopiesRetired = e.retireDue(bg, er.KEKVersion, er.Erased)
	return out, nil
}

// truncateWAL empties SQLite's WAL after an erasure or a rectification
// committed (it holds the page images from before it), detached from the
// caller and bounded by Options.WALTimeout; when readers hold the log too
// long, the kek-epoch job finishes the scrub (retryWAL).
func (e *Engine) truncateWAL(ctx context.Context) {
	if err := e.wal.Scrub(ctx); err != nil {
		e.logger.Warn("the WAL still holds pages from before an erasure; retrying in the background", "component", JobKEKEpoch, logging.Err(err))
	}
}

// retryWAL finishes a scrub truncateWAL could not (the kek-epoch job calls
// it on every run).
func (e *Engine) retryWAL(ctx context.Context) {
	if err := e.wal.Retry(ctx); err != nil {
		e.logger.Warn("the WAL still holds pages from before an erasure; retrying in the background", "component", JobKEKEpoch, logging.Err(err))
	}
}

// Exported is one value of a subject.
type Exported struct {
	storage.Token
	Value string
}

// ExportSubject decrypts a page of a subject's values (limit, after the
// token after; "" starts), for access and portability requests, and returns
// the token to continue after ("" on the last page), which the server hands
// out only inside a page token (PageTokens). Each page is audited
// synchronously before anything is returned.
func (e *Engine) ExportSubject(ctx context.Context, caller Caller, tenant, subject, requestID, after string, limit int) ([]Exported, string, error) {
	return e.exportSubject(ctx, caller, ActionExport, tenant, subject, requestID, after, limit)
}

// exportSubject is ExportSubject, recorded as action.
func (e *Engine) exportSubject(ctx context.Context, caller Caller, action auditclient.Action, tenant, subject, requestID, after string, limit int) ([]Exported, string, error) {
	tenant, err := e.tenant(tenant)
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		limit = 500
	}
	rows, err := e.store.SubjectTokensPage(ctx, tenant, subject, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[limit-1].Token
	}
	if len(rows) == 0 {
		if _, err := e.store.GetSubject(ctx, tenant, subject); err != nil {
			return nil, "", err
		}
	}
	out := make([]Exported, 0, len(rows))
	for _, r := range rows {
		if r.SubjectErased {
			return nil, "", errs.E(errs.FailedPrecondition, reasons.SubjectErased, "the subject was erased")
		}
		dek, _, err := e.dek(ctx, tenant, subject, r.DEKVersion, false)
		if err != nil {
			return nil, "", err
		}
		pt, err := open(dek, r.Ciphertext, valueAAD(r.Token, r.Tenant, r.Subject, tokens.DataType(r.DataType)))
		if err != nil {
			return nil, "", err
		}
		r.Ciphertext = nil
		out = append(out, Exported{Token: r, Value: string(pt)})
	}
	ev := caller.event(ctx, action, auditclient.Success)
	ev.Subject, ev.ResourceType, ev.ResourceID, ev.Purpose = subject, ResourceAccessRequest, requestID, auditclient.PurposeDSRAccess
	if err := e.audit.Record(ctx, ev); err != nil {
		return nil, "", errs.Wrap(err, errs.Unavailable, reasons.AuditUnavailable, "the audit log did not record the export; nothing was returned")
	}
	return out, next, nil
}

// PageTokens returns the codec of the tenant's ExportSubject page tokens.
//
// Its key must be the same on every replica and survive restarts and KEK
// rotation, or a client paging through an export loses its place, so it is
// derived (HKDF, with its own label) from the tenant key: the key every
// replica already unwraps from the tenants table for deterministic tokens,
// whose plaintext stays the same when the KEK rotates (the rewrap job and
// the KEK epochs change only its wrapping) and which no erasure destroys.
// The KEK itself never leaves the key backend, and a key drawn per process
// would break paging across replicas. Deriving per tenant, rather than
// storing one more service-wide key, needs no table, rewrap or epoch
// handling of its own, and a token issued for one tenant does not verify
// under another's key.
func (e *Engine) PageTokens(ctx context.Context, tenant string) (*pagetoken.Codec, error) {
	tenant, err := e.tenant(tenant)
	if err != nil {
		return nil, err
	}
	tk, err := e.tenantKey(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return pagetoken.New(derive(tk, "sotto/tokenvault/page-token/v1"), pagetoken.WithClock(e.opts.Now))
}

// RotationStatus is the state of key rotation.
type RotationStatus struct {
	KEKVersion int
	// MinDecryptionVersion is the oldest KEK version that still opens: the
	// versions below it were retired, and copies of keys wrapped under them
	// (Evidence.KEKVersion) open nowhere.
	MinDecryptionVersion int
	// PendingRewrap counts data keys still wrapped under an older KEK version.
	PendingRewrap int64
	// PendingReencrypt counts values still sealed with a retired data key.
	PendingReencrypt int64
}

// RotateKeys rotates the key-encryption key when rotate is set (starting a
// KEK epoch early), wakes the rewrap and kek-epoch jobs (which retire the
// older versions once every key is rewrapped) and reports the backlog.
// Audited synchronously.
func (e *Engine) RotateKeys(ctx context.Context, caller Caller, rotate bool) (RotationStatus, error) {
	if rotate {
		ev := caller.event(ctx, ActionRotateKeys, auditclient.Success)
		ev.ResourceType, ev.ResourceID = ResourceKey, e.opts.KEK
		if err := e.audit.Record(ctx, ev); err != nil {
			return RotationStatus{}, errs.Wrap(err, errs.Unavailable, reasons.AuditUnavailable, "the audit log did not record the rotation; nothing was rotated")
		}
		if err := e.km.Rotate(ctx, e.opts.KEK); err != nil {
			e.recordFailure(ctx, ev, err)
			return RotationStatus{}, err
		}
	}
	e.poke()
	e.pokeEpoch()
	return e.status(ctx)
}

// RotateSubjectKey gives a subject a new data key: new values use it at
// once, and the re-encryption job moves the old values, then destroys the
// old key. Audited synchronously.
func (e *Engine) RotateSubjectKey(ctx context.Context, caller Caller, tenant, subject string) (RotationStatus, error) {
	tenant, err := e.tenant(tenant)
	if err != nil {
		return RotationStatus{}, err
	}
	rec, err := e.store.GetSubject(ctx, tenant, subject)
	if err != nil {
		return RotationStatus{}, err
	}
	if !rec.Erased.IsZero() {
		return RotationStatus{}, errs.E(errs.FailedPrecondition, reasons.SubjectErased, "the subject was erased")
	}
	ev := caller.event(ctx, ActionRotateSubjectKey, auditclient.Success)
	ev.Subject, ev.ResourceType, ev.ResourceID = subject, ResourceDataKey, "v"+itoa(rec.CurrentVersion+1)
	if err := e.audit.Record(ctx, ev); err != nil {
		return RotationStatus{}, errs.Wrap(err, errs.Unavailable, reasons.AuditUnavailable, "the audit log did not record the rotation; nothing was rotated")
	}
	sk, _, err := e.newDEK(ctx, tenant, subject, rec.CurrentVersion+1)
	if err != nil {
		e.recordFailure(ctx, ev, err)
		return RotationStatus{}, err
	}
	if err := e.store.AddSubjectKey(ctx, sk, rec.CurrentVersion, e.opts.Now()); err != nil {
		e.recordFailure(ctx, ev, err)
		return RotationStatus{}, err
	}
	e.deks.Remove(subjectKey(tenant, subject, 0)) // the current version moved
	e.poke()
	return e.status(ctx)
}

// recordFailure follows an intent recorded synchronously (outcome success)
// with the real outcome when the operation then failed, through the outbox
// so that it survives an audit outage.
func (e *Engine) recordFailure(ctx context.Context, intent auditclient.Event, cause error) {
	ev := auditclient.New(ctx, auditclient.Action(intent.Action), auditclient.Failure)
	ev.Subject, ev.ActorSubject, ev.ResourceType, ev.ResourceID, ev.Purpose, ev.CallerWorkload =
		intent.Subject, intent.ActorSubject, intent.ResourceType, intent.ResourceID, intent.Purpose, intent.CallerWorkload
	ev.Reason = errs.ReasonOf(cause)
	if ev.Reason == "" {
		ev.Reason = reasons.Internal
	}
	// The operation may have failed because ctx was cancelled; the record of
	// that must still be written.
	bg := context.WithoutCancel(ctx)
	err := e.store.DB().InTx(bg, func(tx *sql.Tx) error { return e.outbox.Enqueue(bg, tx, ev) })
	if err != nil && e.logger != nil {
		e.logger.Error("cannot record a failed operation in the audit outbox", "event_id", ev.ID, logging.Err(err))
	}
	e.outbox.Notify()
}

// poke wakes the rewrap and re-encryption jobs (ScheduleJobs); without
// them it does nothing.
func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *Engine) status(ctx context.Context) (RotationStatus, error) {
	v, err := e.km.Describe(ctx, e.opts.KEK)
	if err != nil {
		return RotationStatus{}, err
	}
	latest := v.Latest
	st := RotationStatus{KEKVersion: latest, MinDecryptionVersion: v.MinDecryption}
	if st.PendingRewrap, err = e.store.PendingRewrap(ctx, latest); err != nil {
		return st, err
	}
	st.PendingReencrypt, err = e.store.PendingReencrypt(ctx)
	return st, err
}

// RewrapOnce rewraps up to batch data keys (and tenant keys) still wrapped
// under an older KEK version and returns how many it moved. Values are not re-encrypted: only
// the 32-byte wrapped keys change, through the KeyManager. Progress lives in
// the database (each key's kek_version), so the job resumes after a restart,
// and serving continues throughout: old versions still unwrap.
func (e *Engine) RewrapOnce(ctx context.Context, batch int) (int, error) {
	latest, err := e.km.LatestVersion(ctx, e.opts.KEK)
	if err != nil {
		return 0, err
	}
	keys, err := e.store.KeysToRewrap(ctx, latest, batch)
	if err != nil {
		return 0, err
	}
	moved := 0
	tenants, err := e.store.TenantsToRewrap(ctx, latest, batch)
	if err != nil {
		return 0, err
	}
	var tenantErr error
	for _, t := range tenants {
		err := func() error {
			wrapped, err := e.km.Rewrap(ctx, e.opts.KEK, t.WrappedKey, tenantAAD(t.Tenant))
			if err != nil {
				return err
			}
			v, err := e.km.WrappedVersion(wrapped)
			if err != nil {
				return err
			}
			return e.store.UpdateTenantWrapped(ctx, t, wrapped, v)
		}()
		if err != nil {
			tenantErr = cmpErr(tenantErr, err) // one bad tenant must not block the rest
			continue
		}
		moved++
	}
	firstErr := tenantErr
	for _, k := range keys {
		err := func() error {
			wrapped, err := e.km.Rewrap(ctx, e.opts.KEK, k.Wrapped, dekAAD(k.Tenant, k.Subject, k.Version))
			if err != nil {
				return err
			}
			v, err := e.km.WrappedVersion(wrapped)
			if err != nil {
				return err
			}
			return e.store.UpdateWrapped(ctx, k, wrapped, v)
		}()
		if err != nil {
			// One bad key must not stop the others: note it and go on.
			firstErr = cmpErr(firstErr, err)
			continue
		}
		moved++
	}
	return moved, firstErr
}

// ReencryptOnce re-seals up to batch values still sealed with a retired data
// key version under their subject's current key, then destroys retired key
// versions no value uses any more. Returns how many values it moved.
func (e *Engine) ReencryptOnce(ctx context.Context, batch int) (int, error) {
	rows, err := e.store.TokensToReencrypt(ctx, batch)
	if err != nil {
		return 0, err
	}
	moved := 0
	var firstErr error
	for _, r := range rows {
		err := func() error {
			t := tokens.DataType(r.DataType)
			old, _, err := e.dek(ctx, r.Tenant, r.Subject, r.DEKVersion, false)
			if err != nil {
				return err
			}
			pt, err := open(old, r.Ciphertext, valueAAD(r.Token.Token, r.Tenant, r.Subject, t))
			if err != nil {
				return err
			}
			defer clear(pt)
			// The version the database says is current, never a cached idea
			// of "current": Reseal re-checks it under the subject's lock.
			cur, _, err := e.dek(ctx, r.Tenant, r.Subject, r.CurrentVersion, false)
			if err != nil {
				return err
			}
			ct, err := seal(cur, pt, valueAAD(r.Token.Token, r.Tenant, r.Subject, t))
			if err != nil {
				return errs.Wrap(err, errs.Internal, reasons.EncryptFailed, "cannot encrypt value")
			}
			return e.store.Reseal(ctx, r.Token, ct, r.CurrentVersion)
		}()
		if errors.Is(err, storage.ErrSubjectChanged) {
			// Rotated again or erased meanwhile: the next pass sees the new state.
			e.deks.Remove(subjectKey(r.Tenant, r.Subject, 0))
			continue
		}
		if err != nil {
			// One unreadable value must not stop the others; its old key
			// stays until it is fixed, so nothing is lost.
			firstErr = cmpErr(firstErr, err)
			continue
		}
		moved++
	}
	if len(rows) < batch {
		if _, err := e.store.DeleteRetiredKeys(ctx); err != nil {
			return moved, err
		}
	}
	return moved, firstErr
}

func cmpErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

// PurgeExpired deletes tokens past their TTL (values and tokens: nothing
// needs them any more) and returns how many.
func (e *Engine) PurgeExpired(ctx context.Context) (int64, error) {
	return e.store.DeleteExpired(ctx, e.opts.Now().UTC())
}

// Kinds of tokenvault's background jobs (pkg/jobs): each is its own, so one
// that fails (a key the KeyManager refuses) does not hold up the others,
// and each runs on one replica at a time.
const (
	// JobRewrap keeps data keys wrapped under the latest KEK version.
	JobRewrap = "tokenvault.rewrap"
	// JobReencrypt moves values off retired data keys, then destroys them.
	JobReencrypt = "tokenvault.reencrypt"
	// JobPurgeExpired deletes tokens past their TTL.
	JobPurgeExpired = "tokenvault.purge_expired"
)

// jobBatch is how many rows one pass of a job handles.
const jobBatch = 100

// ScheduleJobs registers tokenvault's background work on r as periodic jobs
// run every interval; a key rotation (RotateKeys, RotateSubjectKey) runs the
// rewrap and re-encryption at once, and an erasure the KEK epoch. Progress
// lives in the database, so a job interrupted by a restart resumes where it
// stopped.
func (e *Engine) ScheduleJobs(r *jobs.Runner, every time.Duration) error {
	for _, j := range []struct {
		kind string
		run  jobs.Handler
	}{
		{JobRewrap, e.untilDone(JobRewrap, e.RewrapOnce)},
		{JobReencrypt, e.untilDone(JobReencrypt, e.ReencryptOnce)},
		{JobPurgeExpired, func(ctx context.Context, _ jobs.Job) error {
			n, err := e.PurgeExpired(ctx)
			e.progressed(JobPurgeExpired, int(n))
			return err
		}},
		{JobKEKEpoch, func(ctx context.Context, _ jobs.Job) error {
			e.retryWAL(ctx)
			_, err := e.KEKEpochOnce(ctx)
			return err
		}},
	} {
		// A failed occurrence is retried twice; after that the next one
		// (which sees the same work) takes over.
		if err := r.Periodic(j.kind, every, j.run, jobs.Options{MaxAttempts: 3}); err != nil {
			return err
		}
	}
	if err := r.TriggerOn(e.wake, JobRewrap, JobReencrypt); err != nil {
		return err
	}
	if err := r.TriggerOn(e.epochWake, JobKEKEpoch); err != nil {
		return err
	}
	e.epochs.Store(true)
	return nil
}

// untilDone makes a job of a batch pass: it runs passes until one moves
// nothing. A row that fails does not stop the others; the job fails with
// the first such error once the backlog is worked through, so that the
// failure is counted and the row retried.
func (e *Engine) untilDone(kind string, pass func(context.Context, int) (int, error)) jobs.Handler {
	return func(ctx context.Context, _ jobs.Job) error {
		var firstErr error
		for ctx.Err() == nil {
			n, err := pass(ctx, jobBatch)
			firstErr = cmpErr(firstErr, err)
			if n == 0 {
				break
			}
			e.progressed(kind, n)
		}
		return cmpErr(firstErr, ctx.Err())
	}
}

func (e *Engine) progressed(kind string, n int) {
	if n > 0 && e.logger != nil {
		e.logger.Info("background job progressed", "component", kind, "count", n)
	}
}

// RunCacheSweep drops expired keys from this replica's in-memory caches
// every interval until ctx is done (reads skip expired keys regardless; the
// sweep keeps them from staying in memory). It is not a job: every replica
// sweeps its own memory.
func (e *Engine) RunCacheSweep(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			e.sweepCaches()
		}
	}
}

// sweepCaches drops expired keys from memory.
func (e *Engine) sweepCaches() {
	e.deks.sweep()
	e.tenants.sweep()
	e.erased.sweep()
}
