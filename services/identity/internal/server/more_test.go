package server_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/go-jose/go-jose/v4"
	"google.golang.org/grpc/codes"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/services/identity/internal/app"
	"github.com/sottohq/sotto/services/identity/internal/auth"
	"github.com/sottohq/sotto/services/identity/internal/notify"
	"github.com/sottohq/sotto/services/identity/internal/password"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
)

// TestStoreRevocationRefusedBeforeTheFeed: a session revoked in the store
// (by another replica, whose event this one has not read yet) is refused by
// identity at once: it checks its store, not only the feed.
func TestStoreRevocationRefusedBeforeTheFeed(t *testing.T) {
	h := sqlite(t, options{})
	tok := h.signUp("shop", "replica@example.com")
	if _, err := h.db.Exec(`UPDATE sessions SET revoked_us = 1 WHERE session_id = $1`, tok.GetSessionId()); err != nil {
		t.Fatal(err)
	}
	_, err := h.gw().GetAccount(bearer(tok.GetAccessToken()), &identityv1.GetAccountRequest{})
	wantErr(t, err, codes.Unauthenticated, reasons.SessionRevoked)
}

// TestWatchRevocations: a new subscriber gets every revocation that may
// still matter, then a heartbeat, then live ones.
func TestWatchRevocations(t *testing.T) {
	h := sqlite(t, options{})
	old := h.signUp("shop", "old@example.com")
	if _, err := h.gw().Logout(bearer(old.GetAccessToken()), &identityv1.LogoutRequest{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := h.client("tokenvault").WatchRevocations(ctx, &identityv1.WatchRevocationsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil || first.GetSessionId() != old.GetSessionId() || first.GetCursor() == "" {
		t.Fatalf("backlog: %v %v", first, err)
	}
	if !first.GetExpireTime().AsTime().After(first.GetRevokeTime().AsTime().Add(accesstoken.DefaultLifetime)) {
		t.Fatal("the revocation expires before the tokens it refuses")
	}
	hb, err := stream.Recv()
	if err != nil || hb.GetSessionId() != "" || hb.GetClientId() != "" {
		t.Fatalf("heartbeat after the backlog: %v %v", hb, err)
	}
	live := h.signUp("shop", "live@example.com")
	start := time.Now()
	if _, err := h.gw().RevokeSession(bearer(live.GetAccessToken()), &identityv1.RevokeSessionRequest{SessionId: live.GetSessionId()}); err != nil {
		t.Fatal(err)
	}
	for {
		msg, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if msg.GetSessionId() == live.GetSessionId() {
			t.Logf("revocation delivered in %v", time.Since(start))
			// Resuming from its cursor starts after it.
			cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer ccancel()
			again, err := h.client("gateway").WatchRevocations(cctx, &identityv1.WatchRevocationsRequest{Cursor: msg.GetCursor()})
			if err != nil {
				t.Fatal(err)
			}
			if m, err := again.Recv(); err != nil || m.GetSessionId() != "" {
				t.Fatalf("resume: %v %v", m, err)
			}
			return
		}
	}
}

// TestEndUserTokens: the calls about "the caller's account" need a valid
// token of a person; a missing, tampered or foreign token is refused.
func TestEndUserTokens(t *testing.T) {
	h := sqlite(t, options{})
	tok := h.signUp("shop", "token@example.com")
	_, err := h.gw().GetAccount(from("10.0.0.1"), &identityv1.GetAccountRequest{})
	wantErr(t, err, codes.Unauthenticated, accesstoken.ReasonTokenMissing)
	tampered := tok.GetAccessToken()
	parts := strings.Split(tampered, ".")
	parts[1] = strings.Replace(parts[1], parts[1][:4], "eyJz", 1)
	_, err = h.gw().GetAccount(bearer(strings.Join(parts, ".")), &identityv1.GetAccountRequest{})
	if status(err) != codes.Unauthenticated {
		t.Fatalf("tampered token: %v", err)
	}
	// A token signed by another key, with identity's kid.
	other, _ := accesstoken.NewIssuer(newKeyring(t), accesstoken.KeyName, app.Issuer(servertest.TrustDomain))
	forged, err := other.Issue(context.Background(), accesstoken.Claims{Subject: "acc_x", Kind: accesstoken.KindCustomer, Tenant: "shop",
		SessionID: tok.GetSessionId(), AAL: 2, AMR: []string{"pwd"}, AuthTime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.gw().GetAccount(bearer(forged), &identityv1.GetAccountRequest{})
	wantErr(t, err, codes.Unauthenticated, accesstoken.ReasonTokenInvalid)
}

// TestStaffAndBootstrap: the first admin comes from the CLI workload only
// and only once; staff must enrol MFA before anything else, and staff
// administration needs aal2.
func TestStaffAndBootstrap(t *testing.T) {
	h := sqlite(t, options{})
	ctx := context.Background()
	_, err := h.gw().BootstrapAdmin(ctx, &identityv1.BootstrapAdminRequest{Email: "admin@sotto.test"})
	wantErr(t, err, codes.PermissionDenied, "CALLER_NOT_ALLOWED")
	boot, err := h.client("sotto-cli").BootstrapAdmin(ctx, &identityv1.BootstrapAdminRequest{Email: "admin@sotto.test"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.client("sotto-cli").BootstrapAdmin(ctx, &identityv1.BootstrapAdminRequest{Email: "second@sotto.test"})
	wantErr(t, err, codes.FailedPrecondition, reasons.AdminExists)

	login, err := h.gw().Login(from("10.0.0.9"), &identityv1.LoginRequest{Email: "admin@sotto.test", Password: boot.GetInitialPassword()})
	if err != nil {
		t.Fatal(err)
	}
	if !login.GetSecondFactorEnrollmentRequired() {
		t.Fatal("an admin without MFA was not told to enrol")
	}
	c := verify(t, h, login.GetTokens().GetAccessToken())
	if c.Kind != accesstoken.KindStaff || c.Tenant != "" || len(c.Roles) != 1 || c.Roles[0] != accesstoken.RoleAdmin {
		t.Fatalf("admin claims %+v", c)
	}
	access := login.GetTokens().GetAccessToken()
	_, err = h.gw().ListSessions(bearer(access), &identityv1.ListSessionsRequest{})
	wantErr(t, err, codes.FailedPrecondition, reasons.MFAEnrollmentRequired)
	_, err = h.gw().CreateStaffAccount(bearer(access), &identityv1.CreateStaffAccountRequest{Email: "agent@sotto.test",
		Roles: []string{"support_agent"}, RequestId: "req-1"})
	wantErr(t, err, codes.FailedPrecondition, reasons.StepUpRequired)
	// A customer's token cannot reach staff administration at all.
	cust := h.signUp("shop", "cust@example.com")
	_, err = h.gw().CreateStaffAccount(bearer(cust.GetAccessToken()), &identityv1.CreateStaffAccountRequest{Email: "x@sotto.test",
		Roles: []string{"admin"}, RequestId: "req-x"})
	wantErr(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden)

	_, _, aal2 := h.enrolTOTP(access)
	req := &identityv1.CreateStaffAccountRequest{Email: "agent@sotto.test", Roles: []string{"support_agent"}, RequestId: "req-1"}
	created, err := h.gw().CreateStaffAccount(bearer(aal2.GetAccessToken()), req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.gw().CreateStaffAccount(bearer(aal2.GetAccessToken()), req)
	if err != nil || again.GetAccountId() != created.GetAccountId() {
		t.Fatalf("retry of the same request: %v %v", again, err)
	}
	req.Roles = []string{"admin"}
	_, err = h.gw().CreateStaffAccount(bearer(aal2.GetAccessToken()), req)
	wantErr(t, err, codes.AlreadyExists, reasons.RequestIDReused)

	// The new member sets a password with the code from the mailbox.
	e := h.mail("agent@sotto.test", notify.KindSetPassword)
	if _, err := h.gw().ResetPassword(from("10.0.0.9"), &identityv1.ResetPasswordRequest{Code: e.Code, NewPassword: strongPassword}); err != nil {
		t.Fatal(err)
	}
	agent, err := h.gw().Login(from("10.0.0.9"), &identityv1.LoginRequest{Email: "agent@sotto.test", Password: strongPassword})
	if err != nil || !agent.GetSecondFactorEnrollmentRequired() {
		t.Fatalf("agent login: %v %v", agent, err)
	}
	// Support (after MFA) may list a customer's sessions; the customer may
	// not list the agent's.
	_, _, agent2 := h.enrolTOTP(agent.GetTokens().GetAccessToken())
	custID := verify(t, h, cust.GetAccessToken()).Subject
	list, err := h.gw().ListSessions(bearer(agent2.GetAccessToken()), &identityv1.ListSessionsRequest{AccountId: custID})
	if err != nil || len(list.GetSessions()) != 1 {
		t.Fatalf("support listing a customer's sessions: %v %v", list, err)
	}
	_, err = h.gw().ListSessions(bearer(cust.GetAccessToken()), &identityv1.ListSessionsRequest{AccountId: created.GetAccountId()})
	wantErr(t, err, codes.PermissionDenied, reasons.RoleRequired)
	if _, err := h.gw().RevokeSession(bearer(agent2.GetAccessToken()), &identityv1.RevokeSessionRequest{SessionId: cust.GetSessionId()}); err != nil {
		t.Fatal(err)
	}
	_, err = h.gw().RevokeSession(bearer(h.signUp("shop", "other@example.com").GetAccessToken()), &identityv1.RevokeSessionRequest{SessionId: agent2.GetSessionId()})
	wantErr(t, err, codes.NotFound, reasons.SessionNotFound)
	for _, a := range []auditclient.Action{auth.ActionBootstrapAdmin, auth.ActionStaffCreate, auth.ActionMFAEnrol, auth.ActionPasswordReset, auth.ActionRevokeSession} {
		if h.countAudited(a, auditclient.Success) == 0 {
			t.Errorf("no %s event", a)
		}
	}
}

// TestPasswordChangeResetAndDelete: a change needs the current password
// and revokes the other sessions; a reset code works once and revokes
// every session; deleting the account needs a recent login.
func TestPasswordChangeResetAndDelete(t *testing.T) {
	h := sqlite(t, options{})
	s1 := h.signUp("shop", "pw@example.com")
	s2 := h.login("shop", "pw@example.com", strongPassword)
	const next = "a different long passphrase here"
	_, err := h.gw().ChangePassword(bearer(s1.GetAccessToken()), &identityv1.ChangePasswordRequest{CurrentPassword: "wrong one, surely", NewPassword: next})
	wantErr(t, err, codes.PermissionDenied, reasons.CurrentPasswordWrong)
	_, err = h.gw().ChangePassword(bearer(s1.GetAccessToken()), &identityv1.ChangePasswordRequest{CurrentPassword: strongPassword, NewPassword: "short"})
	wantErr(t, err, codes.InvalidArgument, reasons.PasswordTooShort)
	if _, err := h.gw().ChangePassword(bearer(s1.GetAccessToken()), &identityv1.ChangePasswordRequest{CurrentPassword: strongPassword, NewPassword: next}); err != nil {
		t.Fatal(err)
	}
	_, err = h.gw().RefreshSession(from("10.0.0.1"), &identityv1.RefreshSessionRequest{RefreshToken: s2.GetRefreshToken()})
	wantErr(t, err, codes.Unauthenticated, reasons.RefreshTokenInvalid)
	if _, err := h.gw().GetAccount(bearer(s1.GetAccessToken()), &identityv1.GetAccountRequest{}); err != nil {
		t.Fatalf("the changing session was revoked: %v", err)
	}
	// Reset.
	if _, err := h.gw().RequestPasswordReset(from("10.0.0.1"), &identityv1.RequestPasswordResetRequest{Tenant: "shop", Email: "pw@example.com"}); err != nil {
		t.Fatal(err)
	}
	code := h.mail("pw@example.com", notify.KindResetPassword).Code
	_, err = h.gw().ResetPassword(from("10.0.0.1"), &identityv1.ResetPasswordRequest{Code: code, NewPassword: "password1234567890"})
	wantErr(t, err, codes.InvalidArgument, reasons.PasswordTooWeak)
	const third = "third passphrase, long enough"
	if _, err := h.gw().ResetPassword(from("10.0.0.1"), &identityv1.ResetPasswordRequest{Code: code, NewPassword: third}); err != nil {
		t.Fatalf("the code was spent by the refused password: %v", err)
	}
	_, err = h.gw().ResetPassword(from("10.0.0.1"), &identityv1.ResetPasswordRequest{Code: code, NewPassword: third + "!"})
	wantErr(t, err, codes.Unauthenticated, reasons.CodeInvalid)
	if _, err := h.gw().GetAccount(bearer(s1.GetAccessToken()), &identityv1.GetAccountRequest{}); status(err) != codes.Unauthenticated {
		t.Fatalf("a session survived the reset: %v", err)
	}
	fresh := h.login("shop", "pw@example.com", third)
	if _, err := h.gw().DeleteAccount(bearer(fresh.GetAccessToken()), &identityv1.DeleteAccountRequest{}); err != nil {
		t.Fatal(err)
	}
	_, err = h.gw().Login(from("10.0.0.1"), &identityv1.LoginRequest{Tenant: "shop", Email: "pw@example.com", Password: third})
	wantErr(t, err, codes.Unauthenticated, reasons.LoginFailed)
	if h.count("accounts") != 0 || h.count("sessions") != 0 {
		t.Fatal("the deleted account left rows")
	}
}

// TestClientCredentials: a client secret and a private-key JWT each yield
// a scoped client token; wrong secrets, replayed assertions, foreign
// scopes and revoked clients are refused.
func TestClientCredentials(t *testing.T) {
	h := sqlite(t, options{})
	boot, err := h.client("sotto-cli").BootstrapAdmin(context.Background(), &identityv1.BootstrapAdminRequest{Email: "admin@sotto.test"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, admin := h.enrolTOTP(h.login("", "admin@sotto.test", boot.GetInitialPassword()).GetAccessToken())
	ctx := bearer(admin.GetAccessToken())
	// A client acts for a tenant: without one it would be staff's.
	_, err = h.gw().CreateClient(ctx, &identityv1.CreateClientRequest{DisplayName: "CRM", Scopes: []string{"conversation.write"}})
	wantErr(t, err, codes.InvalidArgument, reasons.TenantRequired)
	sec, err := h.gw().CreateClient(ctx, &identityv1.CreateClientRequest{DisplayName: "CRM", Scopes: []string{"conversation.write", "audit.read"}, Tenant: "shop"})
	if err != nil || len(sec.GetClientSecret()) < 43 {
		t.Fatalf("create: %v %v", sec, err)
	}
	grant := func(req *identityv1.IssueClientTokenRequest) (*identityv1.IssueClientTokenResponse, error) {
		req.GrantType = "client_credentials"
		return h.gw().IssueClientToken(from("10.1.1.1"), req)
	}
	tok, err := grant(&identityv1.IssueClientTokenRequest{ClientId: sec.GetClientId(), ClientSecret: sec.GetClientSecret(), Scope: "audit.read"})
	if err != nil || tok.GetTokenType() != "Bearer" || tok.GetScope() != "audit.read" || tok.GetExpiresIn() <= 0 {
		t.Fatalf("grant: %v %v", tok, err)
	}
	c := verify(t, h, tok.GetAccessToken())
	if c.Kind != accesstoken.KindClient || c.Subject != sec.GetClientId() || c.AAL != 0 || c.Scope != "audit.read" || c.Tenant != "shop" {
		t.Fatalf("client claims %+v", c)
	}
	// The secret with its first character changed (to another one: a
	// random secret starts with "x" one time in 64).
	wrong := "x"
	if sec.GetClientSecret()[0] == 'x' {
		wrong = "y"
	}
	_, err = grant(&identityv1.IssueClientTokenRequest{ClientId: sec.GetClientId(), ClientSecret: wrong + sec.GetClientSecret()[1:]})
	wantErr(t, err, codes.Unauthenticated, reasons.ClientAuthFailed)
	_, err = grant(&identityv1.IssueClientTokenRequest{ClientId: sec.GetClientId(), ClientSecret: sec.GetClientSecret(), Scope: "tokenvault.detokenize"})
	wantErr(t, err, codes.PermissionDenied, reasons.ScopeNotAllowed)
	// A client token is no person's: it cannot use account calls.
	_, err = h.gw().GetAccount(bearer(tok.GetAccessToken()), &identityv1.GetAccountRequest{})
	wantErr(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden)

	// private_key_jwt.
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: pub, Algorithm: "EdDSA"})
	kc, err := h.gw().CreateClient(ctx, &identityv1.CreateClientRequest{DisplayName: "Chat", Scopes: []string{"conversation.write"}, PublicJwk: string(jwk), Tenant: "shop"})
	if err != nil || kc.GetClientSecret() != "" {
		t.Fatalf("create with key: %v %v", kc, err)
	}
	privJWK, _ := json.Marshal(jose.JSONWebKey{Key: priv})
	_, err = h.gw().CreateClient(ctx, &identityv1.CreateClientRequest{DisplayName: "Bad", Scopes: []string{"a.b"}, PublicJwk: string(privJWK), Tenant: "shop"})
	wantErr(t, err, codes.InvalidArgument, reasons.PublicKeyInvalid)
	assertion := func(key ed25519.PrivateKey, claims map[string]any) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(claims)
		jws, err := s.Sign(b)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := jws.CompactSerialize()
		return out
	}
	now := time.Now().Unix()
	claims := map[string]any{"iss": kc.GetClientId(), "sub": kc.GetClientId(), "aud": app.Issuer(servertest.TrustDomain),
		"exp": now + 60, "iat": now, "jti": "jti-1"}
	a1 := assertion(priv, claims)
	kt, err := grant(&identityv1.IssueClientTokenRequest{ClientId: kc.GetClientId(), ClientAssertionType: auth.AssertionType, ClientAssertion: a1})
	if err != nil || kt.GetScope() != "conversation.write" {
		t.Fatalf("private_key_jwt: %v %v", kt, err)
	}
	_, err = grant(&identityv1.IssueClientTokenRequest{ClientId: kc.GetClientId(), ClientAssertionType: auth.AssertionType, ClientAssertion: a1})
	wantErr(t, err, codes.Unauthenticated, reasons.ClientAssertionInvalid)
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	for name, bad := range map[string]string{
		"other key":     assertion(otherPriv, map[string]any{"iss": kc.GetClientId(), "sub": kc.GetClientId(), "aud": app.Issuer(servertest.TrustDomain), "exp": now + 60, "jti": "jti-2"}),
		"wrong aud":     assertion(priv, map[string]any{"iss": kc.GetClientId(), "sub": kc.GetClientId(), "aud": "https://elsewhere", "exp": now + 60, "jti": "jti-3"}),
		"expired":       assertion(priv, map[string]any{"iss": kc.GetClientId(), "sub": kc.GetClientId(), "aud": app.Issuer(servertest.TrustDomain), "exp": now - 120, "jti": "jti-4"}),
		"too long":      assertion(priv, map[string]any{"iss": kc.GetClientId(), "sub": kc.GetClientId(), "aud": app.Issuer(servertest.TrustDomain), "exp": now + 3600, "jti": "jti-5"}),
		"other subject": assertion(priv, map[string]any{"iss": sec.GetClientId(), "sub": sec.GetClientId(), "aud": app.Issuer(servertest.TrustDomain), "exp": now + 60, "jti": "jti-6"}),
		"no jti":        assertion(priv, map[string]any{"iss": kc.GetClientId(), "sub": kc.GetClientId(), "aud": app.Issuer(servertest.TrustDomain), "exp": now + 60}),
	} {
		_, err := grant(&identityv1.IssueClientTokenRequest{ClientId: kc.GetClientId(), ClientAssertionType: auth.AssertionType, ClientAssertion: bad})
		if reasonOf(err) != reasons.ClientAssertionInvalid {
			t.Errorf("%s: %v", name, err)
		}
	}
	_, err = grant(&identityv1.IssueClientTokenRequest{ClientId: kc.GetClientId(), ClientSecret: "s", ClientAssertionType: auth.AssertionType, ClientAssertion: a1})
	wantErr(t, err, codes.InvalidArgument, reasons.ClientCredentialsAmbiguous)

	// Revocation: no new token, and the revocation is announced.
	if _, err := h.gw().RevokeClient(ctx, &identityv1.RevokeClientRequest{ClientId: sec.GetClientId()}); err != nil {
		t.Fatal(err)
	}
	_, err = grant(&identityv1.IssueClientTokenRequest{ClientId: sec.GetClientId(), ClientSecret: sec.GetClientSecret()})
	wantErr(t, err, codes.Unauthenticated, reasons.ClientAuthFailed)
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := h.client("audit").WatchRevocations(wctx, &identityv1.WatchRevocationsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		m, err := stream.Recv()
		if err == io.EOF || err != nil {
			t.Fatalf("no client revocation in the feed: %v", err)
		}
		if m.GetClientId() == sec.GetClientId() {
			break
		}
	}
}

// TestPasskey: a passkey registered with a software authenticator logs in
// without a password at aal2, and raises a password session to aal2; a
// ceremony is finished once.
func TestPasskey(t *testing.T) {
	h := sqlite(t, options{})
	tok := h.signUp("shop", "passkey@example.com")
	rp := virtualwebauthn.RelyingParty{Name: "Sotto", ID: "localhost", Origin: "http://localhost:8080"}
	begin, err := h.gw().BeginWebAuthnRegistration(bearer(tok.GetAccessToken()), &identityv1.BeginWebAuthnRegistrationRequest{DisplayName: "laptop"})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(string(begin.GetOptionsJson()))
	if err != nil {
		t.Fatal(err)
	}
	authn := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(opts.UserID)})
	cred := newEC2Credential()
	att := virtualwebauthn.CreateAttestationResponse(rp, authn, cred, *opts)
	fin, err := h.gw().FinishWebAuthnRegistration(bearer(tok.GetAccessToken()), &identityv1.FinishWebAuthnRegistrationRequest{
		CeremonyId: begin.GetCeremonyId(), CredentialJson: []byte(att)})
	if err != nil {
		t.Fatal(err)
	}
	if len(fin.GetRecoveryCodes()) == 0 {
		t.Fatal("first factor without recovery codes")
	}
	_, err = h.gw().FinishWebAuthnRegistration(bearer(tok.GetAccessToken()), &identityv1.FinishWebAuthnRegistrationRequest{
		CeremonyId: begin.GetCeremonyId(), CredentialJson: []byte(att)})
	wantErr(t, err, codes.NotFound, reasons.CeremonyNotFound)
	authn.AddCredential(cred)

	// Passwordless.
	lb, err := h.gw().BeginWebAuthnLogin(from("10.0.0.1"), &identityv1.BeginWebAuthnLoginRequest{Tenant: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	aopts, err := virtualwebauthn.ParseAssertionOptions(string(lb.GetOptionsJson()))
	if err != nil {
		t.Fatal(err)
	}
	asr := virtualwebauthn.CreateAssertionResponse(rp, authn, cred, *aopts)
	pl, err := h.gw().FinishWebAuthnLogin(from("10.0.0.1"), &identityv1.FinishWebAuthnLoginRequest{CeremonyId: lb.GetCeremonyId(), CredentialJson: []byte(asr)})
	if err != nil {
		t.Fatal(err)
	}
	c := verify(t, h, pl.GetTokens().GetAccessToken())
	if c.AAL != 2 || pl.GetTokens().GetRefreshToken() == "" {
		t.Fatalf("passkey login: %+v", c)
	}
	// Another shop's login does not find the passkey's account.
	ob, _ := h.gw().BeginWebAuthnLogin(from("10.0.0.1"), &identityv1.BeginWebAuthnLoginRequest{Tenant: "othershop"})
	oopts, _ := virtualwebauthn.ParseAssertionOptions(string(ob.GetOptionsJson()))
	_, err = h.gw().FinishWebAuthnLogin(from("10.0.0.1"), &identityv1.FinishWebAuthnLoginRequest{CeremonyId: ob.GetCeremonyId(),
		CredentialJson: []byte(virtualwebauthn.CreateAssertionResponse(rp, authn, cred, *oopts))})
	if status(err) != codes.Unauthenticated {
		t.Fatalf("passkey in another shop: %v", err)
	}

	// Step-up of a password session.
	pw := h.login("shop", "passkey@example.com", strongPassword)
	sb, err := h.gw().BeginWebAuthnLogin(bearer(pw.GetAccessToken()), &identityv1.BeginWebAuthnLoginRequest{})
	if err != nil {
		t.Fatal(err)
	}
	sopts, _ := virtualwebauthn.ParseAssertionOptions(string(sb.GetOptionsJson()))
	sf, err := h.gw().FinishWebAuthnLogin(bearer(pw.GetAccessToken()), &identityv1.FinishWebAuthnLoginRequest{CeremonyId: sb.GetCeremonyId(),
		CredentialJson: []byte(virtualwebauthn.CreateAssertionResponse(rp, authn, cred, *sopts))})
	if err != nil {
		t.Fatal(err)
	}
	if sf.GetTokens().GetAal() != 2 || sf.GetTokens().GetSessionId() != pw.GetSessionId() {
		t.Fatalf("step-up by passkey: %+v", sf.GetTokens())
	}
}

// TestPasswordHashUpgradedOnLogin: a hash made with weaker (older)
// parameters is replaced by one at the current parameters when its owner
// logs in.
func TestPasswordHashUpgradedOnLogin(t *testing.T) {
	h := sqlite(t, options{})
	tok := h.signUp("shop", "upgrade@example.com")
	old, err := password.NewHasher(password.Options{Params: password.Minimum})
	if err != nil {
		t.Fatal(err)
	}
	stale, err := old.Hash(context.Background(), strongPassword)
	if err != nil {
		t.Fatal(err)
	}
	id := verify(t, h, tok.GetAccessToken()).Subject
	if _, err := h.db.Exec(`UPDATE accounts SET password_hash = $1 WHERE account_id = $2`, stale, id); err != nil {
		t.Fatal(err)
	}
	h.login("shop", "upgrade@example.com", strongPassword)
	var stored string
	if err := h.db.QueryRow(`SELECT password_hash FROM accounts WHERE account_id = $1`, id).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored == stale || !strings.HasPrefix(stored, "$argon2id$v=19$m=47104,t=1,p=1$") {
		t.Fatalf("hash not upgraded: %s", stored[:40])
	}
	h.login("shop", "upgrade@example.com", strongPassword)
}

// TestListSessionsPages: sessions page newest first through signed page
// tokens bound to the account listed; a token of one account's list is
// refused for another's.
func TestListSessionsPages(t *testing.T) {
	h := sqlite(t, options{})
	first := h.signUp("shop", "pages@example.com")
	for range 2 {
		h.login("shop", "pages@example.com", strongPassword)
	}
	ctx := bearer(first.GetAccessToken())
	p1, err := h.gw().ListSessions(ctx, &identityv1.ListSessionsRequest{PageSize: 2})
	if err != nil || len(p1.GetSessions()) != 2 || p1.GetNextPageToken() == "" {
		t.Fatalf("page 1: %v %v", p1, err)
	}
	p2, err := h.gw().ListSessions(ctx, &identityv1.ListSessionsRequest{PageSize: 2, PageToken: p1.GetNextPageToken()})
	if err != nil || len(p2.GetSessions()) != 1 || p2.GetNextPageToken() != "" || p2.GetSessions()[0].GetSessionId() != first.GetSessionId() {
		t.Fatalf("page 2: %v %v", p2, err)
	}
	other := h.signUp("shop", "pages2@example.com")
	_, err = h.gw().ListSessions(bearer(other.GetAccessToken()), &identityv1.ListSessionsRequest{PageSize: 2, PageToken: p1.GetNextPageToken()})
	wantErr(t, err, codes.InvalidArgument, reasons.PageTokenInvalid)
}
