package enduser_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/accesstoken/accesstokentest"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
)

// TestRevalidateFollowsTheFeed: the context a call was authenticated with
// answers Revalidate from the revocation set as it is now: nil until the
// call's session is revoked, TOKEN_REVOKED after, and nil on a context
// without an end user.
func TestRevalidateFollowsTheFeed(t *testing.T) {
	set, f, _ := startSet(t)
	f.heartbeat("1")
	const issuer = "spiffe://sotto.test/identity"
	id := accesstokentest.New(t, issuer)
	verifier, err := accesstoken.NewVerifier(id.Keys, issuer)
	if err != nil {
		t.Fatal(err)
	}
	const method = "/test.Service/Stream"
	a, err := enduser.NewAuthenticator(verifier, set, enduser.Policy{method: {Require: enduser.User}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := id.Issuer.Issue(context.Background(), accesstoken.Claims{Subject: "acc_1", Kind: accesstoken.KindCustomer, Tenant: "shop",
		SessionID: "ses_1", AAL: accesstoken.AAL1, AMR: []string{"pwd"}, AuthTime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	in := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+tok))
	var call context.Context
	if _, err := a.UnaryInterceptor()(in, nil, &grpc.UnaryServerInfo{FullMethod: method}, func(ctx context.Context, _ any) (any, error) {
		call = ctx
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := enduser.Revalidate(call); err != nil {
		t.Fatalf("before the revocation: %v", err)
	}
	f.send(enduser.Revocation{Cursor: "2", SessionID: "ses_1"})
	wantErr(t, "after the revocation", enduser.Revalidate(call), errs.Unauthenticated, accesstoken.ReasonTokenRevoked)
	if err := enduser.Revalidate(context.Background()); err != nil {
		t.Errorf("without an end user: %v", err)
	}
}
