package app

import (
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"time"

	"github.com/sottohq/sotto/pkg/egress"
	"github.com/sottohq/sotto/services/conversation/fixtures"
	"github.com/sottohq/sotto/services/conversation/internal/assistant"
	"github.com/sottohq/sotto/services/conversation/internal/config"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
)

// newAssistant builds the assistant the configuration asks for: the
// built-in one over the fixtures, behind the model adapter when a model
// server is configured. purposes answers the personalisation purpose (nil:
// refused); now is the domain's clock (nil: time.Now).
func newAssistant(cfg config.Config, purposes assistant.Purposes, logger *slog.Logger, now func() time.Time) (conversation.Replier, error) {
	var (
		fx  *assistant.Fixtures
		err error
	)
	if cfg.FixturesDir != "" {
		fx, err = assistant.LoadDir(cfg.FixturesDir)
	} else {
		fx, err = assistant.Load(fixtures.FS)
	}
	if err != nil {
		return nil, err
	}
	// A sensitive request needs aal2 as recent as identity requires for
	// its own (RecentAuth), measured on the domain's clock.
	builtin := assistant.NewBuiltin(fx, purposes).WithStepUp(assistant.DefaultStepUpMaxAge, now)
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ModelURL == "" {
		return builtin, nil
	}
	u, err := url.Parse(cfg.ModelURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("SOTTO_CONVERSATION_MODEL_URL is not an http(s) URL")
	}
	var cidrs []netip.Prefix
	for _, c := range cfg.ModelPrivateCIDRs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("SOTTO_CONVERSATION_MODEL_PRIVATE_CIDRS: %q is not a CIDR", c)
		}
		cidrs = append(cidrs, p)
	}
	// Outbound through egress: the model's host only, no internal address
	// unless allowed above, no URL or body in logs and spans. Plain HTTP
	// only when the operator wrote an http:// URL (a server beside this
	// one). Retries are the breaker's business.
	eg, err := egress.New(egress.Config{AllowedHosts: []string{u.Host}, AllowPrivateCIDRs: cidrs,
		AllowPlainHTTP: u.Scheme == "http", MaxRetries: -1, Timeout: cfg.ModelTimeout}, logger, nil)
	if err != nil {
		return nil, err
	}
	return assistant.NewModel(assistant.ModelConfig{URL: cfg.ModelURL, Name: cfg.ModelName, APIKey: cfg.ModelAPIKey,
		Timeout: cfg.ModelTimeout, BreakerFailures: cfg.ModelBreakerFailures, BreakerOpenFor: cfg.ModelBreakerOpenFor,
		HTTPClient: eg.HTTPClient(), Logger: logger}, builtin)
}
