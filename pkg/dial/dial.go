// Package dial connects one Sotto workload to another: mTLS with the caller's
// workload certificate, the server authenticated by its SPIFFE ID (not by
// host name), and OpenTelemetry propagation so traces cross services.
//
// A target names one replica (host:port, dialled as before) or several:
// a comma-separated list of host:port, or a resolver URI such as
// dns:///audit.sotto.svc:8443 (a headless Service's records). Several
// replicas are balanced round robin, and only those whose grpc.health.v1
// status is SERVING get calls (pkg/server mirrors /readyz into it), so a
// draining, not-ready or standby replica (the audit log's, ADR 0017) is
// skipped while its peers serve.
package dial

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync/atomic"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	_ "google.golang.org/grpc/health" // registers the client-side health check the service config enables
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"

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

// Service connects to service at target as the workload src. target is
// host:port, a comma-separated list of them, or a resolver URI (dns:///...);
// see the package comment.
func Service(target string, src *mtls.Source, service string, tel *telemetry.Telemetry, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	opts, err := Options(src, service, tel)
	if err != nil {
		return nil, err
	}
	target, balance, err := Target(target)
	if err != nil {
		return nil, fmt.Errorf("address of %s: %w", service, err)
	}
	opts = append(opts, balance...)
	return grpc.NewClient(target, append(opts, extra...)...)
}

// retryable names the calls that may be sent again after a replica failed
// mid-call (Unavailable: the call may or may not have reached it). Only calls
// that are idempotent by their own contract belong here; everything else is
// answered with the error and left to its caller, who knows whether a repeat
// is safe.
var retryable = []map[string]string{
	// Idempotent by event_id (audit.proto): a repeat returns the leaf the
	// first attempt wrote, marked duplicate.
	{"service": "sotto.audit.v1.AuditService", "method": "AppendEvents"},
	{"service": "grpc.health.v1.Health", "method": "Check"},
}

// ServiceConfig is the service config of a target with several replicas:
// round robin over the replicas that report SERVING, and bounded,
// throttled retries of the idempotent calls on Unavailable (which round
// robin sends to the next replica).
func ServiceConfig() string {
	cfg := map[string]any{
		"loadBalancingConfig": []any{map[string]any{"round_robin": map[string]any{}}},
		"healthCheckConfig":   map[string]any{"serviceName": ""},
		// A retry budget: once more than about one call in ten fails,
		// retries stop until calls succeed again, so that replicas that
		// refuse because they are overloaded (pkg/server's load shedding)
		// do not get every call up to four times (gRFC A6's throttling).
		"retryThrottling": map[string]any{"maxTokens": 10, "tokenRatio": 0.1},
		"methodConfig": []any{map[string]any{
			"name": retryable,
			"retryPolicy": map[string]any{
				"maxAttempts":          4,
				"initialBackoff":       "0.1s",
				"maxBackoff":           "1s",
				"backoffMultiplier":    2,
				"retryableStatusCodes": []string{"UNAVAILABLE"},
			},
		}},
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		panic(err) // a constant structure
	}
	return string(b)
}

var resolverSeq atomic.Uint64

// Target turns an address setting into a gRPC target and the dial options
// that balance it. One host:port is returned unchanged with no options
// (one replica: nothing to balance, and its calls behave as they always
// have). A list gets a resolver of its own holding exactly those addresses;
// a URI is left to the resolver its scheme names.
func Target(addr string) (string, []grpc.DialOption, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return "", nil, fmt.Errorf("empty address")
	}
	balanced := grpc.WithDefaultServiceConfig(ServiceConfig())
	if strings.Contains(addr, "://") {
		return addr, []grpc.DialOption{balanced}, nil
	}
	if !strings.Contains(addr, ",") {
		return addr, nil, nil
	}
	var state resolver.State
	for part := range strings.SplitSeq(addr, ",") {
		part = strings.TrimSpace(part)
		if _, _, err := net.SplitHostPort(part); err != nil {
			return "", nil, fmt.Errorf("%q in the list is not host:port: %w", part, err)
		}
		state.Addresses = append(state.Addresses, resolver.Address{Addr: part})
	}
	// A scheme per connection: the manual resolver serves one ClientConn.
	scheme := fmt.Sprintf("sotto-static-%d", resolverSeq.Add(1))
	r := manual.NewBuilderWithScheme(scheme)
	r.InitialState(state)
	return scheme + ":///replicas", []grpc.DialOption{grpc.WithResolvers(r), balanced}, nil
}
