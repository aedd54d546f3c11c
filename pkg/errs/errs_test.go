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
