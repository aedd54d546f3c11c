package grpcedge

import (
	"fmt"
	"regexp"
	"strings"

	"google.golang.org/protobuf/proto"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
)

// Method is what the edge asks of an integrator calling one gRPC method,
// and where the call goes.
type Method struct {
	// Backend is the service (manifest name) the call is relayed to, over
	// the gateway's mTLS connection to it.
	Backend string
	// Public methods need no token: they are how an integrator gets one.
	// They are limited per source address instead of per client.
	Public bool
	// Scope the client's token must carry (one of its space-separated
	// scopes); required unless Public.
	Scope string
	// Tenant, when set, reads the tenant a request acts in from its first
	// message; the call is refused unless it is the token's tenant. It is
	// for methods whose service does not yet check the tenant against the
	// end user itself.
	Tenant func(frame []byte) (string, error)
}

// Methods is the edge's table: full gRPC method name → Method. It is
// deny by default: a method that is not listed is refused before anything
// else (Unimplemented), whatever the token.
type Methods map[string]Method

// Scopes integrators are granted (identity's CreateClient scopes).
const (
	// ScopeTokenize lets a client store personal data in the token vault
	// and get tokens back, in its own tenant.
	ScopeTokenize = "tokenvault.tokenize"
	// ScopeAuditVerify lets a client follow the audit log's signed
	// checkpoints and ask for inclusion and consistency proofs (a witness):
	// hashes only, no events.
	ScopeAuditVerify = "audit.verify"
	// ScopeConversationIngest lets a messaging or CRM platform post its
	// users' messages on the API channel, in its own tenant.
	ScopeConversationIngest = "conversation.ingest"
	// ScopeConversationWatch lets it stream its tenant's API-channel
	// conversations (the replies it relays to its users).
	ScopeConversationWatch = "conversation.watch"
	// ScopeConversationEvents lets a shop post its customers' browsing and
	// order events for personalisation (kept only under consent).
	ScopeConversationEvents = "conversation.events"
	// ScopeCRMWatch lets a CRM platform stream the changes crmsync keeps
	// for its tenant's platform connector; ScopeCRMUpdate lets it push the
	// edits made in it back (ADR 0015, "Pull stream").
	ScopeCRMWatch  = "crm.watch"
	ScopeCRMUpdate = "crm.update"
)

// Integrators is the table the gateway serves. It is deliberately small:
// each line is a decision that integrators may call the method, with the
// scope it takes. The services check the forwarded token again where they
// have an end-user policy, and their workload policy must allow the
// gateway for each method listed here.
//
//   - IssueClientToken: the OAuth 2.0 client-credentials grant. No token:
//     it is how a client gets one (identity authenticates the client and
//     throttles per client and per source address, which the edge passes
//     on); the edge limits it per source address like the REST login routes.
//   - Tokenize: store values for a subject and get tokens back, scope
//     tokenvault.tokenize, in the token's tenant only (the token vault does
//     not check end users yet, so the edge binds the tenant).
//   - GetCheckpoint, GetInclusionProof, GetConsistencyProof: scope
//     audit.verify; they carry hashes and signed tree heads, nothing about
//     anyone.
//   - IngestChannelMessage: a platform posts its user's message on the API
//     channel, scope conversation.ingest, in the token's tenant (bound here
//     and checked again by the conversation service, which also refuses
//     any other channel for a client).
//   - WatchConversation: scope conversation.watch; the request names no
//     tenant, and the conversation service finds only the API-channel
//     conversations of the client's tenant (anything else is NOT_FOUND).
//   - RecordShopperEvent: scope conversation.events; the request names no
//     tenant, and the conversation service records in the client's tenant
//     only, keeping the event only under the customer's consent.
//
// Detokenize, RevealMasked and the other reads of customer data are not
// offered: the vault's policy decides them by caller workload and purpose,
// and through the edge every integrator would be the gateway's workload.
// They wait for per-client rules in the vault's policy.
var Integrators = Methods{
	identityv1.IdentityService_IssueClientToken_FullMethodName: {Backend: "identity", Public: true},
	tokenvaultv1.TokenVaultService_Tokenize_FullMethodName:     {Backend: "tokenvault", Scope: ScopeTokenize, Tenant: tokenizeTenant},
	auditv1.AuditService_GetCheckpoint_FullMethodName:          {Backend: "audit", Scope: ScopeAuditVerify},
	auditv1.AuditService_GetInclusionProof_FullMethodName:      {Backend: "audit", Scope: ScopeAuditVerify},
	auditv1.AuditService_GetConsistencyProof_FullMethodName:    {Backend: "audit", Scope: ScopeAuditVerify},
	conversationv1.ConversationService_IngestChannelMessage_FullMethodName: {Backend: "conversation",
		Scope: ScopeConversationIngest, Tenant: ingestTenant},
	conversationv1.ConversationService_WatchConversation_FullMethodName: {Backend: "conversation",
		Scope: ScopeConversationWatch},
	conversationv1.ConversationService_RecordShopperEvent_FullMethodName: {Backend: "conversation",
		Scope: ScopeConversationEvents},
	// crmsync checks no end users: the edge binds the request's tenant.
	crmsyncv1.CrmSyncService_WatchChanges_FullMethodName:   {Backend: "crmsync", Scope: ScopeCRMWatch, Tenant: watchTenant},
	crmsyncv1.CrmSyncService_PushCrmChanges_FullMethodName: {Backend: "crmsync", Scope: ScopeCRMUpdate, Tenant: pushTenant},
}

// scopePattern is identity's (CreateClient): service.permission.
var scopePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}\.[a-z][a-z0-9_]{0,31}$`)

// Check validates the table: full method names, a backend each, a scope
// exactly where one is needed, and no backend missing from have.
func (m Methods) Check(have func(backend string) bool) error {
	var problems []string
	for name, method := range m {
		service, rpc, ok := strings.Cut(strings.TrimPrefix(name, "/"), "/")
		switch {
		case !strings.HasPrefix(name, "/") || !ok || service == "" || rpc == "" || strings.Contains(rpc, "/"):
			problems = append(problems, fmt.Sprintf("%q is not a full method name", name))
		case method.Backend == "":
			problems = append(problems, name+": no backend")
		case method.Public && (method.Scope != "" || method.Tenant != nil):
			problems = append(problems, name+": a public method takes no scope or tenant")
		case !method.Public && !scopePattern.MatchString(method.Scope):
			problems = append(problems, name+": needs a scope (service.permission)")
		case have != nil && !have(method.Backend):
			problems = append(problems, fmt.Sprintf("%s: backend %q is not connected", name, method.Backend))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("grpc edge methods: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Backends lists the services the table relays to.
func (m Methods) Backends() []string {
	seen := map[string]bool{}
	var out []string
	for _, method := range m {
		if !seen[method.Backend] {
			seen[method.Backend] = true
			out = append(out, method.Backend)
		}
	}
	return out
}

// vaultDefaultTenant is the tenant the token vault uses for a request that
// names none (its engine.DefaultTenant); a token without a tenant acts in
// it too.
const vaultDefaultTenant = "default"

// tokenizeTenant is the tenant of a TokenizeRequest as the vault reads it.
// The frame is decoded with the same generated type the vault decodes it
// with, so both read the same field (the last one, should it repeat).
func tokenizeTenant(frame []byte) (string, error) {
	var req tokenvaultv1.TokenizeRequest
	if err := proto.Unmarshal(frame, &req); err != nil {
		return "", err
	}
	return orDefaultTenant(req.GetTenant()), nil
}

func orDefaultTenant(t string) string {
	if t == "" {
		return vaultDefaultTenant
	}
	return t
}

// ingestTenant is the tenant of an IngestChannelMessageRequest as the
// conversation service reads it (its default tenant is "default" too).
func ingestTenant(frame []byte) (string, error) {
	var req conversationv1.IngestChannelMessageRequest
	if err := proto.Unmarshal(frame, &req); err != nil {
		return "", err
	}
	return orDefaultTenant(req.GetTenant()), nil
}

// watchTenant and pushTenant are the tenants of crmsync's platform
// requests, which always name one (crmsync's proto requires it).
func watchTenant(frame []byte) (string, error) {
	var req crmsyncv1.WatchChangesRequest
	if err := proto.Unmarshal(frame, &req); err != nil {
		return "", err
	}
	return req.GetTenant(), nil
}

func pushTenant(frame []byte) (string, error) {
	var req crmsyncv1.PushCrmChangesRequest
	if err := proto.Unmarshal(frame, &req); err != nil {
		return "", err
	}
	return req.GetTenant(), nil
}
