package server_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
)

// TestUnknownMethodsAreDenied: a certified caller cannot tell an unknown
// service or method from one it may not call. Without the unknown-service
// handler grpc-go answers Unimplemented ("unknown service ...") before
// authorization runs.
func TestUnknownMethodsAreDenied(t *testing.T) {
	pki, addr, _, _, _ := start(t)
	for _, caller := range []string{"client", "stranger"} {
		conn := pki.Dial(t, caller, "svc", addr)
		for _, method := range []string{
			"/sotto.nosuch.v1.NoSuchService/Get",
			"/grpc.testing.TestService/NoSuchMethod",
			"/grpc.testing.TestService/StreamingOutputCall", // exists, but no policy lists it
		} {
			err := conn.Invoke(context.Background(), method, &testpb.SimpleRequest{}, &testpb.SimpleResponse{})
			if status.Code(err) != codes.PermissionDenied {
				t.Errorf("%s calling %s: %v, want PermissionDenied", caller, method, err)
			}
			if msg := status.Convert(err).Message(); strings.Contains(msg, "unknown") {
				t.Errorf("%s calling %s: message %q tells the method does not exist", caller, method, msg)
			}
		}
	}
}
