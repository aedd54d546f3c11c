package egress_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sottohq/sotto/pkg/egress"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/telemetry"
)

// Every canary must reach the server and none may reach logs, spans or
// errors.
const (
	canaryPath   = "/crm/v3/objects/contacts/canary-path-jane@example.com"
	canaryQuery  = "idProperty=email&q=canary-query"
	canaryHeader = "Bearer canary-header"
	canaryBody   = `{"email":"canary-body"}`
)

func TestLogsAndSpansCarryNoRequestData(t *testing.T) {
	t.Parallel()
	s := newServer(t, failing(1, http.StatusServiceUnavailable, nil))
	spans := tracetest.NewSpanRecorder()
	tel := &telemetry.Telemetry{Tracer: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))}
	logs := &syncBuffer{}
	c, err := egress.New(egress.Config{
		AllowedHosts:      []string{s.hostPort()},
		AllowPrivateCIDRs: loopback,
		RootCAs:           s.roots(),
	}, logging.New(logs, "test", slog.LevelDebug), tel)
	if err != nil {
		t.Fatal(err)
	}
	egress.SetSleep(c, noSleep)

	for _, template := range []string{"", "/crm/v3/objects/contacts/{contactId}"} {
		ctx := egress.WithIdempotencyKey(t.Context(), "key-1")
		if template != "" {
			ctx = egress.WithPathTemplate(ctx, template)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+canaryPath+"?"+canaryQuery, strings.NewReader(canaryBody))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", canaryHeader)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("Do: %v", err)
		}
		resp.Body.Close()
	}

	// The server got the real request: what is scrubbed for telemetry is
	// put back before sending.
	for _, r := range s.requestsSeen() {
		if r.uri != canaryPath+"?"+canaryQuery || r.body != canaryBody || r.header.Get("Authorization") != canaryHeader {
			t.Fatalf("server saw %s %q body %q, want the request as sent", r.method, r.uri, r.body)
		}
	}
	if n := len(s.requestsSeen()); n != 3 {
		t.Fatalf("server saw %d requests, want 3 (a 503, its retry, the second call)", n)
	}

	out := logs.String()
	var lines []map[string]any
	for line := range strings.Lines(out) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 {
		t.Fatalf("got %d log lines, want one per attempt (3):\n%s", len(lines), out)
	}
	want := []map[string]any{
		{"method": "POST", "host": s.hostPort(), "attempt": 1.0, "status": 503.0},
		{"method": "POST", "host": s.hostPort(), "attempt": 2.0, "status": 200.0},
		{"method": "POST", "host": s.hostPort(), "attempt": 1.0, "status": 200.0, "path": "/crm/v3/objects/contacts/{contactId}"},
	}
	for i, w := range want {
		for k, v := range w {
			if lines[i][k] != v {
				t.Errorf("log line %d: %s = %v, want %v", i+1, k, lines[i][k], v)
			}
		}
		if _, ok := lines[i]["duration_ms"].(float64); !ok {
			t.Errorf("log line %d has no duration_ms", i+1)
		}
	}
	if _, ok := lines[0]["path"]; ok {
		t.Errorf("without a template, the log names a path: %v", lines[0]["path"])
	}

	ended := spans.Ended()
	if len(ended) != 3 {
		t.Fatalf("got %d spans, want one per attempt (3)", len(ended))
	}
	var dump strings.Builder
	for _, sp := range ended {
		fmt.Fprintf(&dump, "%s %v %v %v\n", sp.Name(), sp.Attributes(), sp.Events(), sp.Status())
	}
	for _, canary := range []string{"canary", "jane", "Bearer", "idProperty"} {
		if strings.Contains(out, canary) {
			t.Errorf("logs contain %q:\n%s", canary, out)
		}
		if strings.Contains(dump.String(), canary) {
			t.Errorf("spans contain %q:\n%s", canary, dump.String())
		}
	}
	var names []string
	for _, sp := range ended {
		names = append(names, sp.Name())
	}
	if diff := cmp.Diff([]string{"POST", "POST", "POST /crm/v3/objects/contacts/{contactId}"}, names); diff != "" {
		t.Errorf("span names (-want +got):\n%s", diff)
	}
}

// A failed call's error names no URL, which *url.Error would quote whole.
func TestErrorsCarryNoURL(t *testing.T) {
	t.Parallel()
	s := newServer(t, hangUp)
	c := newClient(t, s, egress.Config{AllowPrivateCIDRs: loopback, MaxRetries: -1})
	_, err := c.get(t, s.URL+canaryPath+"?"+canaryQuery)
	if err == nil {
		t.Fatal("Do succeeded against a server that hangs up")
	}
	// Not even its private cause: an operator's errs.Detailed would print it.
	if strings.Contains(errs.Detailed(err), "canary") {
		t.Fatalf("error quotes the URL: %s", errs.Detailed(err))
	}
}

func TestTraceContextNotSentUnlessAsked(t *testing.T) {
	t.Parallel()
	s := newServer(t, ok)
	tel := &telemetry.Telemetry{
		Tracer:     sdktrace.NewTracerProvider(),
		Propagator: propagation.TraceContext{},
	}
	for _, propagate := range []bool{false, true} {
		c, err := egress.New(egress.Config{
			AllowedHosts:          []string{s.hostPort()},
			AllowPrivateCIDRs:     loopback,
			RootCAs:               s.roots(),
			PropagateTraceContext: propagate,
		}, slog.New(slog.DiscardHandler), tel)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		seen := s.requestsSeen()
		if got := seen[len(seen)-1].header.Get("Traceparent") != ""; got != propagate {
			t.Errorf("PropagateTraceContext %v: traceparent sent = %v", propagate, got)
		}
	}
}
