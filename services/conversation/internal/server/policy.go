package server

import (
	"time"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/suite"
)

// Policy says which workloads may call which RPCs. Anything not listed is
// denied; pkg/service adds the health checks. People reach conversations
// through the gateway (its REST routes and SSE are the next step, ADR
// 0014); the messaging channels' ingress will be added by name.
var Policy = authz.Policy{
	conversationv1.ConversationService_CreateConversation_FullMethodName:    gateway,
	conversationv1.ConversationService_GetConversation_FullMethodName:       gateway,
	conversationv1.ConversationService_ListConversations_FullMethodName:     gateway,
	conversationv1.ConversationService_PostMessage_FullMethodName:           gateway,
	conversationv1.ConversationService_ListMessages_FullMethodName:          gateway,
	conversationv1.ConversationService_CloseConversation_FullMethodName:     gateway,
	conversationv1.ConversationService_WatchConversation_FullMethodName:     gateway,
	conversationv1.ConversationService_HandOffConversation_FullMethodName:   gateway,
	conversationv1.ConversationService_AssignConversation_FullMethodName:    gateway,
	conversationv1.ConversationService_PostAgentReply_FullMethodName:        gateway,
	conversationv1.ConversationService_RevealValue_FullMethodName:           gateway,
	conversationv1.ConversationService_CreateChannelLinkCode_FullMethodName: gateway,
	conversationv1.ConversationService_ListSignals_FullMethodName:           gateway,
	conversationv1.ConversationService_ClearSignal_FullMethodName:           gateway,
	conversationv1.ConversationService_GetSealingKeys_FullMethodName:        gateway,
	// The gateway's channel ingress, after it checked a platform webhook's
	// signature: no person's token is behind it.
	conversationv1.ConversationService_IngestChannelMessage_FullMethodName: gateway,
	// Shop integrators over the gRPC edge, administrators over REST.
	conversationv1.ConversationService_RecordShopperEvent_FullMethodName: gateway,

	// The data-subject request participant protocol is the consent
	// service's (suite.PrivacyOrchestrator) alone: it exports, erases and
	// restricts a customer's conversations.
	privacyv1.PrivacyParticipantService_Describe_FullMethodName: {suite.PrivacyOrchestrator},
	privacyv1.PrivacyParticipantService_Export_FullMethodName:   {suite.PrivacyOrchestrator},
	privacyv1.PrivacyParticipantService_Erase_FullMethodName:    {suite.PrivacyOrchestrator},
	privacyv1.PrivacyParticipantService_Rectify_FullMethodName:  {suite.PrivacyOrchestrator},
	privacyv1.PrivacyParticipantService_Restrict_FullMethodName: {suite.PrivacyOrchestrator},
}

var gateway = []string{"gateway"}

var (
	customers = enduser.Rule{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindCustomer}, AAL: accesstoken.AAL1}
	// supportAgents read transcripts of every customer: staff with the
	// role, at aal2 as every staff access to customers' data is.
	supportAgents = enduser.Rule{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindStaff},
		Roles: []string{accesstoken.RoleSupportAgent}, AAL: accesstoken.AAL2}
	readers = enduser.Rule{Require: enduser.User, AnyOf: []enduser.Rule{customers, supportAgents}}
	// staffReaders: support agents and administrators (signals).
	staffReaders = enduser.Rule{Require: enduser.User, AnyOf: []enduser.Rule{supportAgents, {Require: enduser.User,
		Kinds: []accesstoken.Kind{accesstoken.KindStaff}, Roles: []string{accesstoken.RoleAdmin}, AAL: accesstoken.AAL2}}}
	// nobody: calls no person is behind (the channel ingress, public keys).
	nobody = enduser.Rule{Require: enduser.None}
	// visitors: an anonymous web-chat visitor (identity's visitor session,
	// aal 0, no account). The domain keeps them to their own web
	// conversations; they never reveal values, link channels or hand off.
	visitors = enduser.Rule{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindVisitor}}
	// linkers make channel link codes: a code hands a messaging chat to the
	// account, so it takes a second factor used within LinkStepUpMaxAge
	// (a stolen password alone, or a session left open, makes none).
	linkers = enduser.Rule{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindCustomer},
		AAL: accesstoken.AAL2, MaxAge: LinkStepUpMaxAge}
	// chatters open, write to and close their own conversations.
	chatters = enduser.Rule{Require: enduser.User, AnyOf: []enduser.Rule{customers, visitors}}
	// chatReaders read their own (visitors too) or, as agents, anyone's.
	chatReaders = enduser.Rule{Require: enduser.User, AnyOf: []enduser.Rule{customers, supportAgents, visitors}}
	// watchers: chatReaders, and integrator clients with conversation.watch
	// (the domain keeps them to their tenant's API-channel conversations).
	watchers = enduser.Rule{Require: enduser.User, AnyOf: []enduser.Rule{customers, supportAgents, visitors,
		{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindClient}, Scopes: []string{ScopeWatch}}}}
	// ingesters: the gateway's webhook ingress sends no token; an
	// integrator's is verified and the server requires its kind (client),
	// scope (conversation.ingest) and tenant (channels.go). An Optional
	// rule cannot name kinds, so that check is the server's.
	ingesters = enduser.Rule{Require: enduser.Optional}
)

// LinkStepUpMaxAge bounds how long ago a customer's second factor may have
// been used for CreateChannelLinkCode.
const LinkStepUpMaxAge = 10 * time.Minute

// Integrator scopes (identity's CreateClient scopes; the gateway's gRPC
// edge asks for the same ones).
const (
	// ScopeIngest: post the platform's users' messages on the API channel.
	ScopeIngest = "conversation.ingest"
	// ScopeWatch: stream the tenant's API-channel conversations.
	ScopeWatch = "conversation.watch"
)

// EndUsers is the conversation service's end-user table (pkg/enduser): a
// customer opens, writes to and closes their own conversations; customers
// (their own, which the domain checks: another's is NOT_FOUND) and support
// agents read them.
var EndUsers = enduser.Policy{
	conversationv1.ConversationService_CreateConversation_FullMethodName: chatters,
	conversationv1.ConversationService_PostMessage_FullMethodName:        chatters,
	conversationv1.ConversationService_CloseConversation_FullMethodName:  chatters,
	conversationv1.ConversationService_GetConversation_FullMethodName:    chatReaders,
	conversationv1.ConversationService_ListConversations_FullMethodName:  chatReaders,
	conversationv1.ConversationService_ListMessages_FullMethodName:       chatReaders,
	conversationv1.ConversationService_WatchConversation_FullMethodName:  watchers,
	// A customer asks for a person; the domain checks it is their own.
	conversationv1.ConversationService_HandOffConversation_FullMethodName: readers,
	conversationv1.ConversationService_AssignConversation_FullMethodName:  supportAgents,
	conversationv1.ConversationService_PostAgentReply_FullMethodName:      supportAgents,
	// The token vault's policy decides what each reader sees.
	conversationv1.ConversationService_RevealValue_FullMethodName:           readers,
	conversationv1.ConversationService_CreateChannelLinkCode_FullMethodName: linkers,
	conversationv1.ConversationService_ListSignals_FullMethodName:           staffReaders,
	conversationv1.ConversationService_ClearSignal_FullMethodName:           staffReaders,
	conversationv1.ConversationService_GetSealingKeys_FullMethodName:        nobody,
	conversationv1.ConversationService_IngestChannelMessage_FullMethodName:  ingesters,
	conversationv1.ConversationService_RecordShopperEvent_FullMethodName:    shopperRecorders,

	// The orchestrator acts for a request it verified itself: no person's
	// token reaches this service for it, and the gateway has no route here.
	privacyv1.PrivacyParticipantService_Describe_FullMethodName: orchestratorOnly,
	privacyv1.PrivacyParticipantService_Export_FullMethodName:   orchestratorOnly,
	privacyv1.PrivacyParticipantService_Erase_FullMethodName:    orchestratorOnly,
	privacyv1.PrivacyParticipantService_Rectify_FullMethodName:  orchestratorOnly,
	privacyv1.PrivacyParticipantService_Restrict_FullMethodName: orchestratorOnly,
}

// orchestratorOnly: the consent workload, acting on its own.
var orchestratorOnly = enduser.Rule{Require: enduser.None, Workloads: map[string]enduser.Rule{suite.PrivacyOrchestrator: {Require: enduser.None}}}
