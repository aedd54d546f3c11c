package keys

import (
	"os"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/sottohq/sotto/pkg/errs"
)

// Config selects the key backend: Vault Transit when VaultAddr is set (the
// production backend), otherwise the local file keyring (the embedded default).
type Config struct {
	// VaultAddr is the Vault server, e.g. https://vault:8200.
	VaultAddr string `env:"VAULT_ADDR"`
	// VaultToken authenticates to Vault; VaultTokenFile reads it from a file
	// (a Vault Agent sink) and wins when both are set.
	VaultToken     string `env:"VAULT_TOKEN"`
	VaultTokenFile string `env:"VAULT_TOKEN_FILE"`
	// TransitMount is the path the Transit engine is mounted at.
	TransitMount string `env:"VAULT_TRANSIT_MOUNT" envDefault:"transit"`
	// KeyringFile is the local keyring, used only without Vault.
	KeyringFile string `env:"KEYRING_FILE" envDefault:"keyring.json"`
}

// Open returns the KeyManager cfg selects.
func Open(cfg Config) (KeyManager, error) {
	if cfg.VaultAddr == "" {
		return NewLocal(cfg.KeyringFile)
	}
	client, err := VaultClient(cfg)
	if err != nil {
		return nil, err
	}
	return NewVault(client, cfg.TransitMount), nil
}

// VaultClient builds a Vault API client from cfg (also used for PKI).
func VaultClient(cfg Config) (*api.Client, error) {
	vc := api.DefaultConfig()
	vc.Address = cfg.VaultAddr
	client, err := api.NewClient(vc)
	if err != nil {
		return nil, errs.Wrap(err, errs.InvalidArgument, "VAULT_CONFIG_INVALID", "invalid Vault configuration")
	}
	token := cfg.VaultToken
	if cfg.VaultTokenFile != "" {
		b, err := os.ReadFile(cfg.VaultTokenFile)
		if err != nil {
			return nil, errs.Wrap(err, errs.InvalidArgument, "VAULT_TOKEN_UNREADABLE", "cannot read the Vault token file")
		}
		token = strings.TrimSpace(string(b))
	}
	client.SetToken(token)
	return client, nil
}
