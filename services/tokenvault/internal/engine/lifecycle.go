package engine

import (
	"context"
	"database/sql"
	"time"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
)

// Evidence records what an erasure destroyed.
type Evidence struct {
	Subject, RequestID string
	storage.Erasure
}

// EraseSubject crypto-shreds a subject. The erasure is recorded in the audit
// log first; if that fails nothing is erased (the request can be retried).
func (e *Engine) EraseSubject(ctx context.Context, caller Caller, tenant, subject, requestID string) (Evidence, error) {
	tenant = tenantOrDefault(tenant)
	ev := auditclient.New(ctx, "tokenvault.erase", auditclient.Success)
	ev.Subject, ev.ActorSubject, ev.ResourceType, ev.ResourceID, ev.Purpose = subject, caller.EndUser, "erasure_request", requestID, "dsr_erasure"
	ev.CallerWorkload = caller.ID
	if err := e.audit.Record(ctx, ev); err != nil {
		return Evidence{}, errs.Wrap(err, errs.Unavailable, "AUDIT_UNAVAILABLE", "the audit log did not record the erasure; nothing was erased")
	}
	var er storage.Erasure
	err := e.store.DB().InTx(ctx, func(tx *sql.Tx) error {
		var err error
		er, err = e.store.EraseSubject(ctx, tx, tenant, subject, requestID, e.opts.Now().UTC(), int(tokens.FormatDeterministic))
		return err
	})
	if err != nil {
		return Evidence{}, err
	}
	// The key is gone from the database; make sure no copy stays in memory.
	e.deks.Remove(subjectKey(tenant, subject))
	return Evidence{Subject: subject, RequestID: requestID, Erasure: er}, nil
}

// Exported is one value of a subject.
type Exported struct {
	storage.Token
	Value string
}

// ExportSubject decrypts every value of a subject, for access and
// portability requests. Audited synchronously before anything is returned.
func (e *Engine) ExportSubject(ctx context.Context, caller Caller, tenant, subject, requestID string) ([]Exported, error) {
	tenant = tenantOrDefault(tenant)
	rows, err := e.store.SubjectTokens(ctx, tenant, subject)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		if _, err := e.store.GetSubject(ctx, tenant, subject); err != nil {
			return nil, err
		}
	}
	dek, _, err := e.dek(ctx, tenant, subject, false)
	if err != nil {
		return nil, err
	}
	out := make([]Exported, 0, len(rows))
	for _, r := range rows {
		pt, err := open(dek, r.Ciphertext, valueAAD(r.Token, r.Tenant, r.Subject, tokens.DataType(r.DataType)))
		if err != nil {
			return nil, err
		}
		r.Ciphertext = nil
		out = append(out, Exported{Token: r, Value: string(pt)})
	}
	ev := auditclient.New(ctx, "tokenvault.export", auditclient.Success)
	ev.Subject, ev.ActorSubject, ev.ResourceType, ev.ResourceID, ev.Purpose = subject, caller.EndUser, "access_request", requestID, "dsr_access"
	ev.CallerWorkload = caller.ID
	if err := e.audit.Record(ctx, ev); err != nil {
		return nil, errs.Wrap(err, errs.Unavailable, "AUDIT_UNAVAILABLE", "the audit log did not record the export; nothing was returned")
	}
	return out, nil
}

// RotationStatus is the state of key-encryption key rotation.
type RotationStatus struct {
	KEKVersion    int
	PendingRewrap int64
}

// RotateKeys rotates the key-encryption key when rotate is set (the
// operator's Vault policy usually does this in Vault itself), wakes the
// rewrap job and reports its backlog. Audited synchronously.
func (e *Engine) RotateKeys(ctx context.Context, caller Caller, rotate bool) (RotationStatus, error) {
	if rotate {
		ev := auditclient.New(ctx, "tokenvault.rotate_keys", auditclient.Success)
		ev.ActorSubject, ev.ResourceType, ev.ResourceID, ev.CallerWorkload = caller.EndUser, "key", e.opts.KEK, caller.ID
		if err := e.audit.Record(ctx, ev); err != nil {
			return RotationStatus{}, errs.Wrap(err, errs.Unavailable, "AUDIT_UNAVAILABLE", "the audit log did not record the rotation; nothing was rotated")
		}
		if err := e.km.Rotate(ctx, e.opts.KEK); err != nil {
			return RotationStatus{}, err
		}
	}
	select {
	case e.wake <- struct{}{}:
	default:
	}
	latest, err := e.km.LatestVersion(ctx, e.opts.KEK)
	if err != nil {
		return RotationStatus{}, err
	}
	pending, err := e.store.PendingRewrap(ctx, latest)
	return RotationStatus{KEKVersion: latest, PendingRewrap: pending}, err
}

// RewrapOnce rewraps up to batch data keys still wrapped under an older KEK
// version and returns how many it moved. Values are not re-encrypted: only
// the 32-byte wrapped keys change, through the KeyManager. Progress lives in
// the database (each subject's kek_version), so the job resumes after a
// restart, and serving continues throughout: old versions still unwrap.
func (e *Engine) RewrapOnce(ctx context.Context, batch int) (int, error) {
	latest, err := e.km.LatestVersion(ctx, e.opts.KEK)
	if err != nil {
		return 0, err
	}
	subjects, err := e.store.SubjectsToRewrap(ctx, latest, batch)
	if err != nil {
		return 0, err
	}
	moved := 0
	for _, s := range subjects {
		wrapped, err := e.km.Rewrap(ctx, e.opts.KEK, s.WrappedDEK, dekAAD(s.Tenant, s.Subject, s.DEKVersion))
		if err != nil {
			return moved, err
		}
		v, err := e.km.WrappedVersion(wrapped)
		if err != nil {
			return moved, err
		}
		if err := e.store.UpdateWrappedDEK(ctx, s, s.KEKVersion, wrapped, v); err != nil {
			return moved, err
		}
		moved++
	}
	return moved, nil
}

// RunRewrap keeps data keys wrapped under the latest KEK version: it checks
// every interval (and when RotateKeys wakes it) and works through the
// backlog in batches.
func (e *Engine) RunRewrap(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := e.RewrapOnce(ctx, 100)
			if err != nil {
				if ctx.Err() == nil {
					e.logger.Warn("rewrap failed", logging.Err(err))
				}
				break
			}
			if n == 0 {
				break
			}
			e.logger.Info("rewrapped data keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-e.wake:
		}
	}
}
