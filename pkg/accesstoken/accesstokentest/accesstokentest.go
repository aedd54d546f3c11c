// Package accesstokentest gives tests identity's signing side without
// identity: a real local keyring with the identity-token key, an Issuer
// over it, and the JWK Set a verifier would fetch, so tests of other
// services mint and verify real access tokens.
package accesstokentest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/keys"
)

// Identity is a test's stand-in for identity's token keys.
type Identity struct {
	Keyring *keys.Local
	Issuer  *accesstoken.Issuer
	// Keys is the issuer's JWK Set as it was made (a KeySource).
	Keys *accesstoken.KeySet
}

// New makes the keyring (in t's temporary directory), the issuer named
// issuer (spiffe://<trust-domain>/identity) and its key set.
func New(t testing.TB, issuer string) *Identity {
	t.Helper()
	ctx := context.Background()
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "identity-keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := km.EnsureKey(ctx, accesstoken.KeyName, keys.TypeEd25519); err != nil {
		t.Fatal(err)
	}
	iss, err := accesstoken.NewIssuer(km, accesstoken.KeyName, issuer)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := iss.JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set, err := accesstoken.ParseJWKS(jwks)
	if err != nil {
		t.Fatal(err)
	}
	return &Identity{Keyring: km, Issuer: iss, Keys: set}
}

// Verifier verifies the issuer's tokens against its key set.
func (id *Identity) Verifier(t testing.TB, issuer string) *accesstoken.Verifier {
	t.Helper()
	v, err := accesstoken.NewVerifier(id.Keys, issuer)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
