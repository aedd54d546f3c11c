// Package config is the audit service's own configuration, read from SOTTO_*
// environment variables (pkg/service reads what every service shares:
// addresses, identity, database, keys, logging).
package config

import "time"

// Config of the audit service. Every field is read from SOTTO_<tag>.
type Config struct {
	// Origin names the log in its checkpoints ("<domain>/<path>"); empty is
	// "<trust domain>/audit".
	Origin string `env:"AUDIT_ORIGIN"`
	// CheckpointKey is the KeyManager Ed25519 key that signs checkpoints.
	CheckpointKey string `env:"AUDIT_CHECKPOINT_KEY" envDefault:"audit-checkpoint"`
	// SubjectKey is the KeyManager key that wraps the subject-HMAC keys.
	SubjectKey string `env:"AUDIT_SUBJECT_KEY" envDefault:"audit-subject"`
	// CheckpointInterval is how often a checkpoint is signed while the log grows.
	CheckpointInterval time.Duration `env:"AUDIT_CHECKPOINT_INTERVAL" envDefault:"1s"`
	// AppendRate and AppendBurst bound the events one workload may append
	// (per second, and at once; the burst must hold a 1,000-event request).
	AppendRate  float64 `env:"AUDIT_APPEND_RATE" envDefault:"20000"`
	AppendBurst int     `env:"AUDIT_APPEND_BURST" envDefault:"50000"`
}
