package mfa

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/sottohq/sotto/pkg/errs"
)

// WebAuthn defaults.
const (
	DefaultRPDisplayName    = "Sotto"
	DefaultCeremonyTimeout  = 5 * time.Minute
	UserHandleSize          = 32
	minUserHandleSize       = 16
	maxUserHandleSize       = 64 // WebAuthn §5.4.3
	maxCeremonyBytes        = 16 << 10
	ceremonyEnvelopeVersion = 1
)

// CredentialKind says what a WebAuthn credential is registered for.
type CredentialKind int

const (
	// SecondFactor is a security key or platform authenticator used after
	// the password (user presence required, verification preferred).
	SecondFactor CredentialKind = iota + 1
	// Passkey is a discoverable credential used instead of the password:
	// resident key and user verification are required at registration and
	// at every login.
	Passkey
)

// WebAuthnConfig is the relying party.
type WebAuthnConfig struct {
	// RPID is the relying party id, the registrable domain the credentials
	// are scoped to (e.g. "sotto.example"); required.
	RPID string
	// RPDisplayName is shown by authenticators; DefaultRPDisplayName when empty.
	RPDisplayName string
	// RPOrigins are the exact origins (scheme://host[:port]) ceremonies may
	// come from; at least one.
	RPOrigins []string
	// CeremonyTimeout bounds a ceremony from Begin to Finish;
	// DefaultCeremonyTimeout when zero.
	CeremonyTimeout time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// WebAuthn runs WebAuthn registration and login ceremonies (second factor and
// passkeys) on github.com/go-webauthn/webauthn, with plain types in and out.
//
// A ceremony is Begin → the client's navigator.credentials call → Finish.
// Begin returns a Challenge: Options go to the client, Ceremony (the
// challenge and what the ceremony expects) is kept by the server and given
// back to Finish exactly once. The store MUST take it once (delete on read,
// keyed by a ceremony id it gives the client) and drop it at ExpiresAt:
// replaying a response against a ceremony still stored would verify again,
// since WebAuthn's challenge is only single-use if the relying party makes it
// so. The bytes are never handed to the client (they are not signed).
//
// Sign counters: an assertion whose counter does not exceed the stored one
// (when either is non-zero) is refused as WEBAUTHN_SIGN_COUNT_REGRESSED. The
// WebAuthn spec (§7.2 step 21) leaves the choice to the relying party; Sotto
// refuses because a regressed counter is the one signal that a credential's
// private key was cloned, and authenticators that do not count (synced
// passkeys) always send 0, which never trips it. The caller stores the new
// counter with a compare-and-set on the old one.
//
// Attestation is not requested ("none"): a credential's AAGUID and its
// hardware/software nature are the authenticator's claims.
type WebAuthn struct {
	wa      *webauthn.WebAuthn
	timeout time.Duration
	now     func() time.Time
}

// NewWebAuthn returns a relying party for cfg.
func NewWebAuthn(cfg WebAuthnConfig) (*WebAuthn, error) {
	if cfg.RPDisplayName == "" {
		cfg.RPDisplayName = DefaultRPDisplayName
	}
	if cfg.CeremonyTimeout <= 0 {
		cfg.CeremonyTimeout = DefaultCeremonyTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RPID == "" || len(cfg.RPOrigins) == 0 {
		return nil, errs.E(errs.InvalidArgument, ReasonWebAuthnConfigInvalid, "WebAuthn needs an RP ID and at least one origin")
	}
	timeout := webauthn.TimeoutConfig{Enforce: true, Timeout: cfg.CeremonyTimeout, TimeoutUVD: cfg.CeremonyTimeout}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  cfg.RPID,
		RPDisplayName:         cfg.RPDisplayName,
		RPOrigins:             cfg.RPOrigins,
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts:              webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, errs.Wrap(err, errs.InvalidArgument, ReasonWebAuthnConfigInvalid, "invalid WebAuthn relying party configuration")
	}
	return &WebAuthn{wa: wa, timeout: cfg.CeremonyTimeout, now: cfg.Now}, nil
}

// NewUserHandle returns a random user handle for an account: WebAuthn's
// user.id, stored by authenticators and returned in every passkey
// assertion, so it must be neither the account id (stable across systems)
// nor personal data. The caller stores one per account.
func NewUserHandle() ([]byte, error) { return randomBytes(UserHandleSize) }

// User is the account side of a ceremony.
type User struct {
	// Handle is the account's user handle (NewUserHandle).
	Handle []byte
	// Label is the account name authenticators show (in a passkey chooser);
	// like a TOTP label it must not be personal data. Registration needs
	// it; a login sends none.
	Label string
	// Credentials are the account's registered WebAuthn credentials.
	Credentials []Credential
}

// Credential is a registered WebAuthn credential as the store keeps it. The
// store MUST keep ID unique across all accounts.
type Credential struct {
	// ID is the credential id the authenticator chose (≤ 1023 bytes).
	ID []byte
	// PublicKey is the COSE_Key of the credential.
	PublicKey []byte
	// AttestationFormat is the attestation statement format at
	// registration ("none", "packed", "fido-u2f", ...).
	AttestationFormat string
	// AAGUID identifies the authenticator model (16 bytes, unattested).
	AAGUID []byte
	// SignCount is the last signature counter seen.
	SignCount uint32
	// Transports are the client's hints (usb, nfc, ble, internal, hybrid).
	Transports []string
	// UserVerified is set once the authenticator has verified the user.
	UserVerified bool
	// BackupEligible: the credential may be synced (a multi-device passkey).
	BackupEligible bool
	// BackupState: the credential is currently backed up.
	BackupState bool
	// Kind is what it was registered for.
	Kind CredentialKind
}

// Challenge is the first half of a ceremony.
type Challenge struct {
	// Options is the JSON for the client: {"publicKey": {...}}, the
	// argument of navigator.credentials.create or .get.
	Options []byte
	// Ceremony is the server's state: stored until ExpiresAt, given back to
	// Finish once, never sent to the client.
	Ceremony []byte
	// ExpiresAt is when Finish stops accepting the ceremony.
	ExpiresAt time.Time
}

// LoginResult is a verified assertion.
type LoginResult struct {
	// Credential is the credential used, with its sign count and flags
	// updated: the caller stores it (compare-and-set on the old SignCount).
	Credential Credential
	// Assurance is what the assertion proved.
	Assurance Assurance
}

// PasskeyLoginResult is a verified passkey assertion.
type PasskeyLoginResult struct {
	LoginResult
	// UserHandle is the handle of the account that logged in.
	UserHandle []byte
}

// UserLookup finds the account with a user handle for a passkey login. It
// returns (nil, nil) for an unknown handle and an error only when it cannot
// tell (the store is down), which then fails the login as it is.
type UserLookup func(ctx context.Context, handle []byte) (*User, error)

type ceremonyKind string

const (
	ceremonyRegisterSecondFactor ceremonyKind = "register-second-factor"
	ceremonyRegisterPasskey      ceremonyKind = "register-passkey"
	ceremonyLogin                ceremonyKind = "login"
	ceremonyPasskeyLogin         ceremonyKind = "passkey-login"
)

// ceremony is the stored form of a ceremony: the library's session plus the
// kind, so one kind's state cannot finish another, and the deadline on this
// package's clock.
type ceremony struct {
	Version   int                  `json:"v"`
	Kind      ceremonyKind         `json:"kind"`
	ExpiresAt time.Time            `json:"expires_at"`
	Session   webauthn.SessionData `json:"session"`
}

// BeginRegistration starts registering a credential of kind for user.
// Credentials the user already has are excluded, so an authenticator is not
// registered twice.
func (w *WebAuthn) BeginRegistration(user User, kind CredentialKind) (*Challenge, error) {
	if err := user.validate(true); err != nil {
		return nil, err
	}
	var (
		sel protocol.AuthenticatorSelection
		ck  ceremonyKind
	)
	switch kind {
	case SecondFactor:
		sel = protocol.AuthenticatorSelection{ResidentKey: protocol.ResidentKeyRequirementDiscouraged, UserVerification: protocol.VerificationPreferred}
		ck = ceremonyRegisterSecondFactor
	case Passkey:
		sel = protocol.AuthenticatorSelection{ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(), UserVerification: protocol.VerificationRequired}
		ck = ceremonyRegisterPasskey
	default:
		return nil, errs.E(errs.InvalidArgument, ReasonWebAuthnUserInvalid, "unknown credential kind")
	}
	creation, session, err := w.wa.BeginRegistration(libUser{&user},
		webauthn.WithAuthenticatorSelection(sel),
		webauthn.WithExclusions(libCredentials(user.Credentials).CredentialDescriptors()))
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, ReasonWebAuthnBeginFailed, "cannot start the WebAuthn ceremony")
	}
	return w.challenge(ck, creation, session)
}

// FinishRegistration verifies the client's response (the JSON of the
// PublicKeyCredential from navigator.credentials.create) against the
// ceremony and returns the new credential for the caller to store.
func (w *WebAuthn) FinishRegistration(user User, ceremonyBytes, response []byte) (*Credential, error) {
	if err := user.validate(true); err != nil {
		return nil, err
	}
	c, err := w.openCeremony(ceremonyBytes, ceremonyRegisterSecondFactor, ceremonyRegisterPasskey)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, errs.Wrap(err, errs.InvalidArgument, ReasonWebAuthnResponseMalformed, "the WebAuthn response is malformed")
	}
	cred, err := w.wa.CreateCredential(libUser{&user}, c.Session, parsed)
	if err != nil {
		return nil, verificationFailed(err)
	}
	for _, have := range user.Credentials {
		if bytes.Equal(have.ID, cred.ID) {
			return nil, errs.E(errs.AlreadyExists, ReasonWebAuthnCredentialExists, "this authenticator is already registered")
		}
	}
	out := fromLib(cred)
	out.Kind = SecondFactor
	if c.Kind == ceremonyRegisterPasskey {
		out.Kind = Passkey
	}
	return &out, nil
}

// BeginLogin starts a second-factor assertion for user, limited to the
// user's credentials.
func (w *WebAuthn) BeginLogin(user User) (*Challenge, error) {
	if err := user.validate(false); err != nil {
		return nil, err
	}
	if len(user.Credentials) == 0 {
		return nil, errs.E(errs.FailedPrecondition, ReasonWebAuthnNoCredentials, "no WebAuthn credential is registered")
	}
	assertion, session, err := w.wa.BeginLogin(libUser{&user}, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, ReasonWebAuthnBeginFailed, "cannot start the WebAuthn ceremony")
	}
	return w.challenge(ceremonyLogin, assertion, session)
}

// FinishLogin verifies a second-factor assertion (the JSON of the
// PublicKeyCredential from navigator.credentials.get) for user.
func (w *WebAuthn) FinishLogin(user User, ceremonyBytes, response []byte) (*LoginResult, error) {
	if err := user.validate(false); err != nil {
		return nil, err
	}
	c, err := w.openCeremony(ceremonyBytes, ceremonyLogin)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, errs.Wrap(err, errs.InvalidArgument, ReasonWebAuthnResponseMalformed, "the WebAuthn response is malformed")
	}
	cred, err := w.wa.ValidateLogin(libUser{&user}, c.Session, parsed)
	if err != nil {
		return nil, verificationFailed(err)
	}
	return w.loginResult(user, cred, false)
}

// BeginPasskeyLogin starts a passwordless login with a discoverable
// credential: no user is named, the authenticator offers its passkeys for
// the RP and verifies the user.
func (w *WebAuthn) BeginPasskeyLogin() (*Challenge, error) {
	assertion, session, err := w.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, ReasonWebAuthnBeginFailed, "cannot start the WebAuthn ceremony")
	}
	return w.challenge(ceremonyPasskeyLogin, assertion, session)
}

// FinishPasskeyLogin verifies a passkey assertion: lookup finds the account
// by the user handle the authenticator returned, and the credential must be
// one of that account's.
func (w *WebAuthn) FinishPasskeyLogin(ctx context.Context, ceremonyBytes, response []byte, lookup UserLookup) (*PasskeyLoginResult, error) {
	c, err := w.openCeremony(ceremonyBytes, ceremonyPasskeyLogin)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, errs.Wrap(err, errs.InvalidArgument, ReasonWebAuthnResponseMalformed, "the WebAuthn response is malformed")
	}
	var (
		found     *User
		lookupErr error
	)
	handler := func(_, handle []byte) (webauthn.User, error) {
		u, err := lookup(ctx, handle)
		switch {
		case err != nil:
			lookupErr = err
			return nil, err
		case u == nil:
			return nil, errs.E(errs.Unauthenticated, ReasonWebAuthnVerificationFailed, "unknown user handle")
		}
		if err := u.validate(false); err != nil {
			lookupErr = err
			return nil, err
		}
		found = u
		return libUser{u}, nil
	}
	_, cred, err := w.wa.ValidatePasskeyLogin(handler, c.Session, parsed)
	if lookupErr != nil {
		return nil, lookupErr
	}
	if err != nil {
		return nil, verificationFailed(err)
	}
	res, err := w.loginResult(*found, cred, true)
	if err != nil {
		return nil, err
	}
	return &PasskeyLoginResult{LoginResult: *res, UserHandle: bytes.Clone(found.Handle)}, nil
}

func (w *WebAuthn) loginResult(user User, cred *webauthn.Credential, passwordless bool) (*LoginResult, error) {
	if cred.Authenticator.CloneWarning {
		return nil, errs.E(errs.Unauthenticated, ReasonWebAuthnSignCountRegressed, "the authenticator's signature counter went backwards")
	}
	out := fromLib(cred)
	for _, have := range user.Credentials {
		if bytes.Equal(have.ID, out.ID) {
			// What the assertion does not carry stays as registered.
			out.Kind = have.Kind
			out.AttestationFormat = have.AttestationFormat
			out.Transports = have.Transports
		}
	}
	return &LoginResult{Credential: out, Assurance: webAuthnAssurance(out.BackupEligible, passwordless)}, nil
}

func (w *WebAuthn) challenge(kind ceremonyKind, options any, session *webauthn.SessionData) (*Challenge, error) {
	opts, err := json.Marshal(options)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, ReasonWebAuthnBeginFailed, "cannot encode the WebAuthn options")
	}
	c := ceremony{Version: ceremonyEnvelopeVersion, Kind: kind, ExpiresAt: w.now().Add(w.timeout), Session: *session}
	stored, err := json.Marshal(c)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, ReasonWebAuthnBeginFailed, "cannot encode the WebAuthn ceremony")
	}
	return &Challenge{Options: opts, Ceremony: stored, ExpiresAt: c.ExpiresAt}, nil
}

// openCeremony decodes stored ceremony bytes and checks their kind and deadline.
func (w *WebAuthn) openCeremony(b []byte, kinds ...ceremonyKind) (*ceremony, error) {
	var c ceremony
	if len(b) == 0 || len(b) > maxCeremonyBytes || json.Unmarshal(b, &c) != nil || c.Version != ceremonyEnvelopeVersion || c.Session.Challenge == "" {
		return nil, errs.E(errs.InvalidArgument, ReasonWebAuthnCeremonyInvalid, "the WebAuthn ceremony is not valid")
	}
	ok := false
	for _, k := range kinds {
		ok = ok || c.Kind == k
	}
	if !ok {
		return nil, errs.E(errs.InvalidArgument, ReasonWebAuthnCeremonyInvalid, "the WebAuthn ceremony is not valid")
	}
	if !w.now().Before(c.ExpiresAt) {
		return nil, errs.E(errs.FailedPrecondition, ReasonWebAuthnCeremonyExpired, "the WebAuthn ceremony expired; start again")
	}
	return &c, nil
}

// verificationFailed hides the library's detail (kept as the private cause).
func verificationFailed(err error) error {
	return errs.Wrap(err, errs.Unauthenticated, ReasonWebAuthnVerificationFailed, "the WebAuthn response did not verify")
}

// validate checks the handle, and the label when it is sent to the
// authenticator (registration); a login sends no label, so none is needed.
func (u *User) validate(withLabel bool) error {
	if n := len(u.Handle); n < minUserHandleSize || n > maxUserHandleSize {
		return errs.E(errs.InvalidArgument, ReasonWebAuthnUserInvalid, "the user handle must be %d-%d random bytes", minUserHandleSize, maxUserHandleSize)
	}
	if !withLabel {
		return nil
	}
	if err := validLabel(u.Label); err != nil {
		return errs.Wrap(err, errs.InvalidArgument, ReasonWebAuthnUserInvalid, "the user label must be 1-%d printable characters without ':' or '@'", maxLabelLen)
	}
	return nil
}

// libUser adapts User to the library's interface.
type libUser struct{ u *User }

func (l libUser) WebAuthnID() []byte          { return l.u.Handle }
func (l libUser) WebAuthnName() string        { return l.u.Label }
func (l libUser) WebAuthnDisplayName() string { return l.u.Label }
func (l libUser) WebAuthnCredentials() []webauthn.Credential {
	return libCredentials(l.u.Credentials)
}

func libCredentials(cs []Credential) webauthn.Credentials {
	out := make(webauthn.Credentials, len(cs))
	for i, c := range cs {
		out[i] = c.toLib()
	}
	return out
}

func (c Credential) toLib() webauthn.Credential {
	flags := protocol.FlagUserPresent
	if c.UserVerified {
		flags |= protocol.FlagUserVerified
	}
	if c.BackupEligible {
		flags |= protocol.FlagBackupEligible
	}
	if c.BackupState {
		flags |= protocol.FlagBackupState
	}
	transports := make([]protocol.AuthenticatorTransport, len(c.Transports))
	for i, t := range c.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID:                bytes.Clone(c.ID),
		PublicKey:         bytes.Clone(c.PublicKey),
		AttestationFormat: c.AttestationFormat,
		Transport:         transports,
		Flags:             webauthn.NewCredentialFlags(flags),
		Authenticator:     webauthn.Authenticator{AAGUID: bytes.Clone(c.AAGUID), SignCount: c.SignCount},
	}
}

func fromLib(c *webauthn.Credential) Credential {
	transports := make([]string, len(c.Transport))
	for i, t := range c.Transport {
		transports[i] = string(t)
	}
	return Credential{
		ID:                bytes.Clone(c.ID),
		PublicKey:         bytes.Clone(c.PublicKey),
		AttestationFormat: c.AttestationFormat,
		AAGUID:            bytes.Clone(c.Authenticator.AAGUID),
		SignCount:         c.Authenticator.SignCount,
		Transports:        transports,
		UserVerified:      c.Flags.UserVerified,
		BackupEligible:    c.Flags.BackupEligible,
		BackupState:       c.Flags.BackupState,
	}
}

// storedCredential is the encoding of a Credential in the store: versioned
// JSON, so a field added later does not misread older rows.
type storedCredential struct {
	Version           int      `json:"v"`
	ID                []byte   `json:"id"`
	PublicKey         []byte   `json:"public_key"`
	AttestationFormat string   `json:"attestation_format,omitempty"`
	AAGUID            []byte   `json:"aaguid,omitempty"`
	SignCount         uint32   `json:"sign_count"`
	Transports        []string `json:"transports,omitempty"`
	UserVerified      bool     `json:"user_verified,omitempty"`
	BackupEligible    bool     `json:"backup_eligible,omitempty"`
	BackupState       bool     `json:"backup_state,omitempty"`
	Kind              string   `json:"kind"`
}

const storedCredentialVersion = 1

var credentialKindNames = map[CredentialKind]string{SecondFactor: "second_factor", Passkey: "passkey"}

// MarshalCredential encodes c for the store (one blob per credential; the
// store keeps c.ID in its own unique column too).
func MarshalCredential(c Credential) ([]byte, error) {
	kind, ok := credentialKindNames[c.Kind]
	if !ok || len(c.ID) == 0 || len(c.PublicKey) == 0 {
		return nil, errs.E(errs.Internal, ReasonWebAuthnCredentialInvalid, "incomplete WebAuthn credential")
	}
	b, err := json.Marshal(storedCredential{
		Version: storedCredentialVersion, ID: c.ID, PublicKey: c.PublicKey, AttestationFormat: c.AttestationFormat,
		AAGUID: c.AAGUID, SignCount: c.SignCount, Transports: c.Transports, UserVerified: c.UserVerified,
		BackupEligible: c.BackupEligible, BackupState: c.BackupState, Kind: kind,
	})
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, ReasonWebAuthnCredentialInvalid, "cannot encode the WebAuthn credential")
	}
	return b, nil
}

// UnmarshalCredential decodes what MarshalCredential made. Anything else is
// an integrity fault of the server (Internal WEBAUTHN_CREDENTIAL_INVALID).
func UnmarshalCredential(b []byte) (Credential, error) {
	var s storedCredential
	bad := errs.E(errs.Internal, ReasonWebAuthnCredentialInvalid, "stored WebAuthn credential cannot be read")
	if err := json.Unmarshal(b, &s); err != nil || s.Version != storedCredentialVersion || len(s.ID) == 0 || len(s.PublicKey) == 0 {
		return Credential{}, bad
	}
	c := Credential{
		ID: s.ID, PublicKey: s.PublicKey, AttestationFormat: s.AttestationFormat, AAGUID: s.AAGUID,
		SignCount: s.SignCount, Transports: s.Transports, UserVerified: s.UserVerified,
		BackupEligible: s.BackupEligible, BackupState: s.BackupState,
	}
	for k, name := range credentialKindNames {
		if name == s.Kind {
			c.Kind = k
		}
	}
	if c.Kind == 0 {
		return Credential{}, bad
	}
	return c, nil
}
