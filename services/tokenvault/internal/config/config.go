// Package config is tokenvault's configuration, read from SOTTO_* variables.
package config

import (
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/server"
)

// Config of tokenvault. Every field is read from SOTTO_<tag>.
type Config struct {
	Server server.Config
	Keys   keys.Config
	// DatabaseDSN: sqlite://path/tokenvault.db (embedded default) or postgres://...
	DatabaseDSN string `env:"DB_DSN" envDefault:"sqlite://tokenvault.db"`
	LogLevel    string `env:"LOG_LEVEL" envDefault:"info"`
	// AuditAddr is the audit service's gRPC address (detokenize, lookup,
	// erase, export and rotation are audited synchronously).
	AuditAddr string `env:"AUDIT_ADDR,required"`
	// KEK is the KeyManager key that wraps every data key.
	KEK string `env:"TOKENVAULT_KEK" envDefault:"tokenvault-kek"`
	// Tenants the vault serves (comma-separated). Requests naming any other
	// tenant are refused.
	Tenants []string `env:"TOKENVAULT_TENANTS" envDefault:"default" envSeparator:","`
	// PolicyFile is the detokenize policy; empty uses the built-in policy.yaml.
	PolicyFile string `env:"TOKENVAULT_POLICY_FILE"`
	// KeyCacheSize and KeyCacheTTL bound the cache of unwrapped data keys.
	KeyCacheSize int           `env:"TOKENVAULT_KEY_CACHE_SIZE" envDefault:"100000"`
	KeyCacheTTL  time.Duration `env:"TOKENVAULT_KEY_CACHE_TTL" envDefault:"5m"`
	// RewrapInterval is how often the background job runs: it rewraps keys
	// wrapped under an older key-encryption key version, re-encrypts values
	// under retired data keys and purges expired tokens.
	RewrapInterval time.Duration `env:"TOKENVAULT_REWRAP_INTERVAL" envDefault:"1m"`
}

// Load reads the configuration from the environment.
func Load() (Config, error) {
	return env.ParseAsWithOptions[Config](env.Options{Prefix: "SOTTO_"})
}
