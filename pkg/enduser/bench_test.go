package enduser_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/enduser"
)

// BenchmarkInterceptor is the end-user half of a request, in process:
// metadata, verification (1,000 sessions presenting their tokens again),
// revocation check against a set of 1,000 revoked sessions, step-up rule,
// principal and audit subject on the context.
func BenchmarkInterceptor(b *testing.B) {
	km, err := newKeyringB(b)
	if err != nil {
		b.Fatal(err)
	}
	iss, err := accesstoken.NewIssuer(km, accesstoken.KeyName, identityID)
	if err != nil {
		b.Fatal(err)
	}
	data, err := iss.JWKS(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	set, err := accesstoken.ParseJWKS(data)
	if err != nil {
		b.Fatal(err)
	}
	v, err := accesstoken.NewVerifier(set, identityID)
	if err != nil {
		b.Fatal(err)
	}
	f := newFeed()
	revs := enduser.NewRevocations(f)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = revs.Run(ctx) }()
	for i := range 1000 {
		f.send(enduser.Revocation{SessionID: fmt.Sprintf("revoked_%d", i), RevokeTime: time.Now(), ExpireTime: time.Now().Add(5 * time.Minute)})
	}
	f.heartbeat("")
	const method = "/sotto.shop.v1.ShopService/Reveal"
	a, err := enduser.NewAuthenticator(v, revs, enduser.Policy{method: {Require: enduser.User, AAL: 2, MaxAge: 5 * time.Minute}})
	if err != nil {
		b.Fatal(err)
	}
	ctxs := make([]context.Context, 1000)
	for i := range ctxs {
		tok, err := iss.Issue(context.Background(), accesstoken.Claims{
			Subject: fmt.Sprintf("acc_%d", i), Kind: accesstoken.KindCustomer, Tenant: "shop1", SessionID: fmt.Sprintf("ses_%d", i),
			AAL: 2, AMR: []string{"pwd", "otp"}, AuthTime: time.Now(),
		})
		if err != nil {
			b.Fatal(err)
		}
		ctxs[i] = metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+tok))
	}
	interceptor := a.UnaryInterceptor()
	info := &grpc.UnaryServerInfo{FullMethod: method}
	handler := func(ctx context.Context, _ any) (any, error) {
		if _, ok := enduser.FromContext(ctx); !ok {
			return nil, fmt.Errorf("no end user")
		}
		return nil, nil
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := interceptor(ctxs[i%len(ctxs)], nil, info, handler); err != nil {
			b.Fatal(err)
		}
	}
}
