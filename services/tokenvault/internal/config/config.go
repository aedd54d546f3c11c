// Package config is tokenvault's own configuration, read from SOTTO_*
// variables (pkg/service reads what every service shares: addresses,
// identity, database, keys, logging).
package config

import "time"

// Config of tokenvault. Every field is read from SOTTO_<tag>.
type Config struct {
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
	// RewrapInterval is how often the periodic jobs run (rewrap keys wrapped
	// under an older key-encryption key version, re-encrypt values under
	// retired data keys, purge expired tokens; see pkg/jobs) and how often
	// each replica sweeps expired keys from its cache.
	RewrapInterval time.Duration `env:"TOKENVAULT_REWRAP_INTERVAL" envDefault:"1m"`
	// KEKEpoch is the longest a key-encryption key version stays the latest:
	// then the kek-epoch job rotates it, rewraps every data key and retires
	// the older versions, so copies of erased subjects' keys (WAL, replicas,
	// backups) stop opening (docs/adr/0007).
	KEKEpoch time.Duration `env:"TOKENVAULT_KEK_EPOCH" envDefault:"24h"`
	// KEKEpochMin is how old the latest version must be before an erasure
	// starts a new epoch; 0 starts one at once. Raise it to bound how often a
	// large vault is rewrapped; erasures then wait up to this long.
	KEKEpochMin time.Duration `env:"TOKENVAULT_KEK_EPOCH_MIN" envDefault:"0s"`
	// ConsentAddr is the consent service (SOTTO_CONSENT_ADDR, as every
	// service's address). Policy rules with requires_consent ask it; without
	// it they allow nothing (fail closed), and tokenvault says so at start.
	ConsentAddr string `env:"CONSENT_ADDR"`
}
