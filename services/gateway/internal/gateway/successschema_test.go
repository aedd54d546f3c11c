package gateway

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sottohq/sotto/gen"
	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
)

type checkpointAudit struct {
	auditv1.UnimplementedAuditServiceServer
}

func (checkpointAudit) GetCheckpoint(context.Context, *auditv1.GetCheckpointRequest) (*auditv1.GetCheckpointResponse, error) {
	return &auditv1.GetCheckpointResponse{
		Checkpoint: &auditv1.Checkpoint{TreeSize: 7, RootHash: []byte{1, 2}, SignedNote: []byte("note"), SignTime: timestamppb.Now()},
		Origin:     "sotto.test/audit", VerifierKey: "sotto.test/audit+00000000+key",
	}, nil
}

// TestSuccessBodiesMatchOpenAPI: a successful body uses the field names and
// JSON types the document declares (proto names, as the gateway marshals),
// so a client generated from /openapi.json reads real responses.
func TestSuccessBodiesMatchOpenAPI(t *testing.T) {
	var doc swaggerDoc
	if err := json.Unmarshal(gen.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	auditv1.RegisterAuditServiceServer(gs, checkpointAudit{})
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	h, err := New(context.Background(), []Backend{testBackend(t, "audit", lis.Addr().String(), []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}...)},
		Options{MaxBodyBytes: 1024, Auth: tokens(t)})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/v1/audit/checkpoint", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken(t))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("checkpoint: %d %s", rec.Code, rec.Body.String())
	}
	var body any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	op, ok := doc.Paths["/v1/audit/checkpoint"]["get"]
	if !ok || op.Responses["200"].Schema == nil {
		t.Fatal("the document has no 200 schema for GET /v1/audit/checkpoint")
	}
	seen := map[string]bool{}
	doc.compare(t, "body", op.Responses["200"].Schema, body, seen)
	if !seen["body.checkpoint.tree_size"] {
		t.Errorf("the comparison did not reach the nested fields: %v", seen)
	}
}

// TestRoutesOutliveTheRegistrationContext: the context New was given ends
// at SIGTERM, while the HTTP server still drains; requests in that window
// must still reach the backend (grpc-gateway's FromEndpoint registration
// closes its connection when that context ends).
func TestRoutesOutliveTheRegistrationContext(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	auditv1.RegisterAuditServiceServer(gs, checkpointAudit{})
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	ctx, cancel := context.WithCancel(context.Background())
	h, err := New(ctx, []Backend{testBackend(t, "audit", lis.Addr().String())}, Options{MaxBodyBytes: 1024, Auth: tokens(t)})
	if err != nil {
		t.Fatal(err)
	}
	cancel() // SIGTERM: the drain begins
	req := httptest.NewRequest(http.MethodGet, "/v1/audit/checkpoint", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken(t))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("request during the drain: %d %s", rec.Code, rec.Body.String())
	}
}
