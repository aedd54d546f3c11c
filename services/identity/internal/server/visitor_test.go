package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/services/identity/internal/app"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
)

// TestVisitorSession: the gateway gets an anonymous visitor's token for an
// existing shop: kind visitor, a fresh vis_ id as subject and sid, aal 0,
// no roles, the shop as tenant, living the configured 30 minutes. A shop
// the vault does not serve is TENANT_UNKNOWN, the answer sign-up gives;
// a confirmed shop is not asked about again for every visitor.
func TestVisitorSession(t *testing.T) {
	h := sqlite(t, options{})
	ctx := from("10.0.0.7")
	resp, err := h.gw().CreateVisitorSession(ctx, &identityv1.CreateVisitorSessionRequest{Tenant: "shop1"})
	if err != nil {
		t.Fatalf("CreateVisitorSession: %v", err)
	}
	verifier, err := accesstoken.NewVerifier(h.app.Keys, app.Issuer(servertest.TrustDomain))
	if err != nil {
		t.Fatal(err)
	}
	c, err := verifier.Verify(context.Background(), resp.GetAccessToken())
	if err != nil {
		t.Fatalf("the visitor token does not verify: %v", err)
	}
	if c.Kind != accesstoken.KindVisitor || c.Subject != resp.GetVisitorId() || c.SessionID != c.Subject ||
		!accesstoken.IsVisitorID(c.Subject) || c.Tenant != "shop1" || c.AAL != accesstoken.AALNone || len(c.Roles) > 0 || len(c.AMR) > 0 {
		t.Errorf("visitor claims: %+v (visitor id %q)", c, resp.GetVisitorId())
	}
	if got := c.Expiry.Sub(c.IssuedAt); got != 30*time.Minute {
		t.Errorf("visitor token lives %v, want the default 30m", got)
	}
	if !resp.GetExpireTime().AsTime().Equal(c.Expiry) {
		t.Errorf("expire_time %v, token exp %v", resp.GetExpireTime().AsTime(), c.Expiry)
	}

	// Another visitor is another id; the shop is not looked up again.
	lookups := h.vault.Lookups.Load()
	again, err := h.gw().CreateVisitorSession(ctx, &identityv1.CreateVisitorSessionRequest{Tenant: "shop1"})
	if err != nil || again.GetVisitorId() == resp.GetVisitorId() {
		t.Fatalf("second visitor: %v, id %q (first %q)", err, again.GetVisitorId(), resp.GetVisitorId())
	}
	if n := h.vault.Lookups.Load() - lookups; n != 0 {
		t.Errorf("a confirmed shop was looked up %d more times", n)
	}

	// An unknown shop: the same answer as sign-up's.
	h.vault.Unserve("ghost")
	_, err = h.gw().CreateVisitorSession(ctx, &identityv1.CreateVisitorSessionRequest{Tenant: "ghost"})
	wantErr(t, err, codes.InvalidArgument, reasons.TenantUnknown)
	_, err = h.gw().SignUp(ctx, &identityv1.SignUpRequest{Tenant: "ghost", Email: "a@example.com", Password: strongPassword})
	wantErr(t, err, codes.InvalidArgument, reasons.TenantUnknown)
	// No shop at all, or not a shop's name: the request is refused.
	for _, tenant := range []string{"", "Shop One", strings.Repeat("a", 64)} {
		if _, err := h.gw().CreateVisitorSession(ctx, &identityv1.CreateVisitorSessionRequest{Tenant: tenant}); status(err) != codes.InvalidArgument {
			t.Errorf("tenant %q: %v, want InvalidArgument", tenant, err)
		}
	}
	// Only the gateway asks for visitor sessions.
	if _, err := h.client("consent").CreateVisitorSession(ctx, &identityv1.CreateVisitorSessionRequest{Tenant: "shop1"}); status(err) != codes.PermissionDenied {
		t.Errorf("consent made a visitor session: %v", err)
	}
}

// TestVisitorTokenIsNoAccount: every identity call about "the caller's
// account" refuses a visitor's token (it has none), the Optional WebAuthn
// login too; nothing treats it as a customer.
func TestVisitorTokenIsNoAccount(t *testing.T) {
	h := sqlite(t, options{})
	resp, err := h.gw().CreateVisitorSession(from("10.0.0.7"), &identityv1.CreateVisitorSessionRequest{Tenant: "shop1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := bearer(resp.GetAccessToken())
	calls := map[string]func() error{
		"GetAccount": func() error { _, err := h.gw().GetAccount(ctx, &identityv1.GetAccountRequest{}); return err },
		"Logout":     func() error { _, err := h.gw().Logout(ctx, &identityv1.LogoutRequest{}); return err },
		"ListSessions": func() error {
			_, err := h.gw().ListSessions(ctx, &identityv1.ListSessionsRequest{})
			return err
		},
		"BeginTotpEnrollment": func() error {
			_, err := h.gw().BeginTotpEnrollment(ctx, &identityv1.BeginTotpEnrollmentRequest{})
			return err
		},
		"StepUp": func() error {
			_, err := h.gw().StepUp(ctx, &identityv1.StepUpRequest{Proof: &identityv1.StepUpRequest_TotpCode{TotpCode: "123456"}})
			return err
		},
		"BeginWebAuthnLogin": func() error {
			_, err := h.gw().BeginWebAuthnLogin(ctx, &identityv1.BeginWebAuthnLoginRequest{})
			return err
		},
	}
	for name, call := range calls {
		err := call()
		if status(err) != codes.PermissionDenied || reasonOf(err) != enduser.ReasonEndUserForbidden {
			t.Errorf("%s with a visitor token: %v, want PermissionDenied %s", name, err, enduser.ReasonEndUserForbidden)
		}
	}
}
