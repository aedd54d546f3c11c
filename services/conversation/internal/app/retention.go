package app

import (
	"github.com/sottohq/sotto/services/conversation/internal/config"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
	"github.com/sottohq/sotto/services/conversation/internal/retention"
)

// newRetention reads the retention periods (a broken file stops the
// service) and registers the sweep as a periodic job when d has a runner.
func newRetention(cfg config.Config, domain *conversation.Service, d Deps) (*conversation.Retention, error) {
	policy, err := retention.Load(cfg.RetentionFile)
	if err != nil {
		return nil, err
	}
	r := domain.NewRetention(policy, d.Consent, nil)
	if d.Jobs != nil {
		if err := r.Register(d.Jobs, cfg.RetentionInterval); err != nil {
			return nil, err
		}
	}
	return r, nil
}
