package grpcedge

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
)

// TestIntegratorsTable: the gateway's table is valid against the services
// the gateway dials, offers the token grant without a token and nothing
// else without a scope.
func TestIntegratorsTable(t *testing.T) {
	backends := Integrators.Backends()
	slices.Sort(backends)
	if want := []string{"audit", "conversation", "crmsync", "identity", "tokenvault"}; !slices.Equal(backends, want) {
		t.Fatalf("backends %v, want %v", backends, want)
	}
	if err := Integrators.Check(func(name string) bool { return slices.Contains(backends, name) }); err != nil {
		t.Fatal(err)
	}
	for name, m := range Integrators {
		if m.Public != strings.HasSuffix(name, "/IssueClientToken") {
			t.Errorf("%s: public = %v", name, m.Public)
		}
	}
	if err := Integrators.Check(func(name string) bool { return name != "tokenvault" }); err == nil {
		t.Fatal("a table whose backend is not connected passed")
	}
}

func TestMethodsCheckRefusesBadTables(t *testing.T) {
	tenant := func([]byte) (string, error) { return "", nil }
	for name, m := range map[string]Methods{
		"no slash":         {"svc.Service/Method": {Backend: "b", Scope: "a.b"}},
		"no method":        {"/svc.Service/": {Backend: "b", Scope: "a.b"}},
		"no backend":       {"/svc.Service/M": {Scope: "a.b"}},
		"no scope":         {"/svc.Service/M": {Backend: "b"}},
		"bad scope":        {"/svc.Service/M": {Backend: "b", Scope: "all"}},
		"public scope":     {"/svc.Service/M": {Backend: "b", Public: true, Scope: "a.b"}},
		"public tenant":    {"/svc.Service/M": {Backend: "b", Public: true, Tenant: tenant}},
		"too many slashes": {"/svc.Service/M/x": {Backend: "b", Scope: "a.b"}},
	} {
		if err := m.Check(nil); err == nil {
			t.Errorf("%s: passed", name)
		}
	}
}

func TestTokenizeTenant(t *testing.T) {
	for in, want := range map[string]string{"": "default", "default": "default", "shop": "shop"} {
		b, err := proto.Marshal(&tokenvaultv1.TokenizeRequest{Tenant: in, Subject: "cus_1"})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := tokenizeTenant(b); err != nil || got != want {
			t.Errorf("tenant %q: got %q, %v", in, got, err)
		}
	}
	// A repeated field counts as the vault reads it: the last one wins.
	first, _ := proto.Marshal(&tokenvaultv1.TokenizeRequest{Tenant: "shop"})
	second, _ := proto.Marshal(&tokenvaultv1.TokenizeRequest{Tenant: "othershop"})
	if got, _ := tokenizeTenant(append(first, second...)); got != "othershop" {
		t.Fatalf("repeated tenant read as %q", got)
	}
}

// FuzzTokenizeTenant: whatever the bytes, the edge reads the tenant the
// vault would (or refuses), and never panics.
func FuzzTokenizeTenant(f *testing.F) {
	b, _ := proto.Marshal(&tokenvaultv1.TokenizeRequest{Tenant: "shop", Subject: "cus_1",
		Items: []*tokenvaultv1.TokenizeItem{{Value: "x", DataType: tokenvaultv1.DataType_DATA_TYPE_NAME}}})
	f.Add(b)
	f.Add([]byte{0x0a, 0x02, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := tokenizeTenant(data)
		var req tokenvaultv1.TokenizeRequest
		verr := proto.Unmarshal(data, &req)
		if (err == nil) != (verr == nil) {
			t.Fatalf("edge error %v, vault error %v", err, verr)
		}
		if err == nil && got != orDefaultTenant(req.GetTenant()) {
			t.Fatalf("edge read %q, vault %q", got, req.GetTenant())
		}
	})
}
