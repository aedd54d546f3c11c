package accesstoken_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/errs"
)

// benchTokens issues n tokens of distinct sessions, as a service sees them.
func benchTokens(b *testing.B, f *fixture, n int) []string {
	b.Helper()
	toks := make([]string, n)
	for i := range toks {
		c := customer()
		c.SessionID = fmt.Sprintf("ses_%d", i)
		toks[i] = f.issue(b, c)
	}
	return toks
}

// BenchmarkVerify is the interceptor's cost per request: 1,000 live sessions
// each presenting its token again and again (their 5 minutes), so after the
// first round every verification is a remembered token (SHA-256, an LRU
// lookup, the key and time checks, a copy of the claims).
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	set := keySetOf(b, f)
	v, err := accesstoken.NewVerifier(set, testIssuer, accesstoken.WithClock(f.clock))
	if err != nil {
		b.Fatal(err)
	}
	toks := benchTokens(b, f, 1000)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := v.Verify(ctx, toks[i%len(toks)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyUncached is a token seen for the first time: parse, one
// Ed25519 verification, JSON decode of the claims and the checks.
func BenchmarkVerifyUncached(b *testing.B) {
	f := newFixture(b)
	set := keySetOf(b, f)
	v, err := accesstoken.NewVerifier(set, testIssuer, accesstoken.WithClock(f.clock), accesstoken.WithCacheSize(0))
	if err != nil {
		b.Fatal(err)
	}
	toks := benchTokens(b, f, 100)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := v.Verify(ctx, toks[i%len(toks)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssue signs through the local keyring (Vault Transit adds its
// round trip in production).
func BenchmarkIssue(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.issuer.Issue(ctx, customer()); err != nil {
			b.Fatal(err)
		}
	}
}

func keySetOf(b *testing.B, f *fixture) *accesstoken.KeySet {
	b.Helper()
	data, err := f.issuer.JWKS(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	set, err := accesstoken.ParseJWKS(data)
	if err != nil {
		b.Fatal(err)
	}
	return set
}

// FuzzVerify: whatever arrives in the authorization header, Verify answers
// Unauthenticated with a reason and never panics, and never accepts what the
// genuine key did not sign.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	good := fx.issue(f, customer())
	f.Add(good)
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add(`{"payload":"e30","signatures":[]}`)
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := fx.verifier.Verify(context.Background(), tok)
		if err == nil {
			// Only the genuine token (or an encoding of the same signed
			// bytes) may pass.
			if c.Subject != "acc_123" || c.SessionID != "ses_1" {
				t.Fatalf("accepted a token the key did not sign: %q", tok)
			}
			return
		}
		if k := errs.KindOf(err); k != errs.Unauthenticated {
			t.Fatalf("Verify = %v; want Unauthenticated", err)
		}
	})
}
