package mfa

import (
	"context"
	"crypto/subtle"
	"strings"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
)

// Recovery code shape: RecoveryCodeCount codes of 12 Crockford base32
// symbols (60 bits each), shown as XXXX-XXXX-XXXX.
const (
	RecoveryCodeCount = 10
	recoveryCodeLen   = 12
	recoveryGroupLen  = 4
	// maxRecoveryInput bounds what is normalised: a code with generous
	// separators fits many times over.
	maxRecoveryInput = 64
)

// crockford is Crockford's base32 alphabet: no I, L, O or U, so a code read
// aloud or copied by hand has no look-alike pairs.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// RecoveryHash is the stored form of one recovery code.
type RecoveryHash struct {
	// KeyVersion is the version of the HMAC key that made MAC.
	KeyVersion int
	// MAC is HMAC-SHA256 of the code, bound to the account (see
	// RecoveryCodes).
	MAC []byte
	// Used marks a code already spent; it never matches again.
	Used bool
}

// RecoveryCodes issues and checks single-use recovery codes.
//
// Hashing: a code is stored as an HMAC-SHA256 under a KeyManager key (with
// Vault, the key never leaves it), over a domain tag, the account id and the
// normalised code. A slow password hash (argon2id) is not needed because a
// code is random with 60 bits of entropy, not chosen by a person; but a plain
// SHA-256 of 60 bits would fall to an offline search on GPUs within days
// once the table leaked, whereas the HMAC cannot be searched at all without
// the key. Binding the account id means a hash copied onto another account
// does not match there. A check costs one HMAC call per distinct key version
// in the set (normally one), whatever the number of codes.
//
// Single use: Verify returns the index of the matching unused code; the
// caller marks it used with a compare-and-set (UPDATE ... SET used = true
// WHERE id = :id AND used = false, one row affected, else refuse), so two
// parallel requests with the same code cannot both succeed. A new set
// replaces the old one entirely, in one transaction.
type RecoveryCodes struct {
	keys    keys.KeyManager
	keyName string
}

// NewRecoveryCodes returns RecoveryCodes that MAC under keyName in km (any key
// type: each has an HMAC secret of its own per version).
func NewRecoveryCodes(km keys.KeyManager, keyName string) (*RecoveryCodes, error) {
	if km == nil || keyName == "" {
		return nil, errs.E(errs.InvalidArgument, ReasonKeyManagerRequired, "a key manager and key name are required")
	}
	return &RecoveryCodes{keys: km, keyName: keyName}, nil
}

// Generate makes a new set of RecoveryCodeCount codes for the account. codes
// are shown to the user once and never stored; hashes are what the caller
// stores, in the same order.
func (r *RecoveryCodes) Generate(ctx context.Context, accountID string) (codes []string, hashes []RecoveryHash, err error) {
	if accountID == "" || len(accountID) > maxIDLen {
		return nil, nil, errs.E(errs.InvalidArgument, ReasonFactorRefInvalid, "an account id is required")
	}
	version, err := r.keys.LatestVersion(ctx, r.keyName)
	if err != nil {
		return nil, nil, keyError(err)
	}
	codes = make([]string, RecoveryCodeCount)
	hashes = make([]RecoveryHash, RecoveryCodeCount)
	for i := range codes {
		raw, err := randomBytes(recoveryCodeLen)
		if err != nil {
			return nil, nil, err
		}
		// Each byte contributes its low 5 bits: 256 is a multiple of 32,
		// so every symbol is uniform.
		sym := make([]byte, recoveryCodeLen)
		for j, b := range raw {
			sym[j] = crockford[b&31]
		}
		mac, err := r.keys.HMAC(ctx, r.keyName, version, recoveryMessage(accountID, sym))
		if err != nil {
			return nil, nil, keyError(err)
		}
		codes[i] = formatRecoveryCode(sym)
		hashes[i] = RecoveryHash{KeyVersion: version, MAC: mac}
	}
	return codes, hashes, nil
}

// Verify finds code among the account's hashes and returns the index of the
// unused one it matches. Input is normalised (case, dashes, spaces, and
// Crockford's I/L→1, O→0); anything else than 12 base32 symbols is
// InvalidArgument RECOVERY_CODE_MALFORMED. No match, or a match on a used
// code, is Unauthenticated RECOVERY_CODE_INVALID. Every hash is compared in
// constant time, without stopping at a match.
func (r *RecoveryCodes) Verify(ctx context.Context, accountID, code string, hashes []RecoveryHash) (int, error) {
	if accountID == "" || len(accountID) > maxIDLen {
		return 0, errs.E(errs.InvalidArgument, ReasonFactorRefInvalid, "an account id is required")
	}
	sym, ok := normaliseRecoveryCode(code)
	if !ok {
		return 0, errs.E(errs.InvalidArgument, ReasonRecoveryCodeMalformed, "a recovery code is 12 letters and digits, as XXXX-XXXX-XXXX")
	}
	msg := recoveryMessage(accountID, sym)
	macs := map[int][]byte{}
	for _, h := range hashes {
		if _, done := macs[h.KeyVersion]; done || h.Used {
			continue
		}
		mac, err := r.keys.HMAC(ctx, r.keyName, h.KeyVersion, msg)
		if err != nil {
			return 0, keyError(err)
		}
		macs[h.KeyVersion] = mac
	}
	found := -1
	for i, h := range hashes {
		mac := macs[h.KeyVersion]
		eq := subtle.ConstantTimeCompare(mac, h.MAC) & subtle.ConstantTimeEq(boolInt(h.Used), 0)
		// Keep the first match without branching on secret data.
		found = subtle.ConstantTimeSelect(eq&subtle.ConstantTimeEq(int32(found), -1), i, found)
	}
	if found < 0 {
		return 0, errs.E(errs.Unauthenticated, ReasonRecoveryCodeInvalid, "the recovery code is not valid")
	}
	return found, nil
}

const recoveryDomain = "sotto.identity.mfa.recovery-code.v1"

func recoveryMessage(accountID string, sym []byte) []byte {
	return bindingMessage(recoveryDomain, accountID, string(sym))
}

func formatRecoveryCode(sym []byte) string {
	var b strings.Builder
	for i, c := range sym {
		if i > 0 && i%recoveryGroupLen == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// normaliseRecoveryCode returns the 12 canonical symbols of code, or false.
func normaliseRecoveryCode(code string) ([]byte, bool) {
	if len(code) > maxRecoveryInput {
		return nil, false
	}
	sym := make([]byte, 0, recoveryCodeLen)
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		switch c {
		case '-', ' ', '\t':
			continue
		case 'I', 'L':
			c = '1'
		case 'O':
			c = '0'
		}
		if strings.IndexByte(crockford, c) < 0 || len(sym) == recoveryCodeLen {
			return nil, false
		}
		sym = append(sym, c)
	}
	return sym, len(sym) == recoveryCodeLen
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
