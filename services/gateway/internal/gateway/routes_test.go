package gateway

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sottohq/sotto/pkg/suite"
)

// TestRoutesMatchTheManifest: the services the manifest says have REST
// routes are exactly those the gateway can route, so adding a service with
// rest: true cannot silently leave it unreachable.
func TestRoutesMatchTheManifest(t *testing.T) {
	m, err := suite.Load()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, s := range m.Services {
		if s.REST {
			want = append(want, s.Name)
		}
	}
	var got []string
	for name := range routes {
		got = append(got, name)
	}
	slices.Sort(want)
	slices.Sort(got)
	if len(want) == 0 {
		t.Fatal("the manifest gives no service REST routes; the comparison would be empty")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("REST services (-manifest +gateway routes):\n%s", diff)
	}
}

// TestUnknownBackendFailsStart: a backend without routes is a start-up
// error, not a gateway that quietly serves less.
func TestUnknownBackendFailsStart(t *testing.T) {
	_, err := New(context.Background(), []Backend{testBackend(t, "nosuch", "127.0.0.1:1")}, Options{})
	if err == nil {
		t.Fatal("New accepted a backend with no routes")
	}
}
