package mfa

import (
	"context"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
)

// BenchmarkTOTPVerify: one check as a login makes it (an unwrap by the local
// keyring and three HMAC-SHA1 candidates).
func BenchmarkTOTPVerify(b *testing.B) {
	ctx := context.Background()
	km := newKeys(b)
	tp, err := NewTOTP(km, TOTPConfig{KeyName: testKey})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC)
	e, err := tp.Enrol(ctx, refA, "customer", now)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := tp.Verify(ctx, refA, e.WrappedSecret, "000000", 0, now); err == nil {
			b.Fatal("accepted 000000")
		}
	}
}

// BenchmarkRecoveryVerify: one check against a full set of ten codes.
func BenchmarkRecoveryVerify(b *testing.B) {
	ctx := context.Background()
	r, err := NewRecoveryCodes(newKeys(b), testKey)
	if err != nil {
		b.Fatal(err)
	}
	codes, hashes, err := r.Generate(ctx, "acc_A")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := r.Verify(ctx, "acc_A", codes[9], hashes); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWebAuthnLogin: Begin and Finish of a second-factor login (ES256).
func BenchmarkWebAuthnLogin(b *testing.B) {
	w, err := NewWebAuthn(WebAuthnConfig{RPID: testRPID, RPOrigins: []string{testOrigin}})
	if err != nil {
		b.Fatal(err)
	}
	h, _ := NewUserHandle()
	user := User{Handle: h, Label: "customer"}
	auth := virtualwebauthn.NewAuthenticator()
	vcred := newEC2Credential()
	reg, err := w.BeginRegistration(user, SecondFactor)
	if err != nil {
		b.Fatal(err)
	}
	opts, _ := virtualwebauthn.ParseAttestationOptions(string(reg.Options))
	cred, err := w.FinishRegistration(user, reg.Ceremony, []byte(virtualwebauthn.CreateAttestationResponse(rp, auth, vcred, *opts)))
	if err != nil {
		b.Fatal(err)
	}
	user.Credentials = []Credential{*cred}
	for b.Loop() {
		b.StopTimer()
		ch, err := w.BeginLogin(user)
		if err != nil {
			b.Fatal(err)
		}
		lopts, _ := virtualwebauthn.ParseAssertionOptions(string(ch.Options))
		resp := []byte(virtualwebauthn.CreateAssertionResponse(rp, auth, vcred, *lopts))
		b.StartTimer()
		if _, err := w.FinishLogin(user, ch.Ceremony, resp); err != nil {
			b.Fatal(err)
		}
	}
}
