package mfa

import (
	"crypto/rand"
	"encoding/binary"
	"errors"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
)

// FactorRef names one factor of one account. Wrapped secrets and recovery
// code hashes are bound to it (the associated data of the wrap, the message
// of the HMAC), so a row copied to another account or factor does not open
// there.
type FactorRef struct {
	// AccountID is the account's opaque id (never an e-mail address).
	AccountID string
	// FactorID is the factor's id, unique within the account.
	FactorID string
}

// maxIDLen bounds the ids bound into associated data; the store's ids are far
// shorter, and a bound keeps a caller's bug from building huge messages.
const maxIDLen = 256

func (r FactorRef) validate() error {
	if r.AccountID == "" || r.FactorID == "" || len(r.AccountID) > maxIDLen || len(r.FactorID) > maxIDLen {
		return errs.E(errs.InvalidArgument, ReasonFactorRefInvalid, "account and factor ids are required")
	}
	return nil
}

// bindingMessage builds domain || (len, value)*: each value is length-prefixed
// so that ("ab", "c") and ("a", "bc") give different messages.
func bindingMessage(domain string, values ...string) []byte {
	msg := make([]byte, 0, len(domain)+1+len(values)*(binary.MaxVarintLen64+16))
	msg = append(msg, domain...)
	msg = append(msg, 0)
	for _, v := range values {
		msg = binary.AppendUvarint(msg, uint64(len(v)))
		msg = append(msg, v...)
	}
	return msg
}

// keyError maps a KeyManager error on stored data to what a client of the
// identity service should see. The keys package reports a value that does not
// open (tampered, another account's, retired key version) as InvalidArgument,
// which is right for its own callers but wrong here: the value came from
// identity's store, not from the client, so it is an integrity fault of the
// server (Internal), never something the client can fix. Other kinds
// (Unavailable, FailedPrecondition for a missing key) pass through unchanged;
// all of them fail the check.
func keyError(err error) error {
	if errs.KindOf(err) == errs.InvalidArgument {
		return errs.Wrap(err, errs.Internal, ReasonSecretUnreadable, "stored MFA secret cannot be read")
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	return errs.Wrap(err, errs.Unavailable, keys.ReasonBackendUnavailable, "key service unavailable")
}

// randomBytes fills n bytes from crypto/rand.
func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, errs.Wrap(err, errs.Internal, ReasonRandomFailed, "random source failed")
	}
	return b, nil
}
