package vaultclient

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/vaulttest"
)

// Operations the audit policy allows and denies; both carry a body, so a
// retried request shows that the body was sent again intact.
var (
	auditAllowed = op{"transit/sign/audit-checkpoint", map[string]any{"input": base64.StdEncoding.EncodeToString([]byte("m"))}}
	auditDenied  = op{"transit/encrypt/tokenvault-kek", map[string]any{"plaintext": base64.StdEncoding.EncodeToString([]byte("k"))}}
)

type op struct {
	path string
	data map[string]any
}

func (o op) do(c *api.Client) error {
	_, err := c.Logical().WriteWithContext(context.Background(), o.path, o.data)
	return err
}

// accessor is the accessor of the token c sends, which names a token
// without revealing it.
func accessor(t *testing.T, c *api.Client) string {
	t.Helper()
	s, err := c.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatalf("lookup-self: %v", err)
	}
	a, _ := s.Data["accessor"].(string)
	if a == "" {
		t.Fatalf("lookup-self returned no accessor")
	}
	return a
}

func statusOf(err error) int {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

// serviceToken creates a token with the audit policy, as Vault Agent would
// have obtained, and returns it and its accessor.
func serviceToken(t *testing.T, v *vaulttest.Server) (token, accessor string) {
	t.Helper()
	s, err := v.Client.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"audit"}, TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	return s.Auth.ClientToken, s.Auth.Accessor
}

func revoke(t *testing.T, v *vaulttest.Server, accessor string) {
	t.Helper()
	if err := v.Client.Auth().Token().RevokeAccessor(accessor); err != nil {
		t.Fatalf("revoke: %v", err)
	}
}

// TestTokenFileRotation: a Vault Agent sink replaces the token and the old
// one is revoked; the client's next call must use the new one.
func TestTokenFileRotation(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t)
	tokA, accA := serviceToken(t, v)
	tokB, accB := serviceToken(t, v)
	path := filepath.Join(t.TempDir(), "vault-token")
	writeAtomic(t, path, tokA+"\n")

	c, err := New(Config{Addr: v.Addr, TokenFile: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := auditAllowed.do(c); err != nil {
		t.Fatalf("call with token A: %v", err)
	}
	if got := accessor(t, c); got != accA {
		t.Fatalf("client used token %s, want A (%s)", got, accA)
	}

	// The change is seen before Vault refuses anything: A still works.
	writeAtomic(t, path, tokB+"\n")
	if got := accessor(t, c); got != accB {
		t.Errorf("client used token %s after the file changed, want B (%s)", got, accB)
	}
	revoke(t, v, accA)
	if err := auditAllowed.do(c); err != nil {
		t.Fatalf("call after rotation to B and revocation of A: %v", err)
	}

	// A policy denial is still a denial, with the token unchanged.
	err = auditDenied.do(c)
	if statusOf(err) != http.StatusForbidden {
		t.Errorf("denied call: %v, want 403", err)
	}
	checkNoSecret(t, err, tokA, tokB)
}

// TestTokenFileRotationUnseenByStat: a rewrite that keeps size and
// modification time is only found by re-reading after the 403.
func TestTokenFileRotationUnseenByStat(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t)
	tokA, accA := serviceToken(t, v)
	tokB, accB := serviceToken(t, v)
	if len(tokA) != len(tokB) {
		t.Fatalf("Vault issued tokens of different lengths (%d, %d)", len(tokA), len(tokB))
	}
	path := filepath.Join(t.TempDir(), "vault-token")
	writeAtomic(t, path, tokA)

	c, err := New(Config{Addr: v.Addr, TokenFile: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := auditAllowed.do(c); err != nil {
		t.Fatalf("call with token A: %v", err)
	}
	rewriteInPlace(t, path, tokB)
	revoke(t, v, accA)

	if err := auditAllowed.do(c); err != nil {
		t.Fatalf("call after an unseen rotation: %v", err)
	}
	if got := accessor(t, c); got != accB {
		t.Errorf("client used token %s, want B (%s)", got, accB)
	}
}

// TestTokenFileFailsClosed: once the file is emptied or removed, calls fail
// with an error naming the file, although the old token still works.
func TestTokenFileFailsClosed(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t)
	tok, _ := serviceToken(t, v)
	dir := t.TempDir()

	if _, err := New(Config{Addr: v.Addr, TokenFile: filepath.Join(dir, "missing")}); err == nil {
		t.Error("New with a missing token file succeeded")
	} else {
		checkAuthErr(t, err, errs.FailedPrecondition, "VAULT_TOKEN_FILE_UNREADABLE", filepath.Join(dir, "missing"), tok)
	}

	path := filepath.Join(dir, "vault-token")
	writeAtomic(t, path, tok)
	c, err := New(Config{Addr: v.Addr, TokenFile: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := auditAllowed.do(c); err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, path, "")
	err = auditAllowed.do(c)
	if err == nil {
		t.Fatal("call succeeded with an empty token file")
	}
	checkAuthErr(t, err, errs.FailedPrecondition, "VAULT_TOKEN_FILE_EMPTY", path, tok)

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	err = auditAllowed.do(c)
	checkAuthErr(t, err, errs.FailedPrecondition, "VAULT_TOKEN_FILE_UNREADABLE", path, tok)
}

// fakeClock is the clock Kubernetes re-logins are timed by.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// kubeEnv is a Vault with Kubernetes auth against a fake API server, and a
// JWT file holding a token of the audit service account.
type kubeEnv struct {
	v       *vaulttest.Server
	k       *vaulttest.Kubernetes
	jwtFile string
	jwt     string
	clock   *fakeClock
}

func startKube(t *testing.T) *kubeEnv {
	t.Helper()
	e := &kubeEnv{v: vaulttest.Start(t), k: vaulttest.StartKubernetes(t), clock: &fakeClock{t: time.Unix(1_800_000_000, 0)}}
	e.v.EnableKubernetesAuth(t, e.k)
	e.jwt = e.k.ServiceAccountToken(t, vaulttest.KubernetesNamespace, "audit")
	e.jwtFile = filepath.Join(t.TempDir(), "token")
	writeAtomic(t, e.jwtFile, e.jwt)
	return e
}

func (e *kubeEnv) config(role string) Config {
	return Config{Addr: e.v.Addr, KubernetesRole: role, KubernetesJWTFile: e.jwtFile}
}

func (e *kubeEnv) authenticatedReviews() int {
	n := 0
	for _, r := range e.k.Reviews() {
		if r.Authenticated {
			n++
		}
	}
	return n
}

// TestKubernetesLogin: the audit service account logs in as role audit and
// gets a token with the audit policy, which allows audit's keys only.
func TestKubernetesLogin(t *testing.T) {
	t.Parallel()
	e := startKube(t)
	c, err := newClient(e.config("audit"), e.clock.now)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	self, err := c.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatal(err)
	}
	policies, err := self.TokenPolicies()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(policies, "audit") || slices.Contains(policies, "root") {
		t.Errorf("token policies %v, want audit (and default)", policies)
	}
	if meta, _ := self.Data["meta"].(map[string]any); meta["service_account_name"] != "audit" || meta["service_account_namespace"] != vaulttest.KubernetesNamespace {
		t.Errorf("token metadata %v, want the audit service account", meta)
	}
	if err := auditAllowed.do(c); err != nil {
		t.Errorf("audit operation: %v", err)
	}
	before := len(e.k.Reviews())
	err = auditDenied.do(c)
	if statusOf(err) != http.StatusForbidden {
		t.Errorf("tokenvault's key: %v, want 403", err)
	}
	// A policy denial is not a reason to log in again (lookup-self says the
	// token is fine).
	if n := len(e.k.Reviews()); n != before {
		t.Errorf("a policy denial caused %d logins", n-before)
	}
	if n := e.authenticatedReviews(); n != 1 {
		t.Errorf("%d logins reviewed, want 1", n)
	}
	checkNoSecret(t, err, e.jwt, self.Data["id"].(string))
}

// TestKubernetesLoginRefused: logins Vault must refuse, each failing New
// with an error that names the role or file and shows no JWT.
func TestKubernetesLoginRefused(t *testing.T) {
	t.Parallel()
	e := startKube(t)
	gateway := e.k.ServiceAccountToken(t, vaulttest.KubernetesNamespace, "gateway")
	otherNS := e.k.ServiceAccountToken(t, "default", "audit")
	forged := e.k.ForgedToken(t, vaulttest.KubernetesNamespace, "audit")
	e.k.ServiceAccountToken(t, vaulttest.KubernetesNamespace, "deleted")
	deleted := e.k.ServiceAccountToken(t, vaulttest.KubernetesNamespace, "tokenvault")
	e.k.DeleteServiceAccount(vaulttest.KubernetesNamespace, "tokenvault")

	tests := []struct {
		name, role, jwt string
		kind            errs.Kind
		reason          string
		// review is the TokenReview Vault must have asked for, if any; a
		// refusal without one comes from the role's bindings.
		review *vaulttest.Review
	}{
		{"another service account", "audit", gateway, errs.PermissionDenied, "VAULT_LOGIN_DENIED", nil},
		{"same name, other namespace", "audit", otherNS, errs.PermissionDenied, "VAULT_LOGIN_DENIED", nil},
		{"not vouched for by Kubernetes (forged)", "audit", forged, errs.PermissionDenied, "VAULT_LOGIN_DENIED",
			&vaulttest.Review{Namespace: vaulttest.KubernetesNamespace, Name: "audit"}},
		{"deleted service account", "tokenvault", deleted, errs.PermissionDenied, "VAULT_LOGIN_DENIED",
			&vaulttest.Review{Namespace: vaulttest.KubernetesNamespace, Name: "tokenvault"}},
		{"unknown role", "payments", e.jwt, errs.PermissionDenied, "VAULT_LOGIN_DENIED", nil},
		{"empty JWT file", "audit", "", errs.FailedPrecondition, "VAULT_K8S_JWT_EMPTY", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token")
			writeAtomic(t, path, tt.jwt)
			before := len(e.k.Reviews())
			_, err := newClient(Config{Addr: e.v.Addr, KubernetesRole: tt.role, KubernetesJWTFile: path}, e.clock.now)
			if err == nil {
				t.Fatal("login succeeded")
			}
			name := tt.role
			if tt.reason == "VAULT_K8S_JWT_EMPTY" {
				name = path
			}
			checkAuthErr(t, err, tt.kind, tt.reason, name, tt.jwt)
			reviews := e.k.Reviews()[before:]
			switch {
			case tt.review == nil && len(reviews) != 0:
				t.Errorf("Vault asked for reviews %v; the refusal should not have needed one", reviews)
			case tt.review != nil && (len(reviews) != 1 || reviews[0] != *tt.review):
				t.Errorf("reviews %v, want exactly %v (refused by Kubernetes)", reviews, *tt.review)
			}
		})
	}

	_, err := newClient(Config{Addr: e.v.Addr, KubernetesRole: "audit", KubernetesJWTFile: filepath.Join(t.TempDir(), "none")}, e.clock.now)
	checkAuthErr(t, err, errs.FailedPrecondition, "VAULT_K8S_JWT_UNREADABLE", "none", "")

	_, err = newClient(Config{Addr: e.v.Addr, KubernetesRole: "audit", Token: "hvs.x"}, e.clock.now)
	checkAuthErr(t, err, errs.InvalidArgument, "VAULT_AUTH_AMBIGUOUS", "", "hvs.x")
}

// TestKubernetesReloginBeforeExpiry: past 2/3 of the token's TTL the client
// logs in again, reading the JWT file afresh (the account was recreated, so
// only the new JWT passes review).
func TestKubernetesReloginBeforeExpiry(t *testing.T) {
	t.Parallel()
	e := startKube(t)
	c, err := newClient(e.config("audit"), e.clock.now)
	if err != nil {
		t.Fatal(err)
	}
	first := accessor(t, c)

	e.clock.advance(39 * time.Minute) // the role's TTL is 1h: not yet due
	if err := auditAllowed.do(c); err != nil {
		t.Fatal(err)
	}
	if got := accessor(t, c); got != first || e.authenticatedReviews() != 1 {
		t.Fatalf("token replaced before 2/3 of its TTL (accessor %s, %d logins)", got, e.authenticatedReviews())
	}

	e.k.DeleteServiceAccount(vaulttest.KubernetesNamespace, "audit")
	fresh := e.k.ServiceAccountToken(t, vaulttest.KubernetesNamespace, "audit")
	writeAtomic(t, e.jwtFile, fresh)
	e.clock.advance(2 * time.Minute)
	if err := auditAllowed.do(c); err != nil {
		t.Fatal(err)
	}
	if got := accessor(t, c); got == first {
		t.Error("no new token after 2/3 of the TTL")
	}
	if n := e.authenticatedReviews(); n != 2 {
		t.Errorf("%d successful logins, want 2 (the second with the new JWT)", n)
	}
}

// TestKubernetesReloginAfterRevocation: a token Vault no longer accepts
// (revoked) is replaced by a new login and the call retried once.
func TestKubernetesReloginAfterRevocation(t *testing.T) {
	t.Parallel()
	e := startKube(t)
	c, err := newClient(e.config("audit"), e.clock.now)
	if err != nil {
		t.Fatal(err)
	}
	first := accessor(t, c)
	revoke(t, e.v, first)
	if err := auditAllowed.do(c); err != nil {
		t.Fatalf("call after revocation: %v", err)
	}
	if got := accessor(t, c); got == first {
		t.Error("client still uses the revoked token")
	}
}

// TestKubernetesFailedRelogin: while the token is valid a failed re-login
// keeps it (trying again after loginRetry); once it has expired, calls fail
// closed rather than send it.
func TestKubernetesFailedRelogin(t *testing.T) {
	t.Parallel()
	e := startKube(t)
	c, err := newClient(e.config("audit"), e.clock.now)
	if err != nil {
		t.Fatal(err)
	}
	e.k.DeleteServiceAccount(vaulttest.KubernetesNamespace, "audit")
	reviews := func() int { return len(e.k.Reviews()) }

	e.clock.advance(45 * time.Minute)
	before := reviews()
	if err := auditAllowed.do(c); err != nil {
		t.Fatalf("call with a still valid token after a failed re-login: %v", err)
	}
	if reviews() != before+1 {
		t.Fatalf("%d login attempts, want 1", reviews()-before)
	}
	e.clock.advance(loginRetry - time.Second)
	if err := auditAllowed.do(c); err != nil {
		t.Fatal(err)
	}
	if reviews() != before+1 {
		t.Errorf("tried to log in again %d times within loginRetry", reviews()-before-1)
	}
	e.clock.advance(2 * time.Second)
	if err := auditAllowed.do(c); err != nil {
		t.Fatal(err)
	}
	if reviews() != before+2 {
		t.Errorf("%d login attempts after loginRetry, want 1 more", reviews()-before-1)
	}

	// Vault's clock has not moved, so the token would still work: only
	// the client's own expiry check stops it being sent.
	e.clock.advance(20 * time.Minute)
	err = auditAllowed.do(c)
	if err == nil {
		t.Fatal("call succeeded with an expired token and a refused login")
	}
	checkAuthErr(t, err, errs.PermissionDenied, "VAULT_LOGIN_DENIED", "audit", e.jwt)
}
