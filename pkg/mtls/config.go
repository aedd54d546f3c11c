package mtls

import (
	"context"
	"log/slog"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/vaultclient"
)

// Config is a workload's identity settings, read from SOTTO_* variables.
type Config struct {
	// TrustDomain is the SPIFFE trust domain of the suite.
	TrustDomain string `env:"TRUST_DOMAIN" envDefault:"sotto.local"`
	// TLSCert, TLSKey and TLSBundle are PEM files: the workload certificate,
	// its key and the CA bundle peers must chain to. They are reloaded when
	// they change on disk (cert-manager, Vault Agent or the renewal below).
	TLSCert   string `env:"TLS_CERT,required"`
	TLSKey    string `env:"TLS_KEY,required"`
	TLSBundle string `env:"TLS_BUNDLE,required"`
	// VaultPKIRole, when set, makes the workload obtain its certificate from
	// Vault's PKI engine at start and renew it at 2/3 of its lifetime,
	// writing the three files above.
	VaultPKIRole  string        `env:"VAULT_PKI_ROLE"`
	VaultPKIMount string        `env:"VAULT_PKI_MOUNT" envDefault:"pki"`
	CertTTL       time.Duration `env:"CERT_TTL" envDefault:"24h"`
	Vault         vaultclient.Config
}

// Files are the configured certificate files.
func (c Config) Files() Files { return Files{Cert: c.TLSCert, Key: c.TLSKey, Bundle: c.TLSBundle} }

// Open returns the workload's certificate source for the workload called
// name. With Vault PKI configured it first obtains a certificate (failing
// fast if Vault refuses) and returns a renew loop for the caller to run;
// otherwise renew is nil and the files are managed by someone else.
func Open(ctx context.Context, cfg Config, name string, logger *slog.Logger) (src *Source, renew func(context.Context) error, err error) {
	td, err := spiffeid.TrustDomainFromString(cfg.TrustDomain)
	if err != nil {
		return nil, nil, errs.Wrap(err, errs.InvalidArgument, "INVALID_TRUST_DOMAIN", "invalid trust domain")
	}
	if cfg.VaultPKIRole != "" {
		id, err := spiffeid.FromSegments(td, name)
		if err != nil {
			return nil, nil, errs.Wrap(err, errs.InvalidArgument, "INVALID_SPIFFE_ID", "invalid workload name")
		}
		client, err := vaultclient.New(cfg.Vault)
		if err != nil {
			return nil, nil, err
		}
		iss := &VaultIssuer{Client: client, Mount: cfg.VaultPKIMount, Role: cfg.VaultPKIRole}
		if _, err := iss.IssueFiles(ctx, id, cfg.CertTTL, cfg.Files()); err != nil {
			return nil, nil, err
		}
		renew = func(ctx context.Context) error { return RenewLoop(ctx, iss, id, cfg.CertTTL, cfg.Files(), logger) }
	}
	src, err = NewFileSource(cfg.Files(), logger)
	if err != nil {
		return nil, nil, err
	}
	// A workload serves only under its own name: a certificate for another
	// workload (a mix-up in deployment) is refused at start.
	want, err := spiffeid.FromSegments(td, name)
	if err != nil {
		return nil, nil, errs.Wrap(err, errs.InvalidArgument, "INVALID_SPIFFE_ID", "invalid workload name")
	}
	if src.ID() != want {
		return nil, nil, errs.E(errs.FailedPrecondition, "WRONG_WORKLOAD_IDENTITY", "workload certificate is not for this workload")
	}
	return src, renew, nil
}
