package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/pquerna/otp/totp"
	"google.golang.org/grpc/codes"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/identity/internal/auth"
	"github.com/sottohq/sotto/services/identity/internal/mfa"
	"github.com/sottohq/sotto/services/identity/internal/notify"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
	"github.com/sottohq/sotto/services/identity/internal/storage"
	"github.com/sottohq/sotto/services/identity/migrations"
)

// Regression tests of the security review in issue 9: pre-account
// takeover (H1), look-alike addresses (H2), enrolment without step-up (M2)
// and the reset request's timing (M3).

var testRP = virtualwebauthn.RelyingParty{Name: "Sotto", ID: "localhost", Origin: "http://localhost:8080"}

// passkey is a software authenticator with one registered passkey.
type passkey struct {
	authn virtualwebauthn.Authenticator
	cred  virtualwebauthn.Credential
}

// registerPasskey registers a passkey for the session's account.
func (h *harness) registerPasskey(access string) *passkey {
	h.t.Helper()
	begin, err := h.gw().BeginWebAuthnRegistration(bearer(access), &identityv1.BeginWebAuthnRegistrationRequest{DisplayName: "x"})
	if err != nil {
		h.t.Fatalf("begin registration: %v", err)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(string(begin.GetOptionsJson()))
	if err != nil {
		h.t.Fatal(err)
	}
	p := &passkey{
		authn: virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(opts.UserID)}),
		cred:  newEC2Credential(),
	}
	att := virtualwebauthn.CreateAttestationResponse(testRP, p.authn, p.cred, *opts)
	if _, err := h.gw().FinishWebAuthnRegistration(bearer(access), &identityv1.FinishWebAuthnRegistrationRequest{
		CeremonyId: begin.GetCeremonyId(), CredentialJson: []byte(att)}); err != nil {
		h.t.Fatalf("finish registration: %v", err)
	}
	p.authn.AddCredential(p.cred)
	return p
}

// passwordless logs in with the passkey in tenant.
func (h *harness) passwordless(p *passkey, tenant string) (*identityv1.FinishWebAuthnLoginResponse, error) {
	h.t.Helper()
	lb, err := h.gw().BeginWebAuthnLogin(from("10.0.0.9"), &identityv1.BeginWebAuthnLoginRequest{Tenant: tenant})
	if err != nil {
		h.t.Fatal(err)
	}
	aopts, err := virtualwebauthn.ParseAssertionOptions(string(lb.GetOptionsJson()))
	if err != nil {
		h.t.Fatal(err)
	}
	return h.gw().FinishWebAuthnLogin(from("10.0.0.9"), &identityv1.FinishWebAuthnLoginRequest{CeremonyId: lb.GetCeremonyId(),
		CredentialJson: []byte(virtualwebauthn.CreateAssertionResponse(testRP, p.authn, p.cred, *aopts))})
}

func (h *harness) setVerified(accountID string, verified bool) {
	h.t.Helper()
	v := 0
	if verified {
		v = 1
	}
	if _, err := h.db.ExecContext(context.Background(), `UPDATE accounts SET email_verified = $1 WHERE account_id = $2`, v, accountID); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) accountOf(email string) string {
	h.t.Helper()
	return h.mail(email, notify.KindVerifyEmail).AccountID
}

// TestUnverifiedAccountGetsNoSession: a wrong password on an unverified
// account is LOGIN_FAILED like any other; the right one is
// FailedPrecondition EMAIL_NOT_VERIFIED and starts no session. Fails
// without the verification check in Login.
func TestUnverifiedAccountGetsNoSession(t *testing.T) {
	h := sqlite(t, options{})
	const victim = "victim@example.com"
	if _, err := h.gw().SignUp(from("10.0.0.9"), &identityv1.SignUpRequest{Tenant: "shop", Email: victim, Password: strongPassword}); err != nil {
		t.Fatal(err)
	}
	_, err := h.gw().Login(from("10.0.0.9"), &identityv1.LoginRequest{Tenant: "shop", Email: victim, Password: "wrong " + strongPassword})
	wantErr(t, err, codes.Unauthenticated, reasons.LoginFailed)
	_, err = h.gw().Login(from("10.0.0.9"), &identityv1.LoginRequest{Tenant: "shop", Email: victim, Password: strongPassword})
	wantErr(t, err, codes.FailedPrecondition, reasons.EmailNotVerified)
	if n := h.count("sessions"); n != 0 {
		t.Fatalf("%d sessions for an unverified account", n)
	}
	if h.countAudited(auth.ActionLogin, auditclient.Denied) != 2 {
		t.Fatal("the refused logins are not audited")
	}
	// Once verified, the same password works.
	if _, err := h.gw().VerifyEmail(from("10.0.0.1"), &identityv1.VerifyEmailRequest{Code: h.mail(victim, notify.KindVerifyEmail).Code}); err != nil {
		t.Fatal(err)
	}
	h.login("shop", victim, strongPassword)
}

// TestPreHijackSurvivesPasswordReset (ported from the review): an attacker
// signs up with the victim's address and cannot verify it. They cannot log
// in; and an account that got a passkey while unverified (before this rule,
// or by any other way) loses it when the victim takes the account over by
// a password reset: the attacker's passkey no longer logs in. Fails without
// the Login check, and without the reset's clearUnproven.
func TestPreHijackSurvivesPasswordReset(t *testing.T) {
	h := sqlite(t, options{})
	const victim = "victim@example.com"
	if _, err := h.gw().SignUp(from("10.0.0.9"), &identityv1.SignUpRequest{Tenant: "shop", Email: victim, Password: strongPassword}); err != nil {
		t.Fatal(err)
	}
	_, err := h.gw().Login(from("10.0.0.9"), &identityv1.LoginRequest{Tenant: "shop", Email: victim, Password: strongPassword})
	wantErr(t, err, codes.FailedPrecondition, reasons.EmailNotVerified)

	// The state the review reached: a session and a passkey on the
	// unverified account.
	id := h.accountOf(victim)
	h.setVerified(id, true)
	tok := h.login("shop", victim, strongPassword)
	pk := h.registerPasskey(tok.GetAccessToken())
	h.setVerified(id, false)

	// The victim resets the password from their mailbox.
	if _, err := h.gw().RequestPasswordReset(from("10.0.0.1"), &identityv1.RequestPasswordResetRequest{Tenant: "shop", Email: victim}); err != nil {
		t.Fatal(err)
	}
	const next = "a completely different long passphrase 42"
	if _, err := h.gw().ResetPassword(from("10.0.0.1"), &identityv1.ResetPasswordRequest{Code: h.mail(victim, notify.KindResetPassword).Code, NewPassword: next}); err != nil {
		t.Fatal(err)
	}
	own := h.login("shop", victim, next) // the reset verified the address

	// The attacker, passwordless: refused.
	_, err = h.passwordless(pk, "shop")
	if err == nil {
		t.Fatal("TAKEOVER: the attacker's passkey logs in after the victim's password reset")
	}
	// Their old session is revoked, and the account has no factor left.
	_, err = h.gw().ListFactors(bearer(tok.GetAccessToken()), &identityv1.ListFactorsRequest{})
	if status(err) != codes.Unauthenticated {
		t.Fatalf("the attacker's session after the reset: %v", err)
	}
	list, err := h.gw().ListFactors(bearer(own.GetAccessToken()), &identityv1.ListFactorsRequest{})
	if err != nil || len(list.GetFactors()) != 0 || list.GetRecoveryCodesRemaining() != 0 {
		t.Fatalf("factors after the reset: %v %v", list, err)
	}
}

// TestResetKeepsFactorsOfAVerifiedAccount: on an account whose address was
// already proved, a password reset ends every session but keeps the
// factors, so whoever holds only the mailbox still needs the second factor
// (the passkey still logs in; a pre-registered, unverified account is
// TestPreHijackSurvivesPasswordReset's case). Fails if a reset clears
// factors of verified accounts.
func TestResetKeepsFactorsOfAVerifiedAccount(t *testing.T) {
	h := sqlite(t, options{})
	const email = "owner@example.com"
	tok := h.signUp("shop", email)
	pk := h.registerPasskey(tok.GetAccessToken())
	if _, err := h.passwordless(pk, "shop"); err != nil {
		t.Fatalf("the passkey before the reset: %v", err)
	}
	if _, err := h.gw().RequestPasswordReset(from("10.0.0.1"), &identityv1.RequestPasswordResetRequest{Tenant: "shop", Email: email}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.gw().ResetPassword(from("10.0.0.1"), &identityv1.ResetPasswordRequest{Code: h.mail(email, notify.KindResetPassword).Code,
		NewPassword: "another long passphrase for the owner"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.passwordless(pk, "shop"); err != nil {
		t.Fatalf("the owner's passkey after a reset of a verified account: %v", err)
	}
	if n := h.count("factors"); n == 0 {
		t.Error("the reset removed the factors of a verified account")
	}
}

// TestFirstVerificationClearsFactors: a passkey on an unverified account
// does not log in; factors, recovery codes and sessions an account got
// before its address was verified are gone once it is; a later
// verification code (a second one) changes nothing. Fails without the
// passkey login's check, and without clearUnproven in VerifyEmail.
func TestFirstVerificationClearsFactors(t *testing.T) {
	h := sqlite(t, options{})
	const email = "late@example.com"
	if _, err := h.gw().SignUp(from("10.0.0.9"), &identityv1.SignUpRequest{Tenant: "shop", Email: email, Password: strongPassword}); err != nil {
		t.Fatal(err)
	}
	first := h.mail(email, notify.KindVerifyEmail)
	h.setVerified(first.AccountID, true)
	tok := h.login("shop", email, strongPassword)
	pk := h.registerPasskey(tok.GetAccessToken())
	h.setVerified(first.AccountID, false)
	if _, err := h.passwordless(pk, "shop"); err == nil {
		t.Fatal("a passkey of an unverified account logs in")
	}

	if _, err := h.gw().VerifyEmail(from("10.0.0.1"), &identityv1.VerifyEmailRequest{Code: first.Code}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.passwordless(pk, "shop"); err == nil {
		t.Fatal("a passkey added before the first verification still logs in")
	}
	if _, err := h.gw().RefreshSession(from("10.0.0.9"), &identityv1.RefreshSessionRequest{RefreshToken: tok.GetRefreshToken()}); status(err) != codes.Unauthenticated {
		t.Fatalf("a session started before the first verification still refreshes: %v", err)
	}
	if n := h.count("factors"); n != 0 {
		t.Fatalf("%d factors left", n)
	}

	// A verified account's factors stay when another verification code is
	// used (only the first verification clears).
	own := h.login("shop", email, strongPassword)
	h.registerPasskey(own.GetAccessToken())
	sum := sha256.Sum256([]byte("second-verification-code-0123456789"))
	if err := storage.New(h.db).InsertCode(context.Background(), h.db.DB, storage.Code{Hash: hex.EncodeToString(sum[:]), AccountID: first.AccountID,
		Purpose: storage.CodeVerifyEmail, Expires: time.Now().Add(time.Hour), Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.gw().VerifyEmail(from("10.0.0.1"), &identityv1.VerifyEmailRequest{Code: "second-verification-code-0123456789"}); err != nil {
		t.Fatal(err)
	}
	if n := h.count("factors"); n != 1 {
		t.Fatalf("%d factors after a second verification; want 1", n)
	}
}

// TestLookalikeAddressGetsNoCode (from the review): the attacker asks for
// a reset of alice@gmaİl.com (U+0130, which the vault's lower-casing turns
// into the victim's alice@gmail.com) or alice@\u212Aitchen.com (Kelvin
// sign). The first is its own IDN domain (no account: no message); the
// second folds to ASCII and is refused as invalid input. No reset code is
// ever made for the victims' accounts. Fails without the canonicalisation.
func TestLookalikeAddressGetsNoCode(t *testing.T) {
	h := sqlite(t, options{})
	h.signUp("shop", "alice@gmail.com")
	h.signUp("shop", "alice@kitchen.com")
	if _, err := h.gw().RequestPasswordReset(from("10.6.6.6"), &identityv1.RequestPasswordResetRequest{Tenant: "shop", Email: "alice@gma\u0130l.com"}); err != nil {
		t.Fatal(err)
	}
	if n := h.countCodes(storage.CodeResetPassword); n != 0 {
		t.Fatalf("TAKEOVER: the look-alike alice@gma\u0130l.com made %d reset code(s) for alice@gmail.com's account", n)
	}
	for _, email := range []string{"alice@\u212Aitchen.com", "\u212Aaren@kitchen.com", "alice@ｇmail.com"} {
		_, err := h.gw().RequestPasswordReset(from("10.6.6.6"), &identityv1.RequestPasswordResetRequest{Tenant: "shop", Email: email})
		wantErr(t, err, codes.InvalidArgument, reasons.EmailInvalid)
		_, err = h.gw().Login(from("10.6.6.6"), &identityv1.LoginRequest{Tenant: "shop", Email: email, Password: strongPassword})
		wantErr(t, err, codes.InvalidArgument, reasons.EmailInvalid)
		_, err = h.gw().SignUp(from("10.6.6.6"), &identityv1.SignUpRequest{Tenant: "shop", Email: email, Password: strongPassword})
		wantErr(t, err, codes.InvalidArgument, reasons.EmailInvalid)
	}
	h.app.Domain.Wait()
	entries, err := notify.Read(h.mailbox)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Kind == notify.KindResetPassword {
			t.Fatalf("a reset code was sent (to %s, account %s)", e.RecipientMasked, e.AccountID)
		}
	}
	if n := h.countCodes(storage.CodeResetPassword); n != 0 {
		t.Fatalf("%d reset codes stored", n)
	}
	// The look-alike is a different login name: its own sign-up makes a
	// second account, which the victim's password does not open.
	if _, err := h.gw().SignUp(from("10.6.6.7"), &identityv1.SignUpRequest{Tenant: "shop", Email: "alice@gma\u0130l.com", Password: strongPassword}); err != nil {
		t.Fatal(err)
	}
	if h.count("accounts") != 3 {
		t.Fatalf("%d accounts; want 3 (the look-alike is its own)", h.count("accounts"))
	}
	// Its message goes to the canonical (Punycode) address.
	if _, ok, _ := notify.Latest(h.mailbox, h.mailKey, "alice@xn--gmail-bgd.com", notify.KindVerifyEmail); !ok {
		t.Fatal("the look-alike's verification did not go to its canonical address")
	}
}

func (h *harness) countCodes(purpose string) int {
	h.t.Helper()
	var n int
	if err := h.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM codes WHERE purpose = $1`, purpose).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// TestConfirmTotpDoesNotElevate: confirming a first factor on the password
// alone returns no aal2 tokens and leaves the session at aal1; a step-up
// with the new factor is what raises it. Fails if ConfirmTotp elevates.
func TestConfirmTotpDoesNotElevate(t *testing.T) {
	h := sqlite(t, options{})
	tok := h.signUp("shop", "enrol@example.com")
	access := tok.GetAccessToken()
	begin, err := h.gw().BeginTotpEnrollment(bearer(access), &identityv1.BeginTotpEnrollmentRequest{})
	if err != nil {
		t.Fatal(err)
	}
	secret := secretOf(t, begin.GetOtpauthUri())
	resp, err := h.gw().ConfirmTotpEnrollment(bearer(access), &identityv1.ConfirmTotpEnrollmentRequest{FactorId: begin.GetFactorId(), Code: codeAt(t, secret, h.clock.now())})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetTokens().GetAccessToken() != "" || len(resp.GetRecoveryCodes()) != mfa.RecoveryCodeCount {
		t.Fatalf("confirm: tokens %v, %d recovery codes", resp.GetTokens(), len(resp.GetRecoveryCodes()))
	}
	// A refresh of the session says its level: still aal1.
	ref, err := h.gw().RefreshSession(from("10.0.0.1"), &identityv1.RefreshSessionRequest{RefreshToken: tok.GetRefreshToken()})
	if err != nil || ref.GetTokens().GetAal() != 1 {
		t.Fatalf("the session after confirming: aal %d, %v; want aal1", ref.GetTokens().GetAal(), err)
	}
	up, err := h.gw().StepUp(bearer(access), &identityv1.StepUpRequest{Proof: &identityv1.StepUpRequest_TotpCode{TotpCode: h.nextCode(secret)}})
	if err != nil || up.GetTokens().GetAal() != 2 {
		t.Fatalf("step-up with the new factor: %v %v", up, err)
	}
}

// TestFactorRulesRecheckedAtConfirm: canAddFactor and MaxFactors are
// checked again in the transaction that activates a factor. An enrolment
// begun while the account had no factor cannot be confirmed on the
// password alone once another factor was added meanwhile; and two
// enrolments begun under the limit cannot both finish past it. Fails
// without the re-check in ConfirmTotp.
func TestFactorRulesRecheckedAtConfirm(t *testing.T) {
	cfg := auth.DefaultConfig()
	cfg.MaxFactors = 2
	h := sqlite(t, options{domain: &cfg})
	tok := h.signUp("shop", "twice@example.com")
	access := tok.GetAccessToken()
	var begins []*identityv1.BeginTotpEnrollmentResponse
	for range 3 {
		b, err := h.gw().BeginTotpEnrollment(bearer(access), &identityv1.BeginTotpEnrollmentRequest{})
		if err != nil {
			t.Fatal(err)
		}
		begins = append(begins, b)
	}
	confirm := func(b *identityv1.BeginTotpEnrollmentResponse, access string) error {
		_, err := h.gw().ConfirmTotpEnrollment(bearer(access), &identityv1.ConfirmTotpEnrollmentRequest{FactorId: b.GetFactorId(),
			Code: codeAt(t, secretOf(t, b.GetOtpauthUri()), h.clock.now())})
		return err
	}
	if err := confirm(begins[0], access); err != nil {
		t.Fatal(err)
	}
	// The second, begun at aal1 with no factor: now a second factor, which
	// needs a recent aal2.
	wantErr(t, confirm(begins[1], access), codes.FailedPrecondition, reasons.StepUpRequired)
	up, err := h.gw().StepUp(bearer(access), &identityv1.StepUpRequest{Proof: &identityv1.StepUpRequest_TotpCode{
		TotpCode: codeAt(t, secretOf(t, begins[0].GetOtpauthUri()), h.clock.now().Add(30*time.Second))}})
	if err != nil {
		t.Fatal(err)
	}
	if err := confirm(begins[1], up.GetTokens().GetAccessToken()); err != nil {
		t.Fatalf("second factor at aal2: %v", err)
	}
	// The third would be past MaxFactors.
	wantErr(t, confirm(begins[2], up.GetTokens().GetAccessToken()), codes.FailedPrecondition, reasons.TooManyFactors)
	if n := h.countActiveFactors(); n != 2 {
		t.Fatalf("%d active factors; want 2", n)
	}
}

func (h *harness) countActiveFactors() int {
	h.t.Helper()
	var n int
	if err := h.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM factors WHERE status = 'active'`).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// TestResetRequestTiming logs the medians of reset requests for a known
// and unknown address, interleaved, each from a fresh source (figures for
// the log, no assertion on time). What is asserted: both paths leave one
// audit event, and only the known one a code and a message.
func TestResetRequestTiming(t *testing.T) {
	dcfg := auth.DefaultConfig()
	dcfg.ResetMailsPerHour = 1000 // this test times the mailing path, not the cap
	h := sqlite(t, options{domain: &dcfg})
	h.signUp("shop", "known@example.com")
	before := len(h.audited())
	var known, unknown []time.Duration
	const rounds = 40
	for i := range rounds {
		for _, k := range []bool{true, false} {
			email := "known@example.com"
			if !k {
				email = fmt.Sprintf("nobody%d@example.com", i)
			}
			start := time.Now()
			if _, err := h.gw().RequestPasswordReset(from(fmt.Sprintf("10.1.%d.%d", i, len(known))), &identityv1.RequestPasswordResetRequest{Tenant: "shop", Email: email}); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); k {
				known = append(known, d)
			} else {
				unknown = append(unknown, d)
			}
		}
	}
	med := func(x []time.Duration) time.Duration {
		sort.Slice(x, func(i, j int) bool { return x[i] < x[j] })
		return x[len(x)/2]
	}
	t.Logf("reset request medians over %d interleaved rounds: known %v, unknown %v", rounds, med(known), med(unknown))
	if n := len(h.audited()) - before; n != 2*rounds {
		t.Errorf("%d audit events for %d requests", n, 2*rounds)
	}
	if n := h.countCodes(storage.CodeResetPassword); n != rounds {
		t.Errorf("%d reset codes; want %d", n, rounds)
	}
	denied := 0
	for _, e := range h.audited() {
		if e.GetAction() == string(auth.ActionResetRequest) && e.GetReason() == reasons.AccountNotFound {
			denied++
		}
	}
	if denied != rounds {
		t.Errorf("%d reset requests for unknown addresses audited; want %d", denied, rounds)
	}
}

func secretOf(t *testing.T, uri string) string {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("secret")
}

func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// TestClientTokenRacesRevoke (PostgreSQL): a revocation of a client that
// arrives while one of its tokens is being signed waits for that
// issuance to commit (and the revocation then refuses the token), instead
// of committing in between. Fails without the client row lock in
// IssueClientToken.
func TestClientTokenRacesRevoke(t *testing.T) {
	h := newHarness(t, storetest.Postgres(t, migrations.FS), options{})
	boot, err := h.client("sotto-cli").BootstrapAdmin(context.Background(), &identityv1.BootstrapAdminRequest{Email: "admin@sotto.test"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, admin := h.enrolTOTP(h.login("", "admin@sotto.test", boot.GetInitialPassword()).GetAccessToken())
	sec, err := h.gw().CreateClient(bearer(admin.GetAccessToken()), &identityv1.CreateClientRequest{DisplayName: "CRM", Scopes: []string{"audit.read"}, Tenant: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	signing, release := make(chan struct{}), make(chan struct{})
	h.app.Domain.OnClientTokenSigning = func() {
		close(signing)
		<-release
	}
	granted := make(chan error, 1)
	go func() {
		_, err := h.gw().IssueClientToken(from("10.1.1.1"), &identityv1.IssueClientTokenRequest{GrantType: "client_credentials",
			ClientId: sec.GetClientId(), ClientSecret: sec.GetClientSecret()})
		granted <- err
	}()
	<-signing
	revoked := make(chan error, 1)
	go func() {
		_, err := h.gw().RevokeClient(bearer(admin.GetAccessToken()), &identityv1.RevokeClientRequest{ClientId: sec.GetClientId()})
		revoked <- err
	}()
	select {
	case err := <-revoked:
		close(release)
		<-granted
		t.Fatalf("the client was revoked (%v) while one of its tokens was being signed", err)
	case <-time.After(500 * time.Millisecond): // a chance to overtake, not a timing assertion
	}
	close(release)
	if err := <-granted; err != nil {
		t.Fatalf("the issuance under way: %v", err)
	}
	if err := <-revoked; err != nil {
		t.Fatalf("the revocation after it: %v", err)
	}
	h.app.Domain.OnClientTokenSigning = nil
	_, err = h.gw().IssueClientToken(from("10.1.1.2"), &identityv1.IssueClientTokenRequest{GrantType: "client_credentials",
		ClientId: sec.GetClientId(), ClientSecret: sec.GetClientSecret()})
	wantErr(t, err, codes.Unauthenticated, reasons.ClientAuthFailed)
}

// TestResetMailsCappedPerAccount: requests from many sources (each within
// its own limit) mail one account at most ResetMailsPerHour codes an hour;
// the others get the same answer, no code and no mail, and are audited as
// refused; an hour later mail flows again.
func TestResetMailsCappedPerAccount(t *testing.T) {
	h := sqlite(t, options{})
	h.signUp("shop", "inbox@example.com")
	limit := auth.DefaultConfig().ResetMailsPerHour
	for i := range limit + 4 {
		if _, err := h.gw().RequestPasswordReset(from(fmt.Sprintf("10.2.%d.1", i)), &identityv1.RequestPasswordResetRequest{Tenant: "shop", Email: "inbox@example.com"}); err != nil {
			t.Fatalf("request %d: %v (the answer must not change at the cap)", i, err)
		}
	}
	if n := h.countCodes(storage.CodeResetPassword); n != limit {
		t.Fatalf("%d reset codes for one account within an hour, want %d", n, limit)
	}
	capped := 0
	for _, e := range h.audited() {
		if e.GetAction() == string(auth.ActionResetRequest) && e.GetReason() == reasons.ResetMailsCapped {
			capped++
		}
	}
	if capped != 4 {
		t.Errorf("%d capped requests audited, want 4", capped)
	}
	// An hour on (the codes' creation moved back; the domain clock cannot
	// run ahead of the token clock).
	if _, err := h.db.ExecContext(context.Background(), `UPDATE codes SET created_us = created_us - $1`, (time.Hour + time.Second).Microseconds()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.gw().RequestPasswordReset(from("10.2.99.1"), &identityv1.RequestPasswordResetRequest{Tenant: "shop", Email: "inbox@example.com"}); err != nil {
		t.Fatal(err)
	}
	if n := h.countCodes(storage.CodeResetPassword); n != limit+1 {
		t.Fatalf("%d reset codes after the hour, want %d", n, limit+1)
	}
}
