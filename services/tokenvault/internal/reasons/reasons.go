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
	// TenantMismatch: an integrator names a shop that is not its own.
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

// Internal is the reason recorded on the audit event of an operation that
// failed with an error that carried no reason of its own.
const Internal = "INTERNAL"
