package errs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/errs"
)

func TestToStatus(t *testing.T) {
	downstream := errs.E(errs.NotFound, "EVENT_NOT_FOUND", "event not found").GRPCStatus().Err()
	tests := []struct {
		name   string
		err    error
		code   codes.Code
		msg    string
		reason string
	}{
		{"typed", errs.E(errs.PermissionDenied, "CALLER_NOT_ALLOWED", "not allowed"), codes.PermissionDenied, "not allowed", "CALLER_NOT_ALLOWED"},
		{"typed wrapping a cause", errs.Wrap(errors.New("pq: key (email)=(jane@example.com)"), errs.AlreadyExists, "ALREADY_EXISTS", "already exists"), codes.AlreadyExists, "already exists", "ALREADY_EXISTS"},
		{"untyped", errors.New("pq: key (email)=(jane@example.com)"), codes.Internal, "internal error", ""},
		{"downstream status", downstream, codes.NotFound, "event not found", "EVENT_NOT_FOUND"},
		{"downstream status wrapped with data", fmt.Errorf("lookup of jane@example.com: %w", downstream), codes.NotFound, "event not found", "EVENT_NOT_FOUND"},
		{"downstream internal", status.Error(codes.Internal, "sql: jane@example.com"), codes.Internal, "internal error", ""},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), codes.Canceled, "canceled", ""},
		{"deadline", context.DeadlineExceeded, codes.DeadlineExceeded, "deadline exceeded", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := errs.ToStatus(tc.err)
			if st.Code() != tc.code || st.Message() != tc.msg {
				t.Fatalf("got %v %q, want %v %q", st.Code(), st.Message(), tc.code, tc.msg)
			}
			var reason string
			for _, d := range st.Details() {
				if info, ok := d.(*errdetails.ErrorInfo); ok {
					reason = info.Reason
				}
			}
			if reason != tc.reason {
				t.Fatalf("reason %q, want %q", reason, tc.reason)
			}
			if strings.Contains(st.String(), "jane") {
				t.Fatalf("personal data in status: %v", st)
			}
		})
	}
}

func TestIsAndKind(t *testing.T) {
	err := fmt.Errorf("ctx: %w", errs.E(errs.NotFound, "EVENT_NOT_FOUND", "event not found"))
	if !errs.Is(err, errs.NotFound) || errs.Is(err, errs.Internal) {
		t.Fatal("errs.Is does not see the kind through wrapping")
	}
	if !errors.Is(err, errs.E(errs.NotFound, "EVENT_NOT_FOUND", "")) || errors.Is(err, errs.E(errs.NotFound, "OTHER", "")) {
		t.Fatal("errors.Is does not compare kind and reason")
	}
	if errs.KindOf(errors.New("x")) != errs.Internal || errs.ReasonOf(err) != "EVENT_NOT_FOUND" {
		t.Fatal("KindOf/ReasonOf")
	}
}

// TestErrorTextLeavesOutCause: an *Error's text is client-safe wherever it
// travels. grpc-go builds the status of a handler error that no interceptor
// mapped with status.FromError, which sends err.Error() of a wrapped *Error;
// the cause must not be in it. The cause stays reachable for errors.Is/As,
// logging (error_type) and an operator's terminal (Detailed).
func TestErrorTextLeavesOutCause(t *testing.T) {
	const canary = `pq: duplicate key (email)=(jane@example.com) in INSERT INTO subjects`
	cause := errors.New(canary)
	e := errs.Wrap(cause, errs.Internal, "STORE_ERROR", "cannot store subject")
	wrapped := fmt.Errorf("create subject: %w", e)

	st, ok := status.FromError(wrapped)
	if !ok || st.Code() != codes.Internal {
		t.Fatalf("status.FromError: %v %v, want Internal", st, ok)
	}
	for name, text := range map[string]string{
		"Error":             e.Error(),
		"wrapped Error":     wrapped.Error(),
		"%v":                fmt.Sprintf("%v", e),
		"%+v":               fmt.Sprintf("%+v", wrapped),
		"grpc-go's status":  st.Message(),
		"GRPCStatus":        e.GRPCStatus().Message(),
		"ToStatus (mapped)": errs.ToStatus(wrapped).Message(),
	} {
		if strings.Contains(text, "jane") || strings.Contains(text, "INSERT") {
			t.Errorf("%s holds the cause: %q", name, text)
		}
	}
	if got, want := e.Error(), "cannot store subject (STORE_ERROR): Internal"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(wrapped, cause) {
		t.Error("the cause is not reachable with errors.Is")
	}
	if got, want := errs.Detailed(wrapped), "create subject: cannot store subject (STORE_ERROR): Internal: "+canary; got != want {
		t.Errorf("Detailed = %q, want %q", got, want)
	}
	nested := errs.Wrap(fmt.Errorf("open config: %w", errs.Wrap(errors.New("permission denied"), errs.Internal, "READ_FAILED", "cannot read")), errs.FailedPrecondition, "CONFIG_INVALID", "bad config")
	if got, want := errs.Detailed(nested), "bad config (CONFIG_INVALID): FailedPrecondition: open config: cannot read (READ_FAILED): Internal: permission denied"; got != want {
		t.Errorf("Detailed of nested causes = %q, want %q", got, want)
	}
	if errs.Detailed(nil) != "" {
		t.Error("Detailed(nil) is not empty")
	}
}

// TestToStatusKeepsFieldViolations: validation's field violations (paths and
// rule names) reach the client; the gateway turns them into its 400 body.
func TestToStatusKeepsFieldViolations(t *testing.T) {
	in, err := status.New(codes.InvalidArgument, "invalid request").WithDetails(
		&errdetails.ErrorInfo{Reason: "INVALID_ARGUMENT", Domain: errs.Domain},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "event_id", Reason: "string.uuid"}}})
	if err != nil {
		t.Fatal(err)
	}
	out := errs.ToStatus(fmt.Errorf("wrapped: %w", in.Err()))
	var got []string
	for _, d := range out.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				got = append(got, v.GetField()+":"+v.GetReason())
			}
		}
	}
	if len(got) != 1 || got[0] != "event_id:string.uuid" {
		t.Errorf("field violations after ToStatus = %v, want [event_id:string.uuid]", got)
	}
}
