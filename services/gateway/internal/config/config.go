// Package config is the gateway's configuration, read from SOTTO_* variables.
package config

import (
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/telemetry"
)

// Config of the gateway.
type Config struct {
	// HTTPAddr serves the REST API, /openapi.json, /healthz and /readyz.
	HTTPAddr string `env:"HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	// AdminAddr serves /metrics.
	AdminAddr string `env:"ADMIN_ADDR" envDefault:"127.0.0.1:0"`
	// Identity is the gateway's own workload certificate, used to call the
	// services over mTLS.
	Identity mtls.Config
	// AuditAddr is the audit service's gRPC address.
	AuditAddr string `env:"AUDIT_ADDR,required"`
	// TokenvaultAddr is tokenvault's gRPC address.
	TokenvaultAddr string `env:"TOKENVAULT_ADDR,required"`
	// AdminToken guards the operator routes (the audit log) until end-user
	// authentication by the identity service replaces it. Empty disables
	// those routes (fail closed).
	AdminToken string `env:"GATEWAY_ADMIN_TOKEN"`
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64 `env:"MAX_BODY_BYTES" envDefault:"1048576"`
	// ShutdownTimeout bounds the graceful stop.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`
	LogLevel        string        `env:"LOG_LEVEL" envDefault:"info"`
	Telemetry       telemetry.Config
}

// Load reads the configuration from the environment.
func Load() (Config, error) {
	return env.ParseAsWithOptions[Config](env.Options{Prefix: "SOTTO_"})
}
