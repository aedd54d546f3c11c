package mfa

// Error reasons of the MFA checks: stable, machine-readable values a client
// can branch on (they reach it as the ErrorInfo reason of a failed call).
// identity's catalogue (internal/reasons) points here for them. A reason is
// added here, never written inline.
const (
	// ReasonFactorRefInvalid: an account or factor id is missing (a wiring
	// fault in the caller, refused before anything is wrapped or unwrapped).
	ReasonFactorRefInvalid = "MFA_FACTOR_REF_INVALID"
	// ReasonSecretUnreadable: a stored secret does not open under its
	// account and factor (tampered, truncated, or moved from another
	// account's row) or its key version was retired.
	ReasonSecretUnreadable = "MFA_SECRET_UNREADABLE"
	// ReasonRandomFailed: the system's random source failed.
	ReasonRandomFailed = "MFA_RANDOM_FAILED"
	// ReasonKeyManagerRequired: a constructor got no KeyManager or key name.
	ReasonKeyManagerRequired = "MFA_KEY_MANAGER_REQUIRED"

	// ReasonTOTPCodeMalformed: a TOTP code that is not exactly six digits.
	ReasonTOTPCodeMalformed = "TOTP_CODE_MALFORMED"
	// ReasonTOTPCodeInvalid: a well-formed code that matches no time step
	// in the accepted window.
	ReasonTOTPCodeInvalid = "TOTP_CODE_INVALID"
	// ReasonTOTPCodeReplayed: a code whose time step was already used.
	ReasonTOTPCodeReplayed = "TOTP_CODE_REPLAYED"
	// ReasonTOTPLabelInvalid: an account label that is empty, too long,
	// not printable, contains ':' or looks like an e-mail address.
	ReasonTOTPLabelInvalid = "TOTP_LABEL_INVALID"
	// ReasonTOTPEnrolmentExpired: a pending enrolment confirmed too late.
	ReasonTOTPEnrolmentExpired = "TOTP_ENROLMENT_EXPIRED"
	// ReasonTOTPEnrolmentFailed: the key URI or QR code could not be made.
	ReasonTOTPEnrolmentFailed = "TOTP_ENROLMENT_FAILED"

	// ReasonRecoveryCodeMalformed: input that cannot be a recovery code
	// (wrong length or characters outside Crockford base32).
	ReasonRecoveryCodeMalformed = "RECOVERY_CODE_MALFORMED"
	// ReasonRecoveryCodeInvalid: a well-formed code that matches none of
	// the account's unused codes.
	ReasonRecoveryCodeInvalid = "RECOVERY_CODE_INVALID"

	// ReasonWebAuthnResponseMalformed: a client response that does not
	// parse as a WebAuthn credential.
	ReasonWebAuthnResponseMalformed = "WEBAUTHN_RESPONSE_MALFORMED"
	// ReasonWebAuthnVerificationFailed: a response that parses but does
	// not verify (origin, RP ID, challenge, signature, user, credential).
	ReasonWebAuthnVerificationFailed = "WEBAUTHN_VERIFICATION_FAILED"
	// ReasonWebAuthnSignCountRegressed: an assertion whose signature
	// counter did not advance past the stored one (a cloned authenticator).
	ReasonWebAuthnSignCountRegressed = "WEBAUTHN_SIGN_COUNT_REGRESSED"
	// ReasonWebAuthnCeremonyExpired: a ceremony finished after its deadline.
	ReasonWebAuthnCeremonyExpired = "WEBAUTHN_CEREMONY_EXPIRED"
	// ReasonWebAuthnCeremonyInvalid: stored ceremony bytes that do not
	// decode, or belong to another kind of ceremony.
	ReasonWebAuthnCeremonyInvalid = "WEBAUTHN_CEREMONY_INVALID"
	// ReasonWebAuthnNoCredentials: a second-factor login for an account
	// that has no WebAuthn credential.
	ReasonWebAuthnNoCredentials = "WEBAUTHN_NO_CREDENTIALS"
	// ReasonWebAuthnUserInvalid: a user handle or label the caller passed
	// that the package refuses (wrong size, PII-looking label).
	ReasonWebAuthnUserInvalid = "WEBAUTHN_USER_INVALID"
	// ReasonWebAuthnConfigInvalid: an RP configuration go-webauthn refuses.
	ReasonWebAuthnConfigInvalid = "WEBAUTHN_CONFIG_INVALID"
	// ReasonWebAuthnCredentialExists: registering a credential the account
	// already has.
	ReasonWebAuthnCredentialExists = "WEBAUTHN_CREDENTIAL_EXISTS"
	// ReasonWebAuthnCredentialInvalid: stored credential bytes that do not
	// decode (an integrity fault of the server).
	ReasonWebAuthnCredentialInvalid = "WEBAUTHN_CREDENTIAL_INVALID"
	// ReasonWebAuthnBeginFailed: the library could not build the options.
	ReasonWebAuthnBeginFailed = "WEBAUTHN_BEGIN_FAILED"
)
