package server

import (
	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/suite"
)

// Policy says which workloads may call which RPCs. Anything not listed is
// denied; pkg/service adds the health checks. Services that learn of
// customer changes record them; the operator's CLI (sotto crmsync ...)
// lists, replays and discards deliveries.
var Policy = authz.Policy{
	crmsyncv1.CrmSyncService_RecordCustomerEvent_FullMethodName: {"conversation", "identity"},
	crmsyncv1.CrmSyncService_ListDeliveries_FullMethodName:      operator,
	crmsyncv1.CrmSyncService_ReplayDelivery_FullMethodName:      operator,
	crmsyncv1.CrmSyncService_DiscardDelivery_FullMethodName:     operator,
	// CRM webhooks end at the gateway, which verifies their signatures
	// and names the shop (ADR 0015, "Inbound").
	crmsyncv1.CrmSyncService_IngestCrmChanges_FullMethodName: {"gateway"},
	// CRM platforms integrating over gRPC reach these through the
	// gateway's edge, which checks the client's scope and binds the tenant
	// (ADR 0011).
	crmsyncv1.CrmSyncService_WatchChanges_FullMethodName:   {"gateway"},
	crmsyncv1.CrmSyncService_PushCrmChanges_FullMethodName: {"gateway"},

	// The data-subject request participant protocol is the consent
	// service's (suite.PrivacyOrchestrator): it exports what was sent about
	// a person, erases them from the CRMs, corrects and restricts them.
	privacyv1.PrivacyParticipantService_Describe_FullMethodName: {suite.PrivacyOrchestrator},
	privacyv1.PrivacyParticipantService_Export_FullMethodName:   {suite.PrivacyOrchestrator},
	privacyv1.PrivacyParticipantService_Erase_FullMethodName:    {suite.PrivacyOrchestrator},
	privacyv1.PrivacyParticipantService_Rectify_FullMethodName:  {suite.PrivacyOrchestrator},
	privacyv1.PrivacyParticipantService_Restrict_FullMethodName: {suite.PrivacyOrchestrator},
}

var operator = []string{"sotto-cli"}
