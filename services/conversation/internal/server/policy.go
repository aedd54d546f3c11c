package server

import (
	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/enduser"
)

// Policy says which workloads may call which RPCs. Anything not listed is
// denied; pkg/service adds the health checks. People reach conversations
// through the gateway (its REST routes and SSE are the next step, ADR
// 0014); the messaging channels' ingress will be added by name.
var Policy = authz.Policy{
	conversationv1.ConversationService_CreateConversation_FullMethodName: gateway,
	conversationv1.ConversationService_GetConversation_FullMethodName:    gateway,
	conversationv1.ConversationService_ListConversations_FullMethodName:  gateway,
	conversationv1.ConversationService_PostMessage_FullMethodName:        gateway,
	conversationv1.ConversationService_ListMessages_FullMethodName:       gateway,
	conversationv1.ConversationService_CloseConversation_FullMethodName:  gateway,
	conversationv1.ConversationService_WatchConversation_FullMethodName:  gateway,
}

var gateway = []string{"gateway"}

var (
	customers = enduser.Rule{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindCustomer}, AAL: accesstoken.AAL1}
	// supportAgents read transcripts of every customer: staff with the
	// role, at aal2 as every staff access to customers' data is.
	supportAgents = enduser.Rule{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindStaff},
		Roles: []string{accesstoken.RoleSupportAgent}, AAL: accesstoken.AAL2}
	readers = enduser.Rule{Require: enduser.User, AnyOf: []enduser.Rule{customers, supportAgents}}
)

// EndUsers is the conversation service's end-user table (pkg/enduser): a
// customer opens, writes to and closes their own conversations; customers
// (their own, which the domain checks: another's is NOT_FOUND) and support
// agents read them.
var EndUsers = enduser.Policy{
	conversationv1.ConversationService_CreateConversation_FullMethodName: customers,
	conversationv1.ConversationService_PostMessage_FullMethodName:        customers,
	conversationv1.ConversationService_CloseConversation_FullMethodName:  customers,
	conversationv1.ConversationService_GetConversation_FullMethodName:    readers,
	conversationv1.ConversationService_ListConversations_FullMethodName:  readers,
	conversationv1.ConversationService_ListMessages_FullMethodName:       readers,
	conversationv1.ConversationService_WatchConversation_FullMethodName:  readers,
}
