// Package config is the gateway's own configuration, read from SOTTO_*
// variables (pkg/service reads what every service shares: identity, admin
// port, backend addresses, logging, telemetry).
package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sottohq/sotto/pkg/secrets"
)

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
	// WidgetOrigins are the origins (scheme://host[:port], comma-separated)
	// of the shop pages that embed the web chat widget: only they may call
	// the conversation and visitor-session routes from a browser (CORS),
	// and a state-changing request from any other origin is refused.
	// Empty: no page may.
	WidgetOrigins []string `env:"GATEWAY_WIDGET_ORIGINS" envSeparator:","`
	// VisitorSessionRatePerMinute and VisitorSessionBurst limit new
	// anonymous visitor sessions per client address.
	VisitorSessionRatePerMinute int `env:"GATEWAY_VISITOR_SESSION_RATE_PER_MINUTE" envDefault:"30"`
	VisitorSessionBurst         int `env:"GATEWAY_VISITOR_SESSION_BURST" envDefault:"10"`
	// MessageRatePerMinute and MessageBurst limit the chat messages each
	// visitor or customer (token subject) posts.
	MessageRatePerMinute int `env:"GATEWAY_MESSAGE_RATE_PER_MINUTE" envDefault:"20"`
	MessageBurst         int `env:"GATEWAY_MESSAGE_BURST" envDefault:"5"`
	// SSEHeartbeat is how often a quiet conversation event stream gets a
	// comment line; SSEMaxStreamsPerSubject bounds the streams one visitor
	// or customer holds open.
	SSEHeartbeat            time.Duration `env:"GATEWAY_SSE_HEARTBEAT" envDefault:"15s"`
	SSEMaxStreamsPerSubject int           `env:"GATEWAY_SSE_MAX_STREAMS_PER_SUBJECT" envDefault:"4"`
	// SSEMaxStreamsPerAddress bounds the streams one client address holds
	// open (anonymous visitors mint subjects); SSEMaxLifetime ends a
	// stream, which the client resumes with Last-Event-ID.
	SSEMaxStreamsPerAddress int           `env:"GATEWAY_SSE_MAX_STREAMS_PER_ADDRESS" envDefault:"16"`
	SSEMaxLifetime          time.Duration `env:"GATEWAY_SSE_MAX_LIFETIME" envDefault:"30m"`
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64 `env:"MAX_BODY_BYTES" envDefault:"1048576"`

	// GRPCAddr serves gRPC to integrators over TLS (ADR 0011); "off"
	// turns the gRPC edge off. The default is loopback on a free port (the
	// address is logged): integrators reach a deployed gateway at the
	// address an operator sets.
	GRPCAddr string `env:"GATEWAY_GRPC_ADDR" envDefault:"127.0.0.1:0"`
	// GRPCTLSCert and GRPCTLSKey are the gRPC edge's certificate (chain)
	// and key, PEM, reloaded when they change. Unset, a loopback edge makes
	// a self-signed certificate at start; any other address needs them.
	GRPCTLSCert string `env:"GATEWAY_GRPC_TLS_CERT"`
	GRPCTLSKey  string `env:"GATEWAY_GRPC_TLS_KEY"`
	// GRPCClientRatePerSecond and GRPCClientBurst are each integrator's
	// call quota on the gRPC edge (a token bucket per client id);
	// GRPCClientQuotas overrides them per client.
	GRPCClientRatePerSecond float64      `env:"GATEWAY_GRPC_CLIENT_RATE_PER_SECOND" envDefault:"20"`
	GRPCClientBurst         int          `env:"GATEWAY_GRPC_CLIENT_BURST" envDefault:"40"`
	GRPCClientQuotas        ClientQuotas `env:"GATEWAY_GRPC_CLIENT_QUOTAS"`
	// MaxRecvMsgBytes and ShutdownTimeout are the suite's shared settings
	// (pkg/service reads them for the services' own gRPC servers); the gRPC
	// edge uses the same bounds.
	MaxRecvMsgBytes int           `env:"MAX_RECV_MSG_BYTES" envDefault:"4194304"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`

	// ChannelsMaxBodyBytes bounds one messaging-platform webhook delivery
	// and ChannelsIngestTimeout the hand-over of each of its messages to
	// the conversation service (internal/channels).
	ChannelsMaxBodyBytes  int64         `env:"GATEWAY_CHANNELS_MAX_BODY_BYTES" envDefault:"1048576"`
	ChannelsIngestTimeout time.Duration `env:"GATEWAY_CHANNELS_INGEST_TIMEOUT" envDefault:"5s"`
	// ChannelsRatePerMinute and ChannelsBurst limit the webhook requests
	// per client address (the platforms retry a 429).
	ChannelsRatePerMinute int `env:"GATEWAY_CHANNELS_RATE_PER_MINUTE" envDefault:"1200"`
	ChannelsBurst         int `env:"GATEWAY_CHANNELS_BURST" envDefault:"200"`
	// PublicOrigin is the scheme and host (scheme://host[:port], and the
	// path prefix an ingress strips, if any) the CRMs call the gateway at,
	// part of what HubSpot signs: set it when a proxy in front rewrites the
	// Host or the path. Empty: https and the request's Host.
	PublicOrigin Origin `env:"GATEWAY_PUBLIC_ORIGIN"`
	// Secrets holds the shops' channel secrets: Vault KV v2 when
	// SOTTO_VAULT_ADDR is set, else SOTTO_SECRETS_FILE (pkg/secrets).
	Secrets secrets.Config
}

// Origin is scheme://host[:port][/prefix], http or https: no query,
// credentials or trailing slash.
type Origin string

var originPrefix = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)*$`)

// UnmarshalText checks the origin; a malformed one stops the start (every
// HubSpot delivery would be refused).
func (o *Origin) UnmarshalText(b []byte) error {
	s := string(b)
	if s == "" {
		*o = ""
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || u.User != nil || !originPrefix.MatchString(u.Path) || strings.Contains(u.Path, "/.") || u.RawPath != "" ||
		u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#") {
		return fmt.Errorf("public origin %q: want scheme://host[:port][/prefix]", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("public origin %q: the port is not a port", s)
		}
	}
	*o = Origin(s)
	return nil
}

// GRPCOff is the GRPCAddr that turns the gRPC edge off.
const GRPCOff = "off"

// ClientQuota is one integrator's call rate.
type ClientQuota struct {
	PerSecond float64
	Burst     int
}

// ClientQuotas are per-client call quotas, written
// "<client id>=<calls per second>/<burst>" and comma-separated, e.g.
// "cli_crm=100/200,cli_small=1/5".
type ClientQuotas map[string]ClientQuota

// clientID is identity's client id pattern.
var clientID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// UnmarshalText parses the quota list; a malformed entry fails the whole
// setting (the gateway does not start on a quota it did not understand).
func (q *ClientQuotas) UnmarshalText(b []byte) error {
	out := ClientQuotas{}
	for _, entry := range strings.Split(string(b), ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		id, spec, ok := strings.Cut(entry, "=")
		rateText, burstText, ok2 := strings.Cut(spec, "/")
		if !ok || !ok2 || !clientID.MatchString(id) {
			return fmt.Errorf("client quota %q: want <client id>=<calls per second>/<burst>", entry)
		}
		perSecond, err := strconv.ParseFloat(rateText, 64)
		if err != nil || !(perSecond > 0) || perSecond > 1e6 {
			return fmt.Errorf("client quota %q: the rate must be a positive number of calls per second", entry)
		}
		burst, err := strconv.Atoi(burstText)
		if err != nil || burst < 1 || burst > 1e6 {
			return fmt.Errorf("client quota %q: the burst must be a positive whole number", entry)
		}
		if _, dup := out[id]; dup {
			return fmt.Errorf("client quota for %q given twice", id)
		}
		out[id] = ClientQuota{PerSecond: perSecond, Burst: burst}
	}
	*q = out
	return nil
}
