package vaultclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/kubernetes"

	"github.com/sottohq/sotto/pkg/errs"
)

// loginRetry is how long a client whose token is still valid waits after a
// failed re-login before trying again, so that a Vault or Kubernetes API
// outage costs one login attempt per interval rather than one per request.
const loginRetry = 10 * time.Second

// kubeLogin holds a token obtained with Vault's Kubernetes auth method and
// logs in again, on use, once 2/3 of its TTL has passed. Logging in again
// rather than renewing re-reads the service account JWT, which Kubernetes
// rotates for projected volumes, and is not capped by the token's max TTL;
// it needs no goroutine (vault/api's LifetimeWatcher does), so nothing
// outlives the client. A token replaced early simply expires at its TTL.
type kubeLogin struct {
	client               *api.Client // sends no token
	role, mount, jwtFile string
	now                  func() time.Time

	mu      sync.Mutex
	tok     string
	renewAt time.Time // zero: never (a token without TTL)
	expires time.Time // zero: never
}

func (k *kubeLogin) token(ctx context.Context) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	valid := k.tok != "" && (k.expires.IsZero() || now.Before(k.expires))
	if valid && (k.renewAt.IsZero() || now.Before(k.renewAt)) {
		return k.tok, nil
	}
	err := k.login(ctx)
	if err == nil {
		return k.tok, nil
	}
	if valid {
		k.renewAt = now.Add(loginRetry)
		return k.tok, nil
	}
	// Fail closed: an expired token is not sent on the chance that Vault
	// still takes it.
	k.tok = ""
	return "", err
}

func (k *kubeLogin) refresh(ctx context.Context, used string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.tok != used && k.tok != "" {
		return k.tok, nil // another request already logged in again
	}
	// A 403 is also how Vault answers a policy denial, which a new login
	// would not change: ask Vault whether the token itself still counts.
	check, err := k.client.Clone()
	if err != nil {
		return "", err
	}
	check.SetToken(used)
	_, err = check.Auth().Token().LookupSelfWithContext(ctx)
	var re *api.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
		return "", nil // accepted (or unknown): the denial stands
	}
	if err := k.login(ctx); err != nil {
		k.tok = ""
		return "", err
	}
	return k.tok, nil
}

// login reads the JWT afresh and exchanges it for a token. It is called
// with k.mu held.
func (k *kubeLogin) login(ctx context.Context) error {
	b, err := os.ReadFile(k.jwtFile)
	if err != nil {
		return errs.Wrap(fmt.Errorf("kubernetes service account token: %w", err),
			errs.FailedPrecondition, "VAULT_K8S_JWT_UNREADABLE", "cannot read the Kubernetes service account token")
	}
	jwt := strings.TrimSpace(string(b))
	if jwt == "" {
		// The helper below would fall back to the default path on an empty
		// JWT, logging in as whatever account that file belongs to.
		return errs.Wrap(fmt.Errorf("kubernetes service account token file %s is empty", k.jwtFile),
			errs.FailedPrecondition, "VAULT_K8S_JWT_EMPTY", "the Kubernetes service account token file is empty")
	}
	method, err := kubernetes.NewKubernetesAuth(k.role,
		kubernetes.WithMountPath(k.mount), kubernetes.WithServiceAccountToken(jwt))
	if err != nil {
		return errs.Wrap(err, errs.InvalidArgument, "VAULT_K8S_CONFIG_INVALID", "invalid Vault Kubernetes auth settings")
	}
	start := k.now() // before the request: the TTL runs from Vault's receipt
	secret, err := method.Login(ctx, k.client)
	if err != nil {
		return loginErr(err, k.role, k.mount)
	}
	if secret == nil || secret.Auth == nil || secret.Auth.ClientToken == "" || !validToken(secret.Auth.ClientToken) {
		return errs.E(errs.Unavailable, "VAULT_LOGIN_FAILED", "Vault's Kubernetes login returned no token")
	}
	k.tok = secret.Auth.ClientToken
	k.renewAt, k.expires = time.Time{}, time.Time{}
	if ttl := time.Duration(secret.Auth.LeaseDuration) * time.Second; ttl > 0 {
		k.renewAt = start.Add(ttl * 2 / 3)
		k.expires = start.Add(ttl)
	}
	return nil
}

// loginErr classifies a failed login. Vault's answer (kept as the cause)
// names the role and the reason, not the JWT.
func loginErr(err error, role, mount string) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	cause := fmt.Errorf("vault Kubernetes login as role %q at auth/%s: %w", role, mount, err)
	var re *api.ResponseError
	if errors.As(err, &re) && (re.StatusCode == http.StatusBadRequest || re.StatusCode == http.StatusForbidden) {
		return errs.Wrap(cause, errs.PermissionDenied, "VAULT_LOGIN_DENIED", "Vault refused the Kubernetes login")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errs.Wrap(cause, errs.DeadlineExceeded, "VAULT_LOGIN_FAILED", "Vault's Kubernetes login timed out")
	}
	return errs.Wrap(cause, errs.Unavailable, "VAULT_LOGIN_FAILED", "Vault's Kubernetes login failed")
}
