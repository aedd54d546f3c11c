// Package config is the consent service's own configuration, read from
// SOTTO_* variables (pkg/service reads what every service shares).
package config

import "time"

// Config of the consent service. Every field is read from SOTTO_<tag>.
type Config struct {
	// ReceiptKey is the KeyManager key (ed25519) that signs consent
	// receipts; its HMAC secret (a separate secret of the same key) keys the
	// page tokens and the digests of request ids (two derivations).
	ReceiptKey string `env:"CONSENT_RECEIPT_KEY" envDefault:"consent-receipt"`
	// CatalogueFile is the catalogue to apply at start; empty uses the
	// built-in services/consent/catalogue.yaml.
	CatalogueFile string `env:"CONSENT_CATALOGUE_FILE"`
	// FeedHeartbeat is how often an idle change feed sends its cursor, so
	// that a client can tell a quiet feed from a dead one within seconds
	// (pkg/consentclient's staleness bound must be several times this).
	FeedHeartbeat time.Duration `env:"CONSENT_FEED_HEARTBEAT" envDefault:"2s"`
	// The controller named in receipts (Kantara Consent Receipt v1.1
	// piiControllers and policyUrl): the shop's legal entity, its privacy
	// contact and its privacy policy.
	ControllerName    string `env:"CONSENT_CONTROLLER_NAME" envDefault:"Sotto development shop"`
	ControllerContact string `env:"CONSENT_CONTROLLER_CONTACT" envDefault:"Privacy officer"`
	ControllerAddress string `env:"CONSENT_CONTROLLER_ADDRESS" envDefault:"1 Example Street, 10115 Berlin, DE"`
	ControllerEmail   string `env:"CONSENT_CONTROLLER_EMAIL" envDefault:"privacy@sotto.local"`
	ControllerPhone   string `env:"CONSENT_CONTROLLER_PHONE" envDefault:"+49 30 0000000"`
	ControllerURL     string `env:"CONSENT_CONTROLLER_URL" envDefault:"https://sotto.local"`
	PolicyURL         string `env:"CONSENT_POLICY_URL" envDefault:"https://sotto.local/privacy"`
	// ControllerJurisdiction is a receipt's jurisdiction when the request
	// names none.
	ControllerJurisdiction string `env:"CONSENT_CONTROLLER_JURISDICTION" envDefault:"DE"`
	// DSRKey is the KeyManager key (aes256-gcm96) that seals the
	// corrections of an open rectification (additional data: the request
	// id); they are dropped when the request closes.
	DSRKey string `env:"CONSENT_DSR_KEY" envDefault:"consent-dsr"`
	// DSRExportTTL is how long a completed access or portability request's
	// export can be downloaded (once).
	DSRExportTTL time.Duration `env:"CONSENT_DSR_EXPORT_TTL" envDefault:"168h"`
}
