package server_test

import (
	"context"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/sottohq/sotto/pkg/servertest"
)

// BenchmarkUnaryRPC measures what Sotto's server adds to a unary call: the
// same no-op RPC (grpc.health.v1 Check) over mTLS on loopback, once through
// the production server (interceptor chain, strict codec, otelgrpc) and once
// through a bare grpc-go server with the same certificates (the reference).
// 64 callers share one connection, as a service's client does.
func BenchmarkUnaryRPC(b *testing.B) {
	pki := servertest.NewPKI(b)
	srv := pki.NewServer(b, "svc", policy)
	sotto := servertest.Start(b, srv)

	// The reference: the same identity's TLS config, nothing else.
	src := pki.Source(b, "svc")
	bare := grpc.NewServer(grpc.Creds(credentials.NewTLS(src.ServerTLSConfig())))
	healthpb.RegisterHealthServer(bare, health.NewServer())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go bare.Serve(l)
	b.Cleanup(bare.Stop)

	for _, tc := range []struct{ name, addr string }{{"sotto", sotto}, {"bare-grpc", l.Addr().String()}} {
		b.Run(tc.name, func(b *testing.B) {
			hc := healthpb.NewHealthClient(pki.Dial(b, "audit", "svc", tc.addr)) // "*" admits the manifest's workloads
			if _, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
				b.Fatal(err)
			}
			work := make(chan struct{}, b.N)
			for range b.N {
				work <- struct{}{}
			}
			close(work)
			var wg sync.WaitGroup
			b.ResetTimer()
			for range 64 {
				wg.Go(func() {
					for range work {
						if _, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
