package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/netip"
	"time"
)

// requestInfo is filled in while a request is served and logged when it is
// done: the route pattern (never the URL, which may hold identifiers) and
// the kind of caller.
type requestInfo struct {
	route  string
	caller string
	// clientIP is the client's address (clientIP), never logged.
	clientIP netip.Addr
}

type requestInfoKey struct{}

func infoOf(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return ri
}

// callerAnonymous is the caller kind of a request without a verified
// token; a verified one is logged by its kind (customer, staff, client).
const callerAnonymous = "anonymous"

// accessLog writes one line per request: method, route pattern, status,
// duration, caller kind and a request ID, which is also sent back as
// X-Request-Id so a client can quote it. Nothing from the URL, headers or
// body is logged.
func accessLog(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		w.Header().Set("X-Request-Id", id)
		ri := &requestInfo{caller: callerAnonymous}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, ri))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := ri.route
		if route == "" {
			// Routes of the gateway's own mux (/healthz, /openapi.json); the
			// catch-all "/" is the API mux, which names its own routes.
			route = r.Pattern
			if route == "" || route == "/" {
				route = "unmatched"
			}
		}
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		logger.LogAttrs(r.Context(), level, "http",
			slog.String("method", r.Method),
			slog.String("path", route),
			slog.Int("status", rec.status),
			slog.Int64("duration_ms", time.Since(start).Milliseconds()),
			slog.String("caller", ri.caller),
			slog.String("request_id", id))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status  int
	written bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.written {
		s.status, s.written = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.written = true
	return s.ResponseWriter.Write(b)
}

// Flush keeps streaming responses (server-sent events) working through the
// recorder.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
