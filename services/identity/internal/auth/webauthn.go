package auth

import (
	"bytes"
	"context"
	"database/sql"
	"time"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/identity/internal/mfa"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
	"github.com/sottohq/sotto/services/identity/internal/storage"
)

// Ceremony is a WebAuthn ceremony's start: its id and the options for the
// browser.
type Ceremony struct {
	ID          string
	OptionsJSON []byte
}

func (s *Service) webAuthn() (*mfa.WebAuthn, error) {
	if s.WebAuthn == nil {
		return nil, errs.E(errs.FailedPrecondition, mfa.ReasonWebAuthnConfigInvalid, "WebAuthn is not configured on this server")
	}
	return s.WebAuthn, nil
}

// webAuthnUser is the account as a WebAuthn user: its random handle, a
// label that is not personal data, and its registered credentials.
func (s *Service) webAuthnUser(ctx context.Context, a storage.Account, onlyPasskeys bool) (mfa.User, map[string]storage.Factor, error) {
	fs, err := s.Store.Factors(ctx, s.Store.DB(), a.ID, storage.FactorWebAuthn, storage.FactorActive)
	if err != nil {
		return mfa.User{}, nil, err
	}
	u := mfa.User{Handle: a.WebAuthnHandle, Label: a.Kind}
	byID := map[string]storage.Factor{}
	for _, f := range fs {
		c, err := mfa.UnmarshalCredential(f.Credential)
		if err != nil {
			return mfa.User{}, nil, err
		}
		if onlyPasskeys && c.Kind != mfa.Passkey {
			continue
		}
		u.Credentials = append(u.Credentials, c)
		byID[string(c.ID)] = f
	}
	return u, byID, nil
}

// BeginWebAuthnRegistration starts registering a passkey (a discoverable
// credential with user verification: usable as a second factor and for a
// passwordless login).
func (s *Service) BeginWebAuthnRegistration(ctx context.Context, c Caller, displayName string) (Ceremony, error) {
	wa, err := s.webAuthn()
	if err != nil {
		return Ceremony{}, err
	}
	_, a, err := s.callerAccount(ctx, c)
	if err != nil {
		return Ceremony{}, err
	}
	if err := s.canAddFactor(ctx, s.Store.DB(), c, a.ID); err != nil {
		return Ceremony{}, err
	}
	if len(a.WebAuthnHandle) == 0 {
		handle, err := mfa.NewUserHandle()
		if err != nil {
			return Ceremony{}, err
		}
		if _, err := s.Store.SetWebAuthnHandle(ctx, s.Store.DB(), a.ID, handle); err != nil {
			return Ceremony{}, err
		}
		if a, err = s.Store.Account(ctx, s.Store.DB(), a.ID); err != nil {
			return Ceremony{}, err
		}
	}
	u, _, err := s.webAuthnUser(ctx, a, false)
	if err != nil {
		return Ceremony{}, err
	}
	ch, err := wa.BeginRegistration(u, mfa.Passkey)
	if err != nil {
		return Ceremony{}, err
	}
	return s.storeCeremony(ctx, storage.Ceremony{Kind: storage.CeremonyRegistration, AccountID: a.ID, SessionID: c.SessionID,
		DisplayName: displayName}, ch)
}

func (s *Service) storeCeremony(ctx context.Context, c storage.Ceremony, ch *mfa.Challenge) (Ceremony, error) {
	id, err := newID("cer")
	if err != nil {
		return Ceremony{}, err
	}
	c.ID, c.Data, c.Expires = id, ch.Ceremony, ch.ExpiresAt
	if err := s.Store.InsertCeremony(ctx, s.Store.DB(), c); err != nil {
		return Ceremony{}, err
	}
	return Ceremony{ID: id, OptionsJSON: ch.Options}, nil
}

// takeCeremony takes a ceremony once; one begun by another session is as
// good as missing.
func (s *Service) takeCeremony(ctx context.Context, id, kind string, c *Caller) (storage.Ceremony, error) {
	cer, err := s.Store.TakeCeremony(ctx, s.Store.DB(), id, kind, s.now())
	if err != nil {
		return storage.Ceremony{}, err
	}
	mine := (c == nil && cer.SessionID == "") || (c != nil && cer.SessionID == c.SessionID && cer.AccountID == c.AccountID)
	if !mine {
		return storage.Ceremony{}, errs.E(errs.NotFound, reasons.CeremonyNotFound, "WebAuthn ceremony not found")
	}
	return cer, nil
}

// FinishWebAuthnRegistration verifies the authenticator's response and adds
// the credential; the account's first factor also yields recovery codes.
func (s *Service) FinishWebAuthnRegistration(ctx context.Context, c Caller, ceremonyID string, response []byte) (string, []string, error) {
	wa, err := s.webAuthn()
	if err != nil {
		return "", nil, err
	}
	_, a, err := s.callerAccount(ctx, c)
	if err != nil {
		return "", nil, err
	}
	cer, err := s.takeCeremony(ctx, ceremonyID, storage.CeremonyRegistration, &c)
	if err != nil {
		return "", nil, err
	}
	u, _, err := s.webAuthnUser(ctx, a, false)
	if err != nil {
		return "", nil, err
	}
	cred, err := wa.FinishRegistration(u, cer.Data, response)
	if err != nil {
		s.record(ctx, s.event(ctx, ActionMFAEnrol, auditclient.Denied, a.ID, ResourceAccount, a.ID, errs.ReasonOf(err)))
		return "", nil, err
	}
	blob, err := mfa.MarshalCredential(*cred)
	if err != nil {
		return "", nil, err
	}
	id, err := newID("fac")
	if err != nil {
		return "", nil, err
	}
	now := s.now()
	name := cer.DisplayName
	if name == "" {
		name = "passkey"
	}
	var codes []string
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		first, err := s.lockForFactors(ctx, tx, c, a.ID)
		if err != nil {
			return err
		}
		if err := s.Store.InsertFactor(ctx, tx, storage.Factor{ID: id, AccountID: a.ID, Type: storage.FactorWebAuthn,
			Status: storage.FactorActive, DisplayName: name, CredentialID: cred.ID, Credential: blob, Created: now}); err != nil {
			return err
		}
		if first {
			if codes, err = s.newRecoveryCodes(ctx, tx, a.ID); err != nil {
				return err
			}
		}
		return s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionMFAEnrol, auditclient.Success, a.ID, ResourceFactor, id, ""))
	})
	if err != nil {
		return "", nil, err
	}
	return id, codes, nil
}

// BeginWebAuthnLogin starts an assertion: a step-up of the caller's session
// (c set) or a passwordless passkey login in tenant ("" for staff).
func (s *Service) BeginWebAuthnLogin(ctx context.Context, c *Caller, tenant string, o Origin) (Ceremony, error) {
	wa, err := s.webAuthn()
	if err != nil {
		return Ceremony{}, err
	}
	if c == nil {
		if err := s.throttle(o); err != nil {
			return Ceremony{}, err
		}
		ch, err := wa.BeginPasskeyLogin()
		if err != nil {
			return Ceremony{}, err
		}
		return s.storeCeremony(ctx, storage.Ceremony{Kind: storage.CeremonyLogin, Tenant: tenant}, ch)
	}
	_, a, err := s.callerAccount(ctx, *c)
	if err != nil {
		return Ceremony{}, err
	}
	u, _, err := s.webAuthnUser(ctx, a, false)
	if err != nil {
		return Ceremony{}, err
	}
	ch, err := wa.BeginLogin(u)
	if err != nil {
		return Ceremony{}, err
	}
	return s.storeCeremony(ctx, storage.Ceremony{Kind: storage.CeremonyLogin, AccountID: a.ID, SessionID: c.SessionID}, ch)
}

// FinishWebAuthnLogin verifies an assertion: it raises the caller's session
// to aal2, or starts an aal2 session for the passkey's account. The
// credential's new signature counter is stored with a compare-and-set, so
// two parallel assertions cannot both pass the clone check.
func (s *Service) FinishWebAuthnLogin(ctx context.Context, c *Caller, ceremonyID string, response []byte, o Origin) (Tokens, error) {
	wa, err := s.webAuthn()
	if err != nil {
		return Tokens{}, err
	}
	if c == nil {
		if err := s.throttle(o); err != nil {
			return Tokens{}, err
		}
	}
	cer, err := s.takeCeremony(ctx, ceremonyID, storage.CeremonyLogin, c)
	if err != nil {
		return Tokens{}, err
	}
	now := s.now()
	if c != nil {
		_, a, err := s.callerAccount(ctx, *c)
		if err != nil {
			return Tokens{}, err
		}
		u, byID, err := s.webAuthnUser(ctx, a, false)
		if err != nil {
			return Tokens{}, err
		}
		res, err := wa.FinishLogin(u, cer.Data, response)
		if err != nil {
			s.record(ctx, s.event(ctx, ActionStepUp, auditclient.Denied, a.ID, ResourceSession, c.SessionID, errs.ReasonOf(err)))
			return Tokens{}, err
		}
		f, err := s.spendAssertion(ctx, byID, res.Credential, now)
		if err != nil {
			return Tokens{}, err
		}
		var toks Tokens
		err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
			if toks, err = s.elevate(ctx, tx, *c, a, res.Assurance, now); err != nil {
				return err
			}
			return s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionStepUp, auditclient.Success, a.ID, ResourceFactor, f.ID, ""))
		})
		return toks, err
	}
	var account storage.Account
	var byID map[string]storage.Factor
	res, err := wa.FinishPasskeyLogin(ctx, cer.Data, response, func(ctx context.Context, handle []byte) (*mfa.User, error) {
		a, err := s.Store.AccountByWebAuthnHandle(ctx, s.Store.DB(), handle)
		// An unverified account's passkey is as good as unknown (unproven).
		if errs.Is(err, errs.NotFound) || (err == nil && (a.Tenant != cer.Tenant || a.Kind != loginKind(cer.Tenant) || unproven(a))) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		u, m, err := s.webAuthnUser(ctx, a, true)
		if err != nil {
			return nil, err
		}
		account, byID = a, m
		return &u, nil
	})
	if err != nil {
		s.failed(o, "passkey")
		s.record(ctx, s.event(ctx, ActionPasskeyLogin, auditclient.Denied, account.ID, ResourceAccount, account.ID, errs.ReasonOf(err)))
		return Tokens{}, err
	}
	if _, err := s.spendAssertion(ctx, byID, res.Credential, now); err != nil {
		return Tokens{}, err
	}
	amr := append([]string(nil), res.Assurance.AMR...)
	var toks Tokens
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		var sess storage.Session
		if toks, sess, err = s.startSession(ctx, tx, account, accesstoken.AAL2, amr, o, now); err != nil {
			return err
		}
		return s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionPasskeyLogin, auditclient.Success, account.ID, ResourceSession, sess.ID, ""))
	})
	return toks, err
}

// spendAssertion stores the credential an assertion updated, only if the
// stored one is unchanged since it was read.
func (s *Service) spendAssertion(ctx context.Context, byID map[string]storage.Factor, cred mfa.Credential, now time.Time) (storage.Factor, error) {
	f, ok := byID[string(cred.ID)]
	if !ok {
		return storage.Factor{}, errs.E(errs.Unauthenticated, mfa.ReasonWebAuthnVerificationFailed, "the credential is not the account's")
	}
	blob, err := mfa.MarshalCredential(cred)
	if err != nil {
		return storage.Factor{}, err
	}
	if bytes.Equal(blob, f.Credential) {
		return f, nil
	}
	ok, err = s.Store.UpdateWebAuthnCredential(ctx, s.Store.DB(), f.ID, f.Credential, blob, now)
	if err != nil {
		return storage.Factor{}, err
	}
	if !ok {
		return storage.Factor{}, errs.E(errs.Unauthenticated, mfa.ReasonWebAuthnSignCountRegressed, "the credential was used by another request at the same time")
	}
	return f, nil
}
