package server_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/pkg/suite"
	"github.com/sottohq/sotto/services/identity/internal/auth"
	"github.com/sottohq/sotto/services/identity/internal/mfa"
	"github.com/sottohq/sotto/services/identity/internal/notify"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
	"github.com/sottohq/sotto/services/identity/internal/server"
	"github.com/sottohq/sotto/services/identity/internal/throttle"
	"github.com/sottohq/sotto/services/identity/migrations"
)

// TestNoEnumeration: an unknown address, a wrong password, a locked account
// and an account without a password get the same answer; sign-up and reset
// requests answer the same for known and unknown addresses; and every
// login pays one argon2id computation (of the account's hash or the dummy).
func TestNoEnumeration(t *testing.T) {
	h := sqlite(t, options{})
	h.signUp("shop", "known@example.com")
	ctx := from("10.0.0.2")
	dummies := h.dummies.Load()
	unknown, errUnknown := h.gw().Login(ctx, &identityv1.LoginRequest{Tenant: "shop", Email: "nobody@example.com", Password: strongPassword})
	if h.dummies.Load() != dummies+1 {
		t.Fatal("an unknown address's login computed no hash: it would answer faster")
	}
	before := h.pwChecks.Load()
	wrong, errWrong := h.gw().Login(ctx, &identityv1.LoginRequest{Tenant: "shop", Email: "known@example.com", Password: "not the password at all"})
	if unknown != nil || wrong != nil {
		t.Fatal("a failed login returned tokens")
	}
	if h.pwChecks.Load() != before+1 {
		t.Fatal("the wrong password was not evaluated")
	}
	for _, err := range []error{errUnknown, errWrong} {
		wantErr(t, err, codes.Unauthenticated, reasons.LoginFailed)
	}
	if grpcstatus.Convert(errUnknown).Message() != grpcstatus.Convert(errWrong).Message() {
		t.Fatalf("messages differ: %q vs %q", grpcstatus.Convert(errUnknown).Message(), grpcstatus.Convert(errWrong).Message())
	}
	// Sign-up with a taken address: the same empty answer, and the owner
	// gets a notice (no code) instead of a second account.
	accounts := h.count("accounts")
	if _, err := h.gw().SignUp(ctx, &identityv1.SignUpRequest{Tenant: "shop", Email: "known@example.com", Password: strongPassword}); err != nil {
		t.Fatalf("sign-up of a taken address: %v", err)
	}
	if h.count("accounts") != accounts {
		t.Fatal("a second account for one address")
	}
	if e := h.mail("known@example.com", notify.KindAccountExists); e.Code != "" {
		t.Fatal("the notice carries a code")
	}
	// Reset requests: the same answer; only a known address gets a code.
	for _, email := range []string{"known@example.com", "nobody@example.com"} {
		if _, err := h.gw().RequestPasswordReset(ctx, &identityv1.RequestPasswordResetRequest{Tenant: "shop", Email: email}); err != nil {
			t.Fatalf("reset request for %s: %v", email, err)
		}
	}
	h.app.Domain.Wait()
	if _, ok, _ := notify.Latest(h.mailbox, h.mailKey, "nobody@example.com", notify.KindResetPassword); ok {
		t.Fatal("an unknown address got a reset code")
	}
	h.mail("known@example.com", notify.KindResetPassword)
}

// TestParallelWrongPasswords fires 50 wrong passwords at one account at
// once (from 50 addresses, so the per-address limiter stays out of it) at a
// frozen instant: the lockout allows 5 consecutive failures before its first
// lock, so exactly 5 passwords may be evaluated. All 50 get LOGIN_FAILED,
// and then even the right password is refused without being evaluated.
func TestParallelWrongPasswords(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, options{})
		h.signUp("shop", "target@example.com")
		h.clock.freeze()
		before := h.pwChecks.Load()
		var wg sync.WaitGroup
		errs := make([]error, 50)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = h.gw().Login(from(fmt.Sprintf("192.0.2.%d", i+1)),
					&identityv1.LoginRequest{Tenant: "shop", Email: "target@example.com", Password: fmt.Sprintf("wrong guess number %02d!", i)})
			})
		}
		wg.Wait()
		for _, err := range errs {
			wantErr(t, err, codes.Unauthenticated, reasons.LoginFailed)
		}
		free := auth.DefaultConfig().Login.Free
		if got := h.pwChecks.Load() - before; got != int64(free) {
			t.Fatalf("%d of 50 parallel wrong passwords were evaluated; the policy allows %d", got, free)
		}
		_, err := h.gw().Login(from("198.51.100.1"), &identityv1.LoginRequest{Tenant: "shop", Email: "target@example.com", Password: strongPassword})
		wantErr(t, err, codes.Unauthenticated, reasons.LoginFailed)
		if got := h.pwChecks.Load() - before; got != int64(free) {
			t.Fatal("a password was evaluated while the account was locked")
		}
		if h.countAudited(auth.ActionLock, auditclient.Success) != 1 {
			t.Error("the lock was not audited once")
		}
		if n := h.countAudited(auth.ActionLogin, auditclient.Denied); n != 51 {
			t.Errorf("%d denied logins audited, want 51", n)
		}
	})
}

// TestParallelTOTPGuesses fires 50 wrong TOTP codes at a session's step-up
// at once: each attempt is reserved on the account's second-factor counter
// before the code is compared, so at most 5 are compared.
func TestParallelTOTPGuesses(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, options{})
		tok := h.signUp("shop", "mfa@example.com")
		secret, _, _ := h.enrolTOTP(tok.GetAccessToken())
		h.clock.freeze()
		right := h.nextCode(secret)
		before := h.mfChecks.Load()
		var wg sync.WaitGroup
		errs := make([]error, 50)
		for i := range errs {
			wg.Go(func() {
				code := fmt.Sprintf("%06d", (i*7919+13)%1000000)
				if code == right {
					code = "000000"
				}
				_, errs[i] = h.gw().StepUp(bearer(tok.GetAccessToken()), &identityv1.StepUpRequest{Proof: &identityv1.StepUpRequest_TotpCode{TotpCode: code}})
			})
		}
		wg.Wait()
		refused, locked := 0, 0
		for _, err := range errs {
			switch reasonOf(err) {
			case mfa.ReasonTOTPCodeInvalid:
				refused++
			case reasons.MFALocked:
				locked++
			default:
				t.Fatalf("unexpected answer: %v", err)
			}
		}
		free := auth.DefaultConfig().MFA.Free
		if got := h.mfChecks.Load() - before; got != int64(free) || refused != free || locked != 50-free {
			t.Fatalf("%d codes compared (%d refused, %d locked out); the policy allows %d", got, refused, locked, free)
		}
		// The right code is not compared either while the counter is locked.
		_, err := h.gw().StepUp(bearer(tok.GetAccessToken()), &identityv1.StepUpRequest{Proof: &identityv1.StepUpRequest_TotpCode{TotpCode: right}})
		wantErr(t, err, codes.ResourceExhausted, reasons.MFALocked)
	})
}

// TestRefreshReuseRevokesTheFamily: presenting a rotated refresh token
// again revokes the session: its newest refresh token and its access tokens
// stop working, and the revocation is audited and announced.
func TestRefreshReuseRevokesTheFamily(t *testing.T) {
	h := sqlite(t, options{})
	tok := h.signUp("shop", "reuse@example.com")
	ctx := from("10.0.0.3")
	r1, err := h.gw().RefreshSession(ctx, &identityv1.RefreshSessionRequest{RefreshToken: tok.GetRefreshToken()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.gw().RefreshSession(ctx, &identityv1.RefreshSessionRequest{RefreshToken: tok.GetRefreshToken()})
	wantErr(t, err, codes.Unauthenticated, reasons.RefreshTokenReused)
	_, err = h.gw().RefreshSession(ctx, &identityv1.RefreshSessionRequest{RefreshToken: r1.GetTokens().GetRefreshToken()})
	wantErr(t, err, codes.Unauthenticated, reasons.RefreshTokenInvalid)
	if _, err := h.gw().GetAccount(bearer(r1.GetTokens().GetAccessToken()), &identityv1.GetAccountRequest{}); status(err) != codes.Unauthenticated {
		t.Fatalf("the revoked session's access token: %v", err)
	}
	if h.countAudited(auth.ActionRefreshReuse, auditclient.Denied) != 1 {
		t.Fatal("reuse not audited")
	}
	var n int
	if err := h.db.QueryRow(`SELECT COUNT(*) FROM revocations WHERE target_id = $1`, tok.GetSessionId()).Scan(&n); err != nil || n != 1 {
		t.Fatalf("revocation not recorded: %d %v", n, err)
	}
}

// TestNothingHalfCreated: a sign-up that fails anywhere leaves no account,
// no code and no vault entry behind.
func TestNothingHalfCreated(t *testing.T) {
	h := sqlite(t, options{})
	ctx := from("10.0.0.4")
	for name, tc := range map[string]struct {
		req    *identityv1.SignUpRequest
		code   codes.Code
		reason string
	}{
		"weak password":   {&identityv1.SignUpRequest{Tenant: "shop", Email: "a@example.com", Password: "password12345678"}, codes.InvalidArgument, reasons.PasswordTooWeak},
		"short password":  {&identityv1.SignUpRequest{Tenant: "shop", Email: "a@example.com", Password: "k9#Tq2vLm8@Wz"}, codes.InvalidArgument, reasons.PasswordTooShort},
		"bad address":     {&identityv1.SignUpRequest{Tenant: "shop", Email: "not-an-address", Password: strongPassword}, codes.InvalidArgument, reasons.EmailInvalid},
		"bad phone":       {&identityv1.SignUpRequest{Tenant: "shop", Email: "b@example.com", Password: strongPassword, Phone: "call me"}, codes.InvalidArgument, reasons.PhoneInvalid},
		"no tenant":       {&identityv1.SignUpRequest{Email: "c@example.com", Password: strongPassword}, codes.InvalidArgument, reasons.TenantRequired},
		"no password":     {&identityv1.SignUpRequest{Tenant: "shop", Email: "d@example.com"}, codes.InvalidArgument, "INVALID_ARGUMENT"},
		"malformed shop":  {&identityv1.SignUpRequest{Tenant: "Shop!", Email: "e@example.com", Password: strongPassword}, codes.InvalidArgument, "INVALID_ARGUMENT"},
		"control in pass": {&identityv1.SignUpRequest{Tenant: "shop", Email: "f@example.com", Password: "vivid otter\x01lamp quartz ninety"}, codes.InvalidArgument, reasons.PasswordInvalid},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := h.gw().SignUp(ctx, tc.req)
			if status(err) != tc.code {
				t.Fatalf("error %v, want %v", err, tc.code)
			}
			if tc.reason != "INVALID_ARGUMENT" {
				wantErr(t, err, tc.code, tc.reason)
			}
		})
	}
	if n := h.count("accounts") + h.count("codes"); n != 0 {
		t.Fatalf("%d rows left by refused sign-ups", n)
	}
	if h.vault.Holds("a@example.com") {
		t.Fatal("a refused password's address reached the vault")
	}
	// The vault down: nothing is created, and the answer is Unavailable.
	h.vault.Down.Store(true)
	_, err := h.gw().SignUp(ctx, &identityv1.SignUpRequest{Tenant: "shop", Email: "g@example.com", Password: strongPassword})
	wantErr(t, err, codes.Unavailable, reasons.VaultUnavailable)
	_, err = h.gw().Login(ctx, &identityv1.LoginRequest{Tenant: "shop", Email: "g@example.com", Password: strongPassword})
	wantErr(t, err, codes.Unavailable, reasons.VaultUnavailable)
	h.vault.Down.Store(false)
	if h.count("accounts") != 0 {
		t.Fatal("an account was created without the vault")
	}
}

// TestThrottlingAndStuffing: one address failing against many accounts
// raises the stuffing signal (audited, with a pseudonym of the address)
// and is then throttled harder; the per-address bucket answers
// ResourceExhausted with a retry delay.
func TestThrottlingAndStuffing(t *testing.T) {
	h := sqlite(t, options{throttle: &throttle.Config{Rate: 100, Burst: 100, Window: time.Hour, Threshold: 5, Penalty: 1000}})
	ctx := from("203.0.113.7")
	for i := range 5 {
		_, err := h.gw().Login(ctx, &identityv1.LoginRequest{Tenant: "shop", Email: fmt.Sprintf("victim%d@example.com", i), Password: strongPassword})
		wantErr(t, err, codes.Unauthenticated, reasons.LoginFailed)
	}
	events := h.audited()
	found := false
	for _, e := range events {
		if e.GetAction() == string(auth.ActionStuffing) {
			found = true
			if e.GetResourceType() != auth.ResourceSource || len(e.GetResourceId()) < 20 || e.GetResourceId() == "203.0.113.7" {
				t.Fatalf("stuffing event names the source as %q", e.GetResourceId())
			}
		}
	}
	if !found {
		t.Fatal("no credential-stuffing event")
	}
	// Penalised: one more attempt, then throttled.
	h.gw().Login(ctx, &identityv1.LoginRequest{Tenant: "shop", Email: "victim9@example.com", Password: strongPassword})
	_, err := h.gw().Login(ctx, &identityv1.LoginRequest{Tenant: "shop", Email: "victim9@example.com", Password: strongPassword})
	wantErr(t, err, codes.ResourceExhausted, reasons.SourceThrottled)
	if infoOf(err).GetMetadata()[auth.MetadataRetryAfter] == "" {
		t.Fatal("no retry delay")
	}
	// Another address is not affected.
	_, err = h.gw().Login(from("203.0.113.8"), &identityv1.LoginRequest{Tenant: "shop", Email: "victim9@example.com", Password: strongPassword})
	wantErr(t, err, codes.Unauthenticated, reasons.LoginFailed)
	// Only the gateway may call the authentication RPCs (and so set the
	// client's address).
	_, err = h.client("audit").Login(from("203.0.113.9"), &identityv1.LoginRequest{Tenant: "shop", Email: "x@example.com", Password: strongPassword})
	wantErr(t, err, codes.PermissionDenied, "CALLER_NOT_ALLOWED")
}

// TestStepUpAndRecoveryCodes: a TOTP code raises the session to aal2 with
// a new auth_time, once; a recovery code works once.
func TestStepUpAndRecoveryCodes(t *testing.T) {
	h := sqlite(t, options{})
	tok := h.signUp("shop", "stepup@example.com")
	secret, codes2, aal2 := h.enrolTOTP(tok.GetAccessToken())
	if len(codes2) != mfa.RecoveryCodeCount || aal2.GetAal() != 2 {
		t.Fatalf("enrolment: %d codes, aal %d", len(codes2), aal2.GetAal())
	}
	c := verify(t, h, aal2.GetAccessToken())
	if c.AAL != 2 || len(c.AMR) != 3 {
		t.Fatalf("claims after enrolment: %+v", c)
	}
	// A new login is aal1 and says a second factor is available.
	login, err := h.gw().Login(from("10.0.0.5"), &identityv1.LoginRequest{Tenant: "shop", Email: "stepup@example.com", Password: strongPassword})
	if err != nil || !login.GetSecondFactorAvailable() || login.GetTokens().GetAal() != 1 {
		t.Fatalf("login: %v %v", login, err)
	}
	access := login.GetTokens().GetAccessToken()
	// Deleting a factor needs aal2: the interceptor asks for a step-up.
	_, err = h.gw().DeleteFactor(bearer(access), &identityv1.DeleteFactorRequest{FactorId: "fac_x"})
	wantErr(t, err, codes.FailedPrecondition, reasons.StepUpRequired)
	if infoOf(err).GetMetadata()["required_aal"] != "2" {
		t.Fatalf("step-up details: %v", infoOf(err).GetMetadata())
	}
	code := h.nextCode(secret)
	up, err := h.gw().StepUp(bearer(access), &identityv1.StepUpRequest{Proof: &identityv1.StepUpRequest_TotpCode{TotpCode: code}})
	if err != nil {
		t.Fatal(err)
	}
	uc := verify(t, h, up.GetTokens().GetAccessToken())
	if uc.AAL != 2 || uc.SessionID != login.GetTokens().GetSessionId() || uc.AuthTime.Before(verify(t, h, access).AuthTime) {
		t.Fatalf("stepped-up claims: %+v", uc)
	}
	_, err = h.gw().StepUp(bearer(access), &identityv1.StepUpRequest{Proof: &identityv1.StepUpRequest_TotpCode{TotpCode: code}})
	wantErr(t, err, codes.Unauthenticated, mfa.ReasonTOTPCodeReplayed)
	// Refreshing keeps the level and its auth_time.
	ref, err := h.gw().RefreshSession(from("10.0.0.5"), &identityv1.RefreshSessionRequest{RefreshToken: login.GetTokens().GetRefreshToken()})
	if err != nil || ref.GetTokens().GetAal() != 2 || !verify(t, h, ref.GetTokens().GetAccessToken()).AuthTime.Equal(uc.AuthTime) {
		t.Fatalf("refresh after step-up: %v %v", ref, err)
	}
	// A recovery code, once.
	rc := codes2[0]
	if _, err := h.gw().StepUp(bearer(access), &identityv1.StepUpRequest{Proof: &identityv1.StepUpRequest_RecoveryCode{RecoveryCode: rc}}); err != nil {
		t.Fatal(err)
	}
	_, err = h.gw().StepUp(bearer(access), &identityv1.StepUpRequest{Proof: &identityv1.StepUpRequest_RecoveryCode{RecoveryCode: rc}})
	wantErr(t, err, codes.Unauthenticated, mfa.ReasonRecoveryCodeInvalid)
	list, err := h.gw().ListFactors(bearer(up.GetTokens().GetAccessToken()), &identityv1.ListFactorsRequest{})
	if err != nil || len(list.GetFactors()) != 1 || list.GetRecoveryCodesRemaining() != int32(mfa.RecoveryCodeCount-1) {
		t.Fatalf("factors: %v %v", list, err)
	}
	// Three: the one after the enrolment (enrolTOTP), the TOTP code, the
	// recovery code.
	if h.countAudited(auth.ActionStepUp, auditclient.Success) != 3 || h.countAudited(auth.ActionStepUp, auditclient.Denied) != 2 {
		t.Fatal("step-ups not audited")
	}
}

// TestRevocationFeedOnlyForVerifiers: the revocation feed is read by the
// workloads that verify people (from the manifest), not by any certificate
// of the trust domain (a dev-CA certificate for an unlisted name opened it
// before); the signing keys are served to every workload of the suite, and
// only to those: an unlisted name is refused there too (ADR 0002 addendum,
// known workloads).
func TestRevocationFeedOnlyForVerifiers(t *testing.T) {
	h := sqlite(t, options{})
	watch := func(as string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stream, err := h.client(as).WatchRevocations(ctx, &identityv1.WatchRevocationsRequest{})
		if err == nil {
			_, err = stream.Recv() // the heartbeat, or the refusal
		}
		return err
	}
	if err := watch("intruder"); grpcstatus.Code(err) != codes.PermissionDenied {
		t.Fatalf("the feed for an unlisted workload: %v, want PermissionDenied", err)
	}
	for _, as := range []string{"tokenvault", "audit", "gateway", "consent"} {
		if err := watch(as); err != nil {
			t.Errorf("the feed for %s: %v", as, err)
		}
	}
	if _, err := h.client("crmsync").GetJwks(context.Background(), &identityv1.GetJwksRequest{}); err != nil {
		t.Fatalf("GetJwks for a workload of the suite: %v", err)
	}
	if _, err := h.client("intruder").GetJwks(context.Background(), &identityv1.GetJwksRequest{}); grpcstatus.Code(err) != codes.PermissionDenied {
		t.Fatalf("GetJwks for an unlisted workload: %v, want PermissionDenied", err)
	}
	if got := server.RevocationReaders(suite.MustLoad()); slices.Contains(got, "identity") || slices.Contains(got, "intruder") {
		t.Fatalf("RevocationReaders = %v", got)
	}
}

// TestUnknownTenant: a shop the token vault does not serve (it answers
// NotFound UNKNOWN_TENANT) is not an outage. Login answers it as an unknown
// address (LOGIN_FAILED after the dummy hash), a reset request as an
// unknown address (success, no message), and sign-up says InvalidArgument
// TENANT_UNKNOWN (shops are public). Before, all three said Unavailable
// VAULT_UNAVAILABLE.
func TestUnknownTenant(t *testing.T) {
	h := sqlite(t, options{})
	h.signUp("shop", "known@example.com")
	h.vault.Unserve("evilshop")
	ctx := from("10.0.0.3")
	_, errKnownShop := h.gw().Login(ctx, &identityv1.LoginRequest{Tenant: "shop", Email: "nobody@example.com", Password: strongPassword})
	dummies := h.dummies.Load()
	resp, err := h.gw().Login(ctx, &identityv1.LoginRequest{Tenant: "evilshop", Email: "x.y@example.org", Password: strongPassword})
	if resp != nil {
		t.Fatal("a login in an unknown shop returned tokens")
	}
	wantErr(t, err, codes.Unauthenticated, reasons.LoginFailed)
	if grpcstatus.Convert(err).Message() != grpcstatus.Convert(errKnownShop).Message() {
		t.Fatalf("messages differ: %q vs %q", grpcstatus.Convert(err).Message(), grpcstatus.Convert(errKnownShop).Message())
	}
	if h.dummies.Load() != dummies+1 {
		t.Fatal("a login in an unknown shop computed no hash: it would answer faster")
	}
	audited := h.countAudited(auth.ActionResetRequest, auditclient.Denied)
	if _, err := h.gw().RequestPasswordReset(ctx, &identityv1.RequestPasswordResetRequest{Tenant: "evilshop", Email: "x.y@example.org"}); err != nil {
		t.Fatalf("reset request in an unknown shop: %v, want the unknown address's answer", err)
	}
	h.app.Domain.Wait()
	if _, ok, _ := notify.Latest(h.mailbox, h.mailKey, "x.y@example.org", notify.KindResetPassword); ok {
		t.Fatal("a reset request in an unknown shop sent a code")
	}
	if got := h.countAudited(auth.ActionResetRequest, auditclient.Denied); got != audited+1 {
		t.Fatalf("the unknown shop's reset request was audited %d times, want 1 like an unknown address", got-audited)
	}
	accounts := h.count("accounts")
	_, err = h.gw().SignUp(ctx, &identityv1.SignUpRequest{Tenant: "evilshop", Email: "x.y@example.org", Password: strongPassword})
	wantErr(t, err, codes.InvalidArgument, reasons.TenantUnknown)
	if h.count("accounts") != accounts {
		t.Fatal("an account in an unknown shop")
	}
}
