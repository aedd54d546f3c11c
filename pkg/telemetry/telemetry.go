// Package telemetry wires OpenTelemetry for a service: traces go to an OTLP
// collector when one is configured (and nowhere otherwise), metrics are always
// exposed in Prometheus format on the admin port. Providers are returned, not
// installed globally, so tests can run several services in one process.
package telemetry

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Config says where telemetry goes.
type Config struct {
	// OTLPEndpoint is host:port of an OTLP/gRPC collector; empty disables trace export.
	OTLPEndpoint string `env:"OTEL_EXPORTER_OTLP_ENDPOINT"`
	// OTLPInsecure sends OTLP without TLS; only for a collector on loopback
	// (a sidecar). Off by default.
	OTLPInsecure bool `env:"OTEL_EXPORTER_OTLP_INSECURE"`
}

// Telemetry holds a service's providers.
type Telemetry struct {
	Tracer     trace.TracerProvider
	Meter      metric.MeterProvider
	Propagator propagation.TextMapPropagator
	// Registry is what the admin port's /metrics serves.
	Registry *prometheus.Registry

	shutdown []func(context.Context) error
}

// New builds the providers for service.
func New(ctx context.Context, service string, cfg Config) (*Telemetry, error) {
	res := resource.NewSchemaless(semconv.ServiceName(service))
	t := &Telemetry{
		Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		Registry:   prometheus.NewRegistry(),
	}
	t.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	exp, err := otelprom.New(otelprom.WithRegisterer(t.Registry))
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(res))
	t.Meter = mp
	t.shutdown = append(t.shutdown, mp.Shutdown)

	if cfg.OTLPEndpoint == "" {
		// Still propagate incoming trace context, so trace IDs reach logs and audit.
		t.Tracer = noop.NewTracerProvider()
		return t, nil
	}
	opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(cfg.OTLPEndpoint)}
	if cfg.OTLPInsecure {
		opts = append(opts, otlptracegrpc.WithInsecure())
	}
	te, err := otlptracegrpc.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(te), sdktrace.WithResource(res))
	t.Tracer = tp
	t.shutdown = append(t.shutdown, tp.Shutdown)
	return t, nil
}

// Shutdown flushes and stops the providers.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errList []error
	for _, f := range t.shutdown {
		errList = append(errList, f(ctx))
	}
	return errors.Join(errList...)
}
