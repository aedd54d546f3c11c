package server_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
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

// TestFeedEndingQuietlyAtShutdownIsUnavailable: a handler that ends cleanly
// when its context is canceled (as a change feed does) still tells its
// client to reconnect, rather than ending the stream as if complete.
func TestFeedEndingQuietlyAtShutdownIsUnavailable(t *testing.T) {
	pki := servertest.NewPKI(t)
	const method = "/sotto.feedtest.v1.FeedTestService/Feed"
	srv := pki.NewServer(t, "svc", authz.Policy{method: {"client"}})
	opened := make(chan struct{})
	srv.GRPC().RegisterService(&grpc.ServiceDesc{
		ServiceName: "sotto.feedtest.v1.FeedTestService",
		HandlerType: (*any)(nil),
		Streams: []grpc.StreamDesc{{StreamName: "Feed", ServerStreams: true, Handler: func(_ any, ss grpc.ServerStream) error {
			close(opened)
			<-ss.Context().Done()
			return nil // a feed ends quietly when its context does
		}}},
	}, struct{}{})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	conn := pki.Dial(t, "client", "svc", srv.GRPCAddr())
	stream, err := conn.NewStream(context.Background(), &grpc.StreamDesc{ServerStreams: true}, method)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.SendMsg(&healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	stream.CloseSend()
	<-opened
	cancel()
	err = stream.RecvMsg(&healthpb.HealthCheckResponse{})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("feed at shutdown: %v, want Unavailable", err)
	}
	if err := <-served; err != nil {
		t.Errorf("serve: %v", err)
	}
}
