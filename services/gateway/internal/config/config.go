// Package config is the gateway's own configuration, read from SOTTO_*
// variables (pkg/service reads what every service shares: identity, admin
// port, backend addresses, logging, telemetry).
package config

import "net/netip"

// Config of the gateway.
type Config struct {
	// HTTPAddr serves the REST API, /openapi.json and /healthz.
	HTTPAddr string `env:"HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	// TrustedProxies are the CIDRs of load balancers in front of the
	// gateway whose X-Forwarded-For entries are believed (comma-separated;
	// empty: the connection's peer is the client).
	TrustedProxies []netip.Prefix `env:"GATEWAY_TRUSTED_PROXIES"`
	// AuthRatePerMinute and AuthBurst limit the public authentication
	// routes (sign-up, login, refresh, password reset, client tokens) per
	// client address; identity throttles per account as well.
	AuthRatePerMinute int `env:"GATEWAY_AUTH_RATE_PER_MINUTE" envDefault:"30"`
	AuthBurst         int `env:"GATEWAY_AUTH_BURST" envDefault:"10"`
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64 `env:"MAX_BODY_BYTES" envDefault:"1048576"`
}
