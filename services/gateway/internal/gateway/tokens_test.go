package gateway

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/keys"
)

// The tests' access tokens are real: signed by an identity-token key in a
// local keyring, verified by pkg/accesstoken's Verifier over that
// issuer's JWK Set.
const testIssuer = "spiffe://sotto.test/identity"

type testTokens struct {
	issuer   *accesstoken.Issuer
	verifier *accesstoken.Verifier
}

// Authenticate is the gateway's Authenticator (revocation is pkg/enduser's
// and tested there).
func (tt *testTokens) Authenticate(ctx context.Context, raw string) (*accesstoken.Claims, error) {
	return tt.verifier.Verify(ctx, raw)
}

var sharedTokens = sync.OnceValues(func() (*testTokens, error) {
	dir, err := os.MkdirTemp("", "gateway-tokens")
	if err != nil {
		return nil, err
	}
	km, err := keys.NewLocal(filepath.Join(dir, "keyring.json"))
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if err := km.EnsureKey(ctx, accesstoken.KeyName, keys.TypeEd25519); err != nil {
		return nil, err
	}
	iss, err := accesstoken.NewIssuer(km, accesstoken.KeyName, testIssuer)
	if err != nil {
		return nil, err
	}
	jwks, err := iss.JWKS(ctx)
	if err != nil {
		return nil, err
	}
	set, err := accesstoken.ParseJWKS(jwks)
	if err != nil {
		return nil, err
	}
	v, err := accesstoken.NewVerifier(set, testIssuer)
	if err != nil {
		return nil, err
	}
	return &testTokens{issuer: iss, verifier: v}, nil
})

func tokens(t testing.TB) *testTokens {
	t.Helper()
	tt, err := sharedTokens()
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

// token issues an access token with c's person-specific claims.
func (tt *testTokens) token(t testing.TB, c accesstoken.Claims) string {
	t.Helper()
	if c.Subject == "" {
		c.Subject = "acc_test"
	}
	if c.SessionID == "" {
		c.SessionID = "ses_test"
	}
	if c.AuthTime.IsZero() {
		c.AuthTime = time.Now()
	}
	tok, err := tt.issuer.Issue(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// operatorToken is a privacy officer's token at aal2: what the operator
// routes (the audit log) need.
func operatorToken(t testing.TB) string {
	return tokens(t).token(t, accesstoken.Claims{Kind: accesstoken.KindStaff, Roles: []string{accesstoken.RolePrivacyOfficer}, AAL: accesstoken.AAL2, AMR: []string{"pwd", "otp"}})
}

// adminToken is an administrator's at aal2.
func adminToken(t testing.TB) string {
	return tokens(t).token(t, accesstoken.Claims{Kind: accesstoken.KindStaff, Roles: []string{accesstoken.RoleAdmin}, AAL: accesstoken.AAL2, AMR: []string{"pwd", "otp"}})
}

// customerToken is a signed-in customer's at aal1.
func customerToken(t testing.TB) string {
	return tokens(t).token(t, accesstoken.Claims{Kind: accesstoken.KindCustomer, Tenant: "shop", AAL: accesstoken.AAL1, AMR: []string{"pwd"}})
}
