// Package reasons is the consent service's catalogue of error reasons: the
// stable, machine-readable reasons its clients can branch on (the ErrorInfo
// of a failed call, domain consent.sotto.dev) and the reasons it records on
// the audit events of refused operations. A reason is added here, never
// written inline.
package reasons

// The catalogue of purposes.
const (
	// PurposeUnknown: a purpose the catalogue does not have (Check, a grant,
	// a notice naming it). InvalidArgument.
	PurposeUnknown = "PURPOSE_UNKNOWN"
	// PurposeExists: CreatePurpose with an id the catalogue has.
	PurposeExists = "PURPOSE_EXISTS"
	// PurposeInvalid: a purpose that breaks the catalogue's rules (no name,
	// no legal basis, a sale/share purpose on a basis a GPC signal cannot
	// opt out of, ...). InvalidArgument.
	PurposeInvalid = "PURPOSE_INVALID"
	// UpdateMaskInvalid: an update_mask naming a field that cannot change.
	UpdateMaskInvalid = "UPDATE_MASK_INVALID"
	// PurposeRevisionMismatch: UpdatePurpose based on a revision that is
	// no longer the latest. Aborted: read it again and retry.
	PurposeRevisionMismatch = "PURPOSE_REVISION_MISMATCH"
	// PurposeRetired: a grant of a retired purpose. FailedPrecondition.
	PurposeRetired = "PURPOSE_RETIRED"
	// NotConsentBased: a grant or withdrawal of a purpose whose legal basis
	// is a contract or a legal obligation (nothing to grant or withdraw).
	// FailedPrecondition.
	NotConsentBased = "PURPOSE_NOT_CONSENT_BASED"
	// CatalogueInvalid: the catalogue file does not parse or breaks the
	// rules (the service does not start).
	CatalogueInvalid = "CATALOGUE_INVALID"
)

// Notices.
const (
	// NoticeVersionUnknown: a notice or notice version that does not exist.
	// InvalidArgument in a grant, NotFound in GetNoticeVersion.
	NoticeVersionUnknown = "NOTICE_VERSION_UNKNOWN"
	// NoticeLanguageUnknown: the notice version has no text in the language.
	NoticeLanguageUnknown = "NOTICE_LANGUAGE_UNKNOWN"
	// NoticeTextMismatch: the hash of the text shown is not the hash of the
	// notice version's text in that language.
	NoticeTextMismatch = "NOTICE_TEXT_MISMATCH"
	// NoticeNotForPurpose: the notice version does not ask for the purpose.
	NoticeNotForPurpose = "NOTICE_NOT_FOR_PURPOSE"
	// NoticeInvalid: a notice version with a language twice.
	NoticeInvalid = "NOTICE_INVALID"
)

// Who may act for whom.
const (
	// EndUserRequired: a call about a subject's consents without a
	// person's access token. Unauthenticated.
	EndUserRequired = "END_USER_REQUIRED"
	// SubjectNotCaller: a customer naming another subject. PermissionDenied.
	SubjectNotCaller = "SUBJECT_NOT_CALLER"
	// SubjectRequired: a staff member acting without naming the subject.
	SubjectRequired = "SUBJECT_REQUIRED"
	// PrivacyOfficerRequired: a staff member without the privacy_officer
	// role. PermissionDenied.
	PrivacyOfficerRequired = "PRIVACY_OFFICER_REQUIRED"
	// CustomersOnly: a Global Privacy Control signal comes from a
	// customer's own browser, never from staff. PermissionDenied.
	CustomersOnly = "CUSTOMERS_ONLY"
	// StepUpRequired: pkg/enduser's reason, named for the audit of staff
	// refused below aal2.
	StepUpRequired = "STEP_UP_REQUIRED"
)

// Records and receipts.
const (
	// RequestInvalid: a field the API's validation rules should have
	// refused (a channel, a jurisdiction, a request id) reached the domain.
	RequestInvalid = "REQUEST_INVALID"
	// RequestIDReused: a request_id reused with different content.
	RequestIDReused = "REQUEST_ID_REUSED"
	// ReceiptNotFound: no such receipt of the subject's.
	ReceiptNotFound = "RECEIPT_NOT_FOUND"
	// ReceiptSigningFailed: the receipt could not be signed (the key
	// manager failed); nothing is recorded.
	ReceiptSigningFailed = "RECEIPT_SIGNING_FAILED"
	// PageTokenInvalid is pkg/pagetoken's reason, named here for the audit.
	PageTokenInvalid = "INVALID_PAGE_TOKEN"
)

// Internals.
const (
	// StoreInvariant: a stored row breaks an invariant of the schema.
	StoreInvariant = "STORE_INVARIANT"
	// RandomFailed: the system's random source failed.
	RandomFailed = "RANDOM_FAILED"
	// RequestKeyMissing: the key of request-id digests is not configured,
	// so no decision can be recorded (a raw id is never stored instead).
	RequestKeyMissing = "REQUEST_KEY_MISSING"
)

// Deadlines of data-subject requests.
const (
	// JurisdictionUnsupported: a data-subject request for a jurisdiction
	// with no deadline rule. InvalidArgument.
	JurisdictionUnsupported = "JURISDICTION_UNSUPPORTED"
	// ExtensionNotAllowed: an extension the law does not allow (already
	// extended, or past the period within which the subject must be told).
	// FailedPrecondition.
	ExtensionNotAllowed = "EXTENSION_NOT_ALLOWED"
	// RequestOverdue: a pause asked of a request past its deadline (the
	// pause would move a missed deadline). FailedPrecondition.
	RequestOverdue = "REQUEST_OVERDUE"
	// ProofOfConsent: why consent records and receipts outlive an erasure
	// (GDPR Art. 7(1)): the legal ground in the erasure's evidence.
	ProofOfConsent = "PROOF_OF_CONSENT"
	// TenantRequired: a privacy officer's data-subject request names no
	// shop (tenant) for the customer. InvalidArgument.
	TenantRequired = "TENANT_REQUIRED"
)

// Data-subject requests.
const (
	// RequestTypeInvalid: a data-subject request of no known type.
	// InvalidArgument.
	RequestTypeInvalid = "REQUEST_TYPE_INVALID"
	// CorrectionsInvalid: a rectification without corrections, or
	// corrections on another type of request. InvalidArgument.
	CorrectionsInvalid = "CORRECTIONS_INVALID"
	// DuplicateRequest: an open request of the same type for the same
	// subject exists. AlreadyExists.
	DuplicateRequest = "DUPLICATE_REQUEST"
	// DSRNotFound: no such data-subject request (or another customer's).
	DSRNotFound = "REQUEST_NOT_FOUND"
	// DSRStateInvalid: the request is not in a state that allows the
	// change (verify a request that is not VERIFYING, pause a closed one,
	// ...). FailedPrecondition.
	DSRStateInvalid = "REQUEST_STATE_INVALID"
	// ParticipantFailed: a participant did not carry out its step (it was
	// unreachable or answered with an error); the step is retried.
	ParticipantFailed = "PARTICIPANT_FAILED"
	// ParticipantUnknown: a step names a participant this replica has no
	// client for. The step fails for good.
	ParticipantUnknown = "PARTICIPANT_UNKNOWN"
	// StepFailed: a step gave up after its attempts (a transition's
	// reason).
	StepFailed = "STEP_FAILED"
	// SealFailed: the corrections could not be sealed or unsealed with the
	// request key.
	SealFailed = "SEAL_FAILED"
	// ExportUnavailable: DownloadExport of a request that is not a
	// completed access or portability request. FailedPrecondition.
	ExportUnavailable = "EXPORT_UNAVAILABLE"
	// ExportExpired: the export's download period is over.
	// FailedPrecondition.
	ExportExpired = "EXPORT_EXPIRED"
	// ExportAlreadyDownloaded: the export was downloaded already (once
	// only). FailedPrecondition.
	ExportAlreadyDownloaded = "EXPORT_ALREADY_DOWNLOADED"
	// ExportAssemblyFailed: a participant's export could not be read at
	// download time; the download may be tried again. Unavailable.
	ExportAssemblyFailed = "EXPORT_ASSEMBLY_FAILED"
	// ExportTooLarge: the export is larger than one download carries; it
	// stays downloadable (nothing was marked). FailedPrecondition.
	ExportTooLarge = "EXPORT_TOO_LARGE"
)
