package deploy

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
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

// vaultStatus is the HTTP status of a Vault API error (200 for none).
func vaultStatus(err error) int {
	if err == nil {
		return 200
	}
	var re *api.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return -1
}

// TestVaultCLICertificate: the operator CLI's certificate (workload
// sotto-cli) comes from the PKI role cli through the policy sotto-cli, on a
// real Vault set up by setup.sh. That policy mints exactly the CLI's
// identity, as a client-only certificate with no DNS or IP names, and
// nothing else (no service identity, no workload-role certificate, no
// Transit); no service's policy can mint it, through either role; the cli
// role itself refuses any other name whatever token asks; and no Kubernetes
// role carries it. Seen failing with the policy's uri_sans pin emptied (a
// service's identity got 400 from the role, not 403), with server_flag=false
// dropped from the role (the certificate was also a server certificate) and
// with pki/issue/cli granted in tokenvault.hcl.
func TestVaultCLICertificate(t *testing.T) {
	s := vaulttest.Start(t)
	td := "spiffe://" + vaulttest.TrustDomain
	cliID := td + "/sotto-cli"
	issue := func(uri string, extra ...string) map[string]any {
		m := map[string]any{"uri_sans": uri}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}

	cli := s.ClientWithPolicies(t, "sotto-cli")
	sec, err := cli.Logical().Write("pki/issue/cli", issue(cliID))
	if err != nil {
		t.Fatalf("sotto-cli issuing its own certificate: %v", err)
	}
	block, _ := pem.Decode([]byte(sec.Data["certificate"].(string)))
	if block == nil {
		t.Fatal("no certificate PEM in the answer")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	var uris []string
	for _, u := range cert.URIs {
		uris = append(uris, u.String())
	}
	if !slices.Equal(uris, []string{cliID}) {
		t.Errorf("URI SANs %v, want exactly %s", uris, cliID)
	}
	if len(cert.DNSNames) > 0 || len(cert.IPAddresses) > 0 {
		t.Errorf("DNS %v, IP %v: the CLI's certificate names no host", cert.DNSNames, cert.IPAddresses)
	}
	if !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) || slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		t.Errorf("extended key usage %v, want client authentication only", cert.ExtKeyUsage)
	}
	if life := cert.NotAfter.Sub(cert.NotBefore); life > 12*time.Hour+time.Minute {
		t.Errorf("certificate valid for %s, want at most the role's 12h", life)
	}

	m := suite.MustLoad()
	for _, c := range []struct {
		name, path string
		data       map[string]any
		want       int
	}{
		{"a service's identity", "pki/issue/cli", issue(td + "/audit"), 403},
		{"a second identity smuggled in", "pki/issue/cli", issue(cliID + "," + td + "/tokenvault"), 403},
		{"an unlisted parameter", "pki/issue/cli", issue(cliID, "ip_sans", "127.0.0.1"), 403},
		{"a host name", "pki/issue/cli", issue(cliID, "alt_names", "localhost"), 403},
		{"its identity from the workload role", "pki/issue/workload", issue(cliID), 403},
		{"a service's certificate from the workload role", "pki/issue/workload", issue(td + "/gateway"), 403},
		{"a Transit key", "transit/encrypt/tokenvault-kek", map[string]any{"plaintext": "eA=="}, 403},
	} {
		if _, err := cli.Logical().Write(c.path, c.data); vaultStatus(err) != c.want {
			t.Errorf("sotto-cli, %s (%s): HTTP %d, want %d (%v)", c.name, c.path, vaultStatus(err), c.want, err)
		}
	}
	for _, svc := range m.Names() {
		c := s.ClientWithPolicies(t, svc)
		for _, path := range []string{"pki/issue/cli", "pki/issue/workload"} {
			if _, err := c.Logical().Write(path, issue(cliID)); vaultStatus(err) != 403 {
				t.Errorf("%s minting the CLI's certificate at %s: HTTP %d, want 403 (%v)", svc, path, vaultStatus(err), err)
			}
		}
	}
	// The role, not only the policy: even a token allowed everything (root)
	// gets nothing else from it.
	for name, data := range map[string]map[string]any{
		"a service's identity": issue(td + "/audit"),
		"an IP address":        issue(cliID, "ip_sans", "127.0.0.1"),
		"a host name":          issue(cliID, "alt_names", "localhost"),
	} {
		if _, err := s.Client.Logical().Write("pki/issue/cli", data); vaultStatus(err) != 400 {
			t.Errorf("root through the cli role, %s: HTTP %d, want 400 (%v)", name, vaultStatus(err), err)
		}
	}
	// No Kubernetes role yields the CLI's policy: a pod cannot log in as it.
	k := vaulttest.StartKubernetes(t)
	runK8sAuth(t, s, k, fakeAudience)
	if _, err := login(t, s, "sotto-cli", k.ServiceAccountToken(t, namespace, "sotto-cli")); err == nil {
		t.Error("a service account named sotto-cli logged in to a role sotto-cli")
	}
}
