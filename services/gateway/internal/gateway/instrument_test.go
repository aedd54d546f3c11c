package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/sottohq/sotto/pkg/telemetry"
)

// TestClientTraceContextIsNotAdopted: a traceparent sent by a client does
// not become the trace the gateway (and the services and audit events after
// it) works under.
func TestClientTraceContextIsNotAdopted(t *testing.T) {
	tel, err := telemetry.New(context.Background(), "gateway", telemetry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const clientTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	var seen trace.SpanContext
	h := Instrument(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = trace.SpanContextFromContext(r.Context())
	}), tel)
	req := httptest.NewRequest(http.MethodGet, "/v1/audit/events", nil)
	req.Header.Set("traceparent", "00-"+clientTrace+"-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if seen.TraceID().String() == clientTrace {
		t.Fatalf("the request runs under the client's trace %s", clientTrace)
	}
}
