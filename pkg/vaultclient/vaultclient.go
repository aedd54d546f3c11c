// Package vaultclient builds a HashiCorp Vault API client from SOTTO_VAULT_*
// settings; pkg/keys (Transit) and pkg/mtls (PKI) share it.
//
// The client authenticates in one of three ways, and keeps its token current
// without a background goroutine: the token is looked up on each request.
//
//   - SOTTO_VAULT_TOKEN: a fixed token.
//   - SOTTO_VAULT_TOKEN_FILE: a file holding the token, typically a Vault Agent
//     sink that rotates it. The file is checked (a stat) on every request and
//     re-read when it changed; after a 403 it is re-read once and the request
//     retried once if the token changed (a rotation the stat did not see). An
//     empty or unreadable file fails the request (closed) rather than fall
//     back to the previous token.
//   - SOTTO_VAULT_K8S_ROLE: Kubernetes auth. The client logs in to
//     auth/<SOTTO_VAULT_K8S_MOUNT>/login with the service account JWT read from
//     SOTTO_VAULT_K8S_JWT_FILE, at construction (so a wrong role fails at
//     start) and again once 2/3 of the token's TTL has passed, re-reading the
//     JWT each time (projected service account tokens rotate). After a 403 it
//     checks its token with auth/token/lookup-self and, if Vault no longer
//     accepts it (revoked, expired early), logs in again and retries once.
//
// Errors name files and roles but never a token or a JWT.
package vaultclient

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/hashicorp/vault/api"

	"github.com/sottohq/sotto/pkg/errs"
)

// Defaults of the Kubernetes auth settings, applied when a Config leaves
// them empty.
const (
	DefaultKubernetesJWTFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	DefaultKubernetesMount   = "kubernetes"
)

// loginTimeout bounds the first Kubernetes login, in New, which has no
// caller context; later logins run under the request's context.
const loginTimeout = time.Minute

// Config says how to reach Vault. An empty Addr means "no Vault": the
// embedded default uses local stand-ins.
type Config struct {
	// Addr is the Vault server, e.g. https://vault.vault.svc:8200.
	Addr string `env:"VAULT_ADDR"`
	// Token authenticates to Vault. TokenFile names a file holding the
	// token instead (e.g. a Vault Agent sink), re-read when it changes; it
	// wins when both are set.
	Token     string `env:"VAULT_TOKEN"`
	TokenFile string `env:"VAULT_TOKEN_FILE"`
	// KubernetesRole, when set, makes the client log in with Vault's
	// Kubernetes auth method as this role, using the service account JWT in
	// KubernetesJWTFile, at the auth mount KubernetesMount. It excludes
	// Token and TokenFile.
	KubernetesRole    string `env:"VAULT_K8S_ROLE"`
	KubernetesJWTFile string `env:"VAULT_K8S_JWT_FILE" envDefault:"/var/run/secrets/kubernetes.io/serviceaccount/token"`
	KubernetesMount   string `env:"VAULT_K8S_MOUNT" envDefault:"kubernetes"`
}

// Enabled reports whether a Vault server is configured.
func (c Config) Enabled() bool { return c.Addr != "" }

// New returns a client for c. It reads the token file or logs in before
// returning, so a missing file or a refused login fails the caller's
// start-up.
func New(c Config) (*api.Client, error) {
	return newClient(c, time.Now)
}

// newClient is New with the clock that times Kubernetes re-logins.
func newClient(c Config, now func() time.Time) (*api.Client, error) {
	vc, err := baseConfig(c.Addr)
	if err != nil {
		return nil, err
	}
	src, err := newSource(c, now)
	if err != nil {
		return nil, err
	}
	// Every request gets its token from src, at the transport: the api
	// client's own token stays empty so that it never sends a stale one.
	vc.HttpClient.Transport = &tokenTransport{base: vc.HttpClient.Transport, src: src}
	// A missing token or a refused login is not worth the api client's
	// retries (seconds of backoff); it fails at once.
	vc.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		var ae *authError
		if errors.As(err, &ae) {
			return false, nil
		}
		return api.DefaultRetryPolicy(ctx, resp, err)
	}
	client, err := api.NewClient(vc)
	if err != nil {
		return nil, errs.Wrap(err, errs.InvalidArgument, "VAULT_CONFIG_INVALID", "invalid Vault configuration")
	}
	client.SetToken("") // NewClient picks up VAULT_TOKEN from the environment
	// Fail at start on an unreadable token file or a refused login, not at
	// the first use.
	ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
	defer cancel()
	if _, err := src.token(ctx); err != nil {
		return nil, err
	}
	return client, nil
}

// baseConfig is the api configuration for addr, with TLS and the rest from
// the standard VAULT_* variables (VAULT_CACERT, ...).
func baseConfig(addr string) (*api.Config, error) {
	vc := api.DefaultConfig()
	if vc.Error != nil {
		return nil, errs.Wrap(vc.Error, errs.InvalidArgument, "VAULT_CONFIG_INVALID", "invalid Vault configuration")
	}
	vc.Address = addr
	return vc, nil
}

// unauthenticatedClient is a client that sends no token, for logins and for
// checking a token with lookup-self.
func unauthenticatedClient(addr string) (*api.Client, error) {
	vc, err := baseConfig(addr)
	if err != nil {
		return nil, err
	}
	client, err := api.NewClient(vc)
	if err != nil {
		return nil, errs.Wrap(err, errs.InvalidArgument, "VAULT_CONFIG_INVALID", "invalid Vault configuration")
	}
	client.SetToken("")
	return client, nil
}

func newSource(c Config, now func() time.Time) (tokenSource, error) {
	if c.KubernetesRole != "" {
		if c.Token != "" || c.TokenFile != "" {
			return nil, errs.E(errs.InvalidArgument, "VAULT_AUTH_AMBIGUOUS",
				"set either a Vault token (file) or a Kubernetes role, not both")
		}
		login, err := unauthenticatedClient(c.Addr)
		if err != nil {
			return nil, err
		}
		jwtFile, mount := c.KubernetesJWTFile, c.KubernetesMount
		if jwtFile == "" {
			jwtFile = DefaultKubernetesJWTFile
		}
		if mount == "" {
			mount = DefaultKubernetesMount
		}
		return &kubeLogin{client: login, role: c.KubernetesRole, mount: mount, jwtFile: jwtFile, now: now}, nil
	}
	if c.TokenFile != "" {
		return &fileToken{path: c.TokenFile}, nil
	}
	if !validToken(c.Token) {
		return nil, errs.E(errs.InvalidArgument, "VAULT_TOKEN_INVALID", "the Vault token contains whitespace or control characters")
	}
	return staticToken(c.Token), nil
}

// validToken reports whether t can go into an X-Vault-Token header as is.
// The api client's own check (printable characters) is bypassed because the
// token is set at the transport, so it is repeated here, stricter.
func validToken(t string) bool {
	return strings.IndexFunc(t, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) < 0
}
