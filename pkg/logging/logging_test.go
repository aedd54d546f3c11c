package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
)

const (
	email = "jane.doe@example.com"
	card  = "4111 1111 1111 1111"
)

// decode parses buf as one JSON object per line; it fails the test on any
// line that is not valid JSON. time is checked and removed, as it varies.
func decode(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for line := range strings.Lines(buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not valid JSON: %v\n%s", err, line)
		}
		if _, ok := m["time"].(string); !ok {
			t.Errorf("log line has no time: %s", line)
		}
		delete(m, "time")
		recs = append(recs, m)
	}
	return recs
}

func logOne(t *testing.T, log func(*slog.Logger)) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	log(logging.New(&buf, "audit", slog.LevelInfo))
	for _, leak := range []string{email, card, "jane", "4111"} {
		if strings.Contains(buf.String(), leak) {
			t.Errorf("log output contains %q:\n%s", leak, buf.String())
		}
	}
	recs := decode(t, &buf)
	if len(recs) != 1 {
		t.Fatalf("got %d log records, want 1:\n%s", len(recs), buf.String())
	}
	return recs[0]
}

func TestUnknownKeysRedacted(t *testing.T) {
	t.Parallel()
	type customer struct{ Name, Email string }
	got := logOne(t, func(l *slog.Logger) {
		l.Info("subject created",
			"email", email,
			slog.String("card_number", card),
			slog.Any("customer", customer{"Jane Doe", email}),
			slog.Any("error", errors.New("duplicate key "+email)),
			slog.Any("tags", []string{email}),
		)
	})
	want := map[string]any{
		"level":       "INFO",
		"msg":         "subject created",
		"service":     "audit",
		"email":       logging.Redacted,
		"card_number": logging.Redacted,
		"customer":    logging.Redacted,
		"error":       logging.Redacted,
		"tags":        logging.Redacted,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
}

func TestSafeKeysPass(t *testing.T) {
	t.Parallel()
	got := logOne(t, func(l *slog.Logger) {
		l.Info("rpc finished",
			"method", "/sotto.audit.v1.AuditService/Append",
			"code", "OK",
			"duration_ms", 12,
			"peer", "spiffe://sotto.dev/conversation",
			"trace_id", "4bf92f3577b34da6a3ce929d0e0e4736",
			"request_id", "7d6c1f0e-1a2b-4c3d-9e8f-001122334455",
			"leaf_index", uint64(41),
			"attempt", 2,
			"status", true,
		)
	})
	want := map[string]any{
		"level":       "INFO",
		"msg":         "rpc finished",
		"service":     "audit",
		"method":      "/sotto.audit.v1.AuditService/Append",
		"code":        "OK",
		"duration_ms": float64(12),
		"peer":        "spiffe://sotto.dev/conversation",
		"trace_id":    "4bf92f3577b34da6a3ce929d0e0e4736",
		"request_id":  "7d6c1f0e-1a2b-4c3d-9e8f-001122334455",
		"leaf_index":  float64(41),
		"attempt":     float64(2),
		"status":      true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
}

// TestSafeKeyNonScalarRedacted: a safe key does not vouch for a composite
// value, which could carry anything.
func TestSafeKeyNonScalarRedacted(t *testing.T) {
	t.Parallel()
	got := logOne(t, func(l *slog.Logger) {
		l.Info("odd", slog.Any("reason", map[string]string{"email": email}), slog.Any("count", []string{card}))
	})
	for _, k := range []string{"reason", "count"} {
		if got[k] != logging.Redacted {
			t.Errorf("%s = %v, want %q", k, got[k], logging.Redacted)
		}
	}
}

func TestNestedGroupsRedacted(t *testing.T) {
	t.Parallel()
	got := logOne(t, func(l *slog.Logger) {
		l.With("phone", "+44 20 7946 0000", "component", "ingest").
			WithGroup("req").
			Info("request",
				"email", email,
				"method", "GET",
				slog.Group("payment", "card", card, "count", 3, slog.Group("deeper", "name", "Jane Doe", "size", 9)),
			)
	})
	want := map[string]any{
		"level":     "INFO",
		"msg":       "request",
		"service":   "audit",
		"phone":     logging.Redacted,
		"component": "ingest",
		"req": map[string]any{
			"email":  logging.Redacted,
			"method": "GET",
			"payment": map[string]any{
				"card":  logging.Redacted,
				"count": float64(3),
				"deeper": map[string]any{
					"name": logging.Redacted,
					"size": float64(9),
				},
			},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
}

// opaqueDriverError stands for a driver error whose text quotes values.
type opaqueDriverError struct{ detail string }

func (e *opaqueDriverError) Error() string { return "duplicate key value: " + e.detail }

func TestErr(t *testing.T) {
	t.Parallel()
	driverErr := &opaqueDriverError{detail: "(email)=(" + email + ")"}
	tests := []struct {
		name string
		err  error
		want map[string]any
	}{
		{
			name: "untyped",
			err:  fmt.Errorf("insert subject %s: %w", email, driverErr),
			want: map[string]any{"error_type": "*logging_test.opaqueDriverError"},
		},
		{
			name: "untyped without cause",
			err:  errors.New("card " + card + " declined"),
			want: map[string]any{"error_type": "*errors.errorString"},
		},
		{
			name: "typed with cause",
			err:  errs.Wrap(driverErr, errs.AlreadyExists, "SUBJECT_EXISTS", "subject %s exists", email),
			want: map[string]any{"error_kind": "AlreadyExists", "reason": "SUBJECT_EXISTS", "error_type": "*logging_test.opaqueDriverError"},
		},
		{
			name: "typed, wrapped",
			err:  fmt.Errorf("tokenize %s: %w", email, errs.E(errs.NotFound, "TOKEN_NOT_FOUND", "no token")),
			want: map[string]any{"error_kind": "NotFound", "reason": "TOKEN_NOT_FOUND", "error_type": "*errs.Error"},
		},
		{
			name: "canceled",
			err:  fmt.Errorf("lookup %s: %w", email, context.Canceled),
			want: map[string]any{"error_kind": "Canceled", "error_type": "*errors.errorString"},
		},
		{
			name: "nil",
			err:  nil,
			want: map[string]any{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := logOne(t, func(l *slog.Logger) { l.Error("append failed", logging.Err(tt.err)) })
			for _, k := range []string{"level", "msg", "service"} {
				delete(got, k)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("error attrs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestValidJSON writes awkward messages and values and checks that every line
// is one valid JSON object.
func TestValidJSON(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := logging.New(&buf, `svc "quoted"`, slog.LevelDebug)
	l.Debug("line\nbreak \"quotes\" \\ and \u2028 unicode", "method", "a\tb", "x", "\x00")
	l.Info("durations", "duration_ms", 1500*time.Millisecond, slog.Group("g", "size", 1.5))
	l.Warn("empty", slog.Group("empty"))
	l.Error("err", logging.Err(errors.New("x")))
	if recs := decode(t, &buf); len(recs) != 4 {
		t.Errorf("got %d records, want 4", len(recs))
	}
}

func TestLevel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := logging.New(&buf, "audit", slog.LevelWarn)
	l.Info("dropped")
	l.Warn("kept")
	recs := decode(t, &buf)
	if len(recs) != 1 || recs[0]["msg"] != "kept" || recs[0]["level"] != "WARN" {
		t.Errorf("records = %v, want only the WARN one", recs)
	}
}

func TestParseLevel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{in: "debug", want: slog.LevelDebug},
		{in: "INFO", want: slog.LevelInfo},
		{in: "Warn", want: slog.LevelWarn},
		{in: "error", want: slog.LevelError},
		{in: "info+2", want: slog.LevelInfo + 2},
		{in: "", wantErr: true},
		{in: "verbose", wantErr: true},
	}
	for _, tt := range tests {
		got, err := logging.ParseLevel(tt.in)
		if tt.wantErr {
			if !errs.Is(err, errs.InvalidArgument) {
				t.Errorf("ParseLevel(%q) error = %v, want InvalidArgument", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestSafeKeys(t *testing.T) {
	t.Parallel()
	keys := logging.SafeKeys()
	if !slices.IsSorted(keys) {
		t.Errorf("SafeKeys() not sorted: %v", keys)
	}
	for _, k := range []string{"time", "level", "msg", "service", "peer", "error_kind", "error_type", "reason", "path"} {
		if !slices.Contains(keys, k) {
			t.Errorf("SafeKeys() lacks %q", k)
		}
	}
	for _, k := range []string{"email", "name", "error", "err", "token", "card", "phone", "address", "subject", "url", "query", "dsn"} {
		if slices.Contains(keys, k) {
			t.Errorf("SafeKeys() allows %q", k)
		}
	}
	// The caller gets a copy.
	keys[0] = "email"
	if slices.Contains(logging.SafeKeys(), "email") {
		t.Error("SafeKeys() returns the allowlist itself")
	}
}
