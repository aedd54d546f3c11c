// Package reasons is tokenvault's catalogue of error reasons: the stable,
// machine-readable reasons its clients can branch on, whether they arrive as
// the ErrorInfo of a failed call (domain tokenvault.sotto.dev), as the error
// of one item of a Tokenize, Detokenize or RevealMasked result, or as the
// reason of a policy decision; and the reasons tokenvault records on the
// audit events of refused and failed operations. A reason is added here,
// never written inline.
package reasons

// Reasons of the tokenvault service.
const (
	AmbiguousToken     = "AMBIGUOUS_TOKEN"
	AuditUnavailable   = "AUDIT_UNAVAILABLE"
	CiphertextCorrupt  = "CIPHERTEXT_CORRUPT"
	EncryptFailed      = "ENCRYPT_FAILED"
	InvalidValue       = "INVALID_VALUE"
	KekVersionRetired  = "KEK_VERSION_RETIRED"
	KeyInvalid         = "KEY_INVALID"
	KeyUnavailable     = "KEY_UNAVAILABLE"
	MalformedToken     = "MALFORMED_TOKEN"
	RandomFailed       = "RANDOM_FAILED"
	RewrapPending      = "REWRAP_PENDING"
	RotateOneThing     = "ROTATE_ONE_THING"
	ShuttingDown       = "SHUTTING_DOWN"
	SubjectChanged     = "SUBJECT_CHANGED"
	SubjectErased      = "SUBJECT_ERASED"
	SubjectKeyNotFound = "SUBJECT_KEY_NOT_FOUND"
	SubjectNotFound    = "SUBJECT_NOT_FOUND"
	// SubjectRestricted: the subject's processing is restricted (GDPR Art.
	// 18, a data-subject request): no workload or staff member reads their
	// values until the restriction is lifted; the customer still reads
	// their own.
	SubjectRestricted = "SUBJECT_RESTRICTED"
	// NotChannelPseudonym: the conversation workload asked to erase a
	// subject that is not one of its channel pseudonyms ("chu_…"); only
	// the consent workload erases any subject.
	NotChannelPseudonym = "NOT_CHANNEL_PSEUDONYM"
	// TenantMismatch: an integrator names a shop that is not its own, or a
	// customer's reveal names another shop than theirs; in the audit log,
	// also a token of another shop than the reveal's, which the caller was
	// told is unknown (UNKNOWN_TOKEN).
	TenantMismatch      = "TENANT_MISMATCH"
	TenantNotFound      = "TENANT_NOT_FOUND"
	TokenCollision      = "TOKEN_COLLISION"
	TokenExpired        = "TOKEN_EXPIRED"
	TokenRetired        = "TOKEN_RETIRED"
	TokenSpaceExhausted = "TOKEN_SPACE_EXHAUSTED"
	UnknownTenant       = "UNKNOWN_TENANT"
	UnknownToken        = "UNKNOWN_TOKEN"
	UnsupportedFormat   = "UNSUPPORTED_FORMAT"
	ValueUnreadable     = "VALUE_UNREADABLE"
)

// Reasons of a policy decision that denies a value or a lookup: the most
// specific mismatch between the request and the closest rule.
const (
	CallerNotAllowed   = "CALLER_NOT_ALLOWED"
	DataTypeNotAllowed = "DATA_TYPE_NOT_ALLOWED"
	PurposeNotAllowed  = "PURPOSE_NOT_ALLOWED"
	// NotDataSubject: the rule is for people's own data, and the value is
	// someone else's. Recorded in the audit log; a customer is told the
	// token is unknown (UnknownToken), as if it did not exist.
	NotDataSubject = "NOT_DATA_SUBJECT"
	// StepUpRequired: a rule allows the person once they authenticate again
	// (pkg/enduser's STEP_UP_REQUIRED, the same string).
	StepUpRequired = "STEP_UP_REQUIRED"
	// ConsentRequired: the rule requires the subject's consent to the
	// purpose, and the consent service says there is none (never given,
	// withdrawn, opted out, objected to).
	ConsentRequired = "CONSENT_REQUIRED"
	// ConsentUnavailable: the rule requires consent and the consent service
	// could not be asked; refused (fail closed). The same string as
	// pkg/consentclient's.
	ConsentUnavailable = "CONSENT_UNAVAILABLE"
)

// Reasons a data-subject request's correction (sotto.privacy.v1 Rectify)
// was refused, as CorrectionResult.refused_reason.
const (
	// FieldNotRectifiable: the token's value cannot be corrected in place.
	// Only random tokens are: a deterministic token is a keyed hash of its
	// value and card and format-preserving tokens are made from it, so a
	// new value needs a new token, which the service holding the token
	// asks for (identity tokenises a corrected e-mail address anew).
	FieldNotRectifiable = "FIELD_NOT_RECTIFIABLE"
	// ValueInvalid: the corrected value is not a valid value of the token's
	// data type.
	ValueInvalid = "VALUE_INVALID"
)

// Internal is the reason recorded on the audit event of an operation that
// failed with an error that carried no reason of its own.
const Internal = "INTERNAL"
