package server

import (
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/suite"
)

// Policy says which workloads may call which tokenvault RPCs (which values
// a caller may see is decided per token by policy.yaml). Anything not listed
// is denied; pkg/service adds the health checks (open to every workload).
var Policy = authz.Policy{
	// Services that receive personal data tokenize it, and so does the
	// gateway for frontends (e.g. a checkout form).
	tokenvaultv1.TokenVaultService_Tokenize_FullMethodName:     {"conversation", "identity", "consent", "crmsync", "gateway"},
	tokenvaultv1.TokenVaultService_RevealMasked_FullMethodName: {"conversation", "identity", "consent", "crmsync", "gateway"},
	// Detokenize is open to the services at the RPC level; policy.yaml then
	// allows or denies each token by caller, purpose and data type.
	// identity only tokenises, looks e-mail addresses up and shows masked
	// views: it never reads a value back or describes a token.
	tokenvaultv1.TokenVaultService_Detokenize_FullMethodName:       {"conversation", "crmsync", "gateway"},
	tokenvaultv1.TokenVaultService_LookupToken_FullMethodName:      {"conversation", "identity", "consent", "crmsync"},
	tokenvaultv1.TokenVaultService_GetTokenMetadata_FullMethodName: {"conversation", "consent", "crmsync", "gateway"},
	// Data-subject requests run through the consent service. conversation
	// erases its channel pseudonyms when the account they were linked to
	// is erased, and nothing else (mayErase in server.go).
	tokenvaultv1.TokenVaultService_EraseSubject_FullMethodName:  {"consent", "conversation"},
	tokenvaultv1.TokenVaultService_ExportSubject_FullMethodName: {"consent"},
	// Key rotation is an operator action.
	tokenvaultv1.TokenVaultService_RotateKeys_FullMethodName: {"sotto-cli"},

	// The data-subject request participant protocol is the consent
	// service's (suite.PrivacyOrchestrator): it exports every value of a
	// person, erases, corrects and restricts them.
	privacyv1.PrivacyParticipantService_Describe_FullMethodName: {suite.PrivacyOrchestrator},
	privacyv1.PrivacyParticipantService_Export_FullMethodName:   {suite.PrivacyOrchestrator},
	privacyv1.PrivacyParticipantService_Erase_FullMethodName:    {suite.PrivacyOrchestrator},
	privacyv1.PrivacyParticipantService_Rectify_FullMethodName:  {suite.PrivacyOrchestrator},
	privacyv1.PrivacyParticipantService_Restrict_FullMethodName: {suite.PrivacyOrchestrator},
}

// EndUsers is tokenvault's end-user table (pkg/enduser, ADR 0009). The
// services call on their own: their tokens are not read (None), and
// policy.yaml's workload rules apply. The gateway calls only for a person
// or an integrator, whose token it forwards and tokenvault verifies itself:
// which values a person sees, masked or in full, and the step-up a value
// needs, are policy.yaml's end-user rules, decided per token; here only who
// may reach each method through the gateway. Storing values through the
// edge is for administrators at aal2 (REST) and for integrators with the
// tokenvault.tokenize scope, in their own shop (the gRPC edge; the tenant
// is checked in Tokenize); describing tokens is for administrators. The
// gateway checks the same; this is so that its word is not the only one.
var EndUsers = enduser.Policy{
	tokenvaultv1.TokenVaultService_Tokenize_FullMethodName:         {Require: enduser.None, Workloads: viaGateway(storers)},
	tokenvaultv1.TokenVaultService_Detokenize_FullMethodName:       {Require: enduser.None, Workloads: relayed(people)},
	tokenvaultv1.TokenVaultService_RevealMasked_FullMethodName:     {Require: enduser.None, Workloads: relayed(people)},
	tokenvaultv1.TokenVaultService_GetTokenMetadata_FullMethodName: {Require: enduser.None, Workloads: viaGateway(administrators)},
	tokenvaultv1.TokenVaultService_LookupToken_FullMethodName:      {Require: enduser.None},
	tokenvaultv1.TokenVaultService_EraseSubject_FullMethodName:     {Require: enduser.None, Workloads: erasers},
	tokenvaultv1.TokenVaultService_ExportSubject_FullMethodName:    {Require: enduser.None},
	tokenvaultv1.TokenVaultService_RotateKeys_FullMethodName:       {Require: enduser.None},

	// The orchestrator acts for a request it verified itself (the subject's
	// token at aal2, or a privacy officer's): no person's token reaches the
	// vault, and the gateway has no route here.
	privacyv1.PrivacyParticipantService_Describe_FullMethodName: orchestratorOnly,
	privacyv1.PrivacyParticipantService_Export_FullMethodName:   orchestratorOnly,
	privacyv1.PrivacyParticipantService_Erase_FullMethodName:    orchestratorOnly,
	privacyv1.PrivacyParticipantService_Rectify_FullMethodName:  orchestratorOnly,
	privacyv1.PrivacyParticipantService_Restrict_FullMethodName: orchestratorOnly,
}

// erasers: the consent workload, and conversation for its channel
// pseudonyms (mayErase), each acting on its own: no person's token.
var erasers = map[string]enduser.Rule{suite.PrivacyOrchestrator: {Require: enduser.None}, "conversation": {Require: enduser.None}}

// orchestratorOnly: the consent workload, acting on its own.
var orchestratorOnly = enduser.Rule{Require: enduser.None, Workloads: map[string]enduser.Rule{suite.PrivacyOrchestrator: {Require: enduser.None}}}

var (
	// people: any customer or staff member; policy.yaml decides per value.
	people = enduser.Rule{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindCustomer, accesstoken.KindStaff}}
	// administrators at aal2, as the gateway's adminsOnly routes.
	administrators = enduser.Rule{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindStaff},
		Roles: []string{accesstoken.RoleAdmin}, AAL: accesstoken.AAL2}
	// storers: administrators, or integrators granted ScopeTokenize.
	storers = enduser.Rule{Require: enduser.User, AnyOf: []enduser.Rule{administrators,
		{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindClient}, Scopes: []string{ScopeTokenize}}}}
)

// ScopeTokenize is the scope an integrator needs to store values (the
// gateway's gRPC edge asks for the same).
const ScopeTokenize = "tokenvault.tokenize"

func viaGateway(r enduser.Rule) map[string]enduser.Rule { return map[string]enduser.Rule{"gateway": r} }

// relayed is viaGateway(r) for reading values back, and conversation
// either way: on its own (the assistant's order support, under
// policy.yaml's workload rules), or relaying the person its RPC serves (a
// value a customer or support agent reveals, a customer's re-identified
// transcript). A relayed token is verified here as the gateway's is
// (Optional: a bad one is refused, never ignored); its person is then the
// caller, so only policy.yaml's end-user rules naming conversation apply,
// never the workload's own grant, and a customer's own_data rules see
// another customer's tokens as unknown.
func relayed(r enduser.Rule) map[string]enduser.Rule {
	return map[string]enduser.Rule{"gateway": r, "conversation": {Require: enduser.Optional}}
}
