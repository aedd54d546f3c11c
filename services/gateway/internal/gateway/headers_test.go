package gateway

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
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
	return &auditv1.GetEventResponse{Event: &auditv1.Event{}}, nil
}

// TestOperatorTokenStaysAtTheEdge: the operator's bearer token (and other
// HTTP headers) are not forwarded to services as gRPC metadata.
func TestOperatorTokenStaysAtTheEdge(t *testing.T) {
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
		Options{MaxBodyBytes: 1024, AdminToken: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/v1/audit/events/0193a5b0-0000-7000-8000-000000000000", nil)
	req.Header.Set("Authorization", "Bearer secret")
	req.Header.Set("Cookie", "session=abc")
	rec2 := httptest.NewRecorder()
	h.ServeHTTP(rec2, req)
	if rec2.Code != http.StatusOK {
		t.Fatalf("get: %d %s", rec2.Code, rec2.Body)
	}
	md := <-rec.got
	for _, k := range []string{"authorization", "grpcgateway-authorization", "grpcgateway-cookie", "cookie"} {
		if v := md.Get(k); len(v) > 0 {
			t.Errorf("header forwarded to the service as %q", k)
		}
	}
}
