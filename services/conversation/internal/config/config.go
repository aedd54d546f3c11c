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
	// WatchMaxLifetime ends every WatchConversation stream after this long
	// (status OK); the client reconnects with the last message id it has
	// (Last-Event-ID through the gateway), with a token that is valid then.
	WatchMaxLifetime time.Duration `env:"CONVERSATION_WATCH_MAX_LIFETIME" envDefault:"30m"`
	// MaxNewValuesPerMessage bounds the new personal-data values one
	// message may add (each is a vault token and a placeholder row); more
	// is refused TOO_MANY_VALUES before the vault is called.
	MaxNewValuesPerMessage int `env:"CONVERSATION_MAX_NEW_VALUES_PER_MESSAGE" envDefault:"64"`
	// MaxValuesPerConversation bounds a conversation's placeholder map; a
	// message that would grow it past this is refused
	// CONVERSATION_VALUE_LIMIT.
	MaxValuesPerConversation int `env:"CONVERSATION_MAX_VALUES_PER_CONVERSATION" envDefault:"2000"`
	// DefaultLanguage is the reply language when the request names none
	// (detection then reads the text in every supported language).
	DefaultLanguage string `env:"CONVERSATION_DEFAULT_LANGUAGE" envDefault:"en"`
	// FixturesDir holds the built-in assistant's shop data, one folder per
	// tenant (catalogue.json, orders.json, opening_hours.json); empty: the
	// embedded "default" shop (services/conversation/fixtures).
	FixturesDir string `env:"CONVERSATION_FIXTURES_DIR"`
	// ModelURL is an OpenAI-compatible chat-completions server's API base
	// (Ollama, vLLM, llama.cpp server, a hosted API); empty: the built-in
	// assistant answers alone. ModelName is the model; ModelAPIKey its
	// bearer token, if it needs one.
	ModelURL    string `env:"CONVERSATION_MODEL_URL"`
	ModelName   string `env:"CONVERSATION_MODEL_NAME"`
	ModelAPIKey string `env:"CONVERSATION_MODEL_API_KEY"`
	// ModelTimeout bounds one reply from the model (tool rounds included);
	// past it, or while the breaker is open, the built-in assistant answers.
	ModelTimeout time.Duration `env:"CONVERSATION_MODEL_TIMEOUT" envDefault:"20s"`
	// ModelBreakerFailures consecutive failures open the breaker for
	// ModelBreakerOpenFor.
	ModelBreakerFailures uint32        `env:"CONVERSATION_MODEL_BREAKER_FAILURES" envDefault:"3"`
	ModelBreakerOpenFor  time.Duration `env:"CONVERSATION_MODEL_BREAKER_OPEN_FOR" envDefault:"30s"`
	// ModelPrivateCIDRs lets the model server be on a network the operator
	// controls (a self-hosted server at 10.0.0.5: "10.0.0.5/32"); egress
	// refuses private and loopback addresses otherwise.
	ModelPrivateCIDRs []string `env:"CONVERSATION_MODEL_PRIVATE_CIDRS" envSeparator:","`
	// GraphURL and GraphVersion are Meta's Graph API, which WhatsApp's and
	// Messenger's send APIs are part of (replies to messaging channels).
	GraphURL     string `env:"CONVERSATION_GRAPH_URL" envDefault:"https://graph.facebook.com"`
	GraphVersion string `env:"CONVERSATION_GRAPH_VERSION" envDefault:"v23.0"`
	// LinkCodeTTL is how long a channel link code works.
	LinkCodeTTL time.Duration `env:"CONVERSATION_LINK_CODE_TTL" envDefault:"10m"`
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
	// SignalsPolicy names a suspicious-activity policy file (the form of
	// internal/signals/policy.yaml: rules per kind and scope, per shop)
	// that replaces the built-in one; empty: the built-in one.
	SignalsPolicy string `env:"CONVERSATION_SIGNALS_POLICY"`
	// CRMSyncAddr is crmsync's address (the manifest's calls gives it
	// under `sotto dev up`). Set, an identified customer's closed
	// conversation is recorded for the shop's CRMs as a placeholder-only
	// summary (internal/crmevents); unset, nothing is.
	CRMSyncAddr string `env:"CRMSYNC_ADDR"`
}
