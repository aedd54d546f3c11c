package grpcedge

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/telemetry"
	"github.com/sottohq/sotto/services/gateway/internal/gateway"
)

// The tests run the edge over real sockets: integrators connect with TLS
// (the edge's self-signed certificate trusted), the edge relays to real
// Sotto gRPC servers (pkg/server: mTLS, workload policy naming the gateway,
// and pkg/enduser's interceptors checking the forwarded token again), and
// tokens are real: signed by an identity-token key in a local keyring,
// verified over its JWK Set, checked against a revocation set fed by a
// feed the test controls.

const (
	testIssuer = "spiffe://" + servertest.TrustDomain + "/identity"
	testScope  = "test.call"
	otherScope = "test.other"
	testClient = "cli_test"
	testTenant = "shop"
	// testMaxMsg is the edge's message limit in the tests.
	testMaxMsg = 64 << 10
)

// testMethods is the edge's table for the test backend: EmptyCall plays
// the public token grant, the others need testScope.
func testMethods() Methods {
	return Methods{
		testpb.TestService_EmptyCall_FullMethodName:           {Backend: "backend", Public: true},
		testpb.TestService_UnaryCall_FullMethodName:           {Backend: "backend", Scope: testScope},
		testpb.TestService_StreamingOutputCall_FullMethodName: {Backend: "backend", Scope: testScope},
		testpb.TestService_StreamingInputCall_FullMethodName:  {Backend: "backend", Scope: testScope},
		testpb.TestService_FullDuplexCall_FullMethodName:      {Backend: "backend", Scope: testScope},
		// The tokenize line of the gateway's own table, with its tenant
		// binding, against a stand-in vault.
		tokenvaultv1.TokenVaultService_Tokenize_FullMethodName: Integrators[tokenvaultv1.TokenVaultService_Tokenize_FullMethodName],
	}
}

type harness struct {
	addr     string
	cert     *x509.Certificate
	backend  *testBackend
	vault    *stubVault
	issuer   *accesstoken.Issuer
	km       keys.KeyManager
	feed     *testFeed
	recorded *recorder
	pki      *servertest.PKI
	// shutdown stops the edge (once) and returns what Serve returned.
	shutdown func() error
}

// options adjusts the edge's options before it starts.
type options func(*harness, *Options)

func newHarness(t *testing.T, opts ...options) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{pki: servertest.NewPKI(t), feed: &testFeed{ch: make(chan enduser.Revocation, 8)}, recorded: &recorder{}}

	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := km.EnsureKey(ctx, accesstoken.KeyName, keys.TypeEd25519); err != nil {
		t.Fatal(err)
	}
	h.km = km
	if h.issuer, err = accesstoken.NewIssuer(km, accesstoken.KeyName, testIssuer); err != nil {
		t.Fatal(err)
	}
	jwks, err := h.issuer.JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set, err := accesstoken.ParseJWKS(jwks)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := accesstoken.NewVerifier(set, testIssuer)
	if err != nil {
		t.Fatal(err)
	}
	revocations := enduser.NewRevocations(h.feed)
	runCtx, stop := context.WithCancel(ctx)
	runDone := make(chan struct{})
	go func() { revocations.Run(runCtx); close(runDone) }()
	t.Cleanup(func() { stop(); <-runDone })
	waitFor(t, func() bool { return revocations.Ready(ctx) == nil })

	// The backend checks the forwarded token itself, as a Sotto service
	// does: a client with testScope, except for the public method.
	client := enduser.Rule{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindClient}, Scopes: []string{testScope}}
	backendAuth, err := enduser.NewAuthenticator(verifier, revocations, enduser.Policy{
		testpb.TestService_EmptyCall_FullMethodName:           {Require: enduser.None},
		testpb.TestService_UnaryCall_FullMethodName:           client,
		testpb.TestService_StreamingOutputCall_FullMethodName: client,
		testpb.TestService_StreamingInputCall_FullMethodName:  client,
		testpb.TestService_FullDuplexCall_FullMethodName:      client,
		testpb.TestService_HalfDuplexCall_FullMethodName:      client,
	})
	if err != nil {
		t.Fatal(err)
	}
	onlyGateway := []string{"gateway"}
	srv, err := server.New(ctx, "backend", h.pki.Config(t, "backend"), authz.Policy{
		testpb.TestService_EmptyCall_FullMethodName:           onlyGateway,
		testpb.TestService_UnaryCall_FullMethodName:           onlyGateway,
		testpb.TestService_StreamingOutputCall_FullMethodName: onlyGateway,
		testpb.TestService_StreamingInputCall_FullMethodName:  onlyGateway,
		testpb.TestService_FullDuplexCall_FullMethodName:      onlyGateway,
		testpb.TestService_HalfDuplexCall_FullMethodName:      onlyGateway,
		"/grpc.health.v1.Health/Check":                        {authz.AnyWorkload},
	}, servertest.Logger(), server.WithInterceptors(backendAuth.UnaryInterceptor(), backendAuth.StreamInterceptor()))
	if err != nil {
		t.Fatal(err)
	}
	h.backend = &testBackend{seen: make(chan seenCall, 16), duplexEnded: make(chan error, 4)}
	testpb.RegisterTestServiceServer(srv.GRPC(), h.backend)
	backendAddr := servertest.Start(t, srv)

	// A stand-in token vault: the real one's workload policy (the gateway
	// may tokenize) and, like it today, no end-user check of its own.
	vaultSrv := h.pki.NewServer(t, "tokenvault", authz.Policy{
		tokenvaultv1.TokenVaultService_Tokenize_FullMethodName: onlyGateway,
		"/grpc.health.v1.Health/Check":                         {authz.AnyWorkload},
	})
	h.vault = &stubVault{}
	tokenvaultv1.RegisterTokenVaultServiceServer(vaultSrv.GRPC(), h.vault)
	vaultAddr := servertest.Start(t, vaultSrv)

	edgeAuth, err := enduser.NewAuthenticator(verifier, revocations, enduser.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := SelfSigned(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h.cert = cert.Leaf
	auditor := gateway.NewAuthAuditor(h.recorded, slog.New(slog.DiscardHandler), 64)
	auditCtx, stopAudit := context.WithCancel(ctx)
	auditDone := make(chan struct{})
	go func() { auditor.Run(auditCtx); close(auditDone) }()
	t.Cleanup(func() { stopAudit(); <-auditDone })

	// The gateway's telemetry as pkg/service builds it without an OTLP
	// collector: no-op traces, W3C trace context propagated; its
	// connections to the services inject trace context like the real ones.
	tel, err := telemetry.New(ctx, "gateway", telemetry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	gatewaySource := h.pki.Source(t, "gateway")
	dialAs := func(service, addr string) grpc.ClientConnInterface {
		conn, err := dial.Service(addr, gatewaySource, service, tel)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	o := Options{
		Methods: testMethods(),
		Backends: map[string]grpc.ClientConnInterface{
			"backend":    dialAs("backend", backendAddr),
			"tokenvault": dialAs("tokenvault", vaultAddr),
		},
		Auth: edgeAuth, Audit: auditor, Telemetry: tel,
		TLS:         serverConfig(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil }),
		Logger:      servertest.Logger(),
		ClientQuota: Quota{PerSecond: 1000, Burst: 1000}, PublicQuota: Quota{PerSecond: 1000, Burst: 1000},
		MaxMsgBytes: testMaxMsg, ShutdownTimeout: 5 * time.Second,
	}
	for _, f := range opts {
		f(h, &o)
	}
	edge, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = lis.Addr().String()
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- edge.Serve(serveCtx, lis) }()
	h.shutdown = sync.OnceValue(func() error {
		stopServe()
		return <-served
	})
	t.Cleanup(func() {
		if err := h.shutdown(); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return h
}

// dial connects to the edge as an integrator: TLS 1.3, the edge's
// certificate trusted, no client certificate.
func (h *harness) dial(t testing.TB) *grpc.ClientConn {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(h.cert)
	return h.dialWith(t, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13})))
}

func (h *harness) dialWith(t testing.TB, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(h.addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func (h *harness) client(t testing.TB) testpb.TestServiceClient {
	return testpb.NewTestServiceClient(h.dial(t))
}

// token issues a token: a client (testClient, tenant shop, testScope)
// unless c says otherwise.
func (h *harness) token(t testing.TB, c accesstoken.Claims) string {
	t.Helper()
	return h.tokenFrom(t, h.issuer, c)
}

func (h *harness) tokenFrom(t testing.TB, iss *accesstoken.Issuer, c accesstoken.Claims) string {
	t.Helper()
	if c.Kind == "" {
		c.Kind = accesstoken.KindClient
	}
	if c.Subject == "" {
		c.Subject = testClient
	}
	if c.SessionID == "" {
		c.SessionID = c.Subject
	}
	if c.Tenant == "" && c.Kind != accesstoken.KindStaff {
		c.Tenant = testTenant
	}
	if c.Scope == "" {
		c.Scope = testScope
	}
	if c.Kind != accesstoken.KindClient {
		if c.AAL == 0 {
			c.AAL = accesstoken.AAL1
		}
		if c.AuthTime.IsZero() {
			// Before any issuer's iat, the expired one's included.
			c.AuthTime = time.Now().Add(-2 * time.Hour)
		}
	}
	tok, err := iss.Issue(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// expiredIssuer signs with the harness's key an hour in the past.
func (h *harness) expiredIssuer(t testing.TB) *accesstoken.Issuer {
	t.Helper()
	iss, err := accesstoken.NewIssuer(h.km, accesstoken.KeyName, testIssuer,
		accesstoken.WithIssuerClock(clockwork.NewFakeClockAt(time.Now().Add(-time.Hour))))
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

func bearerCtx(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// seenCall is what the backend saw of a call.
type seenCall struct {
	method      string
	md          metadata.MD
	subject     string
	hasDeadline bool
}

// testBackend implements grpc.testing.TestService: it records what reached
// it, echoes, streams, and answers with the status a request asks for.
type testBackend struct {
	testpb.UnimplementedTestServiceServer
	calls atomic.Int64
	seen  chan seenCall
	// duplexEnded gets how a FullDuplexCall ended other than by the
	// client closing its side.
	duplexEnded chan error
}

func (b *testBackend) saw(ctx context.Context, method string) {
	b.calls.Add(1)
	md, _ := metadata.FromIncomingContext(ctx)
	p, _ := enduser.FromContext(ctx)
	_, dl := ctx.Deadline()
	select {
	case b.seen <- seenCall{method: method, md: md.Copy(), subject: p.Subject, hasDeadline: dl}:
	default:
	}
}

// backendStatus is the status a request asks the backend to end with: a
// Sotto-style status with an ErrorInfo in the backend's domain.
func backendStatus(s *testpb.EchoStatus) error {
	st := status.New(codes.Code(s.GetCode()), s.GetMessage())
	st, _ = st.WithDetails(&errdetails.ErrorInfo{Reason: "BACKEND_SAYS_NO", Domain: "backend.sotto.dev"})
	return st.Err()
}

func (b *testBackend) EmptyCall(ctx context.Context, _ *testpb.Empty) (*testpb.Empty, error) {
	b.saw(ctx, "EmptyCall")
	return &testpb.Empty{}, nil
}

func (b *testBackend) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	b.saw(ctx, "UnaryCall")
	p, _ := enduser.FromContext(ctx)
	grpc.SetHeader(ctx, metadata.Pairs("x-backend-subject", p.Subject))
	grpc.SetTrailer(ctx, metadata.Pairs("x-backend-trailer", "t1"))
	if req.GetResponseStatus().GetCode() != 0 {
		return nil, backendStatus(req.GetResponseStatus())
	}
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: make([]byte, req.GetResponseSize())}, Username: p.Subject}, nil
}

func (b *testBackend) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, stream testpb.TestService_StreamingOutputCallServer) error {
	b.saw(stream.Context(), "StreamingOutputCall")
	stream.SetHeader(metadata.Pairs("x-backend-stream", "open"))
	for _, p := range req.GetResponseParameters() {
		if err := stream.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: make([]byte, p.GetSize())}}); err != nil {
			return err
		}
	}
	stream.SetTrailer(metadata.Pairs("x-backend-trailer", "done"))
	if req.GetResponseStatus().GetCode() != 0 {
		return backendStatus(req.GetResponseStatus())
	}
	return nil
}

func (b *testBackend) StreamingInputCall(stream testpb.TestService_StreamingInputCallServer) error {
	b.saw(stream.Context(), "StreamingInputCall")
	total := 0
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&testpb.StreamingInputCallResponse{AggregatedPayloadSize: int32(total)})
		}
		if err != nil {
			return err
		}
		total += len(req.GetPayload().GetBody())
	}
}

func (b *testBackend) FullDuplexCall(stream testpb.TestService_FullDuplexCallServer) error {
	b.saw(stream.Context(), "FullDuplexCall")
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			b.duplexEnded <- err
			return err
		}
		if err := stream.Send(&testpb.StreamingOutputCallResponse{Payload: req.GetPayload()}); err != nil {
			return err
		}
	}
}

// stubVault answers Tokenize with one made-up token per item, and counts.
type stubVault struct {
	tokenvaultv1.UnimplementedTokenVaultServiceServer
	calls atomic.Int64
}

func (v *stubVault) Tokenize(_ context.Context, req *tokenvaultv1.TokenizeRequest) (*tokenvaultv1.TokenizeResponse, error) {
	v.calls.Add(1)
	resp := &tokenvaultv1.TokenizeResponse{}
	for range req.GetItems() {
		resp.Results = append(resp.Results, &tokenvaultv1.TokenizeResult{Result: &tokenvaultv1.TokenizeResult_Token{Token: "tok_stub"}})
	}
	return resp, nil
}

// testFeed is identity's revocation feed as the test drives it: the
// backlog is empty, then whatever the test sends.
type testFeed struct{ ch chan enduser.Revocation }

func (f *testFeed) Watch(ctx context.Context, _ string, fn func(enduser.Revocation) error) error {
	if err := fn(enduser.Revocation{Cursor: "0"}); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case r := <-f.ch:
			if err := fn(r); err != nil {
				return err
			}
		}
	}
}

// recorder stands in for the audit client behind the AuthAuditor: it
// checks events as the audit service would and keeps them.
type recorder struct {
	mu     sync.Mutex
	events []auditclient.Event
}

func (r *recorder) Record(_ context.Context, events ...auditclient.Event) error {
	if err := auditclient.Validate(events...); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, events...)
	return nil
}

func (r *recorder) all() []auditclient.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// waitFor polls cond for up to ten seconds (the tests' bound for things
// that happen in the background, not a measurement).
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// errorInfo is the ErrorInfo of err's status.
func errorInfo(err error) *errdetails.ErrorInfo {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

// wantRefusal fails unless err is code with reason in the gateway's domain.
func wantRefusal(t testing.TB, err error, code codes.Code, reason string) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("got %v, want %v", err, code)
	}
	info := errorInfo(err)
	if info == nil || info.GetReason() != reason || info.GetDomain() != Domain {
		t.Fatalf("got %v (details %v), want %s in %s", err, info, reason, Domain)
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
