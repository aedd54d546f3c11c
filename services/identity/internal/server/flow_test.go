package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/services/identity/internal/app"
	"github.com/sottohq/sotto/services/identity/internal/auth"
	"github.com/sottohq/sotto/services/identity/internal/notify"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
)

// verify checks an access token as another service would: with the JWK Set
// from GetJwks.
func verify(t *testing.T, h *harness, token string) *accesstoken.Claims {
	t.Helper()
	resp, err := h.client("tokenvault").GetJwks(context.Background(), &identityv1.GetJwksRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetMaxAge().AsDuration() <= 0 {
		t.Fatal("no max age on the JWK Set")
	}
	set, err := accesstoken.ParseJWKS(resp.GetJwksJson())
	if err != nil {
		t.Fatal(err)
	}
	v, err := accesstoken.NewVerifier(set, app.Issuer(servertest.TrustDomain))
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("access token does not verify: %v", err)
	}
	return c
}

// TestCustomerJourney: sign up, verify the address from the mailbox, log in,
// read the account (masked address), refresh, log out; the revoked
// session's token is refused at once; the mailbox and the audit log hold
// no address.
func TestCustomerJourney(t *testing.T) {
	h := sqlite(t, options{})
	ctx := from("10.0.0.1")
	const email = "Jane.Doe@Example.com"
	if _, err := h.gw().SignUp(ctx, &identityv1.SignUpRequest{Tenant: "shop", Email: email, Password: strongPassword, Phone: "+4915112345678"}); err != nil {
		t.Fatal(err)
	}
	e := h.mail(email, notify.KindVerifyEmail)
	if e.RecipientMasked != "j•••@e•••.com" || len(e.Code) < 40 || !strings.HasPrefix(e.AccountID, "acc_") {
		t.Fatalf("mailbox entry %+v", e)
	}
	if _, err := h.gw().VerifyEmail(ctx, &identityv1.VerifyEmailRequest{Code: e.Code}); err != nil {
		t.Fatal(err)
	}
	_, err := h.gw().VerifyEmail(ctx, &identityv1.VerifyEmailRequest{Code: e.Code})
	wantErr(t, err, codes.Unauthenticated, reasons.CodeInvalid)

	login, err := h.gw().Login(ctx, &identityv1.LoginRequest{Tenant: "shop", Email: "jane.doe@example.com", Password: strongPassword})
	if err != nil {
		t.Fatal(err)
	}
	tok := login.GetTokens()
	if login.GetSecondFactorAvailable() || login.GetSecondFactorEnrollmentRequired() || tok.GetAal() != 1 {
		t.Fatalf("login: %+v", login)
	}
	if len(tok.GetRefreshToken()) < 43 || !tok.GetSessionExpiresAt().AsTime().After(time.Now().Add(23*time.Hour)) {
		t.Fatalf("tokens: refresh %d chars, session until %v", len(tok.GetRefreshToken()), tok.GetSessionExpiresAt().AsTime())
	}
	c := verify(t, h, tok.GetAccessToken())
	if c.Subject != e.AccountID || c.Kind != accesstoken.KindCustomer || c.Tenant != "shop" || c.SessionID != tok.GetSessionId() ||
		c.AAL != 1 || len(c.AMR) != 1 || c.AMR[0] != "pwd" || c.AuthTime.IsZero() || len(c.Roles) != 0 {
		t.Fatalf("claims %+v", c)
	}

	acct, err := h.gw().GetAccount(bearer(tok.GetAccessToken()), &identityv1.GetAccountRequest{})
	if err != nil {
		t.Fatal(err)
	}
	a := acct.GetAccount()
	if a.GetAccountId() != e.AccountID || a.GetEmailMasked() != "j•••@e•••.com" || !a.GetEmailVerified() ||
		a.GetKind() != identityv1.AccountKind_ACCOUNT_KIND_CUSTOMER || a.GetTenant() != "shop" {
		t.Fatalf("account %+v", a)
	}

	ref, err := h.gw().RefreshSession(ctx, &identityv1.RefreshSessionRequest{RefreshToken: tok.GetRefreshToken()})
	if err != nil {
		t.Fatal(err)
	}
	if ref.GetTokens().GetRefreshToken() == tok.GetRefreshToken() || ref.GetTokens().GetSessionId() != tok.GetSessionId() {
		t.Fatal("refresh did not rotate within the session")
	}
	sessions, err := h.gw().ListSessions(bearer(ref.GetTokens().GetAccessToken()), &identityv1.ListSessionsRequest{})
	if err != nil || len(sessions.GetSessions()) != 1 || !sessions.GetSessions()[0].GetCurrent() {
		t.Fatalf("sessions: %v %v", sessions, err)
	}

	if _, err := h.gw().Logout(bearer(ref.GetTokens().GetAccessToken()), &identityv1.LogoutRequest{}); err != nil {
		t.Fatal(err)
	}
	// The token is still within its lifetime: identity refuses it anyway.
	_, err = h.gw().GetAccount(bearer(ref.GetTokens().GetAccessToken()), &identityv1.GetAccountRequest{})
	if err == nil || status(err) != codes.Unauthenticated {
		t.Fatalf("a logged-out session's token was accepted: %v", err)
	}
	_, err = h.gw().RefreshSession(ctx, &identityv1.RefreshSessionRequest{RefreshToken: ref.GetTokens().GetRefreshToken()})
	wantErr(t, err, codes.Unauthenticated, reasons.RefreshTokenInvalid)

	// No address anywhere identity writes.
	raw, err := json.Marshal(h.audited())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"jane", "example", "4915112345678"} {
		if strings.Contains(strings.ToLower(string(raw)), s) {
			t.Errorf("audit events contain %q", s)
		}
	}
	for _, action := range []auditclient.Action{auth.ActionSignUp, auth.ActionVerifyEmail, auth.ActionLogin, auth.ActionLogout} {
		if h.countAudited(action, auditclient.Success) == 0 {
			t.Errorf("no %s event", action)
		}
	}
	var stored int
	if err := h.db.QueryRow(`SELECT COUNT(*) FROM accounts WHERE email_token LIKE '%@%' OR phone_token LIKE '%4915%'`).Scan(&stored); err != nil || stored != 0 {
		t.Fatalf("raw contact details in accounts: %d %v", stored, err)
	}
}
