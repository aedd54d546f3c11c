// Package reasons is the conversation service's catalogue of error reasons:
// the stable, machine-readable reasons its clients can branch on (the
// ErrorInfo of a failed call, domain conversation.sotto.dev) and the
// reasons it records on audit events. A reason is added here, never
// written inline.
package reasons

// Who may act.
const (
	// EndUserRequired: a call about conversations without a person's
	// access token. Unauthenticated.
	EndUserRequired = "END_USER_REQUIRED"
	// CustomerRequired: a call only the conversation's customer may make
	// (posting, closing, opening). PermissionDenied.
	CustomerRequired = "CUSTOMER_REQUIRED"
	// SupportAgentRequired: a staff member without the support_agent role.
	// PermissionDenied.
	SupportAgentRequired = "SUPPORT_AGENT_REQUIRED"
	// SubjectNotCaller: a customer filtering by another customer.
	// PermissionDenied.
	SubjectNotCaller = "SUBJECT_NOT_CALLER"
	// VisitorWebOnly: an anonymous visitor opening a conversation on a
	// channel other than web. InvalidArgument.
	VisitorWebOnly = "VISITOR_WEB_ONLY"
	// CustomerWebOnly: a customer opening a conversation on a channel
	// other than web chat (messaging and API conversations open through
	// their platforms).
	CustomerWebOnly = "CUSTOMER_WEB_ONLY"
)

// Conversations and messages.
const (
	// ConversationNotFound: no such conversation, or one the caller may not
	// see (a customer learns nothing about another's). NotFound.
	ConversationNotFound = "CONVERSATION_NOT_FOUND"
	// ConversationClosed: a message posted to a closed conversation.
	// FailedPrecondition.
	ConversationClosed = "CONVERSATION_CLOSED"
	// MessageNotFound: WatchConversation after a message the conversation
	// does not have. NotFound.
	MessageNotFound = "MESSAGE_NOT_FOUND"
	// TextInvalid: message text that is not valid UTF-8 or holds control
	// characters other than tab and line breaks. InvalidArgument.
	TextInvalid = "TEXT_INVALID"
	// PlaceholderConflict: a concurrent post in the same conversation
	// numbered a placeholder first, three times in a row. Aborted: retry.
	PlaceholderConflict = "PLACEHOLDER_CONFLICT"
	// TooManyValues: one message holds more new personal-data values than
	// a message may add (SOTTO_CONVERSATION_MAX_NEW_VALUES_PER_MESSAGE);
	// nothing was stored or tokenised. InvalidArgument.
	TooManyValues = "TOO_MANY_VALUES"
	// ConversationValueLimit: the conversation's placeholder map is full
	// (SOTTO_CONVERSATION_MAX_VALUES_PER_CONVERSATION); a message that
	// would add a value is refused, nothing stored. FailedPrecondition.
	ConversationValueLimit = "CONVERSATION_VALUE_LIMIT"
)

// The token vault and keys.
const (
	// TokenVaultUnavailable: the token vault could not tokenise the
	// message's personal data; nothing was stored. Unavailable: retry.
	TokenVaultUnavailable = "TOKENVAULT_UNAVAILABLE"
	// TokenizeFailed: the token vault refused the batch or one of its
	// items; nothing was stored. Internal.
	TokenizeFailed = "TOKENIZE_FAILED"
	// PseudonymEraseFailed: an erasure could not erase, in the token
	// vault, the pseudonym a linked messaging-platform user had as a
	// stranger; nothing was deleted here, and the erasure may be retried.
	PseudonymEraseFailed = "PSEUDONYM_ERASE_FAILED"
	// DigestKeyMissing: the keyed-digest key is not configured. Internal.
	DigestKeyMissing = "DIGEST_KEY_MISSING"
	// OutputUnsafe: the assistant's reply could not be checked for leaks.
	// Internal.
	OutputUnsafe = "OUTPUT_CHECK_FAILED"
)

// Messaging channels (WhatsApp, Messenger).
const (
	// ChannelIdentityNotFound: a delivery for a channel user the service
	// does not know. NotFound.
	ChannelIdentityNotFound = "CHANNEL_IDENTITY_NOT_FOUND"
	// ChannelKeyMissing: the keys of channel user digests or link codes are
	// not configured. Internal.
	ChannelKeyMissing = "CHANNEL_KEY_MISSING"
	// ChannelNotConfigured: no credentials for the shop's channel, or no
	// sender. FailedPrecondition (the delivery is retried).
	ChannelNotConfigured = "CHANNEL_NOT_CONFIGURED"
	// ChannelSendFailed: the platform refused the reply for good (an
	// unknown recipient, a closed messaging window). FailedPrecondition.
	ChannelSendFailed = "CHANNEL_SEND_FAILED"
	// ChannelUnavailable: the platform could not be reached, answered 5xx
	// or asked to slow down; the delivery is retried. Unavailable.
	ChannelUnavailable = "CHANNEL_UNAVAILABLE"
	// ChannelRecipientUnavailable: the token vault did not give the
	// recipient's platform id back for delivery. Unavailable (retried) or
	// FailedPrecondition (refused by its policy, erased).
	ChannelRecipientUnavailable = "CHANNEL_RECIPIENT_UNAVAILABLE"
	// ChannelLinkRequired: link codes are for messaging channels only.
	// InvalidArgument.
	ChannelLinkRequired = "CHANNEL_REQUIRED"
)

// End-to-end sealing (HPKE, internal/sealing).
const (
	// SealedInvalid: a sealed message that does not open (tampered, sealed
	// for another conversation or to another key); nothing was stored and
	// nothing says which part failed. InvalidArgument.
	SealedInvalid = "SEALED_INVALID"
	// SealingKeyUnknown: a key id the service never published (or a future
	// one). InvalidArgument.
	SealingKeyUnknown = "SEALING_KEY_UNKNOWN"
	// SealingKeyExpired: a key older than the previous period; fetch the
	// keys again (GetSealingKeys). FailedPrecondition.
	SealingKeyExpired = "SEALING_KEY_EXPIRED"
	// ReplyKeyInvalid: a sealed message without a reply key of the suite.
	// InvalidArgument.
	ReplyKeyInvalid = "REPLY_KEY_INVALID"
	// SealingKeyUnavailable: the service's key could not be derived.
	// Internal.
	SealingKeyUnavailable = "SEALING_KEY_UNAVAILABLE"
	// SealingFailed: the reply could not be sealed. Internal.
	SealingFailed = "SEALING_FAILED"
)

// Support agents, hand-off and re-identification.
const (
	// NotWaitingOnAgent: a support agent took a conversation that is not
	// waiting on an agent (open or closed). FailedPrecondition.
	NotWaitingOnAgent = "NOT_WAITING_ON_AGENT"
	// AlreadyAssigned: another support agent took the conversation first;
	// it stays theirs. FailedPrecondition.
	AlreadyAssigned = "ALREADY_ASSIGNED"
	// NotAssignedAgent: an agent replied to a conversation assigned to
	// someone else, or to nobody. PermissionDenied.
	NotAssignedAgent = "NOT_ASSIGNED_AGENT"
	// PlaceholderNotFound: a placeholder the conversation never gave out.
	// NotFound.
	PlaceholderNotFound = "PLACEHOLDER_NOT_FOUND"
	// RevealDenied: the token vault's policy shows the caller neither the
	// value nor a masked view of it. PermissionDenied.
	RevealDenied = "REVEAL_DENIED"
	// ReidentifiedCustomersOnly: a re-identified view asked for by anyone
	// but the conversation's customer (support agents reveal one value at
	// a time, RevealValue). PermissionDenied.
	ReidentifiedCustomersOnly = "REIDENTIFIED_CUSTOMERS_ONLY"
	// HandOffReasonInvalid: a hand-off without a reason the API knows.
	// InvalidArgument.
	HandOffReasonInvalid = "HAND_OFF_REASON_INVALID"
	// RevealFailed: the token vault answered a reveal with an error other
	// than a refusal of the person. Internal.
	RevealFailed = "REVEAL_FAILED"

	// On audit events (conversation.hand_off, conversation.reveal): why a
	// conversation was handed off, and what a reveal showed.
	HandOffCustomerRequest    = "CUSTOMER_REQUEST"
	HandOffAssistant          = "ASSISTANT_CANNOT_HELP"
	HandOffSuspiciousActivity = "SUSPICIOUS_ACTIVITY"
	RevealedValue             = "REVEALED_VALUE"
	RevealedMasked            = "REVEALED_MASKED"
)

// Data-subject requests and retention.
const (
	// SubjectRestricted: a message to a conversation whose customer's
	// processing is restricted (GDPR Art. 18, a data-subject request); it
	// was neither stored nor answered. FailedPrecondition.
	SubjectRestricted = "SUBJECT_RESTRICTED"
	// FieldNotRectifiable: a correction of a conversation category (a
	// transcript records what was said; values are the token vault's).
	FieldNotRectifiable = "FIELD_NOT_RECTIFIABLE"
	// NoRawValues: why rectification does not apply to conversations
	// (evidence detail).
	NoRawValues = "NO_RAW_VALUES"
)

// Suspicious activity (internal/signals).
const (
	// MessagesThrottled: the conversation, account, visitor or address
	// sent messages faster than the shop's signals policy allows; the
	// ErrorInfo's retry_after_seconds says when to try again.
	// ResourceExhausted.
	MessagesThrottled = "MESSAGES_THROTTLED"
	// SessionBlocked: a suspicious-activity signal blocked the
	// conversation, account, visitor or address until a staff member
	// clears it or it expires. PermissionDenied.
	SessionBlocked = "SESSION_BLOCKED"
	// SignalPolicyInvalid: the signals policy file cannot be read or
	// holds an unknown or inconsistent rule; the service does not start.
	// InvalidArgument.
	SignalPolicyInvalid = "SIGNAL_POLICY_INVALID"
	// SignalNotFound: no such signal. NotFound.
	SignalNotFound = "SIGNAL_NOT_FOUND"
	// StaffRequired: signals are for support agents and administrators.
	// PermissionDenied.
	StaffRequired = "STAFF_REQUIRED"
)

// Integrators over gRPC (a messaging or CRM platform's client, ADR 0014).
const (
	// IntegratorScopeRequired: a token on IngestChannelMessage must be an
	// integrator client's with the conversation.ingest scope.
	// PermissionDenied.
	IntegratorScopeRequired = "INTEGRATOR_SCOPE_REQUIRED"
	// TenantMismatch: the request names another tenant than the client's.
	// PermissionDenied.
	TenantMismatch = "TENANT_MISMATCH"
	// APIChannelRequired: an integrator posts on CHAT_CHANNEL_API only,
	// and only an integrator does. InvalidArgument.
	APIChannelRequired = "API_CHANNEL_REQUIRED"
)
