package mfa

import (
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/sottohq/sotto/pkg/errs"
)

// The parsers at the trust boundary: what a client types or sends. Run with
// go test -fuzz=FuzzX ./internal/mfa/; the seeds run in every go test.

func FuzzTOTPCode(f *testing.F) {
	for _, s := range []string{"123456", "123 456", "", "12345", "１２３４５６", "12345\x00", "9999999"} {
		f.Add(s)
	}
	tp := &TOTP{digits: totpDigits}
	f.Fuzz(func(t *testing.T, in string) {
		out, ok := tp.normaliseCode(in)
		if !ok {
			return
		}
		if len(out) != totpDigits || strings.Trim(string(out), "0123456789") != "" {
			t.Fatalf("normaliseCode(%q) = %q, accepted", in, out)
		}
		if strings.ReplaceAll(in, " ", "") != string(out) {
			t.Fatalf("normaliseCode(%q) = %q changed more than spaces", in, out)
		}
	})
}

func FuzzRecoveryCode(f *testing.F) {
	for _, s := range []string{"ABCD-EFGH-JKMN", "abcd efgh jkmn", "ILO0-1234-5678", "", "ABCD-EFGH-JKMU", "ÄBCD-EFGH-JKMN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		sym, ok := normaliseRecoveryCode(in)
		if !ok {
			return
		}
		if len(sym) != recoveryCodeLen || strings.Trim(string(sym), crockford) != "" {
			t.Fatalf("normaliseRecoveryCode(%q) = %q, accepted", in, sym)
		}
		// The canonical form is a fixed point: what Generate shows normalises
		// to itself.
		again, ok := normaliseRecoveryCode(formatRecoveryCode(sym))
		if !ok || string(again) != string(sym) {
			t.Fatalf("canonical form of %q does not round-trip: %q", in, again)
		}
	})
}

// FuzzWebAuthnLoginResponse: whatever a client sends as an assertion is
// refused with InvalidArgument or Unauthenticated, never a panic or Internal.
func FuzzWebAuthnLoginResponse(f *testing.F) {
	clock := &fakeClock{now: time.Now()}
	w, err := NewWebAuthn(WebAuthnConfig{RPID: testRPID, RPOrigins: []string{testOrigin}, Now: clock.Now})
	if err != nil {
		f.Fatal(err)
	}
	h, err := NewUserHandle()
	if err != nil {
		f.Fatal(err)
	}
	user := User{Handle: h, Label: "customer"}
	auth := virtualwebauthn.NewAuthenticator()
	vcred := newEC2Credential()
	reg, err := w.BeginRegistration(user, SecondFactor)
	if err != nil {
		f.Fatal(err)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(string(reg.Options))
	if err != nil {
		f.Fatal(err)
	}
	cred, err := w.FinishRegistration(user, reg.Ceremony, []byte(virtualwebauthn.CreateAttestationResponse(rp, auth, vcred, *opts)))
	if err != nil {
		f.Fatal(err)
	}
	user.Credentials = []Credential{*cred}
	login, err := w.BeginLogin(user)
	if err != nil {
		f.Fatal(err)
	}
	lopts, err := virtualwebauthn.ParseAssertionOptions(string(login.Options))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(virtualwebauthn.CreateAssertionResponse(rp, auth, vcred, *lopts)))
	f.Add([]byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, resp []byte) {
		_, err := w.FinishLogin(user, login.Ceremony, resp)
		if err == nil {
			return // the genuine seed
		}
		if k := errs.KindOf(err); k != errs.InvalidArgument && k != errs.Unauthenticated {
			t.Fatalf("FinishLogin(%q) = %v (%s)", resp, err, k)
		}
	})
}
