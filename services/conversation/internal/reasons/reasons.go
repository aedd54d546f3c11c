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
)

// The token vault and keys.
const (
	// TokenVaultUnavailable: the token vault could not tokenise the
	// message's personal data; nothing was stored. Unavailable: retry.
	TokenVaultUnavailable = "TOKENVAULT_UNAVAILABLE"
	// TokenizeFailed: the token vault refused the batch or one of its
	// items; nothing was stored. Internal.
	TokenizeFailed = "TOKENIZE_FAILED"
	// DigestKeyMissing: the keyed-digest key is not configured. Internal.
	DigestKeyMissing = "DIGEST_KEY_MISSING"
	// OutputUnsafe: the assistant's reply could not be checked for leaks.
	// Internal.
	OutputUnsafe = "OUTPUT_CHECK_FAILED"
)
