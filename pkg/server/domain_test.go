package server_test

import (
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
)

// TestReasonsCarryTheServiceDomain: a reason raised by this service is in
// its own ErrorInfo domain (svc.sotto.dev), and a downstream service's
// reason passed on keeps that service's domain, so a client can tell whose
// catalogue a reason comes from.
func TestReasonsCarryTheServiceDomain(t *testing.T) {
	pki, addr, _, _, _ := start(t)
	c := testpb.NewTestServiceClient(pki.Dial(t, "client", "svc", addr))
	for body, want := range map[string]string{
		"typed-error":      "svc.sotto.dev",
		"downstream-error": "audit.sotto.dev",
	} {
		var got []string
		for _, d := range status.Convert(call(t, c, body)).Details() {
			if info, ok := d.(*errdetails.ErrorInfo); ok {
				got = append(got, info.GetDomain())
			}
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: ErrorInfo domains %v, want [%s]", body, got, want)
		}
	}
}
