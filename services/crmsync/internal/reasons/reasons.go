// Package reasons is the crmsync service's catalogue of error reasons: the
// stable, machine-readable reasons its clients and operators branch on (the
// ErrorInfo of a failed call, a delivery's reason) and that it records on
// audit events. A reason is added here, never written inline.
package reasons

// Calls.
const (
	// DeliveryNotFound: no such delivery. NotFound.
	DeliveryNotFound = "DELIVERY_NOT_FOUND"
	// DeliveryNotReplayable: replay of a delivery that is not dead-lettered.
	// FailedPrecondition.
	DeliveryNotReplayable = "DELIVERY_NOT_REPLAYABLE"
	// DeliveryFinished: discard of a delivery already delivered, cancelled
	// or discarded. FailedPrecondition.
	DeliveryFinished = "DELIVERY_FINISHED"
	// FieldsInvalid: an event's fields are not tokens where the mapping
	// needs tokens. InvalidArgument.
	FieldsInvalid = "FIELDS_INVALID"
	// TokenSubjectMismatch: an event's token belongs to another customer
	// than the event's subject (the token vault's metadata).
	// InvalidArgument.
	TokenSubjectMismatch = "TOKEN_SUBJECT_MISMATCH"
)

// Why an event was not queued for a connector (RecordCustomerEvent's skipped).
const (
	// ConsentDenied: the customer does not allow any mapped field's purpose.
	ConsentDenied = "CONSENT_DENIED"
	// NothingMapped: none of the event's fields is in the mapping.
	NothingMapped = "NOTHING_MAPPED"
)

// Why a delivery stopped (a delivery's reason).
const (
	// ConsentWithdrawn: consent for the delivery's purposes was withdrawn
	// after it was queued; it was cancelled at delivery.
	ConsentWithdrawn = "CONSENT_WITHDRAWN"
	// ConsentUnavailable is consentclient's CONSENT_UNAVAILABLE: retried.
	ConsentUnavailable = "CONSENT_UNAVAILABLE"
	// CRMRateLimited: the CRM answered 429; retried after its Retry-After.
	CRMRateLimited = "CRM_RATE_LIMITED"
	// CRMUnavailable: the CRM could not be reached or answered 5xx; retried.
	CRMUnavailable = "CRM_UNAVAILABLE"
	// CRMRejected: the CRM refused the change (4xx other than 401, 404 and
	// 429); no retry fixes it.
	CRMRejected = "CRM_REJECTED"
	// CRMAuthFailed: the CRM refused the credentials, after a fresh token.
	CRMAuthFailed = "CRM_AUTH_FAILED"
	// CRMNotConfigured: no credentials or mapping for the shop's connector.
	CRMNotConfigured = "CRM_NOT_CONFIGURED"
	// CRMResponseInvalid: the CRM's answer could not be read.
	CRMResponseInvalid = "CRM_RESPONSE_INVALID"
	// PlaintextRefused: the token vault refused to give a value back for a
	// field mapped as plaintext (its policy, consent, an erased token):
	// nothing was sent.
	PlaintextRefused = "PLAINTEXT_REFUSED"
	// MaskRefused: the token vault gave no masked view for a masked field.
	MaskRefused = "MASK_REFUSED"
	// TokenVaultUnavailable: the token vault could not be asked; retried.
	TokenVaultUnavailable = "TOKENVAULT_UNAVAILABLE"
	// PayloadUnreadable: a queued payload does not decrypt (tampered, its
	// key retired). Dead-lettered.
	PayloadUnreadable = "PAYLOAD_UNREADABLE"
	// Discarded: an operator discarded the delivery.
	Discarded = "DISCARDED"
	// SubjectRestricted: the customer's processing is restricted (a
	// data-subject request, GDPR Art. 18): a queued delivery is cancelled,
	// an event is refused.
	SubjectRestricted = "SUBJECT_RESTRICTED"
	// SubjectErased: the customer asked for erasure; their queued and
	// dead-lettered deliveries were cancelled.
	SubjectErased = "SUBJECT_ERASED"
	// ConsentStateStale: a consent mapping's value queued before a later
	// change of that consent (the later change has its own delivery); it
	// was cancelled at delivery.
	ConsentStateStale = "CONSENT_STATE_STALE"
	// HeldEventUnreadable: a held event (or its release job) does not
	// decode; it is dropped.
	HeldEventUnreadable = "HELD_EVENT_UNREADABLE"
)

// Data-subject requests (sotto.privacy.v1).
const (
	// ErasureUnconfirmed: a CRM still answers with the customer's record
	// after its delete and the read-backs; the step fails and the consent
	// service's orchestrator retries it. Unavailable.
	ErasureUnconfirmed = "CRM_ERASURE_UNCONFIRMED"
	// ErasurePendingSend: a send of the customer still held its lease past
	// the erasure's wait (or the erasure marker was lifted meanwhile); the
	// step fails Unavailable and the orchestrator retries it, never done.
	ErasurePendingSend = "CRM_ERASURE_PENDING_SEND"
	// RequestIDReused: a data-subject request id already answered for
	// another customer. InvalidArgument.
	RequestIDReused = "REQUEST_ID_REUSED"
	// FieldNotRectifiable: a correction of a field no mapping of the shop
	// sends.
	FieldNotRectifiable = "FIELD_NOT_RECTIFIABLE"
	// ValueInvalid: the token vault refused a corrected value.
	ValueInvalid = "VALUE_INVALID"
)

// Mappings.
const (
	// MappingInvalid: a mapping file that does not parse or breaks a rule
	// (plaintext for a purpose that does not permit it, an unknown form).
	MappingInvalid = "MAPPING_INVALID"
)

// Events.
const (
	// SummaryNotPseudonymised: a conversation summary in which personal
	// data was found; summaries carry placeholders only. InvalidArgument.
	SummaryNotPseudonymised = "SUMMARY_NOT_PSEUDONYMISED"
)

// Inbound changes and the platform stream.
const (
	// InboundNotConfigured: this crmsync takes no CRM changes (no token
	// vault or mappings wired). FailedPrecondition.
	InboundNotConfigured = "INBOUND_NOT_CONFIGURED"
	// StreamNotConfigured: this crmsync keeps no platform change log.
	// FailedPrecondition.
	StreamNotConfigured = "STREAM_NOT_CONFIGURED"
	// ChangeLogUnavailable: the platform's change log could not be read or
	// written. Unavailable.
	ChangeLogUnavailable = "CRM_UNAVAILABLE"
	// StreamEntryInvalid: a change log entry that does not decode. Internal.
	StreamEntryInvalid = "STREAM_ENTRY_INVALID"
)

// Page tokens.
const (
	// DeliveryIDInvalid: a stored delivery id that is not dlv_<uuid> (a
	// cursor cannot be made of it). Internal.
	DeliveryIDInvalid = "DELIVERY_ID_INVALID"
)

// Held events.
const (
	// HeldTTLUnset: the reconcile found no time to live for held events
	// (it would expire every one). Internal.
	HeldTTLUnset = "HELD_TTL_UNSET"
)
