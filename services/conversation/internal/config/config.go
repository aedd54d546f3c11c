// Package config is the conversation service's own configuration, read
// from SOTTO_* variables (pkg/service reads what every service shares).
package config

import "time"

// Config of the conversation service. Every field is read from SOTTO_<tag>.
type Config struct {
	// SecretsKey is the KeyManager key (aes256-gcm96) whose HMAC secret
	// keys the page tokens, the digests of channel message ids and the
	// digests that give a value seen again its placeholder (three
	// derivations).
	SecretsKey string `env:"CONVERSATION_SECRETS_KEY" envDefault:"conversation-secrets"`
	// TokenizeTimeout bounds the token vault call of one message; when it
	// passes, the message is refused (Unavailable) and nothing is stored.
	TokenizeTimeout time.Duration `env:"CONVERSATION_TOKENIZE_TIMEOUT" envDefault:"2s"`
	// WatchPollInterval is how often WatchConversation looks for new
	// messages (replicas share nothing but the database).
	WatchPollInterval time.Duration `env:"CONVERSATION_WATCH_POLL_INTERVAL" envDefault:"250ms"`
	// DefaultLanguage is a message's language when the request names none.
	DefaultLanguage string `env:"CONVERSATION_DEFAULT_LANGUAGE" envDefault:"en"`
	// SealingRotation is how long an end-to-end sealing key (HPKE) is the
	// current one; the previous period's key is still accepted, older ones
	// are refused (SEALING_KEY_EXPIRED).
	SealingRotation time.Duration `env:"CONVERSATION_SEALING_ROTATION" envDefault:"720h"`
	// RetentionFile names a retention file (the form of
	// internal/retention/retention.yaml) that replaces the built-in periods;
	// empty: the built-in ones.
	RetentionFile string `env:"CONVERSATION_RETENTION_FILE"`
	// RetentionInterval is how often the retention job deletes
	// conversations idle past their period.
	RetentionInterval time.Duration `env:"CONVERSATION_RETENTION_INTERVAL" envDefault:"1h"`
}
