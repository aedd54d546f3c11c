package grpcedge

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/services/gateway/internal/gateway"
)

// TestScopedClientReachesTheService: a client with the method's scope gets
// through; the service sees the verified token (it checks it again and
// names the client), the caller's real address, no metadata the client made
// up, and the deadline; the service's header and trailer come back, with
// the edge's request ID.
func TestScopedClientReachesTheService(t *testing.T) {
	h := newHarness(t)
	tok := h.token(t, accesstoken.Claims{})
	ctx, cancel := context.WithTimeout(bearerCtx(context.Background(), tok), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx,
		"x-sotto-client-ip", "203.0.113.9", "x-sotto-user-agent", "forged", "x-made-up", "1",
		"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	var header, trailer metadata.MD
	resp, err := h.client(t).UnaryCall(ctx, &testpb.SimpleRequest{ResponseSize: 10}, grpc.Header(&header), grpc.Trailer(&trailer))
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetUsername() != testClient || len(resp.GetPayload().GetBody()) != 10 {
		t.Fatalf("response %v", resp)
	}
	if got := header.Get("x-backend-subject"); len(got) != 1 || got[0] != testClient {
		t.Fatalf("service header %v", header)
	}
	if got := header.Get(requestIDHeader); len(got) != 1 || len(got[0]) != 24 {
		t.Fatalf("request id header %v", header)
	}
	if got := trailer.Get("x-backend-trailer"); len(got) != 1 || got[0] != "t1" {
		t.Fatalf("service trailer %v", trailer)
	}
	seen := <-h.backend.seen
	if got := seen.md.Get("authorization"); len(got) != 1 || got[0] != "Bearer "+tok {
		t.Fatalf("service got authorization %v", got)
	}
	if seen.subject != testClient {
		t.Fatalf("service verified %q", seen.subject)
	}
	if got := seen.md.Get(clientIPMetadata); len(got) != 1 || got[0] != "127.0.0.1" {
		t.Fatalf("service got client address %v", got)
	}
	if got := seen.md.Get(userAgentMetadata); len(got) != 1 || !strings.HasPrefix(got[0], "grpc-go/") {
		t.Fatalf("service got user agent %v", got)
	}
	for _, k := range []string{"x-made-up", "traceparent"} {
		if got := seen.md.Get(k); len(got) > 0 && containsAny(strings.Join(got, ","), "1", "0af7651916cd43dd8448eb211c80319c") {
			t.Fatalf("client metadata %s reached the service: %v", k, got)
		}
	}
	if !seen.hasDeadline {
		t.Fatal("the client's deadline did not reach the service")
	}
}

// TestServiceStatusPassesThrough: a service's error reaches the client with
// its code, message, ErrorInfo (in the service's domain) and trailer.
func TestServiceStatusPassesThrough(t *testing.T) {
	h := newHarness(t)
	ctx := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{}))
	var trailer metadata.MD
	_, err := h.client(t).UnaryCall(ctx, &testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(codes.FailedPrecondition), Message: "not now"}}, grpc.Trailer(&trailer))
	if status.Code(err) != codes.FailedPrecondition || status.Convert(err).Message() != "not now" {
		t.Fatalf("got %v", err)
	}
	if info := errorInfo(err); info.GetReason() != "BACKEND_SAYS_NO" || info.GetDomain() != "backend.sotto.dev" {
		t.Fatalf("details %v", info)
	}
	if got := trailer.Get("x-backend-trailer"); len(got) != 1 || got[0] != "t1" {
		t.Fatalf("trailer %v", trailer)
	}
}

// TestStreamsAreRelayed: server, client and bidirectional streams.
func TestStreamsAreRelayed(t *testing.T) {
	h := newHarness(t)
	ctx := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{}))
	c := h.client(t)

	t.Run("server", func(t *testing.T) {
		sizes := []int32{1, 200, 3000, 40000, 5}
		req := &testpb.StreamingOutputCallRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(codes.Aborted), Message: "stream ends"}}
		for _, n := range sizes {
			req.ResponseParameters = append(req.ResponseParameters, &testpb.ResponseParameters{Size: n})
		}
		stream, err := c.StreamingOutputCall(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		header, err := stream.Header()
		if err != nil || len(header.Get("x-backend-stream")) != 1 {
			t.Fatalf("header %v, %v", header, err)
		}
		var got []int32
		for {
			resp, err := stream.Recv()
			if err != nil {
				if status.Code(err) != codes.Aborted || errorInfo(err).GetReason() != "BACKEND_SAYS_NO" {
					t.Fatalf("stream ended with %v", err)
				}
				break
			}
			got = append(got, int32(len(resp.GetPayload().GetBody())))
		}
		if !slices.Equal(got, sizes) {
			t.Fatalf("got %v, want %v", got, sizes)
		}
		if tr := stream.Trailer().Get("x-backend-trailer"); len(tr) != 1 || tr[0] != "done" {
			t.Fatalf("trailer %v", stream.Trailer())
		}
	})
	t.Run("client", func(t *testing.T) {
		stream, err := c.StreamingInputCall(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{10, 20, 30} {
			if err := stream.Send(&testpb.StreamingInputCallRequest{Payload: &testpb.Payload{Body: make([]byte, n)}}); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := stream.CloseAndRecv()
		if err != nil || resp.GetAggregatedPayloadSize() != 60 {
			t.Fatalf("got %v, %v", resp, err)
		}
	})
	t.Run("bidi", func(t *testing.T) {
		stream, err := c.FullDuplexCall(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Each answer comes back before the next message is sent: the
		// relay does not wait for the client to finish sending.
		for _, body := range []string{"one", "two", "three"} {
			if err := stream.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: []byte(body)}}); err != nil {
				t.Fatal(err)
			}
			resp, err := stream.Recv()
			if err != nil || string(resp.GetPayload().GetBody()) != body {
				t.Fatalf("got %v, %v", resp, err)
			}
		}
		if err := stream.CloseSend(); err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
			t.Fatalf("after close: %v", err)
		}
	})
}

// TestBadTokensAreUnauthenticated: no token, a malformed header, an
// expired, a tampered, another issuer's and a revoked client's token are
// refused at the edge (the service never sees them) and audited with why.
func TestBadTokensAreUnauthenticated(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	valid := h.token(t, accesstoken.Claims{})
	parts := strings.Split(valid, ".")
	// The payload rewritten to grant more, the signature kept.
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	claims["scope"] = testScope + " " + ScopeTokenize
	forged, _ := json.Marshal(claims)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]
	// A signature over the real payload with the last byte changed.
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[len(sig)-1] ^= 1
	badSig := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)

	cases := []struct {
		name   string
		md     []string
		reason string // the error's
		audit  string // the audit event's
	}{
		{"no token", nil, accesstoken.ReasonTokenMissing, refusalMissingToken},
		{"not bearer", []string{"authorization", "Basic " + valid}, accesstoken.ReasonTokenMalformed, refusalInvalidToken},
		{"two tokens", []string{"authorization", "Bearer " + valid, "authorization", "Bearer " + valid}, accesstoken.ReasonTokenMalformed, refusalInvalidToken},
		{"not a jwt", []string{"authorization", "Bearer abc"}, accesstoken.ReasonTokenMalformed, accesstoken.ReasonTokenMalformed},
		{"expired", []string{"authorization", "Bearer " + h.tokenFrom(t, h.expiredIssuer(t), accesstoken.Claims{})}, accesstoken.ReasonTokenExpired, accesstoken.ReasonTokenExpired},
		{"tampered claims", []string{"authorization", "Bearer " + tampered}, accesstoken.ReasonTokenInvalid, accesstoken.ReasonTokenInvalid},
		{"bad signature", []string{"authorization", "Bearer " + badSig}, accesstoken.ReasonTokenInvalid, accesstoken.ReasonTokenInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.recorded.all())
			// The caller's own trace context must not name the event.
			md := append([]string{"traceparent", "00-" + callerTraceID + "-b7ad6b7169203331-01"}, tc.md...)
			ctx := metadata.AppendToOutgoingContext(context.Background(), md...)
			_, err := c.UnaryCall(ctx, &testpb.SimpleRequest{})
			wantRefusal(t, err, codes.Unauthenticated, tc.reason)
			waitFor(t, func() bool { return len(h.recorded.all()) > before })
			e := h.recorded.all()[before]
			if e.Action != gateway.ActionEdgeAuth || e.Outcome != auditclient.Denied || e.Reason != tc.audit || e.TraceID == callerTraceID {
				t.Fatalf("audited %+v", e)
			}
		})
	}
	if n := h.backend.calls.Load(); n != 0 {
		t.Fatalf("the service saw %d refused calls", n)
	}
	for _, e := range h.recorded.all() {
		if b, _ := json.Marshal(e); containsAny(string(b), parts[1], parts[2]) {
			t.Fatalf("an audit event holds the token: %s", b)
		}
	}
}

// callerTraceID is a trace ID an integrator sends.
const callerTraceID = "0af7651916cd43dd8448eb211c80319c"

// TestRevokedClientIsRefusedWithinSeconds: once identity's feed says the
// client is revoked, its unexpired token stops working at the edge.
func TestRevokedClientIsRefusedWithinSeconds(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	ctx := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{Subject: "cli_revoked"}))
	if _, err := c.UnaryCall(ctx, &testpb.SimpleRequest{}); err != nil {
		t.Fatal(err)
	}
	calls := h.backend.calls.Load()
	now := time.Now()
	h.feed.ch <- enduser.Revocation{Cursor: "1", ClientID: "cli_revoked", RevokeTime: now, ExpireTime: now.Add(10 * time.Minute)}
	var err error
	waitFor(t, func() bool {
		_, err = c.UnaryCall(ctx, &testpb.SimpleRequest{})
		return err != nil
	})
	wantRefusal(t, err, codes.Unauthenticated, accesstoken.ReasonTokenRevoked)
	// Whatever raced the feed, the refused call itself went nowhere.
	callsAfter := h.backend.calls.Load()
	if _, err := c.UnaryCall(ctx, &testpb.SimpleRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("after revocation: %v", err)
	}
	if h.backend.calls.Load() != callsAfter || callsAfter < calls {
		t.Fatal("a revoked client's call reached the service")
	}
	// Another client is not affected.
	other := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{Subject: "cli_other"}))
	if _, err := c.UnaryCall(other, &testpb.SimpleRequest{}); err != nil {
		t.Fatal(err)
	}
}

// TestScopeAndKindAreChecked: a client without the method's scope, and a
// person's token (even one carrying the scope), are refused at the edge:
// the refusal is the gateway's (the service, which would refuse too, is
// never called) and audited with the caller as actor.
func TestScopeAndKindAreChecked(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	cases := []struct {
		name   string
		claims accesstoken.Claims
		reason string
	}{
		{"other scope", accesstoken.Claims{Subject: "cli_narrow", Scope: otherScope}, ReasonScopeRequired},
		{"customer", accesstoken.Claims{Kind: accesstoken.KindCustomer, Subject: "acc_customer", SessionID: "ses_1"}, ReasonClientTokenRequired},
		{"staff admin", accesstoken.Claims{Kind: accesstoken.KindStaff, Subject: "acc_admin", SessionID: "ses_2",
			Roles: []string{accesstoken.RoleAdmin}, AAL: accesstoken.AAL2}, ReasonClientTokenRequired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.recorded.all())
			ctx := bearerCtx(context.Background(), h.token(t, tc.claims))
			_, err := c.UnaryCall(ctx, &testpb.SimpleRequest{})
			wantRefusal(t, err, codes.PermissionDenied, tc.reason)
			if tc.reason == ReasonScopeRequired && errorInfo(err).GetMetadata()[MetadataRequiredScope] != testScope {
				t.Fatalf("the refusal does not name the scope: %v", errorInfo(err))
			}
			waitFor(t, func() bool { return len(h.recorded.all()) > before })
			if e := h.recorded.all()[before]; e.Reason != tc.reason || e.ActorSubject != tc.claims.Subject {
				t.Fatalf("audited %+v", e)
			}
		})
	}
	if n := h.backend.calls.Load(); n != 0 {
		t.Fatalf("the service saw %d refused calls", n)
	}
}

// TestMethodsOutsideTheTableAreRefused: deny by default, whatever the
// token, before any backend is called.
func TestMethodsOutsideTheTableAreRefused(t *testing.T) {
	h := newHarness(t)
	conn := h.dial(t)
	ctx := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{Scope: testScope + " " + ScopeTokenize}))
	for _, method := range []string{
		testpb.TestService_HalfDuplexCall_FullMethodName, // served by the backend, not offered
		tokenvaultv1.TokenVaultService_Detokenize_FullMethodName,
		"/grpc.health.v1.Health/Check",
		"/no.such.Service/Method",
	} {
		err := conn.Invoke(ctx, method, &testpb.Empty{}, &testpb.Empty{})
		wantRefusal(t, err, codes.Unimplemented, ReasonMethodNotOffered)
	}
	if n := h.backend.calls.Load() + h.vault.calls.Load(); n != 0 {
		t.Fatalf("%d calls reached a service", n)
	}
}

// TestPublicMethodNeedsNoToken: the token grant's stand-in passes without
// a token, and no authorization reaches the service even when one is sent.
func TestPublicMethodNeedsNoToken(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	if _, err := c.EmptyCall(context.Background(), &testpb.Empty{}); err != nil {
		t.Fatal(err)
	}
	<-h.backend.seen
	if _, err := c.EmptyCall(bearerCtx(context.Background(), "not-even-a-jwt"), &testpb.Empty{}); err != nil {
		t.Fatal(err)
	}
	seen := <-h.backend.seen
	if got := seen.md.Get("authorization"); len(got) != 0 {
		t.Fatalf("a public call forwarded authorization %v", got)
	}
	if got := seen.md.Get(clientIPMetadata); len(got) != 1 || got[0] != "127.0.0.1" {
		t.Fatalf("client address %v", got)
	}
}

// TestQuotas: each client has its own bucket (an override gives one more),
// the public method one per source address; over it is ResourceExhausted
// with RetryInfo, and the service is not called.
func TestQuotas(t *testing.T) {
	slow := 1.0 / 3600 // nothing refills during the test
	h := newHarness(t, func(_ *harness, o *Options) {
		o.ClientQuota = Quota{PerSecond: slow, Burst: 2}
		o.ClientQuotas = map[string]Quota{"cli_big": {PerSecond: slow, Burst: 4}}
		o.PublicQuota = Quota{PerSecond: slow, Burst: 3}
	})
	c := h.client(t)
	calls := func(subject string, n int) error {
		ctx := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{Subject: subject}))
		for range n {
			if _, err := c.UnaryCall(ctx, &testpb.SimpleRequest{}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := calls("cli_a", 2); err != nil {
		t.Fatal(err)
	}
	err := calls("cli_a", 1)
	wantRateLimited(t, err)
	if err := calls("cli_b", 2); err != nil {
		t.Fatalf("another client was limited: %v", err)
	}
	if err := calls("cli_big", 4); err != nil {
		t.Fatalf("the override was not applied: %v", err)
	}
	wantRateLimited(t, calls("cli_big", 1))
	if n := h.backend.calls.Load(); n != 8 {
		t.Fatalf("the service saw %d calls, want the 8 allowed", n)
	}
	for range 3 {
		if _, err := c.EmptyCall(context.Background(), &testpb.Empty{}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.EmptyCall(context.Background(), &testpb.Empty{})
	wantRateLimited(t, err)
}

func wantRateLimited(t *testing.T, err error) {
	t.Helper()
	wantRefusal(t, err, codes.ResourceExhausted, ReasonRateLimited)
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay().AsDuration() >= time.Second {
			return
		}
	}
	t.Fatalf("no RetryInfo in %v", status.Convert(err).Details())
}

// TestTokenizeStaysInTheClientsTenant: the gateway's own Tokenize rule
// refuses a request for another tenant (the vault does not check yet); the
// client's own tenant, named or left to the default, passes.
func TestTokenizeStaysInTheClientsTenant(t *testing.T) {
	h := newHarness(t)
	vault := tokenvaultv1.NewTokenVaultServiceClient(h.dial(t))
	items := []*tokenvaultv1.TokenizeItem{{Value: "Jane Doe", DataType: tokenvaultv1.DataType_DATA_TYPE_NAME}}
	shop := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{Scope: ScopeTokenize}))
	resp, err := vault.Tokenize(shop, &tokenvaultv1.TokenizeRequest{Tenant: testTenant, Subject: "cus_1", Items: items})
	if err != nil || len(resp.GetResults()) != 1 {
		t.Fatalf("own tenant: %v, %v", resp, err)
	}
	before := len(h.recorded.all())
	_, err = vault.Tokenize(shop, &tokenvaultv1.TokenizeRequest{Tenant: "othershop", Subject: "cus_1", Items: items})
	wantRefusal(t, err, codes.PermissionDenied, ReasonTenantMismatch)
	waitFor(t, func() bool { return len(h.recorded.all()) > before })
	if e := h.recorded.all()[before]; e.Reason != ReasonTenantMismatch || e.ActorSubject != testClient {
		t.Fatalf("audited %+v", e)
	}
	// No tenant is the vault's default tenant: not this client's.
	_, err = vault.Tokenize(shop, &tokenvaultv1.TokenizeRequest{Subject: "cus_1", Items: items})
	wantRefusal(t, err, codes.PermissionDenied, ReasonTenantMismatch)
	// A client of the default tenant may leave it out or name it.
	def := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{Subject: "cli_default", Tenant: "default", Scope: ScopeTokenize}))
	for _, tenant := range []string{"", "default"} {
		if _, err := vault.Tokenize(def, &tokenvaultv1.TokenizeRequest{Tenant: tenant, Subject: "cus_1", Items: items}); err != nil {
			t.Fatalf("default tenant %q: %v", tenant, err)
		}
	}
	// Bytes that are not a TokenizeRequest (here field 3, the scope
	// string, holding invalid UTF-8) are refused, not guessed at.
	conn := h.dial(t)
	err = conn.Invoke(shop, tokenvaultv1.TokenVaultService_Tokenize_FullMethodName, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte{0xff, 0xff}}},
		&tokenvaultv1.TokenizeResponse{})
	wantRefusal(t, err, codes.InvalidArgument, ReasonMalformedRequest)
	if n := h.vault.calls.Load(); n != 3 {
		t.Fatalf("the vault saw %d calls, want the 3 allowed", n)
	}
}

// TestMessageSizeIsBounded: a request over the limit is refused by the
// edge, and a response over it does not reach the client.
func TestMessageSizeIsBounded(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	ctx := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{}))
	_, err := c.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: make([]byte, testMaxMsg+1)}})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("large request: %v", err)
	}
	if n := h.backend.calls.Load(); n != 0 {
		t.Fatalf("the service saw %d calls", n)
	}
	_, err = c.UnaryCall(ctx, &testpb.SimpleRequest{ResponseSize: testMaxMsg + 1})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("large response: %v", err)
	}
}

// TestOnlyTLS13: a plaintext client and a TLS 1.2 client get nowhere.
func TestOnlyTLS13(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	plain := testpb.NewTestServiceClient(h.dialWith(t, grpc.WithTransportCredentials(insecure.NewCredentials())))
	if _, err := plain.EmptyCall(ctx, &testpb.Empty{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("plaintext: %v", err)
	}
	old := testpb.NewTestServiceClient(h.dialWith(t, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
		InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12,
	}))))
	if _, err := old.EmptyCall(ctx, &testpb.Empty{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("TLS 1.2: %v", err)
	}
	if n := h.backend.calls.Load(); n != 0 {
		t.Fatalf("the service saw %d calls", n)
	}
	// The same call over TLS 1.3 works.
	if _, err := h.client(t).EmptyCall(ctx, &testpb.Empty{}); err != nil {
		t.Fatal(err)
	}
}

// TestBackendDownIsUnavailable: the transport's text (which names the
// service's address) does not reach the client.
func TestBackendDownIsUnavailable(t *testing.T) {
	h := newHarness(t, func(h *harness, o *Options) {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := lis.Addr().String()
		lis.Close() // nothing listens there any more
		o.Backends["backend"] = h.pki.Dial(t, "gateway", "backend", addr)
	})
	ctx := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{}))
	_, err := h.client(t).UnaryCall(ctx, &testpb.SimpleRequest{})
	wantRefusal(t, err, codes.Unavailable, ReasonBackendUnavailable)
	if msg := status.Convert(err).Message(); strings.Contains(msg, "127.0.0.1") || strings.Contains(msg, "connect") {
		t.Fatalf("message leaks the transport: %q", msg)
	}
}

// TestCancelReachesTheService: a client that goes away ends the relayed
// stream at the service too.
func TestCancelReachesTheService(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(bearerCtx(context.Background(), h.token(t, accesstoken.Claims{})))
	stream, err := h.client(t).FullDuplexCall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := stream.Recv(); status.Code(err) != codes.Canceled {
		t.Fatalf("after cancel: %v", err)
	}
	if err := <-h.backend.duplexEnded; status.Code(err) != codes.Canceled {
		t.Fatalf("the service's stream ended with %v", err)
	}
}

// TestNewRefusesUnsafeOptions: no TLS, TLS below 1.3, a backend the table
// names but the gateway did not dial, and quotas that would refuse or allow
// everything do not make an edge.
func TestNewRefusesUnsafeOptions(t *testing.T) {
	cert, err := SelfSigned(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	good := func() Options {
		return Options{
			Methods:     Methods{testpb.TestService_UnaryCall_FullMethodName: {Backend: "backend", Scope: testScope}},
			Backends:    map[string]grpc.ClientConnInterface{"backend": &grpc.ClientConn{}},
			Auth:        authFunc(nil),
			TLS:         serverConfig(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil }),
			ClientQuota: Quota{PerSecond: 1, Burst: 1}, PublicQuota: Quota{PerSecond: 1, Burst: 1},
			MaxMsgBytes: 1 << 20, ShutdownTimeout: time.Second,
		}
	}
	if _, err := New(good()); err != nil {
		t.Fatal(err)
	}
	for name, spoil := range map[string]func(*Options){
		"no TLS":          func(o *Options) { o.TLS = nil },
		"TLS 1.2":         func(o *Options) { o.TLS.MinVersion = tls.VersionTLS12 },
		"no auth":         func(o *Options) { o.Auth = nil },
		"missing backend": func(o *Options) { o.Backends = nil },
		"zero quota":      func(o *Options) { o.ClientQuota = Quota{} },
		"bad override":    func(o *Options) { o.ClientQuotas = map[string]Quota{"cli": {PerSecond: 1}} },
		"no size limit":   func(o *Options) { o.MaxMsgBytes = 0 },
	} {
		o := good()
		spoil(&o)
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

type authFunc func(string) (*accesstoken.Claims, error)

func (f authFunc) Authenticate(_ context.Context, token string) (*accesstoken.Claims, error) {
	return f(token)
}

// TestShutdownCutsStreamsAfterTheTimeout: a stream still open when the
// gateway stops is given the shutdown timeout, then cut; Serve returns.
func TestShutdownCutsStreamsAfterTheTimeout(t *testing.T) {
	h := newHarness(t, func(_ *harness, o *Options) { o.ShutdownTimeout = 100 * time.Millisecond })
	ctx := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{}))
	stream, err := h.client(t).FullDuplexCall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	if err := h.shutdown(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	if _, err := stream.Recv(); err == nil {
		t.Fatal("the stream outlived the shutdown")
	}
}
