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
}
