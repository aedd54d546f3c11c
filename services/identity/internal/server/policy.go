package server

import (
	"slices"
	"time"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/suite"
)

// Policy says which workloads of the suite m may call which RPCs. Anything
// not listed is denied; pkg/service adds the health checks.
func Policy(m suite.Manifest) authz.Policy {
	return authz.Policy{
		// People reach identity through the gateway's REST routes.
		identityv1.IdentityService_SignUp_FullMethodName:                     {"gateway"},
		identityv1.IdentityService_VerifyEmail_FullMethodName:                {"gateway"},
		identityv1.IdentityService_Login_FullMethodName:                      {"gateway"},
		identityv1.IdentityService_RefreshSession_FullMethodName:             {"gateway"},
		identityv1.IdentityService_Logout_FullMethodName:                     {"gateway"},
		identityv1.IdentityService_GetAccount_FullMethodName:                 {"gateway"},
		identityv1.IdentityService_ChangePassword_FullMethodName:             {"gateway"},
		identityv1.IdentityService_RequestPasswordReset_FullMethodName:       {"gateway"},
		identityv1.IdentityService_ResetPassword_FullMethodName:              {"gateway"},
		identityv1.IdentityService_DeleteAccount_FullMethodName:              {"gateway"},
		identityv1.IdentityService_BeginTotpEnrollment_FullMethodName:        {"gateway"},
		identityv1.IdentityService_ConfirmTotpEnrollment_FullMethodName:      {"gateway"},
		identityv1.IdentityService_BeginWebAuthnRegistration_FullMethodName:  {"gateway"},
		identityv1.IdentityService_FinishWebAuthnRegistration_FullMethodName: {"gateway"},
		identityv1.IdentityService_ListFactors_FullMethodName:                {"gateway"},
		identityv1.IdentityService_DeleteFactor_FullMethodName:               {"gateway"},
		identityv1.IdentityService_RegenerateRecoveryCodes_FullMethodName:    {"gateway"},
		identityv1.IdentityService_StepUp_FullMethodName:                     {"gateway"},
		identityv1.IdentityService_BeginWebAuthnLogin_FullMethodName:         {"gateway"},
		identityv1.IdentityService_FinishWebAuthnLogin_FullMethodName:        {"gateway"},
		identityv1.IdentityService_ListSessions_FullMethodName:               {"gateway"},
		identityv1.IdentityService_RevokeSession_FullMethodName:              {"gateway"},
		identityv1.IdentityService_CreateStaffAccount_FullMethodName:         {"gateway"},
		identityv1.IdentityService_CreateClient_FullMethodName:               {"gateway"},
		identityv1.IdentityService_RevokeClient_FullMethodName:               {"gateway"},
		// Integrators get their tokens through the edge.
		identityv1.IdentityService_IssueClientToken_FullMethodName: {"gateway"},
		// Anonymous web-chat visitors get theirs through the edge too
		// (public, limited per client address there and throttled here).
		identityv1.IdentityService_CreateVisitorSession_FullMethodName: {"gateway"},
		// The first admin is the operator's, from the CLI (`sotto dev up`).
		identityv1.IdentityService_BootstrapAdmin_FullMethodName: {"sotto-cli"},
		// The signing keys are public (they verify, they grant nothing).
		identityv1.IdentityService_GetJwks_FullMethodName: {authz.AnyWorkload},
		// The revocation feed names sessions and, with them, when people log
		// out: only the workloads that verify people read it, a certificate of
		// the trust domain is not enough.
		identityv1.IdentityService_WatchRevocations_FullMethodName: RevocationReaders(m),
		// Data-subject requests (sotto.privacy.v1) are carried out by the
		// orchestrator alone: Export discloses a person's account, Erase
		// deletes it, Rectify changes its login name.
		privacyv1.PrivacyParticipantService_Describe_FullMethodName: {suite.PrivacyOrchestrator},
		privacyv1.PrivacyParticipantService_Export_FullMethodName:   {suite.PrivacyOrchestrator},
		privacyv1.PrivacyParticipantService_Erase_FullMethodName:    {suite.PrivacyOrchestrator},
		privacyv1.PrivacyParticipantService_Rectify_FullMethodName:  {suite.PrivacyOrchestrator},
		privacyv1.PrivacyParticipantService_Restrict_FullMethodName: {suite.PrivacyOrchestrator},
	}
}

// RevocationReaders lists the workloads of m that verify people's access
// tokens and so follow the revocation feed: services marked end_users, the
// services that call identity, and the HTTP edge. It is read from the
// manifest rather than kept here so that a new service that verifies people
// is allowed by its manifest entry alone.
func RevocationReaders(m suite.Manifest) []string {
	var out []string
	for _, s := range m.Services {
		if s.Name == "identity" {
			continue // it reads its own feed in process
		}
		if s.EndUsers || s.API == suite.HTTP || slices.Contains(s.Calls, "identity") || slices.Contains(s.Follows, "identity") {
			out = append(out, s.Name)
		}
	}
	return out
}

// RecentAuth is how recent the authentication behind staff administration
// must be.
const RecentAuth = 15 * time.Minute

var people = []accesstoken.Kind{accesstoken.KindCustomer, accesstoken.KindStaff}

// EndUsers is identity's end-user table (pkg/enduser): which RPCs act for
// the person whose access token the call carries. Calls that create a
// session (sign-up, login, refresh, reset) take none; calls about "the
// caller's account" need one (a customer or staff member, never an
// integrator); staff administration needs an admin at aal2 within 15
// minutes. The domain adds what depends on the account (a recent aal2 when
// it has a second factor; staff without one may only enrol), and checks
// every session against the store, not only the revocation feed.
var EndUsers = enduser.Policy{
	identityv1.IdentityService_SignUp_FullMethodName:               {Require: enduser.None},
	identityv1.IdentityService_VerifyEmail_FullMethodName:          {Require: enduser.None},
	identityv1.IdentityService_Login_FullMethodName:                {Require: enduser.None},
	identityv1.IdentityService_RefreshSession_FullMethodName:       {Require: enduser.None},
	identityv1.IdentityService_RequestPasswordReset_FullMethodName: {Require: enduser.None},
	identityv1.IdentityService_ResetPassword_FullMethodName:        {Require: enduser.None},
	identityv1.IdentityService_IssueClientToken_FullMethodName:     {Require: enduser.None},
	// A visitor session is made for nobody in particular: no token is read.
	identityv1.IdentityService_CreateVisitorSession_FullMethodName: {Require: enduser.None},
	identityv1.IdentityService_BootstrapAdmin_FullMethodName:       {Require: enduser.None},
	identityv1.IdentityService_GetJwks_FullMethodName:              {Require: enduser.None},
	identityv1.IdentityService_WatchRevocations_FullMethodName:     {Require: enduser.None},

	identityv1.IdentityService_Logout_FullMethodName:                     {Require: enduser.User, Kinds: people},
	identityv1.IdentityService_GetAccount_FullMethodName:                 {Require: enduser.User, Kinds: people},
	identityv1.IdentityService_ChangePassword_FullMethodName:             {Require: enduser.User, Kinds: people},
	identityv1.IdentityService_DeleteAccount_FullMethodName:              {Require: enduser.User, Kinds: people, AAL: 1, MaxAge: RecentAuth},
	identityv1.IdentityService_BeginTotpEnrollment_FullMethodName:        {Require: enduser.User, Kinds: people},
	identityv1.IdentityService_ConfirmTotpEnrollment_FullMethodName:      {Require: enduser.User, Kinds: people},
	identityv1.IdentityService_BeginWebAuthnRegistration_FullMethodName:  {Require: enduser.User, Kinds: people},
	identityv1.IdentityService_FinishWebAuthnRegistration_FullMethodName: {Require: enduser.User, Kinds: people},
	identityv1.IdentityService_ListFactors_FullMethodName:                {Require: enduser.User, Kinds: people},
	identityv1.IdentityService_DeleteFactor_FullMethodName:               {Require: enduser.User, Kinds: people, AAL: 2, MaxAge: RecentAuth},
	identityv1.IdentityService_RegenerateRecoveryCodes_FullMethodName:    {Require: enduser.User, Kinds: people, AAL: 2, MaxAge: RecentAuth},
	identityv1.IdentityService_StepUp_FullMethodName:                     {Require: enduser.User, Kinds: people},
	identityv1.IdentityService_ListSessions_FullMethodName:               {Require: enduser.User, Kinds: people},
	identityv1.IdentityService_RevokeSession_FullMethodName:              {Require: enduser.User, Kinds: people},
	// A WebAuthn login elevates the caller's session, or (no token) is a
	// passwordless passkey login.
	identityv1.IdentityService_BeginWebAuthnLogin_FullMethodName:  {Require: enduser.Optional},
	identityv1.IdentityService_FinishWebAuthnLogin_FullMethodName: {Require: enduser.Optional},

	identityv1.IdentityService_CreateStaffAccount_FullMethodName: {Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindStaff},
		Roles: []string{accesstoken.RoleAdmin}, AAL: 2, MaxAge: RecentAuth},
	identityv1.IdentityService_CreateClient_FullMethodName: {Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindStaff},
		Roles: []string{accesstoken.RoleAdmin}, AAL: 2, MaxAge: RecentAuth},
	identityv1.IdentityService_RevokeClient_FullMethodName: {Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindStaff},
		Roles: []string{accesstoken.RoleAdmin}, AAL: 2, MaxAge: RecentAuth},

	// The orchestrator carries out a data-subject request with no person's
	// token behind its calls (the person authenticated to consent when
	// asking, and the erasure is the system's, not a session's); Policy
	// admits no other workload.
	privacyv1.PrivacyParticipantService_Describe_FullMethodName: orchestrator,
	privacyv1.PrivacyParticipantService_Export_FullMethodName:   orchestrator,
	privacyv1.PrivacyParticipantService_Erase_FullMethodName:    orchestrator,
	privacyv1.PrivacyParticipantService_Rectify_FullMethodName:  orchestrator,
	privacyv1.PrivacyParticipantService_Restrict_FullMethodName: orchestrator,
}

var orchestrator = enduser.Rule{Require: enduser.None, Workloads: map[string]enduser.Rule{suite.PrivacyOrchestrator: {Require: enduser.None}}}

// ShedExempt are the RPCs left out of the gRPC server's load shedding
// (pkg/server WithShedExempt). The password methods bound their own
// concurrency: they wait up to the hash wait for one of the hasher's few
// memory-bounded slots and are refused PASSWORD_HASH_BUSY past it; counted
// by the server as well, a credential-stuffing flood would hold every slot
// while waiting for the hasher's and refuse the service's other calls
// (visitor sessions, refreshes, erasure steps). GetJwks is cheap and what
// every verifier needs after a key rotation.
var ShedExempt = []string{
	identityv1.IdentityService_SignUp_FullMethodName,
	identityv1.IdentityService_Login_FullMethodName,
	identityv1.IdentityService_ChangePassword_FullMethodName,
	identityv1.IdentityService_ResetPassword_FullMethodName,
	identityv1.IdentityService_GetJwks_FullMethodName,
}
