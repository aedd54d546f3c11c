package server

import (
	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/authz"
)

// Policy says which workloads may call which audit RPCs. Anything not listed
// is denied. The services of the suite record what they do (each only in its
// own action namespace, see AppendEvents); reads are for the gateway
// (frontends, under end-user authorization) and the operator CLI; proofs and
// checkpoints are for anyone who wants to check the log. pkg/service adds
// the health checks (open to every workload).
var Policy = authz.Policy{
	auditv1.AuditService_AppendEvents_FullMethodName:        {"tokenvault", "gateway", "identity", "consent", "conversation", "crmsync"},
	auditv1.AuditService_GetEvent_FullMethodName:            {"gateway", "sotto-cli"},
	auditv1.AuditService_ListEvents_FullMethodName:          {"gateway", "sotto-cli"},
	auditv1.AuditService_ListEntries_FullMethodName:         {"gateway", "sotto-cli"},
	auditv1.AuditService_GetCheckpoint_FullMethodName:       {"*"},
	auditv1.AuditService_ListCheckpoints_FullMethodName:     {"gateway", "sotto-cli"},
	auditv1.AuditService_GetInclusionProof_FullMethodName:   {"*"},
	auditv1.AuditService_GetConsistencyProof_FullMethodName: {"*"},
}
