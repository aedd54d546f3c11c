package grpcedge

import (
	"context"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/telemetry"
)

var (
	crmWatchMethod = crmsyncv1.CrmSyncService_WatchChanges_FullMethodName
	crmPushMethod  = crmsyncv1.CrmSyncService_PushCrmChanges_FullMethodName
)

// stubCRMSync stands in for crmsync behind the edge's two platform lines.
type stubCRMSync struct {
	crmsyncv1.UnimplementedCrmSyncServiceServer
	watches, pushes atomic.Int64
}

func (s *stubCRMSync) WatchChanges(req *crmsyncv1.WatchChangesRequest, stream crmsyncv1.CrmSyncService_WatchChangesServer) error {
	s.watches.Add(1)
	return stream.Send(&crmsyncv1.WatchChangesResponse{Cursor: "c1", Subject: "sub_" + req.GetTenant()})
}

func (s *stubCRMSync) PushCrmChanges(_ context.Context, req *crmsyncv1.PushCrmChangesRequest) (*crmsyncv1.PushCrmChangesResponse, error) {
	s.pushes.Add(1)
	return &crmsyncv1.PushCrmChangesResponse{Results: []*crmsyncv1.CrmChangeResult{{Outcome: crmsyncv1.ChangeOutcome_CHANGE_OUTCOME_APPLIED}}}, nil
}

func withCRMSync(t *testing.T, stub *stubCRMSync) options {
	return func(h *harness, o *Options) {
		srv := h.pki.NewServer(t, "crmsync", authz.Policy{
			crmWatchMethod:                 {"gateway"},
			crmPushMethod:                  {"gateway"},
			"/grpc.health.v1.Health/Check": {authz.AnyWorkload},
		})
		crmsyncv1.RegisterCrmSyncServiceServer(srv.GRPC(), stub)
		addr := servertest.Start(t, srv)
		tel, err := telemetry.New(context.Background(), "gateway", telemetry.Config{})
		if err != nil {
			t.Fatal(err)
		}
		conn, err := dial.Service(addr, h.pki.Source(t, "gateway"), "crmsync", tel)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		o.Backends["crmsync"] = conn
		o.Methods[crmWatchMethod] = Integrators[crmWatchMethod]
		o.Methods[crmPushMethod] = Integrators[crmPushMethod]
	}
}

func watchCRM(ctx context.Context, c crmsyncv1.CrmSyncServiceClient, tenant string) (*crmsyncv1.WatchChangesResponse, error) {
	s, err := c.WatchChanges(ctx, &crmsyncv1.WatchChangesRequest{Tenant: tenant})
	if err != nil {
		return nil, err
	}
	return s.Recv()
}

func pushCRM(ctx context.Context, c crmsyncv1.CrmSyncServiceClient, tenant string) error {
	_, err := c.PushCrmChanges(ctx, &crmsyncv1.PushCrmChangesRequest{Tenant: tenant,
		Changes: []*crmsyncv1.CrmChange{{EventId: "e1", Subject: "sub_1", Property: "email", Value: "v",
			OccurTime: timestamppb.Now()}}})
	return err
}

// TestCRMPlatformLines: a CRM platform streams with crm.watch and pushes
// with crm.update, each scope opening only its own method, in the client's
// own tenant only (TENANT_MISMATCH before crmsync sees the call: crmsync
// trusts the gateway's binding, so it fails without watchTenant or
// pushTenant on the lines); a person's token opens neither.
func TestCRMPlatformLines(t *testing.T) {
	stub := &stubCRMSync{}
	h := newHarness(t, withCRMSync(t, stub))
	c := crmsyncv1.NewCrmSyncServiceClient(h.dial(t))
	watcher := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{Scope: ScopeCRMWatch}))
	updater := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{Scope: ScopeCRMUpdate}))
	customer := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{Kind: accesstoken.KindCustomer, Subject: "acc_customer", SessionID: "ses_1"}))

	_, err := watchCRM(updater, c, testTenant)
	wantRefusal(t, err, codes.PermissionDenied, ReasonScopeRequired)
	wantRefusal(t, pushCRM(watcher, c, testTenant), codes.PermissionDenied, ReasonScopeRequired)
	_, err = watchCRM(customer, c, testTenant)
	wantRefusal(t, err, codes.PermissionDenied, ReasonClientTokenRequired)
	_, err = watchCRM(watcher, c, "othershop")
	wantRefusal(t, err, codes.PermissionDenied, ReasonTenantMismatch)
	wantRefusal(t, pushCRM(updater, c, "othershop"), codes.PermissionDenied, ReasonTenantMismatch)
	if stub.watches.Load()+stub.pushes.Load() != 0 {
		t.Fatalf("refused calls reached crmsync: %d watches, %d pushes", stub.watches.Load(), stub.pushes.Load())
	}

	if m, err := watchCRM(watcher, c, testTenant); err != nil || m.GetSubject() != "sub_"+testTenant {
		t.Fatalf("watch in its own tenant: %v, %v", m, err)
	}
	if err := pushCRM(updater, c, testTenant); err != nil {
		t.Fatalf("push in its own tenant: %v", err)
	}
}
