package app

import (
	"github.com/sottohq/sotto/services/conversation/internal/config"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
	"github.com/sottohq/sotto/services/conversation/internal/retention"
)

// newRetention reads the retention periods (a broken file stops the
// service) and builds the sweep. cmd/conversation registers it on the
// service's job runner (Retention.Register); tests run it themselves, on
// their own clocks, so that a harness's runner never sweeps.
func newRetention(cfg config.Config, domain *conversation.Service, d Deps) (*conversation.Retention, error) {
	policy, err := retention.Load(cfg.RetentionFile)
	if err != nil {
		return nil, err
	}
	r := domain.NewRetention(policy, d.Consent, nil)
	if d.Meter != nil {
		return r.WithMeter(d.Meter)
	}
	return r, nil
}
