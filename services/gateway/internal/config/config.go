// Package config is the gateway's own configuration, read from SOTTO_*
// variables (pkg/service reads what every service shares: identity, admin
// port, backend addresses, logging, telemetry).
package config

// Config of the gateway.
type Config struct {
	// HTTPAddr serves the REST API, /openapi.json and /healthz.
	HTTPAddr string `env:"HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	// AdminToken guards the operator routes (the audit log) until end-user
	// authentication by the identity service replaces it. Empty disables
	// those routes (fail closed).
	AdminToken string `env:"GATEWAY_ADMIN_TOKEN"`
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64 `env:"MAX_BODY_BYTES" envDefault:"1048576"`
}
