package auth

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sottohq/sotto/pkg/auditclient"
)

// Audit actions: every authentication event identity records. The audit
// service accepts identity.* from the identity workload only. No event holds
// personal data: the subject is the account id, resources are ids, a client
// source is a keyed pseudonym.
const (
	ActionSignUp      auditclient.Action = "identity.account.sign_up"
	ActionVerifyEmail auditclient.Action = "identity.account.verify_email"
	// ActionEmailChange: a corrected address became the login name with
	// its code (or was refused: taken meanwhile).
	ActionEmailChange     auditclient.Action = "identity.account.email_change"
	ActionLogin           auditclient.Action = "identity.login"
	ActionLock            auditclient.Action = "identity.account.lock"
	ActionLogout          auditclient.Action = "identity.logout"
	ActionRefreshReuse    auditclient.Action = "identity.session.refresh_reuse"
	ActionRevokeSession   auditclient.Action = "identity.session.revoke"
	ActionPasswordChange  auditclient.Action = "identity.password.change"
	ActionResetRequest    auditclient.Action = "identity.password.reset_request"
	ActionPasswordReset   auditclient.Action = "identity.password.reset"
	ActionDeleteAccount   auditclient.Action = "identity.account.delete"
	ActionMFAEnrol        auditclient.Action = "identity.mfa.enrol"
	ActionMFARemove       auditclient.Action = "identity.mfa.remove"
	ActionRecoveryCodes   auditclient.Action = "identity.mfa.recovery_codes"
	ActionMFALock         auditclient.Action = "identity.mfa.lock"
	ActionStepUp          auditclient.Action = "identity.step_up"
	ActionPasskeyLogin    auditclient.Action = "identity.login.passkey"
	ActionStaffCreate     auditclient.Action = "identity.staff.create"
	ActionBootstrapAdmin  auditclient.Action = "identity.admin.bootstrap"
	ActionClientCreate    auditclient.Action = "identity.client.create"
	ActionClientRevoke    auditclient.Action = "identity.client.revoke"
	ActionClientToken     auditclient.Action = "identity.client.token"
	ActionStuffing        auditclient.Action = "identity.credential_stuffing"
	ActionAccountExisting auditclient.Action = "identity.account.sign_up_existing"
	// Data-subject requests carried out for the consent service's
	// orchestrator (sotto.privacy.v1); the resource is the request.
	ActionPrivacyExport   auditclient.Action = "identity.privacy.export"
	ActionPrivacyErase    auditclient.Action = "identity.privacy.erase"
	ActionPrivacyRectify  auditclient.Action = "identity.privacy.rectify"
	ActionPrivacyRestrict auditclient.Action = "identity.privacy.restrict"
)

// Resource types of audit events.
const (
	ResourceAccount = "account"
	ResourceSession = "session"
	ResourceFactor  = "factor"
	ResourceClient  = "client"
	ResourceSource  = "client_source"
	// ResourcePrivacyRequest is a data-subject request (its id).
	ResourcePrivacyRequest = "privacy_request"
)

// Metrics are identity's Prometheus counters (no labels with personal data).
type Metrics struct {
	Logins    *prometheus.CounterVec
	Throttled prometheus.Counter
	Stuffing  prometheus.Counter
	Locks     prometheus.Counter
	Reuse     prometheus.Counter
}

// NewMetrics registers the counters on reg (nil: unregistered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "identity_logins_total", Help: "Password logins by outcome (ok, failed).",
		}, []string{"outcome"}),
		Throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "identity_throttled_total", Help: "Authentication attempts refused by the per-source limiter.",
		}),
		Stuffing: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "identity_credential_stuffing_signals_total", Help: "Sources flagged for failing against many accounts.",
		}),
		Locks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "identity_account_locks_total", Help: "Accounts whose password or second-factor counter started locking.",
		}),
		Reuse: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "identity_refresh_token_reuse_total", Help: "Rotated refresh tokens presented again (their sessions were revoked).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Logins, m.Throttled, m.Stuffing, m.Locks, m.Reuse)
	}
	return m
}
