package main

import (
	"context"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	"github.com/sottohq/sotto/pkg/consentclient"
	"github.com/sottohq/sotto/pkg/service"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
)

// consentChecks dials the consent service and follows its change feed
// (pkg/consentclient: decisions cached until the feed says they changed, a
// consent-based purpose refused while the service cannot be reached). The
// service's readiness does not wait for it: chat goes on without consent,
// and every consent-based use (model improvement, personalisation) is
// refused meanwhile.
func consentChecks(s *service.Service) (conversation.ConsentChecker, error) {
	conn, err := s.Dial("consent")
	if err != nil {
		return nil, err
	}
	client := consentclient.New(consentv1.NewConsentServiceClient(conn), consentclient.Options{Logger: s.Logger()})
	s.Go("consent-feed", client.Run)
	return func(ctx context.Context, subject, purpose string) (bool, error) {
		d, err := client.Check(ctx, subject, purpose)
		if err != nil {
			return false, err
		}
		return d.Allowed, nil
	}, nil
}
