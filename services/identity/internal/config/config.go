// Package config is identity's own configuration, read from SOTTO_*
// variables (pkg/service reads what every service shares: addresses,
// identity, database, keys, logging).
package config

import "time"

// Config of identity. Every field is read from SOTTO_<tag>.
type Config struct {
	// TokenKey is the KeyManager key (ed25519) that signs access tokens;
	// its versions are the JWK Set's keys.
	TokenKey string `env:"IDENTITY_TOKEN_KEY" envDefault:"identity-token"`
	// SecretsKey is the KeyManager key (aes256-gcm96) that wraps TOTP
	// secrets and keys the recovery-code HMACs, the page-token key and the
	// pseudonyms of client addresses in audit events.
	SecretsKey string `env:"IDENTITY_SECRETS_KEY" envDefault:"identity-secrets"`
	// MailboxFile is the dev mailbox (internal/notify): empty puts
	// identity-mailbox.jsonl next to the SQLite database (under `sotto dev
	// up`'s state directory), or in the working directory on PostgreSQL.
	MailboxFile string `env:"IDENTITY_MAILBOX_FILE"`
	// Argon2 cost of new password hashes (OWASP's minimum is m=19456 KiB,
	// t=2, p=1; weaker is refused at start). Hashes made with other
	// parameters are upgraded at the next login.
	Argon2MemoryKiB uint32 `env:"IDENTITY_ARGON2_MEMORY_KIB" envDefault:"47104"`
	Argon2Time      uint32 `env:"IDENTITY_ARGON2_TIME" envDefault:"1"`
	Argon2Threads   uint8  `env:"IDENTITY_ARGON2_THREADS" envDefault:"1"`
	// HashMemoryBudget bounds the memory of password hashes running at once
	// (bytes); the pool has budget / memory-per-hash slots. A request waits
	// for a slot until its deadline, then gets ResourceExhausted.
	HashMemoryBudget int64 `env:"IDENTITY_HASH_MEMORY_BUDGET" envDefault:"268435456"`
	// SessionLifetime and StaffSessionLifetime bound sessions from login.
	SessionLifetime      time.Duration `env:"IDENTITY_SESSION_LIFETIME" envDefault:"24h"`
	StaffSessionLifetime time.Duration `env:"IDENTITY_STAFF_SESSION_LIFETIME" envDefault:"8h"`
	// AccessTokenLifetime is how long access tokens live (ADR 0009: minutes).
	AccessTokenLifetime time.Duration `env:"IDENTITY_ACCESS_TOKEN_LIFETIME" envDefault:"5m"`
	// VisitorTokenTTL is how long an anonymous web-chat visitor's token
	// lives (CreateVisitorSession; at most an hour). There is no refresh:
	// a visitor whose token expired starts a new session.
	VisitorTokenTTL time.Duration `env:"IDENTITY_VISITOR_TOKEN_TTL" envDefault:"30m"`
	// ThrottleRate (attempts per second) and ThrottleBurst are each client
	// address's bucket on the authentication RPCs.
	ThrottleRate  float64 `env:"IDENTITY_THROTTLE_RATE" envDefault:"0.333"`
	ThrottleBurst int     `env:"IDENTITY_THROTTLE_BURST" envDefault:"20"`
	// WebAuthnRPID and WebAuthnOrigins are the WebAuthn relying party: the
	// domain passkeys are scoped to and the exact origins of the pages that
	// run the ceremonies (the gateway's).
	WebAuthnRPID    string   `env:"IDENTITY_WEBAUTHN_RP_ID" envDefault:"localhost"`
	WebAuthnOrigins []string `env:"IDENTITY_WEBAUTHN_ORIGINS" envDefault:"http://localhost:8080" envSeparator:","`
	// ClientAssertionAudiences are accepted as the aud of integrators'
	// private-key JWTs besides identity's issuer name (e.g. the public URL
	// of the gateway's /v1/oauth/token).
	ClientAssertionAudiences []string `env:"IDENTITY_CLIENT_ASSERTION_AUDIENCES" envSeparator:","`
	// HashMaxWait bounds how long a request waits for a hash slot when its
	// deadline is later.
	HashMaxWait time.Duration `env:"IDENTITY_HASH_MAX_WAIT" envDefault:"5s"`
	// DatabaseDSN is the shared SOTTO_DB_DSN (pkg/service opens it), read
	// here only to place the dev mailbox next to a SQLite database.
	DatabaseDSN string `env:"DB_DSN"`
	// PruneInterval is how often ended sessions, expired codes, ceremonies
	// and assertion ids are deleted.
	PruneInterval time.Duration `env:"IDENTITY_PRUNE_INTERVAL" envDefault:"10m"`
	// CRMSyncAddr is crmsync's address (the manifest's follows gives it
	// under `sotto dev up`). Set, customers' sign-ups and contact changes
	// are recorded for the shops' CRMs (internal/crmevents); unset, none.
	CRMSyncAddr string `env:"CRMSYNC_ADDR"`
}
