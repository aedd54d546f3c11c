package server

import (
	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/suite"
)

// Policy says which workloads may call which audit RPCs. Anything not listed
// is denied. The services of the suite record what they do (each only in its
// own action namespace, see AppendEvents); reads are for the gateway
// (frontends, under end-user authorization) and the operator CLI; proofs and
// checkpoints are for anyone who wants to check the log. The data-subject
// request protocol (sotto.privacy.v1) is for the orchestrator alone: it
// discloses a person's events. pkg/service adds the health checks (open to
// every workload).
var Policy = authz.Policy{
	auditv1.AuditService_AppendEvents_FullMethodName:        {"tokenvault", "gateway", "identity", "consent", "conversation", "crmsync"},
	auditv1.AuditService_GetEvent_FullMethodName:            {"gateway", "sotto-cli"},
	auditv1.AuditService_ListEvents_FullMethodName:          {"gateway", "sotto-cli"},
	auditv1.AuditService_ListEntries_FullMethodName:         {"gateway", "sotto-cli"},
	auditv1.AuditService_GetCheckpoint_FullMethodName:       {"*"},
	auditv1.AuditService_ListCheckpoints_FullMethodName:     {"gateway", "sotto-cli"},
	auditv1.AuditService_GetInclusionProof_FullMethodName:   {"*"},
	auditv1.AuditService_GetConsistencyProof_FullMethodName: {"*"},

	privacyv1.PrivacyParticipantService_Describe_FullMethodName: {suite.PrivacyOrchestrator},
	privacyv1.PrivacyParticipantService_Export_FullMethodName:   {suite.PrivacyOrchestrator},
	privacyv1.PrivacyParticipantService_Erase_FullMethodName:    {suite.PrivacyOrchestrator},
	privacyv1.PrivacyParticipantService_Rectify_FullMethodName:  {suite.PrivacyOrchestrator},
	privacyv1.PrivacyParticipantService_Restrict_FullMethodName: {suite.PrivacyOrchestrator},
}

// EndUsers is audit's end-user table (pkg/enduser, ADR 0009). Services
// record what they do on their own (AppendEvents reads no token; the person
// an event is about travels in the event). The log is read by the operator
// CLI (`sotto audit verify`, workload sotto-cli) with no person behind it,
// and its checkpoints and proofs by any workload. Through the gateway: the
// events and entries only for a privacy officer or an administrator at aal2
// (the REST edge's operator routes); checkpoints and proofs (hashes, nothing
// about anyone) also for an integrator with the audit.verify scope (the gRPC
// edge). The gateway checks the same; this is so that its word is not the
// only one. The orchestrator (consent) carries out data-subject requests
// for the request, with no person's token behind its calls (the person
// authenticated to consent when asking).
var EndUsers = enduser.Policy{
	auditv1.AuditService_AppendEvents_FullMethodName:        {Require: enduser.None},
	auditv1.AuditService_GetEvent_FullMethodName:            viaGateway(operators),
	auditv1.AuditService_ListEvents_FullMethodName:          viaGateway(operators),
	auditv1.AuditService_ListEntries_FullMethodName:         viaGateway(operators),
	auditv1.AuditService_ListCheckpoints_FullMethodName:     viaGateway(operators),
	auditv1.AuditService_GetCheckpoint_FullMethodName:       viaGateway(witnesses),
	auditv1.AuditService_GetInclusionProof_FullMethodName:   viaGateway(witnesses),
	auditv1.AuditService_GetConsistencyProof_FullMethodName: viaGateway(witnesses),

	privacyv1.PrivacyParticipantService_Describe_FullMethodName: orchestrator,
	privacyv1.PrivacyParticipantService_Export_FullMethodName:   orchestrator,
	privacyv1.PrivacyParticipantService_Erase_FullMethodName:    orchestrator,
	privacyv1.PrivacyParticipantService_Rectify_FullMethodName:  orchestrator,
	privacyv1.PrivacyParticipantService_Restrict_FullMethodName: orchestrator,
}

// ScopeVerify is the scope an integrator needs to follow checkpoints and
// ask for proofs (the gateway's gRPC edge asks for the same).
const ScopeVerify = "audit.verify"

var (
	// operators: privacy officers and administrators at aal2.
	operators = enduser.Rule{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindStaff},
		Roles: []string{accesstoken.RolePrivacyOfficer, accesstoken.RoleAdmin}, AAL: accesstoken.AAL2}
	// orchestrator: consent, with no person behind the call (Policy admits
	// no other workload).
	orchestrator = enduser.Rule{Require: enduser.None, Workloads: map[string]enduser.Rule{suite.PrivacyOrchestrator: {Require: enduser.None}}}
	// witnesses: operators, or integrators granted ScopeVerify.
	witnesses = enduser.Rule{Require: enduser.User, AnyOf: []enduser.Rule{operators,
		{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindClient}, Scopes: []string{ScopeVerify}}}}
)

// viaGateway: workloads read on their own (no person); the gateway only for
// someone r admits.
func viaGateway(r enduser.Rule) enduser.Rule {
	return enduser.Rule{Require: enduser.None, Workloads: map[string]enduser.Rule{"gateway": r}}
}
