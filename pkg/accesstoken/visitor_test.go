package accesstoken_test

import (
	"context"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/errs"
)

const testVisitorID = "vis_abcdefghijklmnopqrstuvwxyz"

func visitor() accesstoken.Claims {
	return accesstoken.Claims{Subject: testVisitorID, Kind: accesstoken.KindVisitor, Tenant: "shop1", SessionID: testVisitorID}
}

// TestVisitorTokens: a visitor token lives its own (longer) lifetime,
// verifies with no aal, roles or account, and the previous key stays
// published long enough to verify it after a rotation.
func TestVisitorTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	iss, err := accesstoken.NewIssuer(f.km, accesstoken.KeyName, testIssuer, accesstoken.WithIssuerClock(f.clock),
		accesstoken.WithVisitorLifetime(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	tok, c, err := iss.IssueClaims(ctx, visitor())
	if err != nil {
		t.Fatalf("IssueClaims(visitor): %v", err)
	}
	if !c.Expiry.Equal(t0.Add(30 * time.Minute)) {
		t.Errorf("visitor token exp = %v, want 30 minutes after iat", c.Expiry)
	}
	got, err := f.verifier.Verify(ctx, tok)
	if err != nil {
		t.Fatalf("Verify(visitor): %v", err)
	}
	if got.Kind != accesstoken.KindVisitor || got.AAL != accesstoken.AALNone || len(got.Roles) > 0 || got.Tenant != "shop1" {
		t.Errorf("visitor claims: %+v", got)
	}
	// People's tokens keep their own lifetime.
	_, pc, err := iss.IssueClaims(ctx, customer())
	if err != nil || !pc.Expiry.Equal(t0.Add(accesstoken.DefaultLifetime)) {
		t.Errorf("a customer's token from the same issuer: exp %v, %v", pc.Expiry, err)
	}
	if _, err := accesstoken.NewIssuer(f.km, accesstoken.KeyName, testIssuer, accesstoken.WithVisitorLifetime(2*time.Hour)); err == nil {
		t.Error("an issuer accepted a visitor lifetime over MaxVisitorLifetime")
	}
}

// TestVisitorClaimsRefused: a visitor token never carries what a person's
// authentication gives (aal, amr, auth_time, roles) nor an integrator's
// scopes, always names a shop, and its subject is a visitor id; the issuer
// refuses to sign such claims and the verifier refuses them signed by the
// genuine key.
func TestVisitorClaimsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, accesstoken.WithCacheSize(0))
	ctx := context.Background()
	for name, mutate := range map[string]func(c *accesstoken.Claims){
		"aal 1":            func(c *accesstoken.Claims) { c.AAL = accesstoken.AAL1 },
		"aal 2":            func(c *accesstoken.Claims) { c.AAL = accesstoken.AAL2 },
		"amr":              func(c *accesstoken.Claims) { c.AMR = []string{"pwd"} },
		"auth_time":        func(c *accesstoken.Claims) { c.AuthTime = t0.Add(-time.Minute) },
		"admin role":       func(c *accesstoken.Claims) { c.Roles = []string{accesstoken.RoleAdmin} },
		"support role":     func(c *accesstoken.Claims) { c.Roles = []string{accesstoken.RoleSupportAgent} },
		"scope":            func(c *accesstoken.Claims) { c.Scope = "conversation.write" },
		"no tenant":        func(c *accesstoken.Claims) { c.Tenant = "" },
		"account subject":  func(c *accesstoken.Claims) { c.Subject, c.SessionID = "acc_123", "acc_123" },
		"short visitor id": func(c *accesstoken.Claims) { c.Subject, c.SessionID = "vis_abc", "vis_abc" },
		"upper-case id": func(c *accesstoken.Claims) {
			c.Subject, c.SessionID = "vis_ABCDEFGHIJKLMNOPQRSTUVWXYZ", "vis_ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		},
		"sid of a session":  func(c *accesstoken.Claims) { c.SessionID = "ses_1" },
		"no subject at all": func(c *accesstoken.Claims) { c.Subject = "" },
	} {
		c := visitor()
		mutate(&c)
		_, err := f.issuer.Issue(ctx, c)
		if errs.KindOf(err) != errs.InvalidArgument || errs.ReasonOf(err) != accesstoken.ReasonClaimsInvalid {
			t.Errorf("%s: Issue = %v; want InvalidArgument CLAIMS_INVALID", name, err)
		}
	}

	// The same, signed raw by the genuine key: the verifier's own check.
	base := func() map[string]any {
		return map[string]any{
			"iss": testIssuer, "aud": []string{"sotto"}, "sub": testVisitorID, "kind": "visitor",
			"tenant": "shop1", "sid": testVisitorID, "aal": 0,
			"iat": t0.Unix(), "nbf": t0.Unix(), "exp": t0.Add(30 * time.Minute).Unix(), "jti": "jti-v",
		}
	}
	if _, err := f.verifier.Verify(ctx, signRaw(t, f.km, goodHeader(), base())); err != nil {
		t.Fatalf("a well-made raw visitor token was refused: %v", err)
	}
	for name, claims := range map[string]map[string]any{
		"aal 2":          with(base(), "aal", 2),
		"roles":          with(base(), "roles", []string{"admin"}),
		"amr":            with(base(), "amr", []string{"pwd", "otp"}),
		"auth_time":      with(base(), "auth_time", t0.Unix()),
		"scope":          with(base(), "scope", "audit.read"),
		"no tenant":      with(base(), "tenant", nil),
		"account sub":    with(with(base(), "sub", "acc_123"), "sid", "acc_123"),
		"lives too long": with(base(), "exp", t0.Add(accesstoken.MaxVisitorLifetime+time.Minute).Unix()),
	} {
		_, err := f.verifier.Verify(ctx, signRaw(t, f.km, goodHeader(), claims))
		if errs.KindOf(err) != errs.Unauthenticated || errs.ReasonOf(err) != accesstoken.ReasonTokenInvalid {
			t.Errorf("%s: Verify = %v; want Unauthenticated TOKEN_INVALID", name, err)
		}
	}
	// A customer's token may not live a visitor's hour.
	long := with(goodClaims(), "exp", t0.Add(30*time.Minute).Unix())
	_, err := f.verifier.Verify(ctx, signRaw(t, f.km, goodHeader(), long))
	wantReason(t, err, errs.Unauthenticated, accesstoken.ReasonTokenInvalid)
}
