package service_test

import (
	"context"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/service"
)

// identityStub serves what EndUsers needs from identity (built alongside):
// the JWK Set of a real Issuer, and a revocation feed that sends its
// backlog, a heartbeat, then what revoke adds.
type identityStub struct {
	identityv1.UnimplementedIdentityServiceServer
	issuer *accesstoken.Issuer
	mu     sync.Mutex
	revs   []*identityv1.WatchRevocationsResponse
	added  chan struct{}
}

func (f *identityStub) GetJwks(ctx context.Context, _ *identityv1.GetJwksRequest) (*identityv1.GetJwksResponse, error) {
	data, err := f.issuer.JWKS(ctx)
	if err != nil {
		return nil, err
	}
	return &identityv1.GetJwksResponse{JwksJson: data, MaxAge: durationpb.New(time.Minute)}, nil
}

func (f *identityStub) revoke(sid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	f.revs = append(f.revs, &identityv1.WatchRevocationsResponse{SessionId: sid, RevokeTime: timestamppb.New(now), ExpireTime: timestamppb.New(now.Add(5 * time.Minute))})
	close(f.added)
	f.added = make(chan struct{})
}

func (f *identityStub) WatchRevocations(_ *identityv1.WatchRevocationsRequest, stream grpc.ServerStreamingServer[identityv1.WatchRevocationsResponse]) error {
	sent := 0
	for first := true; ; first = false {
		f.mu.Lock()
		pending, added := f.revs[sent:], f.added
		f.mu.Unlock()
		for _, r := range pending {
			if err := stream.Send(r); err != nil {
				return err
			}
			sent++
		}
		if first {
			if err := stream.Send(&identityv1.WatchRevocationsResponse{}); err != nil {
				return err
			}
		}
		select {
		case <-stream.Context().Done():
			return nil
		case <-added:
		}
	}
}

// whoami is a one-method API that answers with the end user's subject.
const whoamiMethod = "/sotto.shop.v1.ShopService/Whoami"

var whoamiDesc = grpc.ServiceDesc{
	ServiceName: "sotto.shop.v1.ShopService",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{MethodName: "Whoami", Handler: func(_ any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
		req := new(emptypb.Empty)
		if err := dec(req); err != nil {
			return nil, err
		}
		handler := func(ctx context.Context, _ any) (any, error) {
			p, ok := enduser.FromContext(ctx)
			if !ok {
				return wrapperspb.String("nobody"), nil
			}
			return wrapperspb.String(p.Subject), nil
		}
		return ic(ctx, req, &grpc.UnaryServerInfo{FullMethod: whoamiMethod}, handler)
	}}},
}

func whoami(ctx context.Context, conn *grpc.ClientConn) (string, error) {
	out := new(wrapperspb.StringValue)
	err := conn.Invoke(ctx, whoamiMethod, &emptypb.Empty{}, out)
	return out.GetValue(), err
}

func startIdentity(t *testing.T, h *harness) (*identityStub, *accesstoken.Issuer) {
	t.Helper()
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "identity-keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := km.EnsureKey(context.Background(), accesstoken.KeyName, keys.TypeEd25519); err != nil {
		t.Fatal(err)
	}
	iss, err := accesstoken.NewIssuer(km, accesstoken.KeyName, service.IdentityIssuer(servertest.TrustDomain))
	if err != nil {
		t.Fatal(err)
	}
	stub := &identityStub{issuer: iss, added: make(chan struct{})}
	policy := authz.Policy{
		identityv1.IdentityService_GetJwks_FullMethodName:          {authz.AnyWorkload},
		identityv1.IdentityService_WatchRevocations_FullMethodName: {authz.AnyWorkload},
	}
	maps.Copy(policy, service.HealthPolicy)
	srv := h.pki.NewServer(t, "identity", policy, server.WithKnownWorkloads("shop"))
	identityv1.RegisterIdentityServiceServer(srv.GRPC(), stub)
	h.env["SOTTO_IDENTITY_ADDR"] = servertest.Start(t, srv)
	return stub, iss
}

var shopEndUsers = enduser.Policy{whoamiMethod: {Require: enduser.User, AAL: 2, MaxAge: 5 * time.Minute}}

func registerShop(policy enduser.Policy) service.Register {
	return func(_ context.Context, s *service.Service) error {
		if _, err := s.EndUsers(policy); err != nil {
			return err
		}
		gs, err := s.GRPC(authz.Policy{whoamiMethod: {"gateway"}})
		if err != nil {
			return err
		}
		gs.RegisterService(&whoamiDesc, struct{}{})
		return nil
	}
}

// TestEndUsersWiring: EndUsers dials identity, follows its keys and feed,
// and the gRPC API refuses, steps up and recognises end users.
func TestEndUsersWiring(t *testing.T) {
	h := newHarness(t, "shop")
	stub, iss := startIdentity(t, h)
	s, _ := h.run(t, "shop", registerShop(shopEndUsers))
	waitReadyz(t, s, "ready")
	conn := h.pki.Dial(t, "gateway", "shop", s.Addrs()["grpc"])

	_, err := whoami(context.Background(), conn)
	if st := status.Convert(err); st.Code() != codes.Unauthenticated || reasonOf(st) != accesstoken.ReasonTokenMissing {
		t.Errorf("no token: %v", err)
	}
	issue := func(sid string, aal int) context.Context {
		tok, err := iss.Issue(context.Background(), accesstoken.Claims{
			Subject: "acc_7", Kind: accesstoken.KindCustomer, Tenant: "shop1", SessionID: sid, AAL: aal,
			AMR: []string{"pwd", "otp"}, AuthTime: time.Now(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
	}
	_, err = whoami(issue("ses_1", 1), conn)
	st := status.Convert(err)
	if st.Code() != codes.FailedPrecondition || reasonOf(st) != enduser.ReasonStepUpRequired {
		t.Errorf("aal1: %v", err)
	}
	ctx := issue("ses_1", 2)
	if who, err := whoami(ctx, conn); err != nil || who != "acc_7" {
		t.Fatalf("aal2: %q, %v", who, err)
	}
	stub.revoke("ses_1")
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := whoami(ctx, conn)
		if st := status.Convert(err); st.Code() == codes.Unauthenticated && reasonOf(st) == accesstoken.ReasonTokenRevoked {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revoked session still served: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func reasonOf(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// TestEndUsersPolicyMustCoverTheAPI: a served method without a rule, or a
// rule for a method not served (a typo), stops the service at start-up.
func TestEndUsersPolicyMustCoverTheAPI(t *testing.T) {
	h := newHarness(t, "shop")
	startIdentity(t, h)
	for name, policy := range map[string]enduser.Policy{
		"missing": {"/sotto.shop.v1.ShopService/Other": {Require: enduser.None}},
		"typo":    {whoamiMethod: {Require: enduser.None}, "/sotto.shop.v1.ShopService/Whoamii": {Require: enduser.None}},
	} {
		err := service.Run(context.Background(), "shop", h.env, registerShop(policy))
		if err == nil || !strings.Contains(err.Error(), "end-user policy") {
			t.Errorf("%s: Run = %v; want an end-user policy error", name, err)
		}
	}
	err := service.Run(context.Background(), "shop", h.env, func(_ context.Context, s *service.Service) error {
		if _, err := s.GRPC(authz.Policy{whoamiMethod: {"gateway"}}); err != nil {
			return err
		}
		_, err := s.EndUsers(shopEndUsers)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "before GRPC") {
		t.Errorf("EndUsers after GRPC: %v", err)
	}
}

// TestEndUsersDegradedWithoutIdentity: with identity down the service stays
// in rotation (degraded, naming the feed) and refuses end users as
// Unavailable rather than letting them through unchecked.
func TestEndUsersDegradedWithoutIdentity(t *testing.T) {
	h := newHarness(t, "shop")
	h.env["SOTTO_IDENTITY_ADDR"] = "127.0.0.1:1" // nothing listens there
	s, _ := h.run(t, "shop", registerShop(shopEndUsers))
	body := waitReadyz(t, s, "degraded")
	for _, dep := range []string{"identity", "enduser-keys", "enduser-revocations"} {
		if !strings.Contains(body, dep) {
			t.Errorf("/readyz %q does not name %s", body, dep)
		}
	}
	conn := h.pki.Dial(t, "gateway", "shop", s.Addrs()["grpc"])
	// A well-made token of some identity: without the keys it cannot be
	// checked, and is not let through.
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := km.EnsureKey(context.Background(), accesstoken.KeyName, keys.TypeEd25519); err != nil {
		t.Fatal(err)
	}
	iss, err := accesstoken.NewIssuer(km, accesstoken.KeyName, service.IdentityIssuer(servertest.TrustDomain))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Issue(context.Background(), accesstoken.Claims{
		Subject: "acc_7", Kind: accesstoken.KindCustomer, SessionID: "ses_1", AAL: 2, AuthTime: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
	_, err = whoami(ctx, conn)
	if st := status.Convert(err); st.Code() != codes.Unavailable || reasonOf(st) != accesstoken.ReasonKeysUnavailable {
		t.Errorf("with identity down: %v; want Unavailable KEYS_UNAVAILABLE", err)
	}
}

// waitReadyz waits for /readyz to start with want and returns its body.
func waitReadyz(t *testing.T, s *service.Service, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + s.Addrs()["admin"] + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.HasPrefix(string(body), want) {
				return string(body)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never said %q", want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
