package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
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
	}), tel, "127.0.0.1:8080")
	req := httptest.NewRequest(http.MethodGet, "/v1/audit/events", nil)
	req.Header.Set("traceparent", "00-"+clientTrace+"-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if seen.TraceID().String() == clientTrace {
		t.Fatalf("the request runs under the client's trace %s", clientTrace)
	}
}

// TestHostHeaderIsNotAMetricLabel: the Host header a client sends does not
// become a metric label (a new series per value, and client text in
// /metrics).
func TestHostHeaderIsNotAMetricLabel(t *testing.T) {
	tel, err := telemetry.New(context.Background(), "gateway", telemetry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := Instrument(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), tel, "127.0.0.1:8080")
	for _, host := range []string{"h1.canary.example", "h2.canary.example"} {
		req := httptest.NewRequest(http.MethodGet, "/v1/audit/events", nil)
		req.Host = host
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	families, err := tel.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "canary") {
					t.Fatalf("metric %s has the label %s=%q from the Host header", f.GetName(), l.GetName(), l.GetValue())
				}
				if l.GetName() == "server_address" {
					found = true
				}
			}
		}
	}
	if !found {
		t.Fatal("no server_address label at all: the test saw no HTTP metrics")
	}
}
