package mfa

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/sottohq/sotto/pkg/errs"
)

const (
	testRPID   = "sotto.test"
	testOrigin = "https://sotto.test"
)

// rp is the relying party as the virtual browser sees it.
var rp = virtualwebauthn.RelyingParty{Name: "Sotto", ID: testRPID, Origin: testOrigin}

type webauthnFixture struct {
	w     *WebAuthn
	clock *fakeClock
}

func newWebAuthnFixture(t *testing.T) *webauthnFixture {
	t.Helper()
	clock := &fakeClock{now: time.Now()}
	w, err := NewWebAuthn(WebAuthnConfig{RPID: testRPID, RPOrigins: []string{testOrigin}, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &webauthnFixture{w: w, clock: clock}
}

func newTestUser(t *testing.T) User {
	t.Helper()
	h, err := NewUserHandle()
	if err != nil {
		t.Fatal(err)
	}
	return User{Handle: h, Label: "customer"}
}

// attest plays the browser and authenticator for a registration.
func attest(t *testing.T, ch *Challenge, party virtualwebauthn.RelyingParty, auth virtualwebauthn.Authenticator, cred virtualwebauthn.Credential) []byte {
	t.Helper()
	opts, err := virtualwebauthn.ParseAttestationOptions(string(ch.Options))
	if err != nil {
		t.Fatalf("registration options do not parse: %v", err)
	}
	return []byte(virtualwebauthn.CreateAttestationResponse(party, auth, cred, *opts))
}

// assert plays the browser and authenticator for a login.
func assert(t *testing.T, ch *Challenge, party virtualwebauthn.RelyingParty, auth virtualwebauthn.Authenticator, cred virtualwebauthn.Credential) []byte {
	t.Helper()
	opts, err := virtualwebauthn.ParseAssertionOptions(string(ch.Options))
	if err != nil {
		t.Fatalf("login options do not parse: %v", err)
	}
	return []byte(virtualwebauthn.CreateAssertionResponse(party, auth, cred, *opts))
}

// register runs a whole registration and returns the stored credential.
func (f *webauthnFixture) register(t *testing.T, user User, kind CredentialKind, auth virtualwebauthn.Authenticator, cred virtualwebauthn.Credential) Credential {
	t.Helper()
	ch, err := f.w.BeginRegistration(user, kind)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.w.FinishRegistration(user, ch.Ceremony, attest(t, ch, rp, auth, cred))
	if err != nil {
		t.Fatalf("FinishRegistration: %v", errs.Detailed(err))
	}
	return *c
}

func TestWebAuthnSecondFactorCeremony(t *testing.T) {
	t.Parallel()
	f := newWebAuthnFixture(t)
	user := newTestUser(t)
	auth := virtualwebauthn.NewAuthenticator()
	vcred := newEC2Credential()

	ch, err := f.w.BeginRegistration(user, SecondFactor)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(string(ch.Options))
	if err != nil {
		t.Fatal(err)
	}
	if opts.UserID != string(user.Handle) || opts.RelyingPartyID != testRPID || opts.UserName != "customer" {
		t.Errorf("options name user %x (%q) at RP %q, want the random handle at %q", opts.UserID, opts.UserName, opts.RelyingPartyID, testRPID)
	}
	if want := f.clock.Now().Add(DefaultCeremonyTimeout); !ch.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", ch.ExpiresAt, want)
	}
	cred, err := f.w.FinishRegistration(user, ch.Ceremony, attest(t, ch, rp, auth, vcred))
	if err != nil {
		t.Fatalf("FinishRegistration: %v", errs.Detailed(err))
	}
	if !bytes.Equal(cred.ID, vcred.ID) || !bytes.Equal(cred.AAGUID, auth.Aaguid[:]) || len(cred.PublicKey) == 0 ||
		cred.Kind != SecondFactor || cred.SignCount != 0 || cred.BackupEligible {
		t.Fatalf("credential = %+v", cred)
	}
	user.Credentials = []Credential{*cred}
	auth.AddCredential(vcred)

	// Registering the same authenticator again: it is excluded, and refused.
	again, err := f.w.BeginRegistration(user, SecondFactor)
	if err != nil {
		t.Fatal(err)
	}
	againOpts, _ := virtualwebauthn.ParseAttestationOptions(string(again.Options))
	if !vcred.IsExcludedForAttestation(*againOpts) {
		t.Error("an already registered credential is not in excludeCredentials")
	}
	_, err = f.w.FinishRegistration(user, again.Ceremony, attest(t, again, rp, auth, vcred))
	wantErr(t, err, errs.AlreadyExists, ReasonWebAuthnCredentialExists)

	// A login needs no label (none is sent to the authenticator).
	user.Label = ""
	login, err := f.w.BeginLogin(user)
	if err != nil {
		t.Fatal(err)
	}
	lopts, err := virtualwebauthn.ParseAssertionOptions(string(login.Options))
	if err != nil {
		t.Fatal(err)
	}
	if auth.FindAllowedCredential(*lopts) == nil {
		t.Fatal("the login options do not allow the registered credential")
	}
	res, err := f.w.FinishLogin(user, login.Ceremony, assert(t, login, rp, auth, vcred))
	if err != nil {
		t.Fatalf("FinishLogin: %v", errs.Detailed(err))
	}
	if !bytes.Equal(res.Credential.ID, vcred.ID) || res.Credential.Kind != SecondFactor {
		t.Errorf("login credential = %+v", res.Credential)
	}
	if res.Assurance.AAL != AAL2 || !slices.Equal(res.Assurance.AMR, []string{AMRHardwareKey, AMRUserPresence}) {
		t.Errorf("assurance = %+v, want aal2 [hwk user]", res.Assurance)
	}

	// The user's account has no credentials: nothing to log in with.
	_, err = f.w.BeginLogin(newTestUser(t))
	wantErr(t, err, errs.FailedPrecondition, ReasonWebAuthnNoCredentials)
}

func TestWebAuthnPasskeyCeremony(t *testing.T) {
	t.Parallel()
	f := newWebAuthnFixture(t)
	user := newTestUser(t)
	auth := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: user.Handle, BackupEligible: true, BackupState: true})
	vcred := newEC2Credential()
	cred := f.register(t, user, Passkey, auth, vcred)
	if cred.Kind != Passkey || !cred.BackupEligible || !cred.BackupState || !cred.UserVerified {
		t.Fatalf("passkey credential = %+v", cred)
	}
	user.Credentials = []Credential{cred}
	auth.AddCredential(vcred)

	ch, err := f.w.BeginPasskeyLogin()
	if err != nil {
		t.Fatal(err)
	}
	var wire struct {
		PublicKey struct {
			AllowCredentials []any  `json:"allowCredentials"`
			UserVerification string `json:"userVerification"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(ch.Options, &wire); err != nil {
		t.Fatal(err)
	}
	if len(wire.PublicKey.AllowCredentials) != 0 || wire.PublicKey.UserVerification != "required" {
		t.Errorf("passkey options: allowCredentials %v, userVerification %q; want none and required", wire.PublicKey.AllowCredentials, wire.PublicKey.UserVerification)
	}
	lookups := 0
	lookup := func(_ context.Context, handle []byte) (*User, error) {
		lookups++
		if bytes.Equal(handle, user.Handle) {
			return &user, nil
		}
		return nil, nil
	}
	res, err := f.w.FinishPasskeyLogin(context.Background(), ch.Ceremony, assert(t, ch, rp, auth, vcred), lookup)
	if err != nil {
		t.Fatalf("FinishPasskeyLogin: %v", errs.Detailed(err))
	}
	if !bytes.Equal(res.UserHandle, user.Handle) || lookups != 1 {
		t.Errorf("logged in as %x after %d lookups, want %x after 1", res.UserHandle, lookups, user.Handle)
	}
	if res.Assurance.AAL != AAL2 || !slices.Equal(res.Assurance.AMR, []string{AMRSoftwareKey, AMRUserPresence, AMRMultiFactor}) {
		t.Errorf("assurance = %+v, want aal2 [swk user mfa]", res.Assurance)
	}

	// An authenticator that does not verify the user cannot register a
	// passkey or log in with one.
	noUV := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: user.Handle, UserNotVerified: true})
	reg, err := f.w.BeginRegistration(user, Passkey)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.w.FinishRegistration(user, reg.Ceremony, attest(t, reg, rp, noUV, newEC2Credential()))
	wantErr(t, err, errs.Unauthenticated, ReasonWebAuthnVerificationFailed)
	noUV.AddCredential(vcred)
	ch2, err := f.w.BeginPasskeyLogin()
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.w.FinishPasskeyLogin(context.Background(), ch2.Ceremony, assert(t, ch2, rp, noUV, vcred), lookup)
	wantErr(t, err, errs.Unauthenticated, ReasonWebAuthnVerificationFailed)
}

func TestWebAuthnWrongOriginOrRPRefused(t *testing.T) {
	t.Parallel()
	f := newWebAuthnFixture(t)
	user := newTestUser(t)
	auth := virtualwebauthn.NewAuthenticator()
	vcred := newEC2Credential()
	for name, party := range map[string]virtualwebauthn.RelyingParty{
		"origin":       {Name: "Sotto", ID: testRPID, Origin: "https://evil.test"},
		"http origin":  {Name: "Sotto", ID: testRPID, Origin: "http://sotto.test"},
		"subdomain":    {Name: "Sotto", ID: testRPID, Origin: "https://login.sotto.test"},
		"rp id":        {Name: "Sotto", ID: "evil.test", Origin: testOrigin},
		"origin,rp id": {Name: "Sotto", ID: "evil.test", Origin: "https://evil.test"},
	} {
		t.Run("register/"+name, func(t *testing.T) {
			ch, err := f.w.BeginRegistration(user, SecondFactor)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.w.FinishRegistration(user, ch.Ceremony, attest(t, ch, party, auth, vcred))
			wantErr(t, err, errs.Unauthenticated, ReasonWebAuthnVerificationFailed)
		})
	}
	user.Credentials = []Credential{f.register(t, user, SecondFactor, auth, vcred)}
	auth.AddCredential(vcred)
	for name, party := range map[string]virtualwebauthn.RelyingParty{
		"origin": {Name: "Sotto", ID: testRPID, Origin: "https://evil.test"},
		"rp id":  {Name: "Sotto", ID: "evil.test", Origin: testOrigin},
	} {
		t.Run("login/"+name, func(t *testing.T) {
			ch, err := f.w.BeginLogin(user)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.w.FinishLogin(user, ch.Ceremony, assert(t, ch, party, auth, vcred))
			wantErr(t, err, errs.Unauthenticated, ReasonWebAuthnVerificationFailed)
		})
	}
}

// TestWebAuthnChallengeBinding: a response only finishes the ceremony whose
// challenge it signed; a captured assertion does not log in again.
func TestWebAuthnChallengeBinding(t *testing.T) {
	t.Parallel()
	f := newWebAuthnFixture(t)
	user := newTestUser(t)
	auth := virtualwebauthn.NewAuthenticator()
	vcred := newEC2Credential()

	first, err := f.w.BeginRegistration(user, SecondFactor)
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.w.BeginRegistration(user, SecondFactor)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.w.FinishRegistration(user, second.Ceremony, attest(t, first, rp, auth, vcred))
	wantErr(t, err, errs.Unauthenticated, ReasonWebAuthnVerificationFailed)

	user.Credentials = []Credential{f.register(t, user, SecondFactor, auth, vcred)}
	auth.AddCredential(vcred)

	login1, err := f.w.BeginLogin(user)
	if err != nil {
		t.Fatal(err)
	}
	captured := assert(t, login1, rp, auth, vcred)
	if _, err := f.w.FinishLogin(user, login1.Ceremony, captured); err != nil {
		t.Fatalf("first login: %v", errs.Detailed(err))
	}
	login2, err := f.w.BeginLogin(user)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.w.FinishLogin(user, login2.Ceremony, captured)
	wantErr(t, err, errs.Unauthenticated, ReasonWebAuthnVerificationFailed)

	// A registration response offered as a login, and a ceremony of one kind
	// finishing another, are refused.
	_, err = f.w.FinishLogin(user, login2.Ceremony, attest(t, second, rp, auth, vcred))
	wantErr(t, err, errs.InvalidArgument, ReasonWebAuthnResponseMalformed)
	reg, err := f.w.BeginRegistration(user, SecondFactor)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.w.FinishLogin(user, reg.Ceremony, assert(t, login2, rp, auth, vcred))
	wantErr(t, err, errs.InvalidArgument, ReasonWebAuthnCeremonyInvalid)
	pk, err := f.w.BeginPasskeyLogin()
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.w.FinishLogin(user, pk.Ceremony, assert(t, pk, rp, auth, vcred))
	wantErr(t, err, errs.InvalidArgument, ReasonWebAuthnCeremonyInvalid)
}

// TestWebAuthnOtherUsersCredentialRefused: a valid assertion by another
// account's credential does not log this account in, on either path.
func TestWebAuthnOtherUsersCredentialRefused(t *testing.T) {
	t.Parallel()
	f := newWebAuthnFixture(t)
	alice, bob := newTestUser(t), newTestUser(t)
	aliceAuth := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: alice.Handle})
	bobAuth := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: bob.Handle})
	aliceCred := newEC2Credential()
	bobCred := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeRSA)
	alice.Credentials = []Credential{f.register(t, alice, Passkey, aliceAuth, aliceCred)}
	bob.Credentials = []Credential{f.register(t, bob, Passkey, bobAuth, bobCred)}
	aliceAuth.AddCredential(aliceCred)
	bobAuth.AddCredential(bobCred)

	// Second factor: Alice's login, answered with Bob's key.
	ch, err := f.w.BeginLogin(alice)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.w.FinishLogin(alice, ch.Ceremony, assert(t, ch, rp, bobAuth, bobCred))
	wantErr(t, err, errs.Unauthenticated, ReasonWebAuthnVerificationFailed)
	// ... or finished as Bob's although the ceremony was Alice's.
	ch, err = f.w.BeginLogin(alice)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.w.FinishLogin(bob, ch.Ceremony, assert(t, ch, rp, bobAuth, bobCred))
	wantErr(t, err, errs.Unauthenticated, ReasonWebAuthnVerificationFailed)

	// Passkey: Bob's key claiming Alice's user handle.
	lookup := func(_ context.Context, handle []byte) (*User, error) {
		for _, u := range []*User{&alice, &bob} {
			if bytes.Equal(u.Handle, handle) {
				return u, nil
			}
		}
		return nil, nil
	}
	liar := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: alice.Handle})
	pk, err := f.w.BeginPasskeyLogin()
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.w.FinishPasskeyLogin(context.Background(), pk.Ceremony, assert(t, pk, rp, liar, bobCred), lookup)
	wantErr(t, err, errs.Unauthenticated, ReasonWebAuthnVerificationFailed)

	// An unknown user handle, and a store that cannot answer.
	stranger := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: bytes.Repeat([]byte{7}, 32)})
	pk, err = f.w.BeginPasskeyLogin()
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.w.FinishPasskeyLogin(context.Background(), pk.Ceremony, assert(t, pk, rp, stranger, bobCred), lookup)
	wantErr(t, err, errs.Unauthenticated, ReasonWebAuthnVerificationFailed)
	down := func(context.Context, []byte) (*User, error) {
		return nil, errs.E(errs.Unavailable, "STORE_UNAVAILABLE", "store unavailable")
	}
	pk, err = f.w.BeginPasskeyLogin()
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.w.FinishPasskeyLogin(context.Background(), pk.Ceremony, assert(t, pk, rp, bobAuth, bobCred), down)
	wantErr(t, err, errs.Unavailable, "STORE_UNAVAILABLE")

	// Bob's own passkey logs Bob in.
	pk, err = f.w.BeginPasskeyLogin()
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.w.FinishPasskeyLogin(context.Background(), pk.Ceremony, assert(t, pk, rp, bobAuth, bobCred), lookup)
	if err != nil || !bytes.Equal(res.UserHandle, bob.Handle) {
		t.Fatalf("Bob's passkey: %v", err)
	}
}

// TestWebAuthnSignCountRegressionRefused: a counter that does not advance
// marks a cloned authenticator; the assertion is refused.
func TestWebAuthnSignCountRegressionRefused(t *testing.T) {
	t.Parallel()
	f := newWebAuthnFixture(t)
	user := newTestUser(t)
	auth := virtualwebauthn.NewAuthenticator()
	vcred := newEC2Credential()
	vcred.Counter = 5
	cred := f.register(t, user, SecondFactor, auth, vcred)
	if cred.SignCount != 5 {
		t.Fatalf("registered sign count = %d, want 5", cred.SignCount)
	}
	user.Credentials = []Credential{cred}

	login := func(counter uint32) (*LoginResult, error) {
		ch, err := f.w.BeginLogin(user)
		if err != nil {
			t.Fatal(err)
		}
		c := vcred
		c.Counter = counter
		return f.w.FinishLogin(user, ch.Ceremony, assert(t, ch, rp, auth, c))
	}
	res, err := login(6)
	if err != nil || res.Credential.SignCount != 6 {
		t.Fatalf("counter 6 after 5: %+v, %v", res, err)
	}
	user.Credentials = []Credential{res.Credential}
	for _, counter := range []uint32{6, 3, 0} {
		_, err := login(counter)
		wantErr(t, err, errs.Unauthenticated, ReasonWebAuthnSignCountRegressed)
	}
	if res, err := login(7); err != nil || res.Credential.SignCount != 7 {
		t.Fatalf("counter 7 after 6: %+v, %v", res, err)
	}
}

func TestWebAuthnCeremonyExpiresAndMustBeIntact(t *testing.T) {
	t.Parallel()
	f := newWebAuthnFixture(t)
	user := newTestUser(t)
	auth := virtualwebauthn.NewAuthenticator()
	vcred := newEC2Credential()

	ch, err := f.w.BeginRegistration(user, SecondFactor)
	if err != nil {
		t.Fatal(err)
	}
	resp := attest(t, ch, rp, auth, vcred)
	f.clock.Advance(DefaultCeremonyTimeout)
	_, err = f.w.FinishRegistration(user, ch.Ceremony, resp)
	wantErr(t, err, errs.FailedPrecondition, ReasonWebAuthnCeremonyExpired)

	ch, err = f.w.BeginRegistration(user, SecondFactor)
	if err != nil {
		t.Fatal(err)
	}
	resp = attest(t, ch, rp, auth, vcred)
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"not json":  []byte("{"),
		"version":   bytes.Replace(ch.Ceremony, []byte(`"v":1`), []byte(`"v":2`), 1),
		"kind":      bytes.Replace(ch.Ceremony, []byte(`register-second-factor`), []byte(`login`), 1),
		"oversized": append(bytes.Clone(ch.Ceremony), bytes.Repeat([]byte(" "), maxCeremonyBytes)...),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.w.FinishRegistration(user, bad, resp)
			wantErr(t, err, errs.InvalidArgument, ReasonWebAuthnCeremonyInvalid)
		})
	}
	for _, bad := range [][]byte{nil, []byte("null"), []byte(`{"id":"x"}`), []byte(base64.StdEncoding.EncodeToString(resp))} {
		_, err := f.w.FinishRegistration(user, ch.Ceremony, bad)
		wantErr(t, err, errs.InvalidArgument, ReasonWebAuthnResponseMalformed)
	}
	// The intact ceremony still finishes.
	if _, err := f.w.FinishRegistration(user, ch.Ceremony, resp); err != nil {
		t.Fatalf("FinishRegistration: %v", errs.Detailed(err))
	}
}

func TestWebAuthnUserAndConfigValidation(t *testing.T) {
	t.Parallel()
	f := newWebAuthnFixture(t)
	h1, err := NewUserHandle()
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := NewUserHandle()
	if len(h1) != UserHandleSize || bytes.Equal(h1, h2) {
		t.Errorf("user handles %x, %x: want %d random bytes each", h1, h2, UserHandleSize)
	}
	for _, u := range []User{
		{Handle: h1, Label: "jane@example.com"},
		{Handle: h1, Label: ""},
		{Handle: []byte("acc_123"), Label: "customer"},
		{Handle: bytes.Repeat([]byte{1}, 65), Label: "customer"},
	} {
		_, err := f.w.BeginRegistration(u, SecondFactor)
		wantErr(t, err, errs.InvalidArgument, ReasonWebAuthnUserInvalid)
	}
	_, err = f.w.BeginRegistration(User{Handle: h1, Label: "customer"}, CredentialKind(9))
	wantErr(t, err, errs.InvalidArgument, ReasonWebAuthnUserInvalid)
	for _, cfg := range []WebAuthnConfig{
		{RPOrigins: []string{testOrigin}},
		{RPID: testRPID},
		{RPID: "https://sotto.test/", RPOrigins: []string{testOrigin}},
	} {
		_, err := NewWebAuthn(cfg)
		wantErr(t, err, errs.InvalidArgument, ReasonWebAuthnConfigInvalid)
	}
}

func TestWebAuthnCredentialRoundTrip(t *testing.T) {
	t.Parallel()
	f := newWebAuthnFixture(t)
	user := newTestUser(t)
	auth := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: user.Handle, BackupEligible: true})
	vcred := newEC2Credential()
	cred := f.register(t, user, Passkey, auth, vcred)
	cred.Transports = []string{"internal", "hybrid"}
	b, err := MarshalCredential(cred)
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalCredential(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, cred) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, cred)
	}
	// The decoded credential still verifies a login.
	user.Credentials = []Credential{back}
	auth.AddCredential(vcred)
	ch, err := f.w.BeginLogin(user)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.w.FinishLogin(user, ch.Ceremony, assert(t, ch, rp, auth, vcred)); err != nil {
		t.Fatalf("login with the decoded credential: %v", errs.Detailed(err))
	}
	for _, bad := range [][]byte{nil, []byte("{}"), bytes.Replace(b, []byte(`"v":1`), []byte(`"v":9`), 1), bytes.Replace(b, []byte(`"passkey"`), []byte(`"other"`), 1)} {
		_, err := UnmarshalCredential(bad)
		wantErr(t, err, errs.Internal, ReasonWebAuthnCredentialInvalid)
	}
	_, err = MarshalCredential(Credential{ID: []byte{1}})
	wantErr(t, err, errs.Internal, ReasonWebAuthnCredentialInvalid)
}
