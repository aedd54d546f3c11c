package engine

import (
	"context"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
)

// KEK epochs (docs/adr/0007-erasure-epochs.md). Erasure destroys a subject's
// wrapped data keys in the live database, but copies of them taken before
// (the SQLite WAL, PostgreSQL's WAL and dead tuples, replicas, backups) stay
// wrapped under the KEK and would open with it. So the KEK lives in epochs:
// its latest version is rotated once it is KEKEpoch old (or, after an
// erasure, once it is KEKEpochMin old), every live data key is rewrapped to
// the new version, and then the versions below are retired (destroyed in the
// key backend). A copy of a data key wrapped under a retired version never
// opens again, anywhere.

// JobKEKEpoch is the periodic job that runs the epochs.
const JobKEKEpoch = "tokenvault.kek_epoch"

// EpochResult says what one epoch pass did.
type EpochResult struct {
	// Rotated is set when the pass started a new epoch.
	Rotated bool
	// RetiredBelow is the KEK version below which the pass retired every
	// version; 0 when it retired none.
	RetiredBelow int
}

// KEKEpochOnce starts a new epoch when one is due (rotating the KEK), and
// retires the KEK versions below the latest once no stored key is wrapped
// under them. It is idempotent, and safe against a concurrent operator
// rotation: it only retires below a version every stored key was seen at,
// after fencing off stores under older versions (storage.RaiseKEKFloor).
func (e *Engine) KEKEpochOnce(ctx context.Context) (EpochResult, error) {
	var res EpochResult
	v, err := e.km.Describe(ctx, e.opts.KEK)
	if err != nil {
		return res, err
	}
	owed, err := e.store.NewestErasedKEKVersion(ctx)
	if err != nil {
		return res, err
	}
	if e.epochDue(v.LatestCreated, v.Latest, owed) {
		if err := e.km.Rotate(ctx, e.opts.KEK); err != nil {
			return res, err
		}
		res.Rotated = true
		if v, err = e.km.Describe(ctx, e.opts.KEK); err != nil {
			return res, err
		}
		e.logger.Info("KEK epoch started", "component", JobKEKEpoch, "kek_version", v.Latest)
	}
	if v.MinDecryption >= v.Latest {
		return res, nil // only the latest version is left
	}
	// Rewrap, then refuse new stores under older versions, then rewrap what
	// was stored between the two (a key wrapped just before the rotation),
	// and only then check that nothing is left: from the floor on, nothing
	// can be added below it.
	if err := e.rewrapAll(ctx); err != nil {
		return res, err
	}
	if err := e.store.RaiseKEKFloor(ctx, v.Latest); err != nil {
		return res, err
	}
	if err := e.rewrapAll(ctx); err != nil {
		return res, err
	}
	pending, err := e.store.PendingRewrap(ctx, v.Latest)
	if err != nil {
		return res, err
	}
	if pending > 0 {
		// A key that does not rewrap (rewrapAll reported why): retiring
		// would make it unreadable for good, so wait.
		return res, errs.E(errs.FailedPrecondition, reasons.RewrapPending, "%d keys are still wrapped under older KEK versions", pending)
	}
	if err := e.km.Retire(ctx, e.opts.KEK, v.Latest); err != nil {
		return res, err
	}
	res.RetiredBelow = v.Latest
	e.logger.Info("KEK versions retired", "component", JobKEKEpoch, "below", v.Latest)
	return res, nil
}

// epochDue reports whether a new epoch is due, given when the latest KEK
// version was made, its number, and the newest KEK version an erased
// subject's keys were wrapped under: when the version is KEKEpoch old, or
// when an erasure's copies are under it (retiring the versions below it
// would not reach them) and it is KEKEpochMin old.
func (e *Engine) epochDue(created time.Time, latest, owed int) bool {
	age := e.opts.Now().Sub(created)
	return age >= e.opts.KEKEpoch || (owed >= latest && age >= e.opts.KEKEpochMin)
}

// rewrapAll rewraps until no key is left to move; a key that fails is
// skipped (its error returned after the others are done).
func (e *Engine) rewrapAll(ctx context.Context) error {
	var firstErr error
	for ctx.Err() == nil {
		n, err := e.RewrapOnce(ctx, jobBatch)
		firstErr = cmpErr(firstErr, err)
		if n == 0 {
			break
		}
		e.progressed(JobRewrap, n)
	}
	return cmpErr(firstErr, ctx.Err())
}

// retireDue is when the epoch that retires the KEK versions up to
// kekVersion is due to start, as the kek-epoch job decides it, and whether
// they are retired already; zero when that cannot be known (no epochs are
// scheduled, the key backend did not answer, the subject had no key).
func (e *Engine) retireDue(ctx context.Context, kekVersion int, erased time.Time) (time.Time, bool) {
	if kekVersion == 0 || !e.epochs.Load() {
		return time.Time{}, false
	}
	v, err := e.km.Describe(ctx, e.opts.KEK)
	if err != nil {
		e.logger.Warn("cannot tell when old copies of erased keys stop opening", "component", JobKEKEpoch, logging.Err(err))
		return time.Time{}, false
	}
	switch {
	case kekVersion < v.MinDecryption:
		return time.Time{}, true
	case kekVersion < v.Latest:
		// No rotation needed: the next pass retires it once all is rewrapped.
		return erased, false
	}
	due := v.LatestCreated.Add(min(e.opts.KEKEpochMin, e.opts.KEKEpoch))
	if due.Before(erased) {
		due = erased
	}
	return due, false
}

// pokeEpoch wakes the kek-epoch job (ScheduleJobs); without it it does
// nothing.
func (e *Engine) pokeEpoch() {
	select {
	case e.epochWake <- struct{}{}:
	default:
	}
}
