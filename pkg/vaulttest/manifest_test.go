package vaulttest

import (
	"testing"

	"github.com/sottohq/sotto/pkg/suite"
)

// TestManifestServicesInVault: for every service in pkg/suite's manifest,
// setup.sh created each of its transit keys with the manifest's type, and
// the service's policy lets it use its own keys and get its own
// certificate, and neither another service's keys nor certificate. A new
// manifest entry is covered without editing this test.
func TestManifestServicesInVault(t *testing.T) {
	t.Parallel()
	s := Start(t)
	m := suite.MustLoad()
	const td = "spiffe://" + TrustDomain
	owner := map[string]string{} // key → service
	for _, svc := range m.Services {
		for k := range svc.TransitKeys {
			owner[k] = svc.Name
		}
	}
	if len(owner) == 0 {
		t.Fatal("the manifest lists no transit keys; nothing would be checked")
	}
	for _, svc := range m.Services {
		t.Run(svc.Name, func(t *testing.T) {
			c := s.ClientWithPolicies(t, svc.Name)
			for key, typ := range svc.TransitKeys {
				sec, err := s.Client.Logical().Read("transit/keys/" + key)
				if err != nil || sec == nil {
					t.Fatalf("key %s: %v (setup.sh did not create it)", key, err)
				}
				if got := sec.Data["type"]; got != typ {
					t.Errorf("key %s has type %v, want %s", key, got, typ)
				}
			}
			for key, keyOwner := range owner {
				want := 403
				if keyOwner == svc.Name {
					want = 200
				}
				typ := m.Services[indexOf(m, keyOwner)].TransitKeys[key]
				path, data := "transit/encrypt/"+key, map[string]any{"plaintext": b64([]byte("x"))}
				if typ == "ed25519" {
					path, data = "transit/sign/"+key, map[string]any{"input": b64([]byte("m"))}
				}
				_, err := c.Logical().Write(path, data)
				if got := status(err); got != want {
					t.Errorf("%s using %s's key %s: HTTP %d, want %d (%v)", svc.Name, keyOwner, key, got, want, err)
				}
			}
			for _, other := range m.Workloads() {
				want := 403
				if other == svc.Name {
					want = 200
				}
				_, err := c.Logical().Write("pki/issue/workload", issue(td+"/"+other))
				if got := status(err); got != want {
					t.Errorf("%s issuing a certificate for %s: HTTP %d, want %d (%v)", svc.Name, other, got, want, err)
				}
			}
		})
	}
}

func indexOf(m suite.Manifest, name string) int {
	for i, s := range m.Services {
		if s.Name == name {
			return i
		}
	}
	return -1
}
