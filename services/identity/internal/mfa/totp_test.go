package mfa

import (
	"bytes"
	"context"
	"encoding/base32"
	"fmt"
	"image/png"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/sottohq/sotto/pkg/errs"
)

var refA = FactorRef{AccountID: "acc_A", FactorID: "fac_1"}

func newTestTOTP(t *testing.T, km *countingKeys) *TOTP {
	t.Helper()
	tp, err := NewTOTP(km, TOTPConfig{KeyName: testKey})
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// codeAt is what an authenticator app shows at instant at for the secret in
// an otpauth URI (pquerna's generator, checked against oathtool and the
// RFC's vectors elsewhere).
func codeAt(t *testing.T, uri string, at time.Time) string {
	t.Helper()
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCodeCustom(key.Secret(), at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// TestTOTPRFC6238KnownAnswers runs the SHA-1 rows of RFC 6238 Appendix B
// (8 digits, ASCII seed "12345678901234567890") through Verify: the seed is
// wrapped by the KeyManager as an enrolled secret is, and only the digit
// count differs from production.
func TestTOTPRFC6238KnownAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	km := newKeys(t)
	tp := newTestTOTP(t, km)
	tp.digits = 8
	wrapped, err := tp.wrap(ctx, refA, []byte("12345678901234567890"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct {
		unix int64
		code string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		t.Run(fmt.Sprint(v.unix), func(t *testing.T) {
			now := time.Unix(v.unix, 0)
			step, err := tp.Verify(ctx, refA, wrapped, v.code, 0, now)
			if err != nil {
				t.Fatalf("Verify(%s at %d): %v", v.code, v.unix, errs.Detailed(err))
			}
			if want := v.unix / 30; step != want {
				t.Errorf("step = %d, want %d", step, want)
			}
			// One digit off is not accepted.
			wrong := []byte(v.code)
			wrong[7] = '0' + (wrong[7]-'0'+1)%10
			_, err = tp.Verify(ctx, refA, wrapped, string(wrong), 0, now)
			wantErr(t, err, errs.Unauthenticated, ReasonTOTPCodeInvalid)
		})
	}
}

func TestTOTPEnrolConfirmVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	km := newKeys(t)
	tp := newTestTOTP(t, km)
	now := time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC)

	e, err := tp.Enrol(ctx, refA, "customer", now)
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(e.URI)
	if err != nil {
		t.Fatal(err)
	}
	if key.Type() != "totp" || key.Issuer() != "Sotto" || key.AccountName() != "customer" ||
		key.Period() != 30 || key.Digits() != otp.DigitsSix || key.Algorithm() != otp.AlgorithmSHA1 {
		t.Errorf("URI %q: type %s issuer %q account %q period %d digits %v alg %v", e.URI, key.Type(), key.Issuer(), key.AccountName(), key.Period(), key.Digits(), key.Algorithm())
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key.Secret())
	if err != nil || len(secret) < 20 {
		t.Fatalf("secret is %d bytes (%v), want >= 20 (160 bits)", len(secret), err)
	}
	if bytes.Contains(e.WrappedSecret, secret) || bytes.Contains(e.WrappedSecret, []byte(key.Secret())) {
		t.Error("the wrapped secret contains the plaintext secret")
	}
	img, err := png.Decode(bytes.NewReader(e.QRCodePNG))
	if err != nil {
		t.Fatalf("QR code is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != DefaultTOTPQRSize || b.Dy() != DefaultTOTPQRSize {
		t.Errorf("QR code is %v, want %dx%d", b, DefaultTOTPQRSize, DefaultTOTPQRSize)
	}
	if want := now.Add(DefaultTOTPPendingTTL); !e.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", e.ExpiresAt, want)
	}

	// Another enrolment gets another secret.
	e2, err := tp.Enrol(ctx, FactorRef{AccountID: "acc_A", FactorID: "fac_2"}, "customer", now)
	if err != nil {
		t.Fatal(err)
	}
	if e2.URI == e.URI {
		t.Error("two enrolments share a secret")
	}

	// Confirmation with the app's first code; too late is refused.
	confirmAt := now.Add(time.Minute)
	step, err := tp.Confirm(ctx, refA, e.WrappedSecret, e.ExpiresAt, codeAt(t, e.URI, confirmAt), confirmAt)
	if err != nil {
		t.Fatalf("Confirm: %v", errs.Detailed(err))
	}
	if want := confirmAt.Unix() / 30; step != want {
		t.Errorf("Confirm step = %d, want %d", step, want)
	}
	late := e.ExpiresAt
	_, err = tp.Confirm(ctx, refA, e.WrappedSecret, e.ExpiresAt, codeAt(t, e.URI, late), late)
	wantErr(t, err, errs.FailedPrecondition, ReasonTOTPEnrolmentExpired)

	// The confirming code cannot log in afterwards; the next one can.
	_, err = tp.Verify(ctx, refA, e.WrappedSecret, codeAt(t, e.URI, confirmAt), step, confirmAt)
	wantErr(t, err, errs.Unauthenticated, ReasonTOTPCodeReplayed)
	next := confirmAt.Add(30 * time.Second)
	got, err := tp.Verify(ctx, refA, e.WrappedSecret, codeAt(t, e.URI, next), step, next)
	if err != nil || got != step+1 {
		t.Fatalf("Verify next code = %d, %v; want %d", got, err, step+1)
	}
}

// TestTOTPSkew: a code is accepted one step early or late, not two.
func TestTOTPSkew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	km := newKeys(t)
	tp := newTestTOTP(t, km)
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) // a step boundary
	e, err := tp.Enrol(ctx, refA, "customer", base)
	if err != nil {
		t.Fatal(err)
	}
	code := codeAt(t, e.URI, base.Add(15*time.Second))
	want := base.Unix() / 30
	for _, tc := range []struct {
		offset time.Duration
		ok     bool
	}{
		{-60 * time.Second, false},
		{-31 * time.Second, false},
		{-30 * time.Second, true},
		{-1 * time.Second, true},
		{0, true},
		{29 * time.Second, true},
		{30 * time.Second, true},
		{59 * time.Second, true},
		{60 * time.Second, false},
		{90 * time.Second, false},
	} {
		t.Run(tc.offset.String(), func(t *testing.T) {
			at := base.Add(tc.offset)
			step, err := tp.Verify(ctx, refA, e.WrappedSecret, code, 0, at)
			if !tc.ok {
				wantErr(t, err, errs.Unauthenticated, ReasonTOTPCodeInvalid)
				return
			}
			if err != nil || step != want {
				t.Fatalf("Verify at %v = %d, %v; want step %d", tc.offset, step, err, want)
			}
		})
	}
}

// TestTOTPReplayRefused: each time step is accepted once, including an older
// step still inside the window after a newer one was used.
func TestTOTPReplayRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	km := newKeys(t)
	tp := newTestTOTP(t, km)
	now := time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC)
	e, err := tp.Enrol(ctx, refA, "customer", now)
	if err != nil {
		t.Fatal(err)
	}
	code := codeAt(t, e.URI, now)
	step, err := tp.Verify(ctx, refA, e.WrappedSecret, code, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tp.Verify(ctx, refA, e.WrappedSecret, code, step, now.Add(10*time.Second))
	wantErr(t, err, errs.Unauthenticated, ReasonTOTPCodeReplayed)

	prev := codeAt(t, e.URI, now.Add(-30*time.Second))
	_, err = tp.Verify(ctx, refA, e.WrappedSecret, prev, step, now)
	wantErr(t, err, errs.Unauthenticated, ReasonTOTPCodeReplayed)

	// A code the window accepts but that is newer than the last use is fine.
	ahead := codeAt(t, e.URI, now.Add(30*time.Second))
	got, err := tp.Verify(ctx, refA, e.WrappedSecret, ahead, step, now)
	if err != nil || got != step+1 {
		t.Fatalf("Verify(next step) = %d, %v; want %d", got, err, step+1)
	}
}

// TestTOTPSecretBoundToAccountAndFactor: a wrapped secret moved to another
// account's or factor's row does not open there.
func TestTOTPSecretBoundToAccountAndFactor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	km := newKeys(t)
	tp := newTestTOTP(t, km)
	now := time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC)
	e, err := tp.Enrol(ctx, refA, "customer", now)
	if err != nil {
		t.Fatal(err)
	}
	code := codeAt(t, e.URI, now)
	for _, other := range []FactorRef{
		{AccountID: "acc_B", FactorID: "fac_1"},
		{AccountID: "acc_A", FactorID: "fac_2"},
		// Length prefixes keep the concatenation unambiguous.
		{AccountID: "acc_Af", FactorID: "ac_1"},
	} {
		_, err := tp.Verify(ctx, other, e.WrappedSecret, code, 0, now)
		wantErr(t, err, errs.Internal, ReasonSecretUnreadable)
	}
	tampered := bytes.Clone(e.WrappedSecret)
	tampered[len(tampered)-3] ^= 1
	_, err = tp.Verify(ctx, refA, tampered, code, 0, now)
	wantErr(t, err, errs.Internal, ReasonSecretUnreadable)
	_, err = tp.Verify(ctx, refA, nil, code, 0, now)
	wantErr(t, err, errs.Internal, ReasonSecretUnreadable)

	if _, err := tp.Verify(ctx, refA, e.WrappedSecret, code, 0, now); err != nil {
		t.Fatalf("the right account is refused: %v", errs.Detailed(err))
	}
}

func TestTOTPMalformedCodeRefusedBeforeUnwrap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	km := newKeys(t)
	tp := newTestTOTP(t, km)
	now := time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC)
	e, err := tp.Enrol(ctx, refA, "customer", now)
	if err != nil {
		t.Fatal(err)
	}
	before := km.calls.Load()
	for _, code := range []string{"", "12345", "1234567", "12a456", "12-456", "１２３４５６", "123456\n", "+12345", "0x1234", strings.Repeat("1", 1000)} {
		_, err := tp.Verify(ctx, refA, e.WrappedSecret, code, 0, now)
		wantErr(t, err, errs.InvalidArgument, ReasonTOTPCodeMalformed)
	}
	if n := km.calls.Load() - before; n != 0 {
		t.Errorf("malformed codes made %d key service calls, want 0", n)
	}
	// Spaces as apps display them are accepted.
	c := codeAt(t, e.URI, now)
	if _, err := tp.Verify(ctx, refA, e.WrappedSecret, c[:3]+" "+c[3:], 0, now); err != nil {
		t.Errorf("code with a space: %v", err)
	}
	_, err = tp.Verify(ctx, FactorRef{AccountID: "acc_A"}, e.WrappedSecret, c, 0, now)
	wantErr(t, err, errs.InvalidArgument, ReasonFactorRefInvalid)
}

func TestTOTPLabelIsNotPersonalData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tp := newTestTOTP(t, newKeys(t))
	now := time.Now()
	for _, label := range []string{"", "jane@example.com", "Sotto:admin", " padded", "tab\tlabel", strings.Repeat("x", 65), "bad\xffutf8"} {
		_, err := tp.Enrol(ctx, refA, label, now)
		wantErr(t, err, errs.InvalidArgument, ReasonTOTPLabelInvalid)
	}
	for _, label := range []string{"customer", "support agent", "Kundenkonto ä"} {
		if _, err := tp.Enrol(ctx, refA, label, now); err != nil {
			t.Errorf("label %q: %v", label, err)
		}
	}
	if _, err := NewTOTP(newKeys(t), TOTPConfig{KeyName: testKey, Issuer: "a@b"}); err == nil {
		t.Error("an issuer with '@' was accepted")
	}
	if _, err := NewTOTP(nil, TOTPConfig{KeyName: testKey}); err == nil {
		t.Error("a nil key manager was accepted")
	}
}

// TestTOTPEnrolmentDoesNotPrintTheSecret: logs and %v of an enrolment leave
// the URI and QR code out.
func TestTOTPEnrolmentDoesNotPrintTheSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tp := newTestTOTP(t, newKeys(t))
	e, err := tp.Enrol(ctx, refA, "customer", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(e.URI)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("enrolled", "enrolment", e, "value", *e)
	for _, s := range []string{
		fmt.Sprint(e), fmt.Sprintf("%v", *e), fmt.Sprintf("%+v", e), fmt.Sprintf("%+v", *e), fmt.Sprintf("%#v", e), fmt.Sprintf("%#v", *e),
		logged.String(),
	} {
		if strings.Contains(s, key.Secret()) || strings.Contains(s, "otpauth") {
			t.Errorf("printed enrolment contains the secret: %s", s)
		}
	}
}
