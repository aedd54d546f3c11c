// Package config is the audit service's configuration, read from SOTTO_*
// environment variables.
package config

import (
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/server"
)

// Config of the audit service. Every field is read from SOTTO_<tag>.
type Config struct {
	Server server.Config
	Keys   keys.Config
	// DatabaseDSN: sqlite://path/audit.db (embedded default) or postgres://...
	DatabaseDSN string `env:"DB_DSN" envDefault:"sqlite://audit.db"`
	// LogLevel: debug, info, warn or error.
	LogLevel string `env:"LOG_LEVEL" envDefault:"info"`
	// Origin names the log in its checkpoints ("<domain>/<path>").
	Origin string `env:"AUDIT_ORIGIN" envDefault:"sotto.local/audit"`
	// CheckpointKey is the KeyManager Ed25519 key that signs checkpoints.
	CheckpointKey string `env:"AUDIT_CHECKPOINT_KEY" envDefault:"audit-checkpoint"`
	// SubjectKey is the KeyManager key that wraps the subject-HMAC keys.
	SubjectKey string `env:"AUDIT_SUBJECT_KEY" envDefault:"audit-subject"`
	// CheckpointInterval is how often a checkpoint is signed while the log grows.
	CheckpointInterval time.Duration `env:"AUDIT_CHECKPOINT_INTERVAL" envDefault:"1s"`
}

// Load reads the configuration from the environment.
func Load() (Config, error) {
	return env.ParseAsWithOptions[Config](env.Options{Prefix: "SOTTO_"})
}
