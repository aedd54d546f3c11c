package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/logging"
)

type recorded struct {
	mu     sync.Mutex
	events []auditclient.Event
}

func (r *recorded) Record(_ context.Context, events ...auditclient.Event) error {
	if err := auditclient.Validate(events...); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, events...)
	return nil
}

func gatewayWithLog(t *testing.T, audit *AuthAuditor) (http.Handler, *bytes.Buffer) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	var buf bytes.Buffer
	logger := logging.New(&syncWriter{w: &buf}, "gateway", slog.LevelInfo)
	h, err := New(context.Background(), []Backend{testBackend(t, "audit", dead, []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}...)},
		Options{MaxBodyBytes: 1024, Auth: tokens(t), Logger: logger, AuthAudit: audit})
	if err != nil {
		t.Fatal(err)
	}
	return h, &buf
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// TestAccessLog: one line per request with the route pattern (not the URL),
// status, caller kind and a request ID that the client also gets; nothing
// from the path, query, headers or body.
func TestAccessLog(t *testing.T) {
	h, buf := gatewayWithLog(t, nil)
	admin := adminToken(t)
	const canary = "jane.canary@example.com"
	for _, tc := range []struct{ method, target, token, route, caller string }{
		{http.MethodGet, "/v1/audit/events/" + canary + "?subject=" + canary, admin, "GET /v1/audit/events/{event_id}", "staff"},
		{http.MethodGet, "/v1/audit/events?subject=" + canary, canary, "GET /v1/audit/events", callerAnonymous},
		{http.MethodGet, "/healthz", "", "GET /healthz", callerAnonymous},
	} {
		buf.Reset()
		req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(`{"note":"`+canary+`"}`))
		req.Header.Set("Content-Type", "application/json")
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		req.Header.Set("Cookie", "session="+canary)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		out := buf.String()
		if strings.Contains(out, canary) {
			t.Errorf("%s: access log holds request data: %s", tc.target, out)
		}
		var line map[string]any
		if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &line); err != nil {
			t.Fatalf("%s: want one JSON line, got %q", tc.target, out)
		}
		id := rec.Header().Get("X-Request-Id")
		if line["path"] != tc.route || line["caller"] != tc.caller || line["request_id"] != id || id == "" ||
			line["status"] != float64(rec.Code) || line["method"] != tc.method {
			t.Errorf("%s: line %v, want path %q caller %q request_id %q status %d", tc.target, line, tc.route, tc.caller, id, rec.Code)
		}
	}
}

// TestRefusedAuthenticationIsAudited: every refused authentication at the
// edge (no token, a bad one, a customer on an operator route) becomes a
// denied audit event with a stable reason and the request ID, and never the
// token presented.
func TestRefusedAuthenticationIsAudited(t *testing.T) {
	rec := &recorded{}
	audit := NewAuthAuditor(rec, slog.New(slog.DiscardHandler), 16)
	h, _ := gatewayWithLog(t, audit)
	admin := adminToken(t)
	var ids []string
	for _, token := range []string{"", "guess-canary-token", customerToken(t), admin} {
		req := httptest.NewRequest(http.MethodGet, "/v1/audit/events", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		ids = append(ids, w.Header().Get("X-Request-Id"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	audit.Run(ctx) // drains the queue and returns
	var got []string
	for _, e := range rec.events {
		if e.Action != ActionEdgeAuth || e.Outcome != auditclient.Denied {
			t.Errorf("event %+v, want a denied %s", e, ActionEdgeAuth)
		}
		if strings.Contains(e.Reason+e.ResourceID, "canary") {
			t.Errorf("event carries the presented token: %+v", e)
		}
		got = append(got, e.Reason+" "+e.ResourceID)
	}
	want := []string{"MISSING_TOKEN " + ids[0], accesstoken.ReasonTokenMalformed + " " + ids[1], "INSUFFICIENT_ACCESS " + ids[2]}
	if !slices.Equal(got, want) {
		t.Errorf("audited %v, want %v (the accepted request is not an event)", got, want)
	}
}

// TestAuthAuditNeverBlocksTheEdge: with the queue full, refusals are still
// answered at once and the excess is dropped (counted), not waited for.
func TestAuthAuditNeverBlocksTheEdge(t *testing.T) {
	audit := NewAuthAuditor(&recorded{}, slog.New(slog.DiscardHandler), 2)
	h, _ := gatewayWithLog(t, audit)
	for range 10 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/audit/events", nil))
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("refusal: %d", w.Code)
		}
	}
	if n := audit.dropped.Load(); n != 8 {
		t.Errorf("dropped %d events, want 8 (queue of 2, nothing draining it)", n)
	}
}
