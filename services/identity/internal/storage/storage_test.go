package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
	"github.com/sottohq/sotto/services/identity/internal/storage"
	"github.com/sottohq/sotto/services/identity/migrations"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func account(id, tenant, email string) storage.Account {
	return storage.Account{ID: id, Kind: storage.KindCustomer, Tenant: tenant, EmailToken: email,
		PasswordHash: "$argon2id$x", Created: t0}
}

func insert(t *testing.T, s *storage.Store, a storage.Account) {
	t.Helper()
	if err := s.InsertAccount(context.Background(), s.DB(), a); err != nil {
		t.Fatal(err)
	}
}

// TestStore is the contract suite: every case on SQLite and PostgreSQL.
func TestStore(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		for name, fn := range map[string]func(*testing.T, *storage.Store){
			"accounts":                 testAccounts,
			"lockout schedule":         testLockoutSchedule,
			"lockout is race-free":     testLockoutRace,
			"codes are single use":     testCodes,
			"refresh rotation":         testRefreshRotation,
			"sessions":                 testSessions,
			"revocations":              testRevocations,
			"factors":                  testFactors,
			"recovery codes":           testRecoveryCodes,
			"ceremonies":               testCeremonies,
			"clients":                  testClients,
			"bootstrap once":           testBootstrap,
			"delete account":           testDeleteAccount,
			"rectified address":        testReplaceEmail,
			"nothing half-created":     testRollback,
			"totp steps are race-free": testTOTPRace,
		} {
			t.Run(name, func(t *testing.T) { fn(t, storage.New(db)) })
		}
	})
}

func testAccounts(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	a := account("acc_1", "shop", "det_em_1")
	a.Roles = []string{"x"}
	a.PhoneToken = "det_ph_1"
	insert(t, s, a)
	got, err := s.AccountByLogin(ctx, s.DB(), storage.KindCustomer, "shop", "det_em_1")
	if err != nil {
		t.Fatal(err)
	}
	a.Updated = t0
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("account (-want +got):\n%s", diff)
	}
	// The same address in another tenant, or as staff, is another login.
	insert(t, s, account("acc_2", "other", "det_em_1"))
	staff := account("acc_3", "", "det_em_1")
	staff.Kind = storage.KindStaff
	insert(t, s, staff)
	err = s.InsertAccount(ctx, s.DB(), account("acc_4", "shop", "det_em_1"))
	if !errs.Is(err, errs.AlreadyExists) || errs.ReasonOf(err) != reasons.AccountExists {
		t.Fatalf("duplicate login: %v", err)
	}
	if _, err := s.Account(ctx, s.DB(), "acc_4"); errs.ReasonOf(err) != reasons.AccountNotFound {
		t.Fatalf("missing account: %v", err)
	}
	// A request id is used once.
	r1 := account("acc_5", "", "det_em_5")
	r1.Kind, r1.RequestID = storage.KindStaff, "req-1"
	insert(t, s, r1)
	r2 := account("acc_6", "", "det_em_6")
	r2.Kind, r2.RequestID = storage.KindStaff, "req-1"
	if err := s.InsertAccount(ctx, s.DB(), r2); errs.ReasonOf(err) != reasons.RequestIDReused {
		t.Fatalf("reused request id: %v", err)
	}
	if got, err := s.AccountByRequestID(ctx, s.DB(), "req-1"); err != nil || got.ID != "acc_5" {
		t.Fatalf("by request id: %v %v", got.ID, err)
	}
	// A WebAuthn handle is given once and finds its account.
	if ok, err := s.SetWebAuthnHandle(ctx, s.DB(), "acc_1", []byte("handle-1")); !ok || err != nil {
		t.Fatalf("set handle: %v %v", ok, err)
	}
	if ok, _ := s.SetWebAuthnHandle(ctx, s.DB(), "acc_1", []byte("handle-2")); ok {
		t.Fatal("handle replaced")
	}
	if got, err := s.AccountByWebAuthnHandle(ctx, s.DB(), []byte("handle-1")); err != nil || got.ID != "acc_1" {
		t.Fatalf("by handle: %v %v", got.ID, err)
	}
	// Password upgrade is a compare-and-set on the old hash.
	if ok, err := s.UpgradePasswordHash(ctx, s.DB(), "acc_1", "$argon2id$stale", "$argon2id$new", t0); err != nil || ok {
		t.Fatalf("upgrade of a changed hash: %v %v", ok, err)
	}
	if ok, err := s.UpgradePasswordHash(ctx, s.DB(), "acc_1", "$argon2id$x", "$argon2id$new", t0); err != nil || !ok {
		t.Fatalf("upgrade: %v %v", ok, err)
	}
}

var lockout = storage.Lockout{Free: 5, Cap: 20, Base: time.Second, Max: time.Minute}

func testLockoutSchedule(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	insert(t, s, account("acc_l", "shop", "det_em_l"))
	now := t0
	// Free attempts at the same instant.
	for i := 1; i <= lockout.Free; i++ {
		n, ok, err := s.ReserveLogin(ctx, s.DB(), "acc_l", lockout, now)
		if err != nil || !ok || n != i {
			t.Fatalf("attempt %d: n=%d ok=%v err=%v", i, n, ok, err)
		}
	}
	// The 5th reservation set a lock of Base: nothing until it passes.
	if _, ok, _ := s.ReserveLogin(ctx, s.DB(), "acc_l", lockout, now.Add(999*time.Millisecond)); ok {
		t.Fatal("reserved while locked")
	}
	// Each further reservation doubles the lock, up to Max.
	for i := lockout.Free + 1; i <= lockout.Cap; i++ {
		now = now.Add(lockout.Delay(i - 1))
		if _, ok, _ := s.ReserveLogin(ctx, s.DB(), "acc_l", lockout, now.Add(-time.Microsecond)); ok {
			t.Fatalf("attempt %d reserved before the lock of %v passed", i, lockout.Delay(i-1))
		}
		n, ok, err := s.ReserveLogin(ctx, s.DB(), "acc_l", lockout, now)
		if err != nil || !ok || n != i {
			t.Fatalf("attempt %d: n=%d ok=%v err=%v", i, n, ok, err)
		}
		a, _ := s.Account(ctx, s.DB(), "acc_l")
		if want := now.Add(lockout.Delay(i)); !a.LockedUntil.Equal(want) {
			t.Fatalf("attempt %d locked until %v, want %v", i, a.LockedUntil, want)
		}
	}
	// At the cap, nothing is reserved however long one waits.
	if _, ok, _ := s.ReserveLogin(ctx, s.DB(), "acc_l", lockout, now.Add(24*time.Hour)); ok {
		t.Fatal("reserved past the cap")
	}
	// A new password (a reset) clears it.
	if err := s.SetPassword(ctx, s.DB(), "acc_l", "$argon2id$y", now); err != nil {
		t.Fatal(err)
	}
	if n, ok, _ := s.ReserveLogin(ctx, s.DB(), "acc_l", lockout, now); !ok || n != 1 {
		t.Fatalf("after reset: n=%d ok=%v", n, ok)
	}
	if err := s.ResetLogin(ctx, s.DB(), "acc_l", now); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.Account(ctx, s.DB(), "acc_l"); a.FailedLogins != 0 || !a.LockedUntil.IsZero() {
		t.Fatalf("after success: %d %v", a.FailedLogins, a.LockedUntil)
	}
	// Unknown accounts reserve nothing.
	if _, ok, err := s.ReserveLogin(ctx, s.DB(), "acc_none", lockout, now); ok || err != nil {
		t.Fatalf("unknown account: %v %v", ok, err)
	}
	// The MFA counter is separate.
	if n, ok, _ := s.ReserveMFA(ctx, s.DB(), "acc_l", lockout, now); !ok || n != 1 {
		t.Fatalf("mfa: n=%d ok=%v", n, ok)
	}
	if _, _, err := s.ReserveLogin(ctx, s.DB(), "acc_l", storage.Lockout{Free: 1, Cap: 101, Base: 1, Max: 1}, now); err == nil {
		t.Fatal("a cap above NIST's 100 was accepted")
	}
}

// testLockoutRace: 50 parallel reservations at one instant get exactly Free
// slots, for the password and the MFA counter.
func testLockoutRace(t *testing.T, s *storage.Store) {
	insert(t, s, account("acc_r", "shop", "det_em_r"))
	for name, reserve := range map[string]func(context.Context, storage.Q, string, storage.Lockout, time.Time) (int, bool, error){
		"password": s.ReserveLogin, "mfa": s.ReserveMFA,
	} {
		var granted atomic.Int32
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				_, ok, err := reserve(context.Background(), s.DB(), "acc_r", lockout, t0)
				if err != nil {
					t.Error(err)
				}
				if ok {
					granted.Add(1)
				}
			})
		}
		wg.Wait()
		if got := granted.Load(); got != int32(lockout.Free) {
			t.Errorf("%s: %d of 50 parallel attempts reserved, want %d", name, got, lockout.Free)
		}
	}
}

func testCodes(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	insert(t, s, account("acc_c", "shop", "det_em_c"))
	code := storage.Code{Hash: "h1", AccountID: "acc_c", Purpose: storage.CodeVerifyEmail, Expires: t0.Add(time.Hour), Created: t0}
	if err := s.InsertCode(ctx, s.DB(), code); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseCode(ctx, s.DB(), "h1", storage.CodeResetPassword, t0); errs.ReasonOf(err) != reasons.CodeInvalid {
		t.Fatalf("other purpose: %v", err)
	}
	if _, err := s.UseCode(ctx, s.DB(), "h1", storage.CodeVerifyEmail, t0.Add(time.Hour)); errs.ReasonOf(err) != reasons.CodeInvalid {
		t.Fatalf("expired: %v", err)
	}
	if id, err := s.PeekCode(ctx, s.DB(), "h1", storage.CodeVerifyEmail, t0); err != nil || id != "acc_c" {
		t.Fatalf("peek: %q %v", id, err)
	}
	// Parallel use: one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if id, err := s.UseCode(ctx, s.DB(), "h1", storage.CodeVerifyEmail, t0); err == nil && id == "acc_c" {
				wins.Add(1)
			} else if errs.ReasonOf(err) != reasons.CodeInvalid {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d parallel uses of one code succeeded", wins.Load())
	}
	// Invalidation spends the others.
	for _, h := range []string{"h2", "h3"} {
		c := code
		c.Hash, c.Purpose = h, storage.CodeResetPassword
		if err := s.InsertCode(ctx, s.DB(), c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.InvalidateCodes(ctx, s.DB(), "acc_c", storage.CodeResetPassword, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PeekCode(ctx, s.DB(), "h3", storage.CodeResetPassword, t0); errs.ReasonOf(err) != reasons.CodeInvalid {
		t.Fatalf("peek of a spent code: %v", err)
	}
	if _, err := s.UseCode(ctx, s.DB(), "h2", storage.CodeResetPassword, t0); errs.ReasonOf(err) != reasons.CodeInvalid {
		t.Fatalf("invalidated: %v", err)
	}
}

func testRefreshRotation(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	insert(t, s, account("acc_s", "shop", "det_em_s"))
	sess := storage.Session{ID: "ses_1", AccountID: "acc_s", AAL: 1, AMR: []string{"pwd"}, AuthTime: t0, Created: t0, Expires: t0.Add(time.Hour)}
	if err := s.InsertSession(ctx, s.DB(), sess); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertRefreshToken(ctx, s.DB(), "rt1", "ses_1", t0); err != nil {
		t.Fatal(err)
	}
	var ok, reused atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			id, r, err := s.SpendRefreshToken(ctx, s.DB(), "rt1", t0)
			if err != nil || id != "ses_1" {
				t.Errorf("spend: %q %v", id, err)
			}
			switch r {
			case storage.RotationOK:
				ok.Add(1)
			case storage.RotationReused:
				reused.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || reused.Load() != 19 {
		t.Fatalf("20 parallel spends: %d ok, %d reused; want 1 and 19", ok.Load(), reused.Load())
	}
	if _, r, err := s.SpendRefreshToken(ctx, s.DB(), "nope", t0); r != storage.RotationUnknown || err != nil {
		t.Fatalf("unknown token: %v %v", r, err)
	}
}

func testSessions(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	insert(t, s, account("acc_t", "shop", "det_em_t"))
	for i := range 5 {
		x := storage.Session{ID: fmt.Sprintf("ses_t%d", i), AccountID: "acc_t", AAL: 1, AMR: []string{"pwd"},
			AuthTime: t0, Created: t0.Add(time.Duration(i%3) * time.Second), Expires: t0.Add(time.Hour)}
		if err := s.InsertSession(ctx, s.DB(), x); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	var cur *storage.SessionCursor
	for {
		page, err := s.ListSessions(ctx, s.DB(), "acc_t", t0, cur, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range page {
			ids = append(ids, x.ID)
		}
		if len(page) < 2 {
			break
		}
		last := page[len(page)-1]
		cur = &storage.SessionCursor{Created: last.Created, ID: last.ID}
	}
	if want := []string{"ses_t2", "ses_t4", "ses_t1", "ses_t3", "ses_t0"}; !slices.Equal(ids, want) {
		t.Fatalf("pages: %v, want %v", ids, want)
	}
	if err := s.ElevateSession(ctx, s.DB(), "ses_t1", 2, []string{"pwd", "otp", "mfa"}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if x, _ := s.Session(ctx, s.DB(), "ses_t1"); x.AAL != 2 || !x.AuthTime.Equal(t0.Add(time.Minute)) || len(x.AMR) != 3 {
		t.Fatalf("elevated: %+v", x)
	}
	if ok, err := s.RevokeSession(ctx, s.DB(), "ses_t1", t0); !ok || err != nil {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	if ok, _ := s.RevokeSession(ctx, s.DB(), "ses_t1", t0); ok {
		t.Fatal("revoked twice")
	}
	if err := s.ElevateSession(ctx, s.DB(), "ses_t1", 2, nil, t0); errs.ReasonOf(err) != reasons.SessionRevoked {
		t.Fatalf("elevating a revoked session: %v", err)
	}
	ids, err := s.RevokeAccountSessions(ctx, s.DB(), "acc_t", "ses_t0", t0)
	slices.Sort(ids)
	if err != nil || !slices.Equal(ids, []string{"ses_t2", "ses_t3", "ses_t4"}) {
		t.Fatalf("revoke all but ses_0: %v %v", ids, err)
	}
	if live, _ := s.ListSessions(ctx, s.DB(), "acc_t", t0, nil, 10); len(live) != 1 || live[0].ID != "ses_t0" {
		t.Fatalf("live after revocations: %v", live)
	}
}

func testRevocations(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	for _, r := range []storage.Revocation{
		{Kind: storage.RevokedSession, TargetID: "ses_a", Revoked: t0, Expires: t0.Add(5 * time.Minute)},
		{Kind: storage.RevokedClient, TargetID: "cli_a", Revoked: t0.Add(time.Second), Expires: t0.Add(10 * time.Minute)},
		{Kind: storage.RevokedSession, TargetID: "ses_old", Revoked: t0.Add(-time.Hour), Expires: t0.Add(-time.Minute)},
	} {
		if err := s.InsertRevocation(ctx, s.DB(), r); err != nil {
			t.Fatal(err)
		}
	}
	// A second revocation of a target moves it.
	if err := s.InsertRevocation(ctx, s.DB(), storage.Revocation{Kind: storage.RevokedSession, TargetID: "ses_a",
		Revoked: t0.Add(2 * time.Second), Expires: t0.Add(6 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ActiveRevocations(ctx, s.DB(), t0)
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.Revocation{
		{Kind: storage.RevokedClient, TargetID: "cli_a", Revoked: t0.Add(time.Second), Expires: t0.Add(10 * time.Minute)},
		{Kind: storage.RevokedSession, TargetID: "ses_a", Revoked: t0.Add(2 * time.Second), Expires: t0.Add(6 * time.Minute)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("active revocations (-want +got):\n%s", diff)
	}
}

func testFactors(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	insert(t, s, account("acc_f", "shop", "det_em_f"))
	pending := storage.Factor{ID: "fac_1", AccountID: "acc_f", Type: storage.FactorTOTP, Status: storage.FactorPending,
		Secret: []byte("wrapped"), PendingExpires: t0.Add(10 * time.Minute), Created: t0}
	if err := s.InsertFactor(ctx, s.DB(), pending); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountActiveFactors(ctx, s.DB(), "acc_f"); n != 0 {
		t.Fatalf("a pending factor counts as active: %d", n)
	}
	if err := s.ActivateTOTP(ctx, s.DB(), "acc_f", "fac_1", 100, t0.Add(10*time.Minute)); errs.ReasonOf(err) != reasons.FactorNotPending {
		t.Fatalf("activation after expiry: %v", err)
	}
	if err := s.ActivateTOTP(ctx, s.DB(), "acc_other", "fac_1", 100, t0); errs.ReasonOf(err) != reasons.FactorNotPending {
		t.Fatalf("activation of another account's factor: %v", err)
	}
	if err := s.ActivateTOTP(ctx, s.DB(), "acc_f", "fac_1", 100, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.ActivateTOTP(ctx, s.DB(), "acc_f", "fac_1", 101, t0); errs.ReasonOf(err) != reasons.FactorNotPending {
		t.Fatalf("second activation: %v", err)
	}
	f, err := s.Factor(ctx, s.DB(), "acc_f", "fac_1")
	if err != nil || f.Status != storage.FactorActive || f.LastUsedStep != 100 || string(f.Secret) != "wrapped" {
		t.Fatalf("activated: %+v %v", f, err)
	}
	if ok, _ := s.AdvanceTOTPStep(ctx, s.DB(), "fac_1", 100, 100, t0); ok {
		t.Fatal("a step was accepted twice")
	}
	if ok, _ := s.AdvanceTOTPStep(ctx, s.DB(), "fac_1", 99, 101, t0); ok {
		t.Fatal("advanced from a stale step")
	}
	wa := storage.Factor{ID: "fac_2", AccountID: "acc_f", Type: storage.FactorWebAuthn, Status: storage.FactorActive,
		CredentialID: []byte{1, 2, 3}, Credential: []byte(`{"a":1}`), Created: t0.Add(time.Second)}
	if err := s.InsertFactor(ctx, s.DB(), wa); err != nil {
		t.Fatal(err)
	}
	dup := wa
	dup.ID = "fac_3"
	if err := s.InsertFactor(ctx, s.DB(), dup); !errs.Is(err, errs.AlreadyExists) {
		t.Fatalf("credential registered twice: %v", err)
	}
	if got, err := s.FactorByCredentialID(ctx, s.DB(), []byte{1, 2, 3}); err != nil || got.ID != "fac_2" {
		t.Fatalf("by credential id: %v %v", got.ID, err)
	}
	if ok, _ := s.UpdateWebAuthnCredential(ctx, s.DB(), "fac_2", []byte(`{"a":0}`), []byte(`{"a":2}`), t0); ok {
		t.Fatal("updated from a stale credential")
	}
	if ok, _ := s.UpdateWebAuthnCredential(ctx, s.DB(), "fac_2", []byte(`{"a":1}`), []byte(`{"a":2}`), t0); !ok {
		t.Fatal("credential update refused")
	}
	all, _ := s.Factors(ctx, s.DB(), "acc_f", "", storage.FactorActive)
	if len(all) != 2 || all[0].ID != "fac_1" || all[1].ID != "fac_2" {
		t.Fatalf("factors: %+v", all)
	}
	if err := s.DeleteFactor(ctx, s.DB(), "acc_other", "fac_2"); errs.ReasonOf(err) != reasons.FactorNotFound {
		t.Fatalf("deleting another account's factor: %v", err)
	}
}

// testTOTPRace: parallel requests with the same matched step: one wins.
func testTOTPRace(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	insert(t, s, account("acc_tr", "shop", "det_em_tr"))
	f := storage.Factor{ID: "fac_tr", AccountID: "acc_tr", Type: storage.FactorTOTP, Status: storage.FactorActive,
		Secret: []byte("w"), LastUsedStep: 10, Created: t0}
	if err := s.InsertFactor(ctx, s.DB(), f); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			if ok, err := s.AdvanceTOTPStep(ctx, s.DB(), "fac_tr", 10, 11, t0); err != nil {
				t.Error(err)
			} else if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d parallel uses of one TOTP step succeeded", wins.Load())
	}
}

func testRecoveryCodes(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	codes := []storage.RecoveryCode{{Index: 0, KeyVersion: 1, MAC: []byte{1}}, {Index: 1, KeyVersion: 1, MAC: []byte{2}}}
	if err := s.ReplaceRecoveryCodes(ctx, s.DB(), "acc_rc", codes); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.UseRecoveryCode(ctx, s.DB(), "acc_rc", 1); !ok {
		t.Fatal("use refused")
	}
	if ok, _ := s.UseRecoveryCode(ctx, s.DB(), "acc_rc", 1); ok {
		t.Fatal("a recovery code was used twice")
	}
	got, _ := s.RecoveryCodes(ctx, s.DB(), "acc_rc")
	codes[1].Used = true
	if diff := cmp.Diff(codes, got); diff != "" {
		t.Fatalf("codes (-want +got):\n%s", diff)
	}
	if err := s.ReplaceRecoveryCodes(ctx, s.DB(), "acc_rc", codes[:1]); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.RecoveryCodes(ctx, s.DB(), "acc_rc"); len(got) != 1 {
		t.Fatalf("old codes survived a replacement: %v", got)
	}
}

func testCeremonies(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	c := storage.Ceremony{ID: "cer_1", Kind: storage.CeremonyLogin, AccountID: "acc_x", Data: []byte("d"), Expires: t0.Add(time.Minute)}
	if err := s.InsertCeremony(ctx, s.DB(), c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeCeremony(ctx, s.DB(), "cer_1", storage.CeremonyRegistration, t0); errs.ReasonOf(err) != reasons.CeremonyNotFound {
		t.Fatalf("another kind: %v", err)
	}
	got, err := s.TakeCeremony(ctx, s.DB(), "cer_1", storage.CeremonyLogin, t0)
	if err != nil || string(got.Data) != "d" || got.AccountID != "acc_x" {
		t.Fatalf("take: %+v %v", got, err)
	}
	if _, err := s.TakeCeremony(ctx, s.DB(), "cer_1", storage.CeremonyLogin, t0); errs.ReasonOf(err) != reasons.CeremonyNotFound {
		t.Fatalf("taken twice: %v", err)
	}
	c.ID = "cer_2"
	if err := s.InsertCeremony(ctx, s.DB(), c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeCeremony(ctx, s.DB(), "cer_2", storage.CeremonyLogin, t0.Add(time.Minute)); errs.ReasonOf(err) != reasons.CeremonyNotFound {
		t.Fatalf("expired: %v", err)
	}
}

func testClients(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	c := storage.Client{ID: "cli_1", Tenant: "shop", DisplayName: "CRM", Scopes: []string{"a.read", "b.write"}, SecretHash: "h", Created: t0}
	if err := s.InsertClient(ctx, s.DB(), c); err != nil {
		t.Fatal(err)
	}
	both := c
	both.ID, both.PublicJWK = "cli_2", "{}"
	if err := s.InsertClient(ctx, s.DB(), both); err == nil {
		t.Fatal("a client with a secret and a key")
	}
	got, err := s.Client(ctx, s.DB(), "cli_1")
	if diff := cmp.Diff(c, got); err != nil || diff != "" {
		t.Fatalf("client: %v (-want +got):\n%s", err, diff)
	}
	if ok, err := s.RevokeClient(ctx, s.DB(), "cli_1", t0); !ok || err != nil {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	if ok, err := s.RevokeClient(ctx, s.DB(), "cli_1", t0); ok || err != nil {
		t.Fatalf("revoke again: %v %v", ok, err)
	}
	if _, err := s.RevokeClient(ctx, s.DB(), "cli_none", t0); errs.ReasonOf(err) != reasons.ClientNotFound {
		t.Fatalf("revoke unknown: %v", err)
	}
	if err := s.RecordAssertion(ctx, s.DB(), "cli_1", "jti-1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAssertion(ctx, s.DB(), "cli_1", "jti-1", t0.Add(time.Minute)); errs.ReasonOf(err) != reasons.ClientAssertionInvalid {
		t.Fatalf("replayed jti: %v", err)
	}
}

func testBootstrap(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			err := s.InTx(ctx, func(tx *sql.Tx) error { return s.ClaimBootstrap(ctx, tx, fmt.Sprintf("acc_b%d", i), t0) })
			if err == nil {
				wins.Add(1)
			} else if errs.ReasonOf(err) != reasons.AdminExists {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d parallel bootstraps succeeded", wins.Load())
	}
}

func testDeleteAccount(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	insert(t, s, account("acc_d", "shop", "det_em_d"))
	x := storage.Session{ID: "ses_d", AccountID: "acc_d", AAL: 1, AuthTime: t0, Created: t0, Expires: t0.Add(time.Hour)}
	if err := s.InsertSession(ctx, s.DB(), x); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertRefreshToken(ctx, s.DB(), "rt_d", "ses_d", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertFactor(ctx, s.DB(), storage.Factor{ID: "fac_d", AccountID: "acc_d", Type: storage.FactorTOTP,
		Status: storage.FactorActive, Secret: []byte("w"), Created: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAccount(ctx, s.DB(), "acc_d"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Account(ctx, s.DB(), "acc_d"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("account: %v", err)
	}
	if _, err := s.Session(ctx, s.DB(), "ses_d"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("session: %v", err)
	}
	if _, r, _ := s.SpendRefreshToken(ctx, s.DB(), "rt_d", t0); r != storage.RotationUnknown {
		t.Fatal("refresh token survived")
	}
	if fs, _ := s.Factors(ctx, s.DB(), "acc_d", "", ""); len(fs) != 0 {
		t.Fatal("factor survived")
	}
	if err := s.DeleteAccount(ctx, s.DB(), "acc_d"); errs.ReasonOf(err) != reasons.AccountNotFound {
		t.Fatalf("deleted twice: %v", err)
	}
}

// testReplaceEmail: a corrected address waits as pending (the login name
// stays) until ConfirmEmail with the hash of its code; an older code or
// none confirms nothing; proving it is not a first verification (that
// clears factors) once an earlier address was proved; another account's
// address is refused at confirmation (the unique login name) and the
// pending change stays for the caller to drop; the account's sessions are
// listed whatever their state.
func testReplaceEmail(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	insert(t, s, account("acc_rect", "shop", "det_em_rect"))
	insert(t, s, account("acc_rect_other", "shop", "det_em_rect_other"))
	first, err := s.SetEmailVerified(ctx, s.DB(), "acc_rect", t0)
	if err != nil || !first {
		t.Fatalf("first verification = %v, %v", first, err)
	}
	if err := s.SetPendingEmail(ctx, s.DB(), "acc_rect", "det_em_rect_other", "tok_rect_o", "code_o", t0); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.ConfirmEmail(ctx, s.DB(), "acc_rect", "code_o", t0); errs.ReasonOf(err) != reasons.AccountExists || ok {
		t.Fatalf("another account's address: %v %v", ok, err)
	}
	if err := s.SetPendingEmail(ctx, s.DB(), "acc_rect", "det_em_rect2", "tok_rect2", "code_2", t0); err != nil {
		t.Fatal(err)
	}
	a, err := s.Account(ctx, s.DB(), "acc_rect")
	if err != nil || !a.EmailVerified || a.EmailToken != "det_em_rect" || a.PendingEmailToken != "det_em_rect2" || a.PendingEmailMaskToken != "tok_rect2" {
		t.Fatalf("after a pending change: %+v, %v", a, err)
	}
	if _, err := s.AccountByLogin(ctx, s.DB(), storage.KindCustomer, "shop", "det_em_rect2"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("a pending address is a login name: %v", err)
	}
	for _, code := range []string{"code_o", "", "code_x"} {
		if ok, err := s.ConfirmEmail(ctx, s.DB(), "acc_rect", code, t0); err != nil || ok {
			t.Fatalf("code %q confirmed the pending address: %v %v", code, ok, err)
		}
	}
	if ok, err := s.ConfirmEmail(ctx, s.DB(), "acc_rect", "code_2", t0); err != nil || !ok {
		t.Fatalf("confirm: %v %v", ok, err)
	}
	a, err = s.Account(ctx, s.DB(), "acc_rect")
	if err != nil || a.EmailVerified || a.EmailToken != "det_em_rect2" || a.EmailMaskToken != "tok_rect2" || a.PendingEmailToken != "" {
		t.Fatalf("after confirm: %+v, %v", a, err)
	}
	if ok, err := s.ConfirmEmail(ctx, s.DB(), "acc_rect", "code_2", t0); err != nil || ok {
		t.Fatalf("confirmed twice: %v %v", ok, err)
	}
	if first, err := s.SetEmailVerified(ctx, s.DB(), "acc_rect", t0); err != nil || first {
		t.Fatalf("verifying the rectified address = first %v, %v; want a later verification", first, err)
	}
	if a, _ := s.Account(ctx, s.DB(), "acc_rect"); !a.EmailVerified {
		t.Fatal("the rectified address was not marked verified")
	}
	if err := s.SetPendingEmail(ctx, s.DB(), "acc_rect", "det_em_rect3", "tok_rect3", "code_3", t0); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.ClearPendingEmail(ctx, s.DB(), "acc_rect", t0); err != nil || !ok {
		t.Fatalf("clear: %v %v", ok, err)
	}
	if ok, err := s.ConfirmEmail(ctx, s.DB(), "acc_rect", "code_3", t0); err != nil || ok {
		t.Fatalf("a cleared change confirmed: %v %v", ok, err)
	}
	if err := s.SetPendingEmail(ctx, s.DB(), "acc_gone", "det_em_x", "tok_x", "code_x", t0); errs.ReasonOf(err) != reasons.AccountNotFound {
		t.Fatalf("missing account: %v", err)
	}
	if err := s.SetPhoneToken(ctx, s.DB(), "acc_rect", "det_ph_rect", t0); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.Account(ctx, s.DB(), "acc_rect"); a.PhoneToken != "det_ph_rect" {
		t.Fatalf("phone token %q", a.PhoneToken)
	}
	for _, id := range []string{"ses_rect2", "ses_rect1"} {
		if err := s.InsertSession(ctx, s.DB(), storage.Session{ID: id, AccountID: "acc_rect", AAL: 1, AuthTime: t0, Created: t0,
			Expires: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RevokeSession(ctx, s.DB(), "ses_rect2", t0); err != nil {
		t.Fatal(err)
	}
	got, err := s.SessionsOf(ctx, s.DB(), "acc_rect")
	if err != nil || len(got) != 2 || got[0].ID != "ses_rect1" || got[1].ID != "ses_rect2" || got[1].Revoked.IsZero() {
		t.Fatalf("sessions of the account: %+v, %v", got, err)
	}
}

// testRollback: an account and its code are one change; a failing second
// insert leaves no account behind.
func testRollback(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	insert(t, s, account("acc_first", "shop", "det_em_taken"))
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.InsertAccount(ctx, tx, account("acc_half", "shop", "det_em_half")); err != nil {
			return err
		}
		if err := s.InsertCode(ctx, tx, storage.Code{Hash: "hc", AccountID: "acc_half", Purpose: storage.CodeVerifyEmail,
			Expires: t0.Add(time.Hour), Created: t0}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if _, err := s.Account(ctx, s.DB(), "acc_half"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("half-created account: %v", err)
	}
	if _, err := s.UseCode(ctx, s.DB(), "hc", storage.CodeVerifyEmail, t0); errs.ReasonOf(err) != reasons.CodeInvalid {
		t.Fatalf("code of a rolled-back account: %v", err)
	}
}

func TestLockoutDelay(t *testing.T) {
	l := storage.Lockout{Free: 3, Cap: 100, Base: time.Second, Max: 15 * time.Minute}
	for n, want := range map[int]time.Duration{1: 0, 2: 0, 3: time.Second, 4: 2 * time.Second, 5: 4 * time.Second,
		12: 512 * time.Second, 13: 15 * time.Minute, 99: 15 * time.Minute} {
		if got := l.Delay(n); got != want {
			t.Errorf("Delay(%d) = %v, want %v", n, got, want)
		}
	}
}
