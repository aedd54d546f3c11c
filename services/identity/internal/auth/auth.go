// Package auth is identity's domain logic: accounts, passwords, sessions and
// their tokens, second factors and step-up, integrator clients and the
// revocation feed. It knows no gRPC: the server turns requests into calls
// here and results into responses.
//
// Every change that writes several rows is one transaction, with its audit
// event (through the audit outbox) and, for revocations, its event in the
// service's event log (pkg/events), so nothing is half-done and no
// revocation is lost: a session is revoked, recorded and announced together
// or not at all.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/identity/internal/contacts"
	"github.com/sottohq/sotto/services/identity/internal/mfa"
	"github.com/sottohq/sotto/services/identity/internal/notify"
	"github.com/sottohq/sotto/services/identity/internal/password"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
	"github.com/sottohq/sotto/services/identity/internal/storage"
	"github.com/sottohq/sotto/services/identity/internal/throttle"
)

// Contacts keeps contact details in the token vault (internal/contacts).
type Contacts interface {
	Tokenize(ctx context.Context, tenant, subject, email, phone string) (contacts.Tokens, error)
	TokenizePhone(ctx context.Context, tenant, subject, phone string) (string, error)
	LookupEmail(ctx context.Context, tenant, email, purpose string) (string, error)
	MaskEmail(ctx context.Context, tenant, token string) (string, error)
	KnownTenant(ctx context.Context, tenant string) (bool, error)
}

// Config is the domain's policy.
type Config struct {
	// SessionLifetime and StaffSessionLifetime bound a session from its
	// start, whatever the refreshes.
	SessionLifetime      time.Duration
	StaffSessionLifetime time.Duration
	// VerifyCodeLifetime, ResetCodeLifetime and SetPasswordCodeLifetime
	// bound the e-mailed codes.
	VerifyCodeLifetime      time.Duration
	ResetCodeLifetime       time.Duration
	SetPasswordCodeLifetime time.Duration
	// ResetMailsPerHour caps the reset codes mailed to one account in an
	// hour, whatever the sources asking: a flood of requests from many
	// addresses cannot fill one inbox.
	ResetMailsPerHour int
	// Login and MFA are the attempt schedules of passwords and of second
	// factor codes, per account.
	Login storage.Lockout
	MFA   storage.Lockout
	// RecentAuth is how recent an authentication must be for sensitive
	// changes to the caller's own account (delete it, add a factor when one
	// exists, remove a factor, new recovery codes).
	RecentAuth time.Duration
	// Skew is the clock skew verifiers allow; a revocation matters until
	// the last token it refuses expired plus this.
	Skew time.Duration
	// MaxFactors bounds the second factors of an account.
	MaxFactors int
	// ClientAudiences are the aud values a client assertion (RFC 7523) may
	// name: identity's issuer and its token endpoint URL.
	ClientAudiences []string
}

// DefaultConfig is the production policy.
func DefaultConfig() Config {
	return Config{
		SessionLifetime:         24 * time.Hour,
		StaffSessionLifetime:    8 * time.Hour,
		VerifyCodeLifetime:      24 * time.Hour,
		ResetCodeLifetime:       time.Hour,
		SetPasswordCodeLifetime: 72 * time.Hour,
		ResetMailsPerHour:       5,
		Login:                   storage.Lockout{Free: 5, Cap: 100, Base: time.Second, Max: 15 * time.Minute},
		MFA:                     storage.Lockout{Free: 5, Cap: 100, Base: time.Second, Max: 15 * time.Minute},
		RecentAuth:              15 * time.Minute,
		Skew:                    accesstoken.DefaultSkew,
		MaxFactors:              10,
	}
}

var _ Contacts = (*contacts.Vault)(nil)

// Deps are what the domain works with.
type Deps struct {
	Store    *storage.Store
	Hasher   *password.Hasher
	Policy   *password.Policy
	Contacts Contacts
	Notifier notify.Notifier
	Tokens   *accesstoken.Issuer
	TOTP     *mfa.TOTP
	Recovery *mfa.RecoveryCodes
	// WebAuthn is the relying party; nil turns WebAuthn off (FailedPrecondition).
	WebAuthn *mfa.WebAuthn
	Audit    *auditclient.Outbox
	Events   *events.Outbox
	Throttle *throttle.Limiter
	Metrics  *Metrics
	// SourceKey keys the pseudonyms of client sources in audit events.
	SourceKey []byte
	Logger    *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// OnSecondFactorCheck, if set, is called each time a second-factor code
	// (TOTP or recovery code) is compared with an account's secret. Tests
	// count evaluations with it.
	OnSecondFactorCheck func()
	// OnClientTokenSigning, if set, is called when a client token is about
	// to be signed (inside its transaction). Tests race a revocation
	// against it.
	OnClientTokenSigning func()
	// CustomerEvents records customers' sign-ups and profile changes for
	// the shop's CRMs (crmsync), in the transaction that makes them; nil
	// records none (no crmsync address configured).
	CustomerEvents CustomerEvents
}

// CustomerEvents takes a customer's creation or profile change, in the
// transaction that commits it, so that it is recorded exactly when the
// change is (internal/crmevents: a durable job that carries ids only).
type CustomerEvents interface {
	CustomerChanged(ctx context.Context, tx *sql.Tx, accountID string, created bool) error
}

// customerChanged hands a change to CustomerEvents, if any.
func (s *Service) customerChanged(ctx context.Context, tx *sql.Tx, accountID string, created bool) error {
	if s.CustomerEvents == nil {
		return nil
	}
	return s.CustomerEvents.CustomerChanged(ctx, tx, accountID, created)
}

// Service is the domain.
type Service struct {
	Deps
	cfg Config
	// sends are messages on their way to the notifier (deliverLater).
	sends sync.WaitGroup
	// wal empties SQLite's WAL after an erasure; RetryWAL finishes a scrub
	// readers held up.
	wal *store.Scrubber
	// shops remembers tenants the vault said exist (visitors.go).
	shops knownShops
}

// New returns the domain over deps.
func New(cfg Config, deps Deps) *Service {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Metrics == nil {
		deps.Metrics = NewMetrics(nil)
	}
	return &Service{Deps: deps, cfg: cfg, wal: deps.Store.WALScrubber(walTruncateTimeout)}
}

// Config is the domain's policy.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) now() time.Time { return s.Now().UTC() }

// Origin is where a request came from.
type Origin struct {
	// Source is the client's address (through the gateway) or the calling
	// workload, for throttling; never stored.
	Source string
	// UserAgent is the client's user agent, shortened, shown in session
	// lists.
	UserAgent string
}

// Caller is the verified end user of a call about "the caller's account".
type Caller struct {
	AccountID string
	SessionID string
	Kind      accesstoken.Kind
	Tenant    string
	Roles     []string
	AAL       int
	AuthTime  time.Time
}

// HasRole reports whether the caller has role.
func (c Caller) HasRole(role string) bool { return slices.Contains(c.Roles, role) }

// Tokens is what an authentication returns.
type Tokens struct {
	AccessToken    string
	AccessExpires  time.Time
	RefreshToken   string // "" when the call does not rotate it (step-up)
	SessionExpires time.Time
	SessionID      string
	AAL            int
}

// ids are 16 random bytes in lower-case base32 (26 characters) after a
// prefix: opaque, unguessable, and within every API's id pattern.
var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func newID(prefix string) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", errs.Wrap(err, errs.Internal, reasons.RandomFailed, "random source failed")
	}
	return prefix + "_" + strings.ToLower(idEncoding.EncodeToString(b)), nil
}

// newSecret returns 32 random bytes as base64url (43 characters): refresh
// tokens, e-mailed codes and client secrets. 256 bits cannot be guessed, so
// they are stored as plain SHA-256 (hashSecret), not a slow hash.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", errs.Wrap(err, errs.Internal, reasons.RandomFailed, "random source failed")
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// vaultTenant is the token vault's tenant of an identity tenant: staff
// ("") live in the vault's default tenant.
func vaultTenant(tenant string) string { return tenant }

// requireTenant refuses an empty tenant for a customer's sign-up or an
// integrator: the empty tenant is staff's.
func requireTenant(tenant, what string) error {
	if tenant == "" {
		return errs.E(errs.InvalidArgument, reasons.TenantRequired, "%s needs a shop (tenant)", what)
	}
	return nil
}

// loginKind is the kind of account a login in tenant is for: staff log in
// without a tenant, customers with their shop's.
func loginKind(tenant string) string {
	if tenant == "" {
		return storage.KindStaff
	}
	return storage.KindCustomer
}

func (s *Service) sessionLifetime(kind string) time.Duration {
	if kind == storage.KindStaff {
		return s.cfg.StaffSessionLifetime
	}
	return s.cfg.SessionLifetime
}

// event is an audit event about an account (its subject). An event about
// the subject's own account names it as the subject only: the audit log
// keys subjects (an HMAC under a key erasure forgets), but stores a
// resource id as written, where an erased customer's account id would
// outlive the erasure (outside probe, 2026-11-30).
func (s *Service) event(ctx context.Context, action auditclient.Action, outcome auditclient.Outcome, subject, resourceType, resourceID, reason string) auditclient.Event {
	if resourceType == ResourceAccount && resourceID == subject {
		resourceID = ""
	}
	e := auditclient.New(ctx, action, outcome)
	e.Subject, e.ResourceType, e.ResourceID, e.Reason = subject, resourceType, resourceID, reason
	return e
}

// record writes events through the outbox in a transaction of their own
// (refusals, which change nothing else).
func (s *Service) record(ctx context.Context, evs ...auditclient.Event) {
	// A client that hangs up right after its refusal must not keep the
	// refusal out of the log.
	ctx = context.WithoutCancel(ctx)
	err := s.Store.InTx(ctx, func(tx *sql.Tx) error { return s.Audit.Enqueue(ctx, tx, evs...) })
	if err != nil {
		// The refusal stands; its record is what failed.
		s.Logger.Error("cannot record audit event", slog.String("action", evs[0].Action), logging.Err(err))
	}
}

// sourcePseudonym is a stable pseudonym of a client source for audit
// events: the address itself is personal data.
func (s *Service) sourcePseudonym(src string) string {
	m := hmac.New(sha256.New, s.SourceKey)
	m.Write([]byte(src))
	return "src_" + hex.EncodeToString(m.Sum(nil))[:24]
}

// throttle takes an attempt from the source's bucket.
func (s *Service) throttle(o Origin) error {
	if s.Throttle == nil {
		return nil
	}
	if ok, retry := s.Throttle.Allow(o.Source); !ok {
		s.Metrics.Throttled.Inc()
		return &ThrottledError{RetryAfter: retry}
	}
	return nil
}

// failed records a failed attempt of the source against a login name (its
// deterministic token, so unknown names count as well).
func (s *Service) failed(o Origin, loginKey string) {
	if s.Throttle != nil && loginKey != "" {
		s.Throttle.Failure(o.Source, loginKey)
	}
}

// OnStuffing is the throttle's stuffing callback: an audit event naming the
// source's pseudonym, and the metric.
func (s *Service) OnStuffing(src string, accounts int) {
	s.Metrics.Stuffing.Inc()
	ctx := context.Background()
	s.record(ctx, s.event(ctx, ActionStuffing, auditclient.Denied, "", ResourceSource, s.sourcePseudonym(src), reasons.CredentialStuffing))
	s.Logger.Warn("credential stuffing suspected", slog.Int("accounts", accounts))
}

// ThrottledError is ResourceExhausted SOURCE_THROTTLED with the delay
// before the next attempt in the ErrorInfo metadata (retry_after_seconds;
// the gateway turns it into Retry-After).
type ThrottledError struct {
	RetryAfter time.Duration
}

// MetadataRetryAfter is the ErrorInfo metadata key of the retry delay.
const MetadataRetryAfter = "retry_after_seconds"

func (e *ThrottledError) Error() string {
	return "too many attempts; retry later (" + reasons.SourceThrottled + "): ResourceExhausted"
}

// GRPCStatus is the status with its ErrorInfo.
func (e *ThrottledError) GRPCStatus() *status.Status {
	secs := int((e.RetryAfter + time.Second - 1) / time.Second)
	return statusWithInfo(codes.ResourceExhausted, "too many attempts; retry later", reasons.SourceThrottled,
		map[string]string{MetadataRetryAfter: strconv.Itoa(max(secs, 1))})
}

func statusWithInfo(code codes.Code, msg, reason string, md map[string]string) *status.Status {
	st := status.New(code, msg)
	if with, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: errs.Domain, Metadata: md}); err == nil {
		return with
	}
	return st
}

// unproven: a customer account whose address was never verified gets no
// session (password or passkey). Staff accounts are made by an admin (their
// password-set code verifies the address) or by the operator's bootstrap.
func unproven(a storage.Account) bool {
	return a.Kind == storage.KindCustomer && !a.EmailVerified
}

func errEmailNotVerified() error {
	return errs.E(errs.FailedPrecondition, reasons.EmailNotVerified, "the e-mail address is not verified yet; use the code we sent to it")
}

func errLoginFailed() error {
	return errs.E(errs.Unauthenticated, reasons.LoginFailed, "the e-mail address or password is wrong")
}

// issue signs an access token for the session.
func (s *Service) issue(ctx context.Context, a storage.Account, sess storage.Session) (string, time.Time, error) {
	c := accesstoken.Claims{
		Subject: a.ID, Kind: accesstoken.Kind(a.Kind), Tenant: a.Tenant, SessionID: sess.ID,
		AAL: sess.AAL, AMR: sess.AMR, AuthTime: sess.AuthTime, Expiry: sess.Expires,
	}
	if a.Kind == storage.KindStaff {
		c.Roles = a.Roles
	}
	tok, claims, err := s.Tokens.IssueClaims(ctx, c)
	if err != nil {
		if errs.KindOf(err) == errs.Unavailable {
			return "", time.Time{}, err
		}
		return "", time.Time{}, errs.Wrap(err, errs.Internal, reasons.TokenIssueFailed, "cannot sign the access token")
	}
	return tok, claims.Expiry, nil
}

// revocationExpiry is when a revocation made now stops mattering: the last
// access token of the target issued before now has expired by then.
func (s *Service) revocationExpiry(now time.Time) time.Time {
	return now.Add(s.Tokens.Lifetime() + s.cfg.Skew)
}
