// Package vaultclient builds a HashiCorp Vault API client from SOTTO_VAULT_*
// settings; pkg/keys (Transit) and pkg/mtls (PKI) share it.
package vaultclient

import (
	"os"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/sottohq/sotto/pkg/errs"
)

// Config says how to reach Vault. An empty Addr means "no Vault": the
// embedded default uses local stand-ins.
type Config struct {
	// Addr is the Vault server, e.g. https://vault.vault.svc:8200.
	Addr string `env:"VAULT_ADDR"`
	// Token authenticates to Vault; TokenFile reads it from a file (e.g. a
	// Vault Agent sink) once, at start, and wins when both are set.
	Token     string `env:"VAULT_TOKEN"`
	TokenFile string `env:"VAULT_TOKEN_FILE"`
}

// Enabled reports whether a Vault server is configured.
func (c Config) Enabled() bool { return c.Addr != "" }

// New returns a client for c.
func New(c Config) (*api.Client, error) {
	vc := api.DefaultConfig()
	vc.Address = c.Addr
	client, err := api.NewClient(vc)
	if err != nil {
		return nil, errs.Wrap(err, errs.InvalidArgument, "VAULT_CONFIG_INVALID", "invalid Vault configuration")
	}
	token := c.Token
	if c.TokenFile != "" {
		b, err := os.ReadFile(c.TokenFile)
		if err != nil {
			return nil, errs.Wrap(err, errs.InvalidArgument, "VAULT_TOKEN_UNREADABLE", "cannot read the Vault token file")
		}
		token = strings.TrimSpace(string(b))
	}
	client.SetToken(token)
	return client, nil
}
