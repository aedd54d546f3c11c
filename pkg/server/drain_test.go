package server_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/servertest"
)

// TestOpenStreamsEndAtShutdown: a stream that never ends by itself (a
// health Watch here, a change feed in a service) is ended when the graceful
// stop begins, with Unavailable so its client reconnects elsewhere, instead
// of holding the drain until the shutdown timeout and being cut.
func TestOpenStreamsEndAtShutdown(t *testing.T) {
	pki := servertest.NewPKI(t)
	srv := pki.NewServer(t, "svc", authz.Policy{healthpb.Health_Watch_FullMethodName: {"client"}})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()

	watch, err := healthpb.NewHealthClient(pki.Dial(t, "client", "svc", srv.GRPCAddr())).Watch(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := watch.Recv(); err != nil { // the stream is open and served
		t.Fatal(err)
	}
	cancel()
	for {
		_, err = watch.Recv()
		if err != nil {
			break
		}
	}
	if status.Code(err) != codes.Unavailable || !strings.Contains(status.Convert(err).Message(), "shutting down") {
		t.Errorf("stream at shutdown: %v, want Unavailable saying the server is shutting down", err)
	}
	if err := <-served; err != nil {
		t.Errorf("serve: %v", err)
	}
}
