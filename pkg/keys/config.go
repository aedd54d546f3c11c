package keys

import (
	"github.com/sottohq/sotto/pkg/vaultclient"
)

// Config selects the key backend: Vault Transit when a Vault address is set
// (the production backend), otherwise the local file keyring (the embedded
// default).
type Config struct {
	Vault vaultclient.Config
	// TransitMount is the path the Transit engine is mounted at.
	TransitMount string `env:"VAULT_TRANSIT_MOUNT" envDefault:"transit"`
	// KeyringFile is the local keyring, used only without Vault.
	KeyringFile string `env:"KEYRING_FILE" envDefault:"keyring.json"`
}

// Open returns the KeyManager cfg selects.
func Open(cfg Config) (KeyManager, error) {
	if !cfg.Vault.Enabled() {
		return NewLocal(cfg.KeyringFile)
	}
	client, err := vaultclient.New(cfg.Vault)
	if err != nil {
		return nil, err
	}
	return NewVault(client, cfg.TransitMount), nil
}
