package deploy

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/sottohq/sotto/pkg/suite"
	"github.com/sottohq/sotto/pkg/vaulttest"
)

// fakeAudience is the audience pkg/vaulttest's stand-in API server puts in
// the service account tokens it issues (a cluster's default audience).
const fakeAudience = "https://kubernetes.default.svc.cluster.local"

// runK8sAuth runs vault/k8s-auth.sh against s, with Vault reviewing tokens
// at k, for projected tokens of the given audience.
func runK8sAuth(t *testing.T, s *vaulttest.Server, k *vaulttest.Kubernetes, audience string) {
	t.Helper()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	jwt := filepath.Join(dir, "reviewer.jwt")
	if err := os.WriteFile(ca, []byte(k.CACertPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jwt, []byte(k.ReviewerJWT), 0o600); err != nil {
		t.Fatal(err)
	}
	bin, err := filepath.Abs(os.Getenv("SOTTO_VAULT_BIN"))
	if err != nil {
		t.Fatal(err)
	}
	binDir := filepath.Join(dir, "bin")
	if err := os.MkdirAll(binDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bin, filepath.Join(binDir, "vault")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join("vault", "k8s-auth.sh"))
	cmd.Env = []string{
		"PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + dir,
		"VAULT_ADDR=" + s.Addr,
		"VAULT_TOKEN=" + s.Token,
		"SOTTO_K8S_HOST=" + k.URL,
		"SOTTO_K8S_CA_CERT=" + ca,
		"SOTTO_K8S_REVIEWER_JWT=" + jwt,
		"SOTTO_K8S_AUDIENCE=" + audience,
		"SOTTO_K8S_NAMESPACE=" + namespace,
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("k8s-auth.sh: %v\n%s", err, out.String())
	}
}

func login(t *testing.T, s *vaulttest.Server, role, jwt string) (*api.Secret, error) {
	t.Helper()
	c, err := s.Client.Clone()
	if err != nil {
		t.Fatal(err)
	}
	c.ClearToken()
	return c.Logical().Write("auth/kubernetes/login", map[string]any{"role": role, "jwt": jwt})
}

// TestVaultKubernetesRoles runs k8s-auth.sh against a real Vault (set up by
// setup.sh) that reviews tokens at a stand-in Kubernetes API server: every
// service's account logs in to its own role and gets its own policy and
// Vault's default, nothing else; another service's account, the same name in
// another namespace and a token for another audience are refused.
func TestVaultKubernetesRoles(t *testing.T) {
	s := vaulttest.Start(t)
	k := vaulttest.StartKubernetes(t)
	runK8sAuth(t, s, k, fakeAudience)
	runK8sAuth(t, s, k, fakeAudience) // idempotent: a second run changes nothing that matters
	m := suite.MustLoad()
	for _, svc := range m.Names() {
		sec, err := login(t, s, svc, k.ServiceAccountToken(t, namespace, svc))
		if err != nil {
			t.Errorf("%s: login with its own account: %v", svc, err)
			continue
		}
		got := slices.Clone(sec.Auth.Policies)
		slices.Sort(got)
		if want := []string{"default", svc}; !slices.Equal(got, want) && !slices.Equal(got, []string{svc, "default"}) {
			t.Errorf("%s: policies %v, want %v", svc, got, want)
		}
	}
	// Another service's account may not take a service's role.
	if _, err := login(t, s, "tokenvault", k.ServiceAccountToken(t, namespace, "gateway")); err == nil {
		t.Error("gateway's service account logged in as tokenvault")
	}
	// The same account name in another namespace is not Sotto's.
	if _, err := login(t, s, "tokenvault", k.ServiceAccountToken(t, "elsewhere", "tokenvault")); err == nil {
		t.Error("tokenvault's account of another namespace logged in")
	}
	// Roles bound to the audience the pods' projected tokens carry (vault)
	// refuse a token minted for the API server's audience.
	runK8sAuth(t, s, k, "vault")
	if _, err := login(t, s, "audit", k.ServiceAccountToken(t, namespace, "audit")); err == nil {
		t.Error("a token for another audience logged in")
	}
}

// TestVaultRolesMatchDeployments: the roles k8s-auth.sh writes are the
// service accounts the Deployments run as, in their namespace, each bound
// to its own policy.
func TestVaultRolesMatchDeployments(t *testing.T) {
	out, err := exec.Command("bash", filepath.Join("vault", "k8s-auth.sh"), "--print-roles").Output()
	if err != nil {
		t.Fatal(err)
	}
	var roles []string
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		roles = append(roles, string(line))
	}
	o := build(t, "production")
	var want []string
	for _, d := range o.Deployments {
		sa := d.Spec.Template.Spec.ServiceAccountName
		want = append(want, sa+" "+d.Namespace+" "+sa)
	}
	slices.Sort(roles)
	slices.Sort(want)
	if !slices.Equal(roles, want) {
		t.Errorf("k8s-auth.sh roles %v, want one per Deployment's service account %v", roles, want)
	}
}
