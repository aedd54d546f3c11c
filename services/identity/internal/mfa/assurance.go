package mfa

import "slices"

// Authenticator assurance levels (NIST SP 800-63B §4) as tokens carry them.
const (
	AAL1 = "aal1"
	AAL2 = "aal2"
)

// Authentication method reference values (RFC 8176 §2) the checks of this
// package yield. AMRPassword is not this package's, but the caller adds it
// after a password check, so the vocabulary lives in one place.
const (
	AMRPassword     = "pwd"
	AMROneTimeCode  = "otp"
	AMRHardwareKey  = "hwk"
	AMRSoftwareKey  = "swk"
	AMRUserPresence = "user"
	AMRMultiFactor  = "mfa"
)

// Assurance is what one successful check proved: its RFC 8176 methods and
// the level a session reaches with it.
type Assurance struct {
	// AMR lists the methods, without AMRPassword: the caller adds "pwd" and
	// "mfa" when this check was the second factor after a password.
	AMR []string
	// AAL is the level of the session once this check succeeded. Second
	// factors (TOTP, recovery code, WebAuthn after a password) are AAL2
	// only because the caller checked the password first; a passkey login
	// is AAL2 on its own (a multi-factor cryptographic authenticator: the
	// key plus the user verification the ceremony requires).
	AAL string
}

// Clone returns a copy the caller may modify.
func (a Assurance) Clone() Assurance {
	return Assurance{AMR: slices.Clone(a.AMR), AAL: a.AAL}
}

// TOTPAssurance is what a verified TOTP code yields: "otp", AAL2 with the
// password (RFC 8176: "otp" is a one-time password; a TOTP app is a
// single-factor OTP device in SP 800-63B §5.1.4).
func TOTPAssurance() Assurance { return Assurance{AMR: []string{AMROneTimeCode}, AAL: AAL2} }

// RecoveryCodeAssurance is what a recovery code yields: it is a look-up
// secret (SP 800-63B §5.1.2), single use, so RFC 8176's "otp" is the value
// that fits; AAL2 with the password, as SP 800-63B permits for look-up
// secrets. The caller records in its audit event that a recovery code (not
// a TOTP app) was used, and may decide to grant such a session less (e.g.
// only re-enrolment) than the level allows.
func RecoveryCodeAssurance() Assurance { return Assurance{AMR: []string{AMROneTimeCode}, AAL: AAL2} }

// webAuthnAssurance derives the methods of a WebAuthn assertion.
//
// "hwk" vs "swk": a credential that is not backup eligible (BE=0) is bound to
// one authenticator, whose key does not leave it: "hwk". A backup-eligible
// credential (a synced passkey) has key material that a sync fabric copies
// between devices, so it is "swk". Sotto asks for no attestation, so this is
// the authenticator's claim, not a verified fact; it never raises the AAL
// beyond 2, for which either kind qualifies.
//
// "user": the library requires the user-present flag on every assertion.
// "mfa": a passkey login (passwordless) requires user verification (PIN or
// biometric on the authenticator), which with possession of the key makes
// it multi-factor; the method of verification is not reported, so no more
// specific value ("pin", "fpt", "face") is claimed.
func webAuthnAssurance(backupEligible, passwordless bool) Assurance {
	a := Assurance{AAL: AAL2}
	if backupEligible {
		a.AMR = append(a.AMR, AMRSoftwareKey)
	} else {
		a.AMR = append(a.AMR, AMRHardwareKey)
	}
	a.AMR = append(a.AMR, AMRUserPresence)
	if passwordless {
		a.AMR = append(a.AMR, AMRMultiFactor)
	}
	return a
}
