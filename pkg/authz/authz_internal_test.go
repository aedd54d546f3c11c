package authz

import (
	"testing"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

func TestAllowed(t *testing.T) {
	t.Parallel()
	const (
		appendEvents = "/sotto.audit.v1.AuditService/AppendEvents"
		getProof     = "/sotto.audit.v1.AuditService/GetInclusionProof"
		healthCheck  = "/grpc.health.v1.Health/Check"
	)
	known := []string{"conversation", "tokenvault", "gateway", "sotto-cli"}
	a, err := New(spiffeid.RequireTrustDomainFromString("sotto.test"), known, Policy{
		appendEvents: {"conversation", "tokenvault"},
		getProof:     {"sotto-cli"},
		healthCheck:  {AnyWorkload},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id     string
		method string
		want   bool
	}{
		{"spiffe://sotto.test/conversation", appendEvents, true},
		{"spiffe://sotto.test/tokenvault", appendEvents, true},
		{"spiffe://sotto.test/gateway", appendEvents, false},
		{"spiffe://sotto.test/sotto-cli", getProof, true},
		{"spiffe://sotto.test/conversation", getProof, false},
		// Names match whole, case-sensitively.
		{"spiffe://sotto.test/conversation2", appendEvents, false},
		{"spiffe://sotto.test/Conversation", appendEvents, false},
		// Deeper paths and the bare trust domain name no workload of ours.
		{"spiffe://sotto.test/conversation/extra", appendEvents, false},
		{"spiffe://sotto.test/ns/conversation", appendEvents, false},
		{"spiffe://sotto.test", appendEvents, false},
		{"spiffe://sotto.test/ns/x", healthCheck, false},
		{"spiffe://sotto.test", healthCheck, false},
		// Another trust domain never matches, not even "*".
		{"spiffe://other.test/conversation", appendEvents, false},
		{"spiffe://other.test/gateway", healthCheck, false},
		{"spiffe://sotto.test.evil/gateway", healthCheck, false},
		// "*" is any known workload, not any name the trust domain's CA
		// signed.
		{"spiffe://sotto.test/gateway", healthCheck, true},
		{"spiffe://sotto.test/sotto-cli", healthCheck, true},
		{"spiffe://sotto.test/anything-new", healthCheck, false},
		{"spiffe://sotto.test/evil", healthCheck, false},
		// Methods not in the policy are denied, including near misses and
		// the health checks nobody listed.
		{"spiffe://sotto.test/conversation", "/sotto.audit.v1.AuditService/AppendEvent", false},
		{"spiffe://sotto.test/conversation", "/sotto.audit.v1.AuditService/appendevents", false},
		{"spiffe://sotto.test/conversation", "sotto.audit.v1.AuditService/AppendEvents", false},
		{"spiffe://sotto.test/gateway", "/grpc.health.v1.Health/Watch", false},
		{"spiffe://sotto.test/gateway", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.id+tt.method, func(t *testing.T) {
			t.Parallel()
			id := spiffeid.RequireFromString(tt.id)
			if got := a.allowed(id, tt.method); got != tt.want {
				t.Errorf("allowed(%s, %q) = %v, want %v", tt.id, tt.method, got, tt.want)
			}
		})
	}
}

func TestValidMethod(t *testing.T) {
	t.Parallel()
	for m, want := range map[string]bool{
		"/sotto.audit.v1.AuditService/AppendEvents": true,
		"/grpc.health.v1.Health/Check":              true,
		"/pkg.Service/Method_2":                     true,
		"":                                          false,
		"/":                                         false,
		"//":                                        false,
		"sotto.audit.v1.AuditService/AppendEvents": false,
		"/AuditService/AppendEvents":               false,
		"/sotto.audit.v1.AuditService/":            false,
		"/sotto.audit.v1.AuditService/*":           false,
		"/sotto.audit.v1.AuditService/A/B":         false,
		"/.sotto.AuditService/A":                   false,
		"/sotto..AuditService/A":                   false,
		"/sotto.AuditService./A":                   false,
		"/sotto.Audit Service/A":                   false,
		"/sotto.AuditService/AppendEvents ":        false,
	} {
		if got := validMethod(m); got != want {
			t.Errorf("validMethod(%q) = %v, want %v", m, got, want)
		}
	}
}
