// Package consent is the consent service's domain: the catalogue as
// privacy officers and the catalogue file change it, notices, consent
// decisions with their receipts, Check, and the change feed. It takes its
// callers as Callers (the end user the gRPC layer verified) and has no gRPC
// types.
package consent

import (
	"log/slog"
	"time"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/services/consent/internal/receipt"
	"github.com/sottohq/sotto/services/consent/internal/storage"
)

// Audited actions (the audit service accepts only consent.* from this
// workload).
const (
	ActionPurposeCreate  auditclient.Action = "consent.purpose.create"
	ActionPurposeUpdate  auditclient.Action = "consent.purpose.update"
	ActionCatalogueApply auditclient.Action = "consent.catalogue.apply"
	ActionNoticeCreate   auditclient.Action = "consent.notice.create"
	ActionGrant          auditclient.Action = "consent.grant"
	ActionWithdraw       auditclient.Action = "consent.withdraw"
	ActionReceipt        auditclient.Action = "consent.receipt.issue"
	ActionRefused        auditclient.Action = "consent.refused"
	resourcePurpose                         = "purpose"
	resourceNotice                          = "notice"
	resourceConsent                         = "consent"
	resourceReceipt                         = "consent_receipt"
)

// Change-feed topics.
const (
	// TopicDecision carries a Change (key: subject "/" purpose).
	TopicDecision = "consent.decision"
	// TopicPurpose carries a purpose (key: its id) whenever it changes.
	TopicPurpose = "consent.purpose"
)

// Deps are what the service is built from.
type Deps struct {
	Store    *storage.Store
	Audit    *auditclient.Outbox
	Events   *events.Outbox
	Receipts *receipt.Signer
	Logger   *slog.Logger
	// RequestKey keys the digests of request ids, the only form in which
	// they are stored (at least MinRequestKeyLen bytes; app derives it from
	// the receipt key's HMAC secret). Without it every grant and withdrawal
	// fails.
	RequestKey []byte
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Service is the consent domain.
type Service struct {
	store    *storage.Store
	audit    *auditclient.Outbox
	events   *events.Outbox
	receipts *receipt.Signer
	logger   *slog.Logger
	now      func() time.Time

	requestKey []byte
}

// New returns the service.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: d.Store, audit: d.Audit, events: d.Events, receipts: d.Receipts, logger: d.Logger, now: d.Now,
		requestKey: append([]byte(nil), d.RequestKey...)}
}

// now is the service's clock in UTC, to the microsecond the store keeps.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// notify wakes this process's feeds and the audit relay after a commit.
func (s *Service) notify() {
	s.events.Notify()
	s.audit.Notify()
}
