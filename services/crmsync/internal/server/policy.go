package server

import (
	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	"github.com/sottohq/sotto/pkg/authz"
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
}

var operator = []string{"sotto-cli"}
