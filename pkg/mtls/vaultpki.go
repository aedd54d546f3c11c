package mtls

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
)

// VaultIssuer obtains workload certificates from a HashiCorp Vault PKI secrets
// engine. The role must allow the workload's SPIFFE ID as a URI SAN
// (allowed_uri_sans = "spiffe://<trust-domain>/*"), the common name
// "localhost" (allow_localhost, Vault's default) and IP SANs; the Vault token
// needs "update" on <Mount>/issue/<Role> and nothing else.
type VaultIssuer struct {
	Client *api.Client
	Mount  string // e.g. "pki"
	Role   string // e.g. "workload"
}

// Issue asks Vault for a new key and certificate for id, valid for ttl
// (Vault caps it at the role's max_ttl). caPEM is the issuing CA, which is the
// trust bundle for workloads of this PKI mount. The private key is generated
// by Vault and returned once; Vault does not store it.
func (v *VaultIssuer) Issue(ctx context.Context, id spiffeid.ID, ttl time.Duration) (certPEM, keyPEM, caPEM []byte, err error) {
	switch {
	case v == nil || v.Client == nil || v.Mount == "" || v.Role == "":
		return nil, nil, nil, errs.E(errs.FailedPrecondition, "VAULT_PKI_NOT_CONFIGURED", "Vault PKI issuer needs a client, a mount and a role")
	case id.IsZero() || id.Path() == "":
		return nil, nil, nil, errs.E(errs.InvalidArgument, "INVALID_SPIFFE_ID", "a workload SPIFFE ID needs a path")
	case ttl < time.Second:
		// Vault takes whole seconds, and "0s" would silently mean the role default.
		return nil, nil, nil, errs.E(errs.InvalidArgument, "INVALID_TTL", "certificate lifetime must be at least one second")
	}
	path := strings.Trim(v.Mount, "/") + "/issue/" + v.Role
	secret, err := v.Client.Logical().WriteWithContext(ctx, path, map[string]any{
		// The CN carries no identity (the URI SAN does); "localhost" keeps
		// tools that insist on a CN or DNS SAN happy on a dev machine.
		"common_name":        "localhost",
		"uri_sans":           id.String(),
		"ip_sans":            "127.0.0.1",
		"ttl":                fmt.Sprintf("%ds", int64(ttl/time.Second)),
		"format":             "pem",
		"private_key_format": "pkcs8",
	})
	if err != nil {
		return nil, nil, nil, errs.Wrap(err, errs.Unavailable, "VAULT_PKI_ISSUE_FAILED", "Vault did not issue a certificate")
	}
	if secret == nil || secret.Data == nil {
		return nil, nil, nil, errs.E(errs.Unavailable, "VAULT_PKI_ISSUE_FAILED", "Vault returned no certificate")
	}
	cert, _ := secret.Data["certificate"].(string)
	key, _ := secret.Data["private_key"].(string)
	ca, _ := secret.Data["issuing_ca"].(string)
	if cert == "" || key == "" || ca == "" {
		return nil, nil, nil, errs.E(errs.Unavailable, "VAULT_PKI_ISSUE_FAILED", "Vault returned an incomplete certificate")
	}
	// Defence against a misconfigured role: never write a certificate that
	// names another workload than the one we asked for.
	leaf, err := parseCertsPEM([]byte(cert))
	if err != nil {
		return nil, nil, nil, err
	}
	if got, err := x509svid.IDFromCert(leaf[0]); err != nil || got != id {
		return nil, nil, nil, errs.E(errs.FailedPrecondition, "VAULT_PKI_WRONG_IDENTITY", "Vault issued a certificate without the SPIFFE ID %s", id)
	}
	return []byte(ensureNewline(cert)), []byte(ensureNewline(key)), []byte(ensureNewline(ca)), nil
}

// IssueFiles issues a certificate for id and atomically replaces the files of
// f with it (key mode 0600), returning the new leaf. A service calls it once
// at start-up, so a Vault misconfiguration fails fast, and RenewLoop keeps
// the files fresh afterwards.
func (v *VaultIssuer) IssueFiles(ctx context.Context, id spiffeid.ID, ttl time.Duration, f Files) (*x509.Certificate, error) {
	if f.Cert == "" || f.Key == "" || f.Bundle == "" {
		return nil, errs.E(errs.InvalidArgument, "INVALID_FILES", "certificate, key and bundle paths are required")
	}
	certPEM, keyPEM, caPEM, err := v.Issue(ctx, id, ttl)
	if err != nil {
		return nil, err
	}
	for _, p := range []string{f.Cert, f.Key, f.Bundle} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, errs.Wrap(err, errs.Internal, "MTLS_WRITE_FAILED", "cannot create %s", filepath.Dir(p))
		}
	}
	if err := writeFiles(f, certPEM, keyPEM, caPEM); err != nil {
		return nil, err
	}
	leaf, err := parseCertsPEM(certPEM)
	if err != nil {
		return nil, err
	}
	return leaf[0], nil
}

// Retry delays after a failed issuance: the current certificate is usually
// still valid, so keep trying without hammering Vault.
const (
	renewRetryMin = time.Second
	renewRetryMax = time.Minute
)

// RenewLoop keeps the files of f holding a valid certificate for id until ctx
// is done. It reuses a certificate already in f.Cert if it names id and is
// not yet due, issues one otherwise, and re-issues once two thirds of each
// certificate's lifetime have passed, so a Source watching f rotates onto it.
// Failed issuances are logged and retried with backoff. It returns nil when
// ctx is done, and an error only for invalid arguments.
func RenewLoop(ctx context.Context, iss *VaultIssuer, id spiffeid.ID, ttl time.Duration, f Files, logger *slog.Logger) error {
	switch {
	case iss == nil:
		return errs.E(errs.InvalidArgument, "VAULT_PKI_NOT_CONFIGURED", "RenewLoop needs an issuer")
	case id.IsZero() || id.Path() == "":
		return errs.E(errs.InvalidArgument, "INVALID_SPIFFE_ID", "a workload SPIFFE ID needs a path")
	case ttl < time.Second:
		return errs.E(errs.InvalidArgument, "INVALID_TTL", "certificate lifetime must be at least one second")
	case f.Cert == "" || f.Key == "" || f.Bundle == "":
		return errs.E(errs.InvalidArgument, "INVALID_FILES", "certificate, key and bundle paths are required")
	}
	if logger == nil {
		logger = slog.Default()
	}

	next := existingRenewTime(f.Cert, id) // zero: issue right away
	retry := renewRetryMin
	for {
		if wait := time.Until(next); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		received := time.Now()
		leaf, err := iss.IssueFiles(ctx, id, ttl, f)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			logger.Error("mtls: workload certificate renewal failed, will retry", "spiffe_id", id.String(), "retry_in", retry, logging.Err(err))
			next = time.Now().Add(retry)
			retry = min(retry*2, renewRetryMax)
			continue
		}
		retry = renewRetryMin
		next = renewTime(leaf, received)
		logger.Info("mtls: issued workload certificate", "spiffe_id", id.String(),
			"serial", leaf.SerialNumber.Text(16), "not_after", leaf.NotAfter, "renew_at", next)
	}
}

// renewTime is when two thirds of the certificate's useful lifetime have
// passed. The lifetime is counted from when we received it, not NotBefore:
// Vault backdates NotBefore (30s by default), which for short lifetimes would
// put the renewal time in the past and spin.
func renewTime(leaf *x509.Certificate, received time.Time) time.Time {
	start := leaf.NotBefore
	if received.After(start) {
		start = received
	}
	return start.Add(leaf.NotAfter.Sub(start) * 2 / 3)
}

// existingRenewTime is the renewal time of the certificate already at path if
// it is one for id, or the zero time (renew now) if there is none, it names
// another workload, or it cannot be read.
func existingRenewTime(path string, id spiffeid.ID) time.Time {
	data, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}
	}
	certs, err := parseCertsPEM(data)
	if err != nil {
		return time.Time{}
	}
	if got, err := x509svid.IDFromCert(certs[0]); err != nil || got != id {
		return time.Time{}
	}
	return renewTime(certs[0], certs[0].NotBefore)
}

func ensureNewline(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}
