package mfa

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"image/png"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
)

// TOTP parameters. SHA-1, six digits and 30 s are what every authenticator
// app implements (Google Authenticator ignores other values in the URI), and
// RFC 6238 §5.2 recommends one step of skew either way.
const (
	totpPeriod     = 30
	totpDigits     = 6
	totpSkew       = 1
	totpSecretSize = 20 // 160 bits: RFC 4226 §4 R6 and the SHA-1 block's natural key size
)

// TOTP defaults.
const (
	DefaultTOTPIssuer     = "Sotto"
	DefaultTOTPPendingTTL = 10 * time.Minute
	DefaultTOTPQRSize     = 256
)

// maxLabelLen bounds the account label shown in authenticator apps.
const maxLabelLen = 64

// TOTPConfig configures TOTP enrolment and verification.
type TOTPConfig struct {
	// KeyName is the KeyManager key (type aes256-gcm96) that wraps the
	// secrets; the caller ensures it exists (keys.KeyManager.EnsureKey).
	KeyName string
	// Issuer is shown in authenticator apps; DefaultTOTPIssuer when empty.
	Issuer string
	// PendingTTL is how long an enrolment waits for its first code;
	// DefaultTOTPPendingTTL when zero.
	PendingTTL time.Duration
	// QRSize is the width and height of the QR code PNG in pixels;
	// DefaultTOTPQRSize when zero.
	QRSize int
}

// TOTP enrols and verifies RFC 6238 time-based one-time codes.
//
// A secret exists in plaintext only inside this type's methods: enrolment
// returns it wrapped by the KeyManager (plus the otpauth URI and QR code the
// user scans once), and verification unwraps it for the comparison. The wrap
// binds the account and factor ids as associated data, so a wrapped secret
// moved to another account's row does not open there.
//
// Verification accepts each time step at most once: the caller passes the
// last step it accepted and stores the returned one. The store MUST do that
// as a compare-and-set (UPDATE ... SET last_used_step = :new WHERE id = :id
// AND last_used_step = :old, one row affected, else retry or refuse), so two
// parallel requests with the same code, or parallel guesses, cannot both be
// accepted. Guessing is bounded by the caller's attempt limiter: one guess
// succeeds with probability 3/10^6 (three steps in the window).
type TOTP struct {
	keys       keys.KeyManager
	keyName    string
	issuer     string
	pendingTTL time.Duration
	qrSize     int
	// digits is totpDigits in production; the RFC 6238 known-answer test
	// sets 8 to run the RFC's vectors through the same code path.
	digits int
}

// NewTOTP returns a TOTP that wraps secrets under cfg.KeyName in km.
func NewTOTP(km keys.KeyManager, cfg TOTPConfig) (*TOTP, error) {
	if km == nil || cfg.KeyName == "" {
		return nil, errs.E(errs.InvalidArgument, ReasonKeyManagerRequired, "a key manager and key name are required")
	}
	t := &TOTP{
		keys:       km,
		keyName:    cfg.KeyName,
		issuer:     cfg.Issuer,
		pendingTTL: cfg.PendingTTL,
		qrSize:     cfg.QRSize,
		digits:     totpDigits,
	}
	if t.issuer == "" {
		t.issuer = DefaultTOTPIssuer
	}
	if err := validLabel(t.issuer); err != nil {
		return nil, err
	}
	if t.pendingTTL <= 0 {
		t.pendingTTL = DefaultTOTPPendingTTL
	}
	if t.qrSize <= 0 {
		t.qrSize = DefaultTOTPQRSize
	}
	return t, nil
}

// TOTPEnrolment is a pending TOTP factor. The caller stores WrappedSecret and
// ExpiresAt as a pending factor and shows URI (or QRCodePNG) to the user
// once; URI and QRCodePNG contain the secret and are never stored or logged
// (String and LogValue leave them out).
type TOTPEnrolment struct {
	// WrappedSecret is the secret wrapped by the KeyManager, bound to the
	// account and factor: store this.
	WrappedSecret []byte
	// URI is the otpauth:// key URI for the authenticator app.
	URI string
	// QRCodePNG is URI as a QR code.
	QRCodePNG []byte
	// ExpiresAt is when the pending enrolment stops accepting its first code.
	ExpiresAt time.Time
}

func (e TOTPEnrolment) String() string {
	return fmt.Sprintf("TOTPEnrolment{expires_at: %s, secret: redacted}", e.ExpiresAt.Format(time.RFC3339))
}

// GoString keeps %#v from printing the secret.
func (e TOTPEnrolment) GoString() string { return e.String() }

// LogValue keeps slog from printing the secret.
func (e TOTPEnrolment) LogValue() slog.Value {
	return slog.GroupValue(slog.Time("expires_at", e.ExpiresAt), slog.String("secret", "redacted"))
}

// Enrol creates a pending TOTP factor for ref. label is the account name the
// authenticator app shows next to the issuer; it must not be personal data
// (no e-mail address: apps keep it unencrypted and sync it to clouds), so
// callers pass something like "customer" or a staff role.
func (t *TOTP) Enrol(ctx context.Context, ref FactorRef, label string, now time.Time) (*TOTPEnrolment, error) {
	if err := ref.validate(); err != nil {
		return nil, err
	}
	if err := validLabel(label); err != nil {
		return nil, err
	}
	secret, err := randomBytes(totpSecretSize)
	if err != nil {
		return nil, err
	}
	defer clear(secret)
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      t.issuer,
		AccountName: label,
		Period:      totpPeriod,
		Secret:      secret,
		Digits:      otp.Digits(t.digits),
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, ReasonTOTPEnrolmentFailed, "cannot create TOTP key")
	}
	img, err := key.Image(t.qrSize, t.qrSize)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, ReasonTOTPEnrolmentFailed, "cannot render QR code")
	}
	var qr bytes.Buffer
	if err := png.Encode(&qr, img); err != nil {
		return nil, errs.Wrap(err, errs.Internal, ReasonTOTPEnrolmentFailed, "cannot render QR code")
	}
	wrapped, err := t.wrap(ctx, ref, secret)
	if err != nil {
		return nil, err
	}
	return &TOTPEnrolment{
		WrappedSecret: wrapped,
		URI:           key.URL(),
		QRCodePNG:     qr.Bytes(),
		ExpiresAt:     now.Add(t.pendingTTL),
	}, nil
}

// Confirm checks the first code of a pending enrolment (made by Enrol at a
// time giving expiresAt) and returns its time step. On success the caller
// activates the factor and stores the step as its last used step, in one
// compare-and-set on the pending state, so the code cannot be used again
// and a factor is never half-enrolled.
func (t *TOTP) Confirm(ctx context.Context, ref FactorRef, wrappedSecret []byte, expiresAt time.Time, code string, now time.Time) (int64, error) {
	if !now.Before(expiresAt) {
		return 0, errs.E(errs.FailedPrecondition, ReasonTOTPEnrolmentExpired, "the TOTP enrolment expired; start again")
	}
	return t.Verify(ctx, ref, wrappedSecret, code, 0, now)
}

// Verify checks code against the secret wrapped for ref at time now, within
// one step either way, and returns the time step it matched. lastUsedStep is
// the step the factor accepted last (0 when never: step 0 is 1970, so no
// real code is refused by it); a code whose step is not after it is
// TOTP_CODE_REPLAYED. The caller stores the returned step with a
// compare-and-set on lastUsedStep (see TOTP).
//
// Input that is not six ASCII digits (spaces, as apps display "123 456",
// are ignored) is InvalidArgument TOTP_CODE_MALFORMED, refused before the
// key service is asked. A wrong code is Unauthenticated TOTP_CODE_INVALID.
func (t *TOTP) Verify(ctx context.Context, ref FactorRef, wrappedSecret []byte, code string, lastUsedStep int64, now time.Time) (int64, error) {
	if err := ref.validate(); err != nil {
		return 0, err
	}
	input, ok := t.normaliseCode(code)
	if !ok {
		return 0, errs.E(errs.InvalidArgument, ReasonTOTPCodeMalformed, "a TOTP code is %d digits", t.digits)
	}
	secret, err := t.unwrap(ctx, ref, wrappedSecret)
	if err != nil {
		return 0, err
	}
	defer clear(secret)
	return t.match(secret, input, lastUsedStep, now)
}

// match compares input with the codes of the steps around now. Every
// candidate is computed and compared (constant time, no early exit) so the
// time taken does not tell which step matched or whether one did.
func (t *TOTP) match(secret, input []byte, lastUsedStep int64, now time.Time) (int64, error) {
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	current := floorDiv(now.Unix(), totpPeriod)
	var accepted, replayed int64 = -1, -1
	for step := current - totpSkew; step <= current+totpSkew; step++ {
		if step < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(b32, uint64(step), hotp.ValidateOpts{
			Digits:    otp.Digits(t.digits),
			Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return 0, errs.Wrap(err, errs.Internal, ReasonSecretUnreadable, "stored MFA secret cannot be read")
		}
		if subtle.ConstantTimeCompare([]byte(want), input) != 1 {
			continue
		}
		// Two steps can share a code (one chance in 10^6); the newest
		// unused one wins, so a replay of an older step never hides a
		// fresh match.
		if step > lastUsedStep {
			accepted = step
		} else {
			replayed = step
		}
	}
	switch {
	case accepted >= 0:
		return accepted, nil
	case replayed >= 0:
		return 0, errs.E(errs.Unauthenticated, ReasonTOTPCodeReplayed, "this TOTP code was already used; wait for the next one")
	}
	return 0, errs.E(errs.Unauthenticated, ReasonTOTPCodeInvalid, "the TOTP code is not valid")
}

// normaliseCode strips spaces and accepts exactly t.digits ASCII digits.
func (t *TOTP) normaliseCode(code string) ([]byte, bool) {
	if len(code) > 2*t.digits {
		return nil, false
	}
	out := make([]byte, 0, t.digits)
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c == ' ':
		case c >= '0' && c <= '9':
			out = append(out, c)
		default:
			return nil, false
		}
	}
	return out, len(out) == t.digits
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

const totpAADDomain = "sotto.identity.mfa.totp-secret.v1"

func (t *TOTP) wrap(ctx context.Context, ref FactorRef, secret []byte) ([]byte, error) {
	w, err := t.keys.WrapKey(ctx, t.keyName, secret, bindingMessage(totpAADDomain, ref.AccountID, ref.FactorID))
	if err != nil {
		return nil, keyError(err)
	}
	return w, nil
}

func (t *TOTP) unwrap(ctx context.Context, ref FactorRef, wrapped []byte) ([]byte, error) {
	if len(wrapped) == 0 {
		return nil, errs.E(errs.Internal, ReasonSecretUnreadable, "stored MFA secret cannot be read")
	}
	s, err := t.keys.UnwrapKey(ctx, t.keyName, wrapped, bindingMessage(totpAADDomain, ref.AccountID, ref.FactorID))
	if err != nil {
		return nil, keyError(err)
	}
	return s, nil
}

// validLabel accepts a short printable label without ':' (the otpauth URI
// separates issuer and account with it) and without '@': an e-mail address
// in an authenticator app is personal data Sotto does not hand out.
func validLabel(label string) error {
	bad := label == "" || len(label) > maxLabelLen || !utf8.ValidString(label) ||
		strings.ContainsAny(label, ":@") || strings.TrimSpace(label) != label
	if !bad {
		for _, r := range label {
			if !unicode.IsPrint(r) {
				bad = true
				break
			}
		}
	}
	if bad {
		return errs.E(errs.InvalidArgument, ReasonTOTPLabelInvalid, "the account label must be 1-%d printable characters without ':' or '@'", maxLabelLen)
	}
	return nil
}
