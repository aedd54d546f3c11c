package server

import (
	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/services/consent/internal/consent"
)

// Policy says which workloads may call which RPCs. Anything not listed is
// denied; pkg/service adds the health checks.
var Policy = authz.Policy{
	// People reach the catalogue, notices and their own consents through
	// the gateway's REST routes.
	consentv1.ConsentService_ListPurposes_FullMethodName:        {authz.AnyWorkload},
	consentv1.ConsentService_GetPurpose_FullMethodName:          {authz.AnyWorkload},
	consentv1.ConsentService_CreatePurpose_FullMethodName:       {"gateway"},
	consentv1.ConsentService_UpdatePurpose_FullMethodName:       {"gateway"},
	consentv1.ConsentService_CreateNoticeVersion_FullMethodName: {"gateway"},
	consentv1.ConsentService_GetNoticeVersion_FullMethodName:    {authz.AnyWorkload},
	consentv1.ConsentService_ListNotices_FullMethodName:         {authz.AnyWorkload},
	consentv1.ConsentService_GrantConsent_FullMethodName:        {"gateway"},
	consentv1.ConsentService_WithdrawConsent_FullMethodName:     {"gateway"},
	consentv1.ConsentService_RecordGpcOptOut_FullMethodName:     {"gateway"},
	consentv1.ConsentService_ListConsents_FullMethodName:        {"gateway"},
	consentv1.ConsentService_ListConsentRecords_FullMethodName:  {"gateway"},
	consentv1.ConsentService_GetReceipt_FullMethodName:          {"gateway"},
	// Receipt keys are public (they verify, they grant nothing).
	consentv1.ConsentService_GetReceiptKeys_FullMethodName: {authz.AnyWorkload},
	// The services that process customer data ask before they do, and
	// follow the change feed to keep their cache current
	// (pkg/consentclient). Decisions and the feed name subjects, so they are
	// listed by name: a certificate of the trust domain is not enough. A new
	// processing service adds itself here.
	consentv1.ConsentService_Check_FullMethodName:               dataProcessors,
	consentv1.ConsentService_BatchCheck_FullMethodName:          dataProcessors,
	consentv1.ConsentService_WatchConsentChanges_FullMethodName: dataProcessors,
	// Data-subject requests: customers and privacy officers through the
	// gateway's REST routes.
	consentv1.DataSubjectRequestService_CreateRequest_FullMethodName:  {"gateway"},
	consentv1.DataSubjectRequestService_GetRequest_FullMethodName:     {"gateway"},
	consentv1.DataSubjectRequestService_ListRequests_FullMethodName:   {"gateway"},
	consentv1.DataSubjectRequestService_VerifyRequest_FullMethodName:  {"gateway"},
	consentv1.DataSubjectRequestService_ExtendRequest_FullMethodName:  {"gateway"},
	consentv1.DataSubjectRequestService_PauseRequest_FullMethodName:   {"gateway"},
	consentv1.DataSubjectRequestService_ResumeRequest_FullMethodName:  {"gateway"},
	consentv1.DataSubjectRequestService_RejectRequest_FullMethodName:  {"gateway"},
	consentv1.DataSubjectRequestService_RetryRequest_FullMethodName:   {"gateway"},
	consentv1.DataSubjectRequestService_DownloadExport_FullMethodName: {"gateway"},
}

// dataProcessors are the workloads that check consent before processing:
// tokenvault today, conversation and crmsync as the architecture plans them.
var dataProcessors = []string{"tokenvault", "conversation", "crmsync"}

var (
	people           = []accesstoken.Kind{accesstoken.KindCustomer, accesstoken.KindStaff}
	privacyOfficer   = enduser.Rule{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindStaff}, Roles: []string{accesstoken.RolePrivacyOfficer}, AAL: accesstoken.AAL2, MaxAge: OfficerRecentAuth}
	customerOrStaff  = enduser.Rule{Require: enduser.User, Kinds: people, AAL: accesstoken.AAL1}
	customersOnly    = enduser.Rule{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindCustomer}, AAL: accesstoken.AAL1}
	workloadsOnly    = enduser.Rule{Require: enduser.None}
	anonymousAllowed = enduser.Rule{Require: enduser.Optional}
)

// OfficerRecentAuth is how recent a privacy officer's aal2 authentication
// must be for catalogue changes, as for acting for a customer.
const OfficerRecentAuth = consent.OfficerRecentAuth

// EndUsers is the consent service's end-user table (pkg/enduser): the
// catalogue and notices are public (a consent banner shows them before
// anyone signs in); changing them takes a privacy officer at aal2 within
// 15 minutes; a customer manages their own consents, a staff member any
// customer's (the domain requires the privacy_officer role at aal2 for
// that, which the table cannot express for customers and staff at once);
// a GPC signal is a customer's own; Check, BatchCheck and the change feed
// are workload calls that read no token.
var EndUsers = enduser.Policy{
	consentv1.ConsentService_ListPurposes_FullMethodName:        anonymousAllowed,
	consentv1.ConsentService_GetPurpose_FullMethodName:          anonymousAllowed,
	consentv1.ConsentService_GetNoticeVersion_FullMethodName:    anonymousAllowed,
	consentv1.ConsentService_ListNotices_FullMethodName:         anonymousAllowed,
	consentv1.ConsentService_GetReceiptKeys_FullMethodName:      anonymousAllowed,
	consentv1.ConsentService_CreatePurpose_FullMethodName:       privacyOfficer,
	consentv1.ConsentService_UpdatePurpose_FullMethodName:       privacyOfficer,
	consentv1.ConsentService_CreateNoticeVersion_FullMethodName: privacyOfficer,
	consentv1.ConsentService_GrantConsent_FullMethodName:        customerOrStaff,
	consentv1.ConsentService_WithdrawConsent_FullMethodName:     customerOrStaff,
	consentv1.ConsentService_ListConsents_FullMethodName:        customerOrStaff,
	consentv1.ConsentService_ListConsentRecords_FullMethodName:  customerOrStaff,
	consentv1.ConsentService_GetReceipt_FullMethodName:          customerOrStaff,
	consentv1.ConsentService_RecordGpcOptOut_FullMethodName:     customersOnly,
	consentv1.ConsentService_Check_FullMethodName:               workloadsOnly,
	consentv1.ConsentService_BatchCheck_FullMethodName:          workloadsOnly,
	consentv1.ConsentService_WatchConsentChanges_FullMethodName: workloadsOnly,
	// Data-subject requests: customers follow their own, privacy officers
	// any (the domain requires aal2 within 15 minutes of a customer
	// creating and of an officer, and the privacy_officer role); only the
	// subject downloads an export.
	consentv1.DataSubjectRequestService_CreateRequest_FullMethodName:  customerOrStaff,
	consentv1.DataSubjectRequestService_GetRequest_FullMethodName:     customerOrStaff,
	consentv1.DataSubjectRequestService_ListRequests_FullMethodName:   customerOrStaff,
	consentv1.DataSubjectRequestService_VerifyRequest_FullMethodName:  customerOrStaff,
	consentv1.DataSubjectRequestService_ExtendRequest_FullMethodName:  customerOrStaff,
	consentv1.DataSubjectRequestService_PauseRequest_FullMethodName:   customerOrStaff,
	consentv1.DataSubjectRequestService_ResumeRequest_FullMethodName:  customerOrStaff,
	consentv1.DataSubjectRequestService_RejectRequest_FullMethodName:  customerOrStaff,
	consentv1.DataSubjectRequestService_RetryRequest_FullMethodName:   customerOrStaff,
	consentv1.DataSubjectRequestService_DownloadExport_FullMethodName: customersOnly,
}
