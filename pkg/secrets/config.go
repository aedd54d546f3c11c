package secrets

import (
	"time"

	"github.com/sottohq/sotto/pkg/vaultclient"
)

// Config selects the store: Vault KV v2 when a Vault address is set,
// otherwise the local file (the embedded default).
type Config struct {
	Vault vaultclient.Config
	// KVMount is where the KV version 2 engine is mounted.
	KVMount string `env:"VAULT_KV_MOUNT" envDefault:"secret"`
	// File is the local secrets file, used only without Vault.
	File string `env:"SECRETS_FILE" envDefault:"secrets.json"`
	// CacheTTL is how long an answer is remembered.
	CacheTTL time.Duration `env:"SECRETS_CACHE_TTL" envDefault:"30s"`
}

// Open returns the store cfg selects, behind a Cache.
func Open(cfg Config) (*Cache, error) {
	if !cfg.Vault.Enabled() {
		return NewCache(NewFile(cfg.File), cfg.CacheTTL), nil
	}
	client, err := vaultclient.New(cfg.Vault)
	if err != nil {
		return nil, err
	}
	return NewCache(NewVault(client, cfg.KVMount), cfg.CacheTTL), nil
}
