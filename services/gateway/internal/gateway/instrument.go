package gateway

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"

	"github.com/sottohq/sotto/pkg/telemetry"
)

// Instrument traces and measures the REST edge. The edge is public: trace
// context a client sends (traceparent, baggage) is not read at all, so a
// client cannot choose the trace ID that names its requests in spans, in
// the services it reaches and in audit events. (Only marking the endpoint
// public is not enough: with no collector configured the tracer is a no-op
// that hands back the extracted remote context as the current one.)
//
// The server's address in spans and metrics is listenAddr, never the
// request's Host header: each new Host value would be a new metric series
// (unbounded memory) holding text the client chose.
func Instrument(h http.Handler, tel *telemetry.Telemetry, listenAddr string) http.Handler {
	return otelhttp.NewHandler(h, "gateway",
		otelhttp.WithServerName(listenAddr),
		otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return true }),
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()),
		otelhttp.WithTracerProvider(tel.Tracer), otelhttp.WithMeterProvider(tel.Meter))
}
