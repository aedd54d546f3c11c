// Package reasons is identity's catalogue of error reasons: the stable,
// machine-readable reasons its clients can branch on (the ErrorInfo of a
// failed call, domain identity.sotto.dev) and the reasons identity records
// on the audit events of refused and failed operations. A reason is added
// here, never written inline.
//
// The MFA package's reasons (TOTP_*, RECOVERY_CODE_*, WEBAUTHN_*, MFA_*)
// reach clients unchanged; they are declared in internal/mfa.
package reasons

// Authentication and accounts.
const (
	// LoginFailed: unknown account, wrong password, locked or throttled
	// account, account without a password: one answer for all, so that an
	// answer never tells whether an address has an account.
	LoginFailed = "LOGIN_FAILED"
	// EmailNotVerified: the password was right but the account's address
	// was never verified; no session is started until it is (whoever
	// signed up with an address they do not own must not hold a session,
	// a factor or a passkey on it). Given only after a correct password,
	// which proves more than the answer tells.
	EmailNotVerified = "EMAIL_NOT_VERIFIED"
	// PasswordTooShort / PasswordTooLong: NIST SP 800-63B lengths (8 with a
	// second factor, 15 without; at most 128), in Unicode code points.
	PasswordTooShort = "PASSWORD_TOO_SHORT"
	PasswordTooLong  = "PASSWORD_TOO_LONG"
	// PasswordTooWeak: common, breached-list or guessable (zxcvbn score).
	PasswordTooWeak = "PASSWORD_TOO_WEAK"
	// PasswordInvalid: not valid UTF-8 or with control characters.
	PasswordInvalid = "PASSWORD_INVALID"
	// PasswordCheckFailed: the strength check itself failed; the password
	// is refused (fail closed).
	PasswordCheckFailed = "PASSWORD_CHECK_FAILED"
	// PasswordHashBusy: every password-hash slot stayed busy until the
	// request's deadline.
	PasswordHashBusy = "PASSWORD_HASH_BUSY"
	// PasswordHashInvalid: a stored hash that does not parse (an integrity
	// fault of the server).
	PasswordHashInvalid = "PASSWORD_HASH_INVALID"
	// CurrentPasswordWrong: ChangePassword's current password is wrong.
	CurrentPasswordWrong = "CURRENT_PASSWORD_WRONG"
	// EmailInvalid / PhoneInvalid: not an address or number the vault takes.
	EmailInvalid = "EMAIL_INVALID"
	PhoneInvalid = "PHONE_INVALID"
	// TenantRequired: SignUp or CreateClient without a tenant (an empty
	// tenant is staff's).
	TenantRequired = "TENANT_REQUIRED"
	// TenantUnknown: SignUp in a shop the token vault does not serve (shops
	// are public, so saying so tells nothing about anyone). Login and
	// password-reset requests answer an unknown shop as they answer an
	// unknown address, so it never reaches them.
	TenantUnknown = "TENANT_UNKNOWN"
	// CodeInvalid: a verification, reset or password-set code that is
	// unknown, used or expired.
	CodeInvalid = "CODE_INVALID"
	// AccountNotFound: the account of a valid token or session is gone.
	AccountNotFound = "ACCOUNT_NOT_FOUND"
	// AccountExists: an account with that login name exists (internal: the
	// API answers SignUp the same either way).
	AccountExists = "ACCOUNT_EXISTS"
	// AdminExists: BootstrapAdmin once an admin exists.
	AdminExists = "ADMIN_EXISTS"
	// RequestIDReused: a request_id reused with different content.
	RequestIDReused = "REQUEST_ID_REUSED"
	// RoleInvalid: a staff role that does not exist.
	RoleInvalid = "ROLE_INVALID"
)

// Throttling.
const (
	// SourceThrottled: the client's source address made too many attempts;
	// the error carries a retry delay.
	SourceThrottled = "SOURCE_THROTTLED"
	// CredentialStuffing: recorded on the audit event raised when one source
	// fails against many accounts.
	CredentialStuffing = "CREDENTIAL_STUFFING_SUSPECTED"
	// AccountLocked: recorded on audit events (never answered: the client
	// gets LOGIN_FAILED or MFA_LOCKED).
	AccountLocked = "ACCOUNT_LOCKED"
	// MFALocked: too many wrong second-factor codes; try again later.
	MFALocked = "MFA_LOCKED"
)

// Sessions and tokens.
const (
	// RefreshTokenInvalid: unknown, expired or revoked refresh token.
	RefreshTokenInvalid = "REFRESH_TOKEN_INVALID"
	// RefreshTokenReused: a rotated refresh token presented again; the
	// session was revoked.
	RefreshTokenReused = "REFRESH_TOKEN_REUSED"
	// SessionNotFound: no such session of the caller's.
	SessionNotFound = "SESSION_NOT_FOUND"
	// SessionRevoked: the caller's session was revoked or expired.
	SessionRevoked = "SESSION_REVOKED"
	// EndUserRequired: a call about "the caller's account" without a valid
	// end-user access token.
	EndUserRequired = "END_USER_REQUIRED"
	// StaffOnly / RoleRequired: the end user lacks the kind or role.
	StaffOnly    = "STAFF_ONLY"
	RoleRequired = "ROLE_REQUIRED"
	// MFAEnrollmentRequired: a staff member without a second factor called
	// something other than enrolment.
	MFAEnrollmentRequired = "MFA_ENROLLMENT_REQUIRED"
	// StepUpRequired: the caller must authenticate again (StepUp) to reach
	// the level and age in the ErrorInfo metadata (required_aal,
	// max_age_seconds); pkg/enduser's reason, for identity's own checks.
	StepUpRequired = "STEP_UP_REQUIRED"
	// SecondFactorRequired: StepUp on an account without an active factor.
	SecondFactorRequired = "SECOND_FACTOR_REQUIRED"
	// TokenIssueFailed: the access token could not be signed.
	TokenIssueFailed = "TOKEN_ISSUE_FAILED"
	// RandomFailed: the system's random source failed.
	RandomFailed = "RANDOM_FAILED"
	// PageTokenInvalid is pkg/pagetoken's reason, named here for the audit.
	PageTokenInvalid = "INVALID_PAGE_TOKEN"
)

// Factors.
const (
	// FactorNotFound: no such factor of the caller's.
	FactorNotFound = "FACTOR_NOT_FOUND"
	// FactorNotPending: confirming a factor that is not a pending TOTP.
	FactorNotPending = "FACTOR_NOT_PENDING"
	// CeremonyNotFound: a WebAuthn ceremony that is unknown, used, expired
	// or another caller's.
	CeremonyNotFound = "WEBAUTHN_CEREMONY_NOT_FOUND"
	// TooManyFactors: the account has as many factors as allowed.
	TooManyFactors = "TOO_MANY_FACTORS"
)

// Integrator clients.
const (
	// ClientAuthFailed: unknown, revoked or wrongly authenticated client
	// (RFC 6749 invalid_client); one answer for all.
	ClientAuthFailed = "CLIENT_AUTH_FAILED"
	// ClientAssertionInvalid: a private-key JWT that does not verify, is
	// expired, for another audience, or replayed.
	ClientAssertionInvalid = "CLIENT_ASSERTION_INVALID"
	// ClientCredentialsAmbiguous: both or neither of a secret and an
	// assertion.
	ClientCredentialsAmbiguous = "CLIENT_CREDENTIALS_AMBIGUOUS"
	// ScopeNotAllowed: a scope the client was not registered with.
	ScopeNotAllowed = "SCOPE_NOT_ALLOWED"
	// PublicKeyInvalid: CreateClient's JWK is not an Ed25519 public key.
	PublicKeyInvalid = "PUBLIC_KEY_INVALID"
	// ClientNotFound: no such client.
	ClientNotFound = "CLIENT_NOT_FOUND"
)

// Dependencies and internals.
const (
	// VaultUnavailable: the token vault did not answer (contact details
	// cannot be tokenised or looked up).
	VaultUnavailable = "VAULT_UNAVAILABLE"
	// VaultRefused: the token vault refused identity's request (policy).
	VaultRefused = "VAULT_REFUSED"
	// NotifyFailed: a message could not be handed to the notifier.
	NotifyFailed = "NOTIFY_FAILED"
	// StoreInvariant: a stored row breaks an invariant of the schema.
	StoreInvariant = "STORE_INVARIANT"
	// Internal is recorded on the audit event of a failure that carried no
	// reason of its own.
	Internal = "INTERNAL"
	// ResetMailsCapped is recorded (never answered) when an account got
	// its hour's share of password-reset mails.
	ResetMailsCapped = "RESET_MAILS_CAPPED"
	// CRMSyncUnavailable: crmsync did not record a customer event (the
	// job is retried).
	CRMSyncUnavailable = "CRMSYNC_UNAVAILABLE"
	// CRMEventRefused: crmsync refused a customer event (the job is dead).
	CRMEventRefused = "CRM_EVENT_REFUSED"
	// CRMEventInvalid: a customer event job's arguments do not parse.
	CRMEventInvalid = "CRM_EVENT_INVALID"
)

// Data-subject requests (sotto.privacy.v1): the refused_reason of a
// correction and the reason codes of evidence details. None names another
// account or quotes a value.
const (
	// ValueInvalid: a correction's value is not an e-mail address or phone
	// number identity (and the token vault) accepts.
	ValueInvalid = "VALUE_INVALID"
	// EmailNotAvailable: the corrected address cannot be the account's
	// login name in its shop (it is taken). Which account holds it is not
	// said, and nothing about that account changes.
	EmailNotAvailable = "EMAIL_NOT_AVAILABLE"
	// FieldNotRectifiable: a correction of a field identity does not let
	// be corrected (only identity.account's email and phone are).
	FieldNotRectifiable = "FIELD_NOT_RECTIFIABLE"
	// NeededToAuthenticate: why a restriction does not apply to identity's
	// data (the evidence's details): the account is what authenticates the
	// subject, which serving them and exercising their rights need.
	NeededToAuthenticate = "NEEDED_TO_AUTHENTICATE_THE_SUBJECT"
)
