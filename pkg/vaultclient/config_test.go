package vaultclient

import (
	"testing"

	"github.com/caarlos0/env/v11"
	"github.com/google/go-cmp/cmp"
)

// TestConfigFromEnv pins the variable names services read (keys.Config and
// mtls.Config embed Config under the same SOTTO_ prefix) and the defaults.
func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{"defaults", map[string]string{"SOTTO_VAULT_ADDR": "https://vault:8200"}, Config{
			Addr: "https://vault:8200", KubernetesJWTFile: DefaultKubernetesJWTFile, KubernetesMount: DefaultKubernetesMount,
		}},
		{"kubernetes", map[string]string{
			"SOTTO_VAULT_ADDR":         "https://vault:8200",
			"SOTTO_VAULT_K8S_ROLE":     "audit",
			"SOTTO_VAULT_K8S_JWT_FILE": "/var/run/secrets/vault/token",
			"SOTTO_VAULT_K8S_MOUNT":    "k8s-prod",
		}, Config{Addr: "https://vault:8200", KubernetesRole: "audit", KubernetesJWTFile: "/var/run/secrets/vault/token", KubernetesMount: "k8s-prod"}},
		{"token file", map[string]string{"SOTTO_VAULT_ADDR": "a", "SOTTO_VAULT_TOKEN_FILE": "/vault/sink"}, Config{
			Addr: "a", TokenFile: "/vault/sink", KubernetesJWTFile: DefaultKubernetesJWTFile, KubernetesMount: DefaultKubernetesMount,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Config
			if err := env.ParseWithOptions(&got, env.Options{Prefix: "SOTTO_", Environment: tt.env}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}
