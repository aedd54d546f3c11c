package storage_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
	"github.com/sottohq/sotto/services/identity/internal/storage"
	"github.com/sottohq/sotto/services/identity/migrations"
)

// These interleave two transactions, which only PostgreSQL lets run at
// once (SQLite serialises writers), and PostgreSQL is where the races were:
// at READ COMMITTED a plain read sees a row as live while a revocation is
// about to commit.

// TestRefreshAfterConcurrentRevoke: a refresh transaction that spent its
// refresh token before a revocation committed must not touch (and so not
// sign for) the revoked session. Fails with an unconditional TouchSession.
func TestRefreshAfterConcurrentRevoke(t *testing.T) {
	ctx := context.Background()
	s := storage.New(storetest.Postgres(t, migrations.FS))
	insert(t, s, account("acc_1", "shop", "det_em_1"))
	if err := s.InsertSession(ctx, s.DB(), storage.Session{ID: "ses_1", AccountID: "acc_1", AAL: 1, AuthTime: t0, Created: t0, Expires: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertRefreshToken(ctx, s.DB(), "h1", "ses_1", t0); err != nil {
		t.Fatal(err)
	}
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, rot, err := s.SpendRefreshToken(ctx, tx, "h1", t0); err != nil || rot != storage.RotationOK {
		t.Fatal(rot, err)
	}
	if err := s.InTx(ctx, func(rtx *sql.Tx) error {
		ok, err := s.RevokeSession(ctx, rtx, "ses_1", t0.Add(time.Second))
		if !ok {
			t.Error("the revocation did nothing")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	err = s.TouchSession(ctx, tx, "ses_1", t0.Add(2*time.Second))
	if errs.KindOf(err) != errs.Unauthenticated || errs.ReasonOf(err) != reasons.SessionRevoked {
		t.Fatalf("touch of a session revoked meanwhile: %v; want Unauthenticated SESSION_REVOKED", err)
	}
	// Expired and unknown sessions are refused the same way.
	if err := s.TouchSession(ctx, s.DB(), "ses_404", t0); errs.ReasonOf(err) != reasons.SessionRevoked {
		t.Errorf("touch of an unknown session: %v", err)
	}
}

// TestRevokeWaitsForARefreshThatTouchedFirst: the other order. A refresh
// that touched the session first holds its row; the revocation waits for
// the refresh to commit (and so comes after the token it signed, which the
// revocation then refuses), never in between.
func TestRevokeWaitsForARefreshThatTouchedFirst(t *testing.T) {
	ctx := context.Background()
	s := storage.New(storetest.Postgres(t, migrations.FS))
	insert(t, s, account("acc_1", "shop", "det_em_1"))
	if err := s.InsertSession(ctx, s.DB(), storage.Session{ID: "ses_1", AccountID: "acc_1", AAL: 1, AuthTime: t0, Created: t0, Expires: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := s.TouchSession(ctx, tx, "ses_1", t0); err != nil {
		t.Fatal(err)
	}
	done := make(chan bool, 1)
	go func() {
		var ok bool
		err := s.InTx(ctx, func(rtx *sql.Tx) error {
			var err error
			ok, err = s.RevokeSession(ctx, rtx, "ses_1", t0.Add(time.Second))
			return err
		})
		done <- ok && err == nil
	}()
	select {
	case <-done:
		t.Fatal("the revocation committed while the refresh held the session")
	case <-time.After(300 * time.Millisecond): // a chance to overtake, not a timing assertion
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if !<-done {
		t.Fatal("the revocation failed after the refresh committed")
	}
}

// TestClientTokenVersusRevoke: IssueClientToken signs while it holds the
// client's row (LockLiveClient): a revocation waits for it, and once a
// revocation committed no lock (so no token) is had.
func TestClientTokenVersusRevoke(t *testing.T) {
	ctx := context.Background()
	s := storage.New(storetest.Postgres(t, migrations.FS))
	if err := s.InsertClient(ctx, s.DB(), storage.Client{ID: "cli_1", Tenant: "shop", Scopes: []string{"a"}, SecretHash: "h", Created: t0}); err != nil {
		t.Fatal(err)
	}
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if ok, err := s.LockLiveClient(ctx, tx, "cli_1"); !ok || err != nil {
		t.Fatalf("lock a live client: %v %v", ok, err)
	}
	done := make(chan bool, 1)
	go func() {
		var ok bool
		err := s.InTx(ctx, func(rtx *sql.Tx) error {
			var err error
			ok, err = s.RevokeClient(ctx, rtx, "cli_1", t0)
			return err
		})
		done <- ok && err == nil
	}()
	select {
	case <-done:
		t.Fatal("the client was revoked while a token was being issued under its lock")
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if !<-done {
		t.Fatal("the revocation failed")
	}
	if ok, err := s.LockLiveClient(ctx, s.DB(), "cli_1"); ok || err != nil {
		t.Fatalf("lock of a revoked client: %v %v; want false", ok, err)
	}
	if ok, err := s.LockLiveClient(ctx, s.DB(), "cli_404"); ok || err != nil {
		t.Fatalf("lock of an unknown client: %v %v; want false", ok, err)
	}
}
