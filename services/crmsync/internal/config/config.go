// Package config is the crmsync service's own configuration, read from
// SOTTO_* variables (pkg/service reads what every service shares).
package config

import "time"

// Config of the crmsync service. Every field is read from SOTTO_<tag>.
type Config struct {
	// QueueKey is the KeyManager key (aes256-gcm96) that wraps each queued
	// payload's data key; its HMAC secret keys the page tokens.
	QueueKey string `env:"CRMSYNC_QUEUE_KEY" envDefault:"crmsync-queue"`
	// MappingsDir holds the shops' mappings, <tenant>/<connector>.yaml
	// (internal/mapping). Empty: no mappings, and nothing is ever sent.
	MappingsDir string `env:"CRMSYNC_MAPPINGS_DIR"`
	// PlaintextPurposes are the purposes a mapping may send values in
	// plaintext under (the token vault's policy still decides per value).
	PlaintextPurposes []string `env:"CRMSYNC_PLAINTEXT_PURPOSES" envDefault:"crm_sync" envSeparator:","`
	// HubSpotURL is HubSpot's API root.
	HubSpotURL string `env:"CRMSYNC_HUBSPOT_URL" envDefault:"https://api.hubapi.com"`
	// MaxAttempts bounds a delivery's attempts, 429s included; then it is
	// dead-lettered.
	MaxAttempts int `env:"CRMSYNC_MAX_ATTEMPTS" envDefault:"10"`
	// RetryBackoffMax caps the wait before a failed delivery's next
	// attempt (1 s doubling per attempt, jittered; a CRM's Retry-After
	// overrides it).
	RetryBackoffMax time.Duration `env:"CRMSYNC_RETRY_BACKOFF_MAX" envDefault:"10m"`
	// ReconcileInterval is how often deliveries whose job the queue gave up
	// on its own (a worker died on the last attempt) are dead-lettered.
	ReconcileInterval time.Duration `env:"CRMSYNC_RECONCILE_INTERVAL" envDefault:"1m"`
	// PrivateCIDRs lets a CRM (an emulator, a proxy the operator runs) be
	// on a private network; egress refuses private and loopback addresses
	// otherwise.
	PrivateCIDRs []string `env:"CRMSYNC_PRIVATE_CIDRS" envSeparator:","`
	// CAFile, if set, names PEM certificates trusted for the CRMs instead of
	// the system's roots (a TLS-intercepting egress proxy the operator runs,
	// the emulators in end-to-end tests).
	CAFile string `env:"CRMSYNC_CA_FILE"`
	// ErasureReadBacks bounds the reads of a deleted record, per CRM and
	// erasure attempt, before the erasure is reported unconfirmed (and the
	// consent service's orchestrator tries it again later).
	ErasureReadBacks int `env:"CRMSYNC_ERASURE_READ_BACKS" envDefault:"6"`
	// ErasureReadBackWait is the wait before the second read; it doubles
	// for each read after (0.5 s: about 15 s over six reads).
	ErasureReadBackWait time.Duration `env:"CRMSYNC_ERASURE_READ_BACK_WAIT" envDefault:"500ms"`
	// HeldTTL is how long a customer event refused for want of consent is
	// kept for a grant that may never come; older ones are deleted.
	HeldTTL time.Duration `env:"CRMSYNC_HELD_TTL" envDefault:"720h"`
}
