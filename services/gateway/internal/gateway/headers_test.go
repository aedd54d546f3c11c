package gateway

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
)

// metadataRecorder answers GetEvent and keeps the metadata it arrived with.
type metadataRecorder struct {
	auditv1.UnimplementedAuditServiceServer
	got chan metadata.MD
}

func (m *metadataRecorder) GetEvent(ctx context.Context, _ *auditv1.GetEventRequest) (*auditv1.GetEventResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	m.got <- md
	// Response metadata a service sets is its own business, not the
	// client's (TestNoGRPCMetadataLeaks).
	grpc.SetHeader(ctx, metadata.Pairs("x-service-internal", "1"))
	grpc.SetTrailer(ctx, metadata.Pairs("x-service-trailer", "1"))
	return &auditv1.GetEventResponse{Event: &auditv1.Event{}}, nil
}

// TestOnlyTheAccessTokenTravels: the verified access token reaches the
// service as its authorization metadata (services verify it themselves),
// with the client address the gateway decided; cookies, other headers and a
// client's own x-sotto-client-ip do not travel.
func TestOnlyTheAccessTokenTravels(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &metadataRecorder{got: make(chan metadata.MD, 1)}
	gs := grpc.NewServer()
	auditv1.RegisterAuditServiceServer(gs, rec)
	go gs.Serve(lis)
	defer gs.Stop()

	h, err := New(context.Background(), []Backend{testBackend(t, "audit", lis.Addr().String(), []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}...)},
		Options{MaxBodyBytes: 1024, Auth: tokens(t)})
	if err != nil {
		t.Fatal(err)
	}
	tok := operatorToken(t)
	req := httptest.NewRequest(http.MethodGet, "/v1/audit/events/0193a5b0-0000-7000-8000-000000000000", nil)
	req.RemoteAddr = "198.51.100.7:50000"
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Cookie", "session=abc")
	req.Header.Set("X-Sotto-Client-Ip", "203.0.113.99")
	req.Header.Set("X-Forwarded-For", "203.0.113.98")
	rec2 := httptest.NewRecorder()
	h.ServeHTTP(rec2, req)
	if rec2.Code != http.StatusOK {
		t.Fatalf("get: %d %s", rec2.Code, rec2.Body)
	}
	md := <-rec.got
	if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer "+tok {
		t.Errorf("authorization metadata %q, want the verified token", got)
	}
	if got := md.Get(clientIPMetadata); len(got) != 1 || got[0] != "198.51.100.7" {
		t.Errorf("client address %q, want the connection's peer 198.51.100.7 (no proxy is trusted)", got)
	}
	if got := strings.Join(md.Get("x-forwarded-for"), ","); strings.Contains(got, "203.0.113.98") {
		t.Errorf("the client's own X-Forwarded-For reached the service: %q", got)
	}
	for _, k := range []string{"grpcgateway-authorization", "grpcgateway-cookie", "cookie"} {
		if v := md.Get(k); len(v) > 0 {
			t.Errorf("header forwarded to the service as %q", k)
		}
	}
}

// recordingGateway is a gateway in front of a live audit service that
// answers GetEvent (metadataRecorder).
func recordingGateway(t *testing.T) (http.Handler, *metadataRecorder) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &metadataRecorder{got: make(chan metadata.MD, 16)}
	gs := grpc.NewServer()
	auditv1.RegisterAuditServiceServer(gs, rec)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	h, err := New(context.Background(), []Backend{testBackend(t, "audit", lis.Addr().String())},
		Options{MaxBodyBytes: 1024, Auth: tokens(t)})
	if err != nil {
		t.Fatal(err)
	}
	return h, rec
}

// TestNoGRPCMetadataLeaks: a successful answer carries none of the
// service's gRPC metadata as Grpc-Metadata-* headers or trailers (not even
// content-type: application/grpc), even when the client asks for trailers.
func TestNoGRPCMetadataLeaks(t *testing.T) {
	h, _ := recordingGateway(t)
	req := httptest.NewRequest(http.MethodGet, "/v1/audit/events/0193a5b0-0000-7000-8000-000000000000", nil)
	req.Header.Set("Authorization", "Bearer "+operatorToken(t))
	req.Header.Set("TE", "trailers")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("get: %d %s", rec.Code, rec.Body)
	}
	for k := range rec.Result().Header {
		if strings.HasPrefix(strings.ToLower(k), "grpc-") {
			t.Errorf("gRPC metadata leaked as header %s: %q", k, rec.Result().Header[k])
		}
	}
	for k := range rec.Result().Trailer {
		t.Errorf("gRPC metadata leaked as trailer %s", k)
	}
}

// TestEveryAnswerHasSecurityHeaders: nosniff and no-store on API answers,
// errors, the OpenAPI document, unknown routes and net/http's own
// path-cleaning redirects, which no route handler ever sees.
func TestEveryAnswerHasSecurityHeaders(t *testing.T) {
	h, _ := recordingGateway(t)
	op := operatorToken(t)
	for _, tc := range []struct {
		name, method, path, token string
		code                      int
	}{
		{"api answer", http.MethodGet, "/v1/audit/events/0193a5b0-0000-7000-8000-000000000000", op, http.StatusOK},
		{"api error", http.MethodGet, "/v1/audit/events", "", http.StatusUnauthorized},
		{"openapi", http.MethodGet, "/openapi.json", "", http.StatusOK},
		{"unknown route", http.MethodGet, "/v2/nothing", "", http.StatusNotFound},
		{"method not allowed", http.MethodDelete, "/v1/audit/events", op, http.StatusMethodNotAllowed},
		{"path-cleaning redirect", http.MethodGet, "/v1/audit//events", "", http.StatusTemporaryRedirect},
		{"healthz", http.MethodGet, "/healthz", "", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, rec.Code, rec.Body, tc.code)
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
		})
	}
}
