package enduser_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
)

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	if err := shopPolicy.Check(); err != nil {
		t.Fatalf("shop policy: %v", err)
	}
	for name, p := range map[string]enduser.Policy{
		"not a full method": {"Reveal": {Require: enduser.User}},
		"no service":        {"/Reveal": {Require: enduser.User}},
		"conditions without User (forgot Require)": {
			"/shop.v1.Shop/Reveal": {AAL: 2, MaxAge: 5 * time.Minute},
		},
		"optional with roles": {"/shop.v1.Shop/Reveal": {Require: enduser.Optional, Roles: []string{"admin"}}},
		"aal 3":               {"/shop.v1.Shop/Reveal": {Require: enduser.User, AAL: 3}},
		"negative age":        {"/shop.v1.Shop/Reveal": {Require: enduser.User, MaxAge: -time.Second}},
		"unknown kind":        {"/shop.v1.Shop/Reveal": {Require: enduser.User, Kinds: []accesstoken.Kind{"robot"}}},
		"unknown requirement": {"/shop.v1.Shop/Reveal": {Require: 7}},
		"health listed":       {"/grpc.health.v1.Health/Check": {Require: enduser.None}},
		"workload rule with conditions but no requirement": {"/shop.v1.Shop/Reveal": {Require: enduser.None,
			Workloads: map[string]enduser.Rule{"gateway": {AAL: 2}}}},
		"workload rule with workloads": {"/shop.v1.Shop/Reveal": {Require: enduser.None,
			Workloads: map[string]enduser.Rule{"gateway": {Require: enduser.User,
				Workloads: map[string]enduser.Rule{"sotto-cli": {Require: enduser.None}}}}}},
		"wildcard workload": {"/shop.v1.Shop/Reveal": {Require: enduser.None,
			Workloads: map[string]enduser.Rule{"*": {Require: enduser.User}}}},
		"workload path": {"/shop.v1.Shop/Reveal": {Require: enduser.None,
			Workloads: map[string]enduser.Rule{"ns/gateway": {Require: enduser.User}}}},
		"empty workload": {"/shop.v1.Shop/Reveal": {Require: enduser.None,
			Workloads: map[string]enduser.Rule{"": {Require: enduser.User}}}},
		"alternatives with conditions of their own": {"/shop.v1.Shop/Reveal": {Require: enduser.User, AAL: 1,
			AnyOf: []enduser.Rule{{Require: enduser.User}}}},
		"alternatives without User": {"/shop.v1.Shop/Reveal": {Require: enduser.Optional,
			AnyOf: []enduser.Rule{{Require: enduser.User}}}},
		"an alternative that is not User": {"/shop.v1.Shop/Reveal": {Require: enduser.User,
			AnyOf: []enduser.Rule{{Require: enduser.Optional}}}},
		"nested alternatives": {"/shop.v1.Shop/Reveal": {Require: enduser.User,
			AnyOf: []enduser.Rule{{Require: enduser.User, AnyOf: []enduser.Rule{{Require: enduser.User}}}}}},
		"a bad alternative": {"/shop.v1.Shop/Reveal": {Require: enduser.User,
			AnyOf: []enduser.Rule{{Require: enduser.User, AAL: 3}}}},
		"alternatives with workloads": {"/shop.v1.Shop/Reveal": {Require: enduser.User,
			AnyOf: []enduser.Rule{{Require: enduser.User, Workloads: map[string]enduser.Rule{"gateway": {Require: enduser.User}}}}}},
	} {
		if err := p.Check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPolicyMustCoverExactlyTheServedMethods(t *testing.T) {
	t.Parallel()
	served := []string{
		testpb.TestService_EmptyCall_FullMethodName, testpb.TestService_UnaryCall_FullMethodName,
		testpb.TestService_CacheableUnaryCall_FullMethodName, testpb.TestService_StreamingOutputCall_FullMethodName,
		testpb.TestService_StreamingInputCall_FullMethodName, testpb.TestService_FullDuplexCall_FullMethodName,
		testpb.TestService_HalfDuplexCall_FullMethodName, testpb.TestService_UnimplementedCall_FullMethodName,
		"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch",
	}
	if err := shopPolicy.CheckMethods(served); err != nil {
		t.Fatalf("complete table refused: %v", err)
	}

	// A method without a rule: a new RPC nobody decided about.
	missing := enduser.Policy{}
	for m, r := range shopPolicy {
		if m != testpb.TestService_CacheableUnaryCall_FullMethodName {
			missing[m] = r
		}
	}
	if err := missing.CheckMethods(served); err == nil || !strings.Contains(err.Error(), "no rule for "+testpb.TestService_CacheableUnaryCall_FullMethodName) {
		t.Errorf("missing rule: %v", err)
	}

	// A typo: the rule names a method that does not exist, so the real one
	// has none.
	typo := enduser.Policy{}
	for m, r := range shopPolicy {
		if m == testpb.TestService_CacheableUnaryCall_FullMethodName {
			m = "/grpc.testing.TestService/CachableUnaryCall"
		}
		typo[m] = r
	}
	err := typo.CheckMethods(served)
	if err == nil || !strings.Contains(err.Error(), "CachableUnaryCall, which this service does not serve") {
		t.Errorf("misspelt method: %v", err)
	}
}

func TestNewAuthenticatorRefusesABadPolicy(t *testing.T) {
	t.Parallel()
	v, err := accesstoken.NewVerifier(&accesstoken.KeySet{}, identityID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enduser.NewAuthenticator(v, enduser.NewRevocations(newFeed()), enduser.Policy{"/a.B/C": {AAL: 2}}); err == nil {
		t.Error("a rule with conditions but no requirement was accepted")
	}
	if _, err := enduser.NewAuthenticator(v, nil, shopPolicy); err == nil {
		t.Error("an authenticator without revocations was accepted")
	}
}

// TestMethodWithoutRuleIsRefused: should a method escape CheckMethods, the
// interceptor refuses it rather than let it through.
func TestMethodWithoutRuleIsRefused(t *testing.T) {
	t.Parallel()
	v, err := accesstoken.NewVerifier(&accesstoken.KeySet{}, identityID)
	if err != nil {
		t.Fatal(err)
	}
	a, err := enduser.NewAuthenticator(v, enduser.NewRevocations(newFeed()), enduser.Policy{"/a.B/Listed": {Require: enduser.None}})
	if err != nil {
		t.Fatal(err)
	}
	called := false
	handler := func(context.Context, any) (any, error) { called = true; return nil, nil }
	_, err = a.UnaryInterceptor()(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/a.B/Unlisted"}, handler)
	wantErr(t, "unlisted method", err, errs.PermissionDenied, enduser.ReasonNoEndUserRule)
	if called {
		t.Error("handler ran for a method without a rule")
	}
	if _, err := a.UnaryInterceptor()(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/grpc.health.v1.Health/Check"}, handler); err != nil || !called {
		t.Errorf("health check: %v", err)
	}
}
