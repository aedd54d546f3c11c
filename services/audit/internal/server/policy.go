package server

import (
	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/enduser"
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

// EndUsers is audit's end-user table (pkg/enduser, ADR 0009). Services
// record what they do on their own (AppendEvents reads no token; the person
// an event is about travels in the event). The log is read by the operator
// CLI (`sotto audit verify`, workload sotto-cli) with no person behind it,
// and by anyone checking proofs; through the gateway only for a privacy
// officer or an administrator at aal2, the gateway's operator routes, again
// here so that the gateway's word is not the only one.
var EndUsers = enduser.Policy{
	auditv1.AuditService_AppendEvents_FullMethodName:        {Require: enduser.None},
	auditv1.AuditService_GetEvent_FullMethodName:            readers,
	auditv1.AuditService_ListEvents_FullMethodName:          readers,
	auditv1.AuditService_ListEntries_FullMethodName:         readers,
	auditv1.AuditService_GetCheckpoint_FullMethodName:       readers,
	auditv1.AuditService_ListCheckpoints_FullMethodName:     readers,
	auditv1.AuditService_GetInclusionProof_FullMethodName:   readers,
	auditv1.AuditService_GetConsistencyProof_FullMethodName: readers,
}

// readers: workloads read on their own; the gateway for an operator.
var readers = enduser.Rule{Require: enduser.None, Workloads: map[string]enduser.Rule{
	"gateway": {Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindStaff},
		Roles: []string{accesstoken.RolePrivacyOfficer, accesstoken.RoleAdmin}, AAL: accesstoken.AAL2},
}}
