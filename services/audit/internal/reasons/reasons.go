// Package reasons is the audit service's catalogue of error reasons: the
// stable, machine-readable ErrorInfo reasons (domain audit.sotto.dev) its
// clients can branch on. A reason is added here, never written inline.
package reasons

// Reasons of the audit service.
const (
	ActionNotOwned          = "ACTION_NOT_OWNED"
	AppendRateLimited       = "APPEND_RATE_LIMITED"
	AuditShuttingDown       = "AUDIT_SHUTTING_DOWN"
	CallerWorkloadForeign   = "CALLER_WORKLOAD_FOREIGN"
	CheckpointNotFound      = "CHECKPOINT_NOT_FOUND"
	CheckpointSignFailed    = "CHECKPOINT_SIGN_FAILED"
	EncodeFailed            = "ENCODE_FAILED"
	EntryCorrupt            = "ENTRY_CORRUPT"
	EventIdConflict         = "EVENT_ID_CONFLICT"
	EventNotFound           = "EVENT_NOT_FOUND"
	EventNotYetCheckpointed = "EVENT_NOT_YET_CHECKPOINTED"
	HmacKeyInvalid          = "HMAC_KEY_INVALID"
	HmacKeyMissing          = "HMAC_KEY_MISSING"
	InvalidOrigin           = "INVALID_ORIGIN"
	InvalidProofRequest     = "INVALID_PROOF_REQUEST"
	KeyDerivationFailed     = "KEY_DERIVATION_FAILED"
	NotSequencer            = "NOT_SEQUENCER"
	OccurTimeInFuture       = "OCCUR_TIME_IN_FUTURE"
	RandomFailed            = "RANDOM_FAILED"
	SigningKeyRotated       = "SIGNING_KEY_ROTATED"
	TreeContention          = "TREE_CONTENTION"
	TreeCorrupt             = "TREE_CORRUPT"
	TreeNodeMissing         = "TREE_NODE_MISSING"
	TreeSizeTooLarge        = "TREE_SIZE_TOO_LARGE"
	VerifierFailed          = "VERIFIER_FAILED"
)
