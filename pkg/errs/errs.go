// Package errs is Sotto's error vocabulary. Domain code returns *Error values
// that carry a Kind (what a client can do about it) and a stable, machine-readable
// Reason; pkg/server turns them into a gRPC status with an ErrorInfo detail.
//
// Messages are shown to clients, so they must never contain personal data,
// SQL, stack traces or other internals. Anything that is not an *Error maps to
// Internal with a generic message.
package errs

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
)

// Domain is the ErrorInfo domain of an error before it leaves a service;
// pkg/server replaces it with the service's own (ServiceDomain), so a client
// can tell which service a reason belongs to.
const Domain = "sotto.dev"

// ServiceDomain is the ErrorInfo domain of the named service's errors:
// "<service>.sotto.dev". Each service keeps its reasons in one catalogue.
func ServiceDomain(service string) string { return service + "." + Domain }

// InDomain returns st with its ErrorInfo moved from the generic Domain to
// domain. An ErrorInfo of another domain (a downstream service's error
// passed on) keeps its own.
func InDomain(st *status.Status, domain string) *status.Status {
	details := st.Details()
	changed := false
	for i, d := range details {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == Domain {
			details[i] = &errdetails.ErrorInfo{Reason: info.GetReason(), Domain: domain, Metadata: info.GetMetadata()}
			changed = true
		}
	}
	if !changed {
		return st
	}
	out := status.New(st.Code(), st.Message())
	for _, d := range details {
		if m, ok := d.(protoadapt.MessageV1); ok {
			out = withDetail(out, m)
		}
	}
	return out
}

// Kind classifies an error by what the caller can do about it.
type Kind uint8

// Kinds, mirroring the gRPC codes a client can act on.
const (
	Internal Kind = iota
	InvalidArgument
	NotFound
	AlreadyExists
	PermissionDenied
	Unauthenticated
	FailedPrecondition
	ResourceExhausted
	Unavailable
	Aborted
	DeadlineExceeded
)

var kindCodes = [...]codes.Code{
	Internal:           codes.Internal,
	InvalidArgument:    codes.InvalidArgument,
	NotFound:           codes.NotFound,
	AlreadyExists:      codes.AlreadyExists,
	PermissionDenied:   codes.PermissionDenied,
	Unauthenticated:    codes.Unauthenticated,
	FailedPrecondition: codes.FailedPrecondition,
	ResourceExhausted:  codes.ResourceExhausted,
	Unavailable:        codes.Unavailable,
	Aborted:            codes.Aborted,
	DeadlineExceeded:   codes.DeadlineExceeded,
}

// Code is the gRPC code of the kind.
func (k Kind) Code() codes.Code {
	if int(k) < len(kindCodes) {
		return kindCodes[k]
	}
	return codes.Internal
}

func (k Kind) String() string { return k.Code().String() }

// Error is a typed, client-safe error. Its text (Error) is client-safe too:
// it never includes the cause.
type Error struct {
	Kind Kind
	// Reason is a stable UPPER_SNAKE_CASE identifier clients can branch on.
	Reason string
	// Msg is a human-readable, client-safe message.
	Msg string
	// Err is the underlying cause, never sent to clients. It stays reachable
	// through Unwrap (errors.Is/As, logging.Err's error_type) and Detailed.
	Err error
}

// E builds an error of the given kind.
func E(kind Kind, reason, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

// Wrap builds an error of the given kind that keeps err as its (private) cause.
func Wrap(err error, kind Kind, reason, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: reason, Msg: fmt.Sprintf(format, args...), Err: err}
}

// Error leaves the cause out. An error's text travels further than its
// creator can see: grpc-go sends err.Error() as the status message of a
// wrapped *Error (status.FromError) when nothing maps it first, and driver
// causes quote SQL and values.
func (e *Error) Error() string {
	return fmt.Sprintf("%s (%s): %s", e.Msg, e.Reason, e.Kind)
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error of the same kind and reason, so that
// errors.Is(err, errs.E(errs.NotFound, "EVENT_NOT_FOUND", "")) works.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Kind == e.Kind && (t.Reason == "" || t.Reason == e.Reason)
}

// GRPCStatus makes *Error usable with status.FromError / status.Code.
func (e *Error) GRPCStatus() *status.Status {
	st := status.New(e.Kind.Code(), e.Msg)
	if e.Reason == "" {
		return st
	}
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: e.Reason, Domain: Domain}); err == nil {
		return d
	}
	return st
}

// Detailed returns err's text followed by the private cause of each *Error in
// its chain. It is for an operator's terminal (a process that fails to start, a
// CLI command), never for a client, a log or a metric: causes may hold
// personal data and SQL.
func Detailed(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	var e *Error
	if errors.As(err, &e) && e.Err != nil {
		s += ": " + Detailed(e.Err)
	}
	return s
}

// KindOf returns the kind of err, or Internal for untyped errors.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// ReasonOf returns the reason of err, or "" for untyped errors.
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// Is reports whether err is a Sotto error of the given kind.
func Is(err error, kind Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}

// ToStatus converts any error into a client-safe gRPC status: *Error keeps its
// code, message and reason; a status error from a downstream call keeps its
// code and ErrorInfo; everything else becomes a bare Internal.
func ToStatus(err error) *status.Status {
	if err == nil {
		return status.New(codes.OK, "")
	}
	var e *Error
	if errors.As(err, &e) {
		return e.GRPCStatus()
	}
	// A status from a downstream call keeps its code, its own message (Sotto
	// services only send client-safe ones) and its ErrorInfo. The message of
	// the wrapping chain is dropped: status.FromError would put the whole
	// err.Error() there, including whatever a caller wrapped around it.
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		st := se.GRPCStatus()
		switch st.Code() {
		case codes.Canceled, codes.DeadlineExceeded:
			return status.New(st.Code(), st.Code().String())
		case codes.Unknown, codes.Internal, codes.DataLoss:
			return status.New(codes.Internal, "internal error")
		}
		// ErrorInfo and BadRequest (field paths and rule names, never values:
		// see pkg/server's validation) are the client-safe details.
		out := status.New(st.Code(), st.Message())
		for _, d := range st.Details() {
			switch d := d.(type) {
			case *errdetails.ErrorInfo:
				out = withDetail(out, d)
			case *errdetails.BadRequest:
				out = withDetail(out, d)
			}
		}
		return out
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, "canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, "deadline exceeded")
	}
	return status.New(codes.Internal, "internal error")
}

func withDetail(st *status.Status, d protoadapt.MessageV1) *status.Status {
	if with, err := st.WithDetails(d); err == nil {
		return with
	}
	return st
}
