package enduser_test

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/enduser"
)

// visitorPolicy has one rule of each shape a visitor may meet.
var visitorPolicy = enduser.Policy{
	testpb.TestService_EmptyCall_FullMethodName: {Require: enduser.None},
	// Optional: a visitor's token is refused, not taken for a person.
	testpb.TestService_UnaryCall_FullMethodName: {Require: enduser.Optional},
	// Names visitors (and customers).
	testpb.TestService_CacheableUnaryCall_FullMethodName: {Require: enduser.User,
		Kinds: []accesstoken.Kind{accesstoken.KindCustomer, accesstoken.KindVisitor}},
	// Any kind, aal 0: still not a visitor.
	testpb.TestService_StreamingOutputCall_FullMethodName: {Require: enduser.User},
	// Alternatives, one of which names visitors.
	testpb.TestService_FullDuplexCall_FullMethodName: {Require: enduser.User, AnyOf: []enduser.Rule{
		{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindCustomer}, AAL: accesstoken.AAL1},
		{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindVisitor}},
	}},
	testpb.TestService_StreamingInputCall_FullMethodName: {Require: enduser.None},
	testpb.TestService_HalfDuplexCall_FullMethodName:     {Require: enduser.None},
	// Customers only.
	testpb.TestService_UnimplementedCall_FullMethodName: {Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindCustomer}},
}

const visitorID = "vis_abcdefghijklmnopqrstuvwxyz"

// TestVisitorsOnlyWhereNamed: a visitor's token is accepted only by a rule
// (or an alternative) that lists the visitor kind; a rule for "any kind",
// a customers' rule and an Optional rule refuse it.
func TestVisitorsOnlyWhereNamed(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, visitorPolicy)
	vis := e.issue(t, accesstoken.Claims{Subject: visitorID, Kind: accesstoken.KindVisitor, Tenant: "shop1", SessionID: visitorID},
		accesstoken.WithVisitorLifetime(30*time.Minute))

	if who, err := e.reveal(bearer(vis)); err != nil || who != "visitor:"+visitorID+":aal0" {
		t.Errorf("a rule naming visitors: %q, %v", who, err)
	}
	s, err := e.client.FullDuplexCall(bearer(vis))
	if err == nil {
		var resp *testpb.StreamingOutputCallResponse
		resp, err = s.Recv()
		if err == nil && string(resp.GetPayload().GetBody()) != "visitor:"+visitorID+":aal0" {
			t.Errorf("alternative naming visitors answered %q", resp.GetPayload().GetBody())
		}
	}
	if err != nil {
		t.Errorf("an alternative naming visitors: %v", err)
	}

	// Refused everywhere else.
	_, err = e.unary(bearer(vis))
	wantStatus(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden, vis)
	st, err := e.client.StreamingOutputCall(bearer(vis), &testpb.StreamingOutputCallRequest{})
	if err == nil {
		_, err = st.Recv()
	}
	wantStatus(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden, vis)
	_, err = e.client.UnimplementedCall(bearer(vis), &testpb.Empty{})
	wantStatus(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden, vis)

	// A customer still passes the any-kind rule and the Optional one.
	cust := e.issue(t, person(accesstoken.KindCustomer, "acc_1", "ses_1", 1, 0))
	if who, err := e.unary(bearer(cust)); err != nil || who != "customer:acc_1:aal1" {
		t.Errorf("customer on the optional rule: %q, %v", who, err)
	}
}

// TestVisitorRulesAskNothingAVisitorCannotHave: a rule naming visitors
// with a level, an age, roles or scopes would admit none; it is refused.
func TestVisitorRulesAskNothingAVisitorCannotHave(t *testing.T) {
	t.Parallel()
	visitors := []accesstoken.Kind{accesstoken.KindVisitor}
	for name, r := range map[string]enduser.Rule{
		"aal 1": {Require: enduser.User, Kinds: visitors, AAL: 1},
		"age":   {Require: enduser.User, Kinds: visitors, MaxAge: time.Minute},
		"roles": {Require: enduser.User, Kinds: visitors, Roles: []string{accesstoken.RoleAdmin}},
		"scope": {Require: enduser.User, Kinds: visitors, Scopes: []string{"x"}},
	} {
		if err := (enduser.Policy{"/shop.v1.Shop/Chat": r}).Check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := (enduser.Policy{"/shop.v1.Shop/Chat": {Require: enduser.User, Kinds: visitors}}).Check(); err != nil {
		t.Errorf("a plain visitors' rule: %v", err)
	}
}
