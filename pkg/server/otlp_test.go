package server_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/telemetry"
)

// collector speaks the OTLP/gRPC trace protocol, as an OpenTelemetry
// collector does, and keeps what it receives.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []*tracepb.ResourceSpans
}

func (c *collector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spans = append(c.spans, req.ResourceSpans...)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// TestTracesExportedOverOTLPWithoutPayloads: with an OTLP endpoint
// configured, RPC spans reach the collector named by service, and no request
// content travels with them.
func TestTracesExportedOverOTLPWithoutPayloads(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	col := &collector{}
	gs := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(gs, col)
	go gs.Serve(lis)
	defer gs.Stop()

	pki := servertest.NewPKI(t)
	cfg := pki.Config(t, "svc")
	cfg.Telemetry = telemetry.Config{OTLPEndpoint: lis.Addr().String(), OTLPInsecure: true}
	srv, err := server.New(context.Background(), "svc", cfg, policy, servertest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	testpb.RegisterTestServiceServer(srv.GRPC(), &testService{})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	c := testpb.NewTestServiceClient(pki.Dial(t, "client", "svc", srv.GRPCAddr()))
	if err := call(t, c, "ok jane@example.com 4242424242424242"); err != nil {
		t.Fatal(err)
	}
	cancel() // Serve flushes telemetry on the way out
	if err := <-served; err != nil {
		t.Fatal(err)
	}

	col.mu.Lock()
	defer col.mu.Unlock()
	var dump strings.Builder
	found := false
	for _, rs := range col.spans {
		b, _ := protojson.Marshal(rs)
		dump.Write(b)
		svc := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.Key == "service.name" {
				svc = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				if svc == "svc" && sp.Name == "grpc.testing.TestService/UnaryCall" {
					found = true
				}
			}
		}
	}
	if !found {
		t.Fatalf("no UnaryCall span from service svc reached the collector: %s", dump.String())
	}
	if strings.Contains(dump.String(), "jane@example.com") || strings.Contains(dump.String(), "4242424242424242") {
		t.Fatal("request content exported with the trace")
	}
}
