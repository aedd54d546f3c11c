// Package dial connects one Sotto workload to another: mTLS with the caller's
// workload certificate, the server authenticated by its SPIFFE ID (not by
// host name), and OpenTelemetry propagation so traces cross services.
package dial

import (
	"fmt"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/telemetry"
)

// Options are the dial options for calling service as the workload src:
// only a server whose SPIFFE ID is spiffe://<caller's trust domain>/<service>
// is accepted. tel may be nil.
func Options(src *mtls.Source, service string, tel *telemetry.Telemetry) ([]grpc.DialOption, error) {
	want, err := spiffeid.FromSegments(src.ID().TrustDomain(), service)
	if err != nil {
		return nil, fmt.Errorf("server identity for %q: %w", service, err)
	}
	var handlerOpts []otelgrpc.Option
	if tel != nil {
		handlerOpts = append(handlerOpts,
			otelgrpc.WithTracerProvider(tel.Tracer),
			otelgrpc.WithMeterProvider(tel.Meter),
			otelgrpc.WithPropagators(tel.Propagator))
	}
	return []grpc.DialOption{
		grpc.WithTransportCredentials(credentials.NewTLS(src.ClientTLSConfig(mtls.AuthorizeID(want)))),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(handlerOpts...)),
	}, nil
}

// Service connects to service at target (host:port) as the workload src.
func Service(target string, src *mtls.Source, service string, tel *telemetry.Telemetry, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	opts, err := Options(src, service, tel)
	if err != nil {
		return nil, err
	}
	return grpc.NewClient(target, append(opts, extra...)...)
}
