// Package logging builds the JSON slog loggers of Sotto's services, which must
// keep personal data out of logs.
//
// Logs are allowlisted, not blocklisted: an attribute is written as-is only if
// its key is one of SafeKeys and its value is a plain scalar (string, number,
// bool, duration, time). Every other attribute keeps its key, so a developer
// sees that something was dropped, but its value becomes "[REDACTED]". A
// blocklist would leak every new field nobody thought of.
//
// Rules for call sites:
//
//   - The message is logged as-is, so it must be a constant string:
//     logger.Info("consent recorded"), never a fmt.Sprintf of anything.
//   - Log errors with Err(err), which writes the error's kind, reason and type
//     but never its text: driver and library errors quote SQL and values.
//   - A safe key vouches for its value: "path" is the HTTP route pattern
//     (/v1/subjects/{subject}), never the request URL; "reason" is an
//     UPPER_SNAKE_CASE constant, never free text.
package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/sottohq/sotto/pkg/errs"
)

// Redacted replaces the value of every attribute that is not allowlisted.
const Redacted = "[REDACTED]"

// safeKeys is the allowlist. Add a key only if no value it will ever carry can
// identify a person or hold a secret.
var safeKeys = []string{
	// slog's own.
	slog.TimeKey, slog.LevelKey, slog.MessageKey,
	// Who is logging and about which call.
	"service", "component", "method", "code", "status", "duration_ms",
	"peer",      // the caller's SPIFFE ID: a workload, not a person
	"spiffe_id", // this workload's own SPIFFE ID
	// Workload certificates: serial numbers and times, no key material.
	"serial", "not_after", "renew_at", "retry_in",
	"addr",   // a listen or dial address of a workload
	"path",   // the HTTP route pattern, not the URL
	"caller", // the kind of caller at the edge (operator, anonymous), never who
	"host",   // a third party's host:port from pkg/egress's allow-list
	"version", "dialect", "attempt",
	// Correlation identifiers: random, carry no data.
	"trace_id", "span_id", "request_id", "event_id",
	// Errors, as written by Err.
	"error_kind", "error_type", "reason",
	// A recovered panic's goroutine stack: function names, files, lines and
	// argument words (pointers, lengths); no string contents.
	"stack",
	// Sizes and positions (the audit log's Merkle tree, batches).
	"count", "size", "leaf_index", "tree_size",
}

var safe = func() map[string]bool {
	m := make(map[string]bool, len(safeKeys))
	for _, k := range safeKeys {
		m[k] = true
	}
	return m
}()

// SafeKeys returns the attribute keys whose values are logged as-is, sorted.
func SafeKeys() []string {
	keys := slices.Clone(safeKeys)
	slices.Sort(keys)
	return keys
}

// New returns a JSON logger for service that writes records at level and
// above to w, with every attribute not on the allowlist redacted (see the
// package documentation). Every record carries service.
func New(w io.Writer, service string, level slog.Level) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level:       level,
		ReplaceAttr: redact,
	})
	return slog.New(h).With(slog.String("service", service))
}

// redact is the handler's ReplaceAttr. slog calls it for every non-group
// attribute, including those inside groups (at any depth) and those added with
// Logger.With, after resolving LogValuers; so checking each leaf here covers
// nested groups without walking them.
func redact(_ []string, a slog.Attr) slog.Attr {
	// An empty attribute (such as Err(nil)) stays empty so that slog drops
	// it instead of logging "":"[REDACTED]".
	if a.Equal(slog.Attr{}) || safe[a.Key] && scalar(a.Value) {
		return a
	}
	return slog.String(a.Key, Redacted)
}

// scalar reports whether v is a plain value. A struct, map, slice or error
// under a safe key could still carry anything, so it is redacted too.
func scalar(v slog.Value) bool {
	switch v.Kind() {
	case slog.KindString, slog.KindInt64, slog.KindUint64, slog.KindFloat64,
		slog.KindBool, slog.KindDuration, slog.KindTime:
		return true
	case slog.KindAny:
		// The record's level reaches ReplaceAttr as an Any holding a Level.
		_, ok := v.Any().(slog.Level)
		return ok
	}
	return false
}

// Err returns an attribute that logs err without its text, which may hold SQL,
// values or other personal data:
//
//   - error_kind and reason of the *errs.Error in err's chain, if any
//     (error_kind "Canceled" or "DeadlineExceeded" for context errors);
//   - error_type, the Go type of the innermost error of the chain, which
//     usually says what failed (*pgconn.PgError, *net.OpError, ...).
//
// Err(nil) is an empty attribute, which handlers drop.
func Err(err error) slog.Attr {
	if err == nil {
		return slog.Attr{}
	}
	var attrs []any
	var e *errs.Error
	switch {
	case errors.As(err, &e):
		attrs = append(attrs, slog.String("error_kind", e.Kind.String()), slog.String("reason", e.Reason))
	case errors.Is(err, context.Canceled):
		attrs = append(attrs, slog.String("error_kind", "Canceled"))
	case errors.Is(err, context.DeadlineExceeded):
		attrs = append(attrs, slog.String("error_kind", "DeadlineExceeded"))
	}
	attrs = append(attrs, slog.String("error_type", fmt.Sprintf("%T", innermost(err))))
	// A group with an empty key is inlined by handlers: the keys above
	// appear at the level Err is logged at.
	return slog.Group("", attrs...)
}

// innermost follows err's single-error Unwrap chain to its end.
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// ParseLevel parses a level name as slog does: DEBUG, INFO, WARN or ERROR, in
// any case, optionally with an offset such as "INFO+2".
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, errs.Wrap(err, errs.InvalidArgument, "INVALID_LOG_LEVEL",
			"invalid log level %q: want DEBUG, INFO, WARN or ERROR", s)
	}
	return l, nil
}
