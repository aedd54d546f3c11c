package engine

import (
	"context"

	"github.com/sottohq/sotto/pkg/auditclient"
)

// tokenvault's audit vocabulary: the actions it records (the audit service
// accepts only "tokenvault.*" from it) and the types of resource its events
// name. An event is built from these, never from a string written inline.
const (
	// ActionTokenize: values stored under tokens (resource ResourceTokenBatch).
	ActionTokenize auditclient.Action = "tokenvault.tokenize"
	// ActionDetokenize: one token's value revealed, denied or failed
	// (resource ResourceToken), recorded before anything is returned.
	ActionDetokenize auditclient.Action = "tokenvault.detokenize"
	// ActionRevealMasked: masked views of values (ResourceToken for one
	// token, ResourceTokenBatch for several).
	ActionRevealMasked auditclient.Action = "tokenvault.reveal_masked"
	// ActionLookup: a value looked up, allowed (ResourceToken, the
	// deterministic token) or denied (ResourceDataType).
	ActionLookup auditclient.Action = "tokenvault.lookup"
	// ActionErase: a subject crypto-shredded (ResourceErasureRequest).
	ActionErase auditclient.Action = "tokenvault.erase"
	// ActionExport: a page of a subject's values exported (ResourceAccessRequest).
	ActionExport auditclient.Action = "tokenvault.export"
	// ActionRotateKeys: the key-encryption key rotated (ResourceKey).
	ActionRotateKeys auditclient.Action = "tokenvault.rotate_keys"
	// ActionRotateSubjectKey: a subject given a new data key (ResourceDataKey).
	ActionRotateSubjectKey auditclient.Action = "tokenvault.rotate_subject_key"

	// The data-subject request participant's operations (sotto.privacy.v1),
	// each naming the request it serves; never a value.

	// ActionPrivacyExport: a page of a subject's values exported for an
	// access or portability request (ResourceAccessRequest).
	ActionPrivacyExport auditclient.Action = "tokenvault.privacy.export"
	// ActionPrivacyErase: a subject crypto-shredded (ResourceErasureRequest).
	ActionPrivacyErase auditclient.Action = "tokenvault.privacy.erase"
	// ActionPrivacyRectify: a subject's values corrected
	// (ResourceRectificationRequest).
	ActionPrivacyRectify auditclient.Action = "tokenvault.privacy.rectify"
	// ActionPrivacyRestrict: a subject's processing restricted, or the
	// restriction lifted (ResourceRestrictionRequest).
	ActionPrivacyRestrict auditclient.Action = "tokenvault.privacy.restrict"
)

// Purposes of the data-subject request events beyond pkg/auditclient's
// (access and erasure).
const (
	PurposeDSRRectification = "dsr_rectification"
	PurposeDSRRestriction   = "dsr_restriction"
)

// Resource types of tokenvault's events, with what their resource ID holds.
const (
	ResourceToken          = "token"           // the token
	ResourceTokenBatch     = "token_batch"     // the request's scope (Tokenize), or none
	ResourceDataType       = "data_type"       // the data type's code
	ResourceErasureRequest = "erasure_request" // the request_id of the erasure
	ResourceAccessRequest  = "access_request"  // the request_id of the access request
	ResourceKey            = "key"             // the KEK's name
	ResourceDataKey        = "data_key"        // "v" and the new version

	ResourceRectificationRequest = "rectification_request" // the request_id of the rectification
	ResourceRestrictionRequest   = "restriction_request"   // the request_id of the restriction (or its lifting)
)

// event starts an audit event of what c does: who asks is the Caller the
// engine was given (the server takes it from the same mTLS peer that
// auditclient.New reads), so it is set from c, not left to ctx, and an
// engine called without an RPC in ctx records the same caller.
func (c Caller) event(ctx context.Context, action auditclient.Action, outcome auditclient.Outcome) auditclient.Event {
	ev := auditclient.New(ctx, action, outcome)
	ev.CallerWorkload, ev.ActorSubject = c.ID, c.endUser()
	return ev
}
