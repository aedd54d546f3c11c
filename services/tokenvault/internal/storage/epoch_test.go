package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

const deterministic = 2

func subjectKey(subject string, kek int) storage.SubjectKey {
	return storage.SubjectKey{Tenant: "shop", Subject: subject, Version: 1, Wrapped: []byte("local:v1:AAAA"), KEKVersion: kek}
}

func newSubject(t *testing.T, s *storage.Store, subject string) {
	t.Helper()
	if err := s.InsertSubject(context.Background(), storage.Subject{Tenant: "shop", Subject: subject, Created: time.Now()}, subjectKey(subject, 1)); err != nil {
		t.Fatal(err)
	}
}

func detRow(subject, token string) storage.Token {
	return storage.Token{Token: token, Tenant: "shop", Subject: subject, DataType: 2, Format: deterministic, Ciphertext: []byte{1}, DEKVersion: 1, Created: time.Now()}
}

// TestKEKFloorRefusesOlderWraps: once the kek-epoch job has raised the floor,
// no key wrapped under an older KEK version is stored (new subject, new data
// key version, new tenant, rewrap): once that version is retired it would
// never open. The floor never goes down.
func TestKEKFloorRefusesOlderWraps(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := storage.New(db)
		newSubject(t, s, "cus_1")
		if err := s.RaiseKEKFloor(ctx, 2); err != nil {
			t.Fatal(err)
		}
		if err := s.RaiseKEKFloor(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if floor, err := s.KEKFloor(ctx); err != nil || floor != 2 {
			t.Fatalf("floor = %d, %v; want 2 (never lowered)", floor, err)
		}
		old := subjectKey("cus_1", 1)
		for what, err := range map[string]error{
			"new subject":   s.InsertSubject(ctx, storage.Subject{Tenant: "shop", Subject: "cus_2", Created: time.Now()}, subjectKey("cus_2", 1)),
			"new key":       s.AddSubjectKey(ctx, storage.SubjectKey{Tenant: "shop", Subject: "cus_1", Version: 2, Wrapped: []byte("x"), KEKVersion: 1}, 1, time.Now()),
			"new tenant":    s.InsertTenant(ctx, storage.Tenant{Tenant: "other", WrappedKey: []byte("x"), KEKVersion: 1}),
			"rewrapped key": s.UpdateWrapped(ctx, old, []byte("local:v1:BBBB"), 1),
		} {
			if !errors.Is(err, storage.ErrKEKVersionRetired) {
				t.Errorf("%s under a KEK version below the floor: %v, want %v", what, err, storage.ErrKEKVersionRetired)
			}
		}
		if _, err := s.GetSubject(ctx, "shop", "cus_2"); err == nil {
			t.Error("the refused subject was stored")
		}
		if err := s.InsertSubject(ctx, storage.Subject{Tenant: "shop", Subject: "cus_3", Created: time.Now()}, subjectKey("cus_3", 2)); err != nil {
			t.Errorf("new subject at the floor: %v", err)
		}
		if err := s.UpdateWrapped(ctx, old, []byte("local:v2:CCCC"), 2); err != nil {
			t.Errorf("rewrap to the floor: %v", err)
		}
	})
}

// TestRetiredTokenIsNotStoredAgain: a deterministic token that an erasure
// retired is refused when anyone stores it again.
func TestRetiredTokenIsNotStoredAgain(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := storage.New(db)
		newSubject(t, s, "cus_1")
		insert := func(r storage.Token) error {
			return db.InTx(ctx, func(tx *sql.Tx) error { return s.InsertRows(ctx, tx, []storage.Token{r}) })
		}
		const tok = "det_em_0000000000000000000042"
		if err := insert(detRow("cus_1", tok)); err != nil {
			t.Fatal(err)
		}
		var er storage.Erasure
		if err := db.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			er, err = s.EraseSubject(ctx, tx, "shop", "cus_1", "dsr_1", time.Now(), deterministic, 0)
			return err
		}); err != nil || er.TokensRetired != 1 || er.KEKVersion != 1 {
			t.Fatalf("erasure: %+v, %v", er, err)
		}
		if got, err := s.RetiredTokens(ctx, "shop", []string{tok, "det_em_other"}); err != nil || !got[tok] || got["det_em_other"] {
			t.Fatalf("RetiredTokens = %v, %v", got, err)
		}
		if err := insert(detRow("cus_2", tok)); !errors.Is(err, storage.ErrTokenRetired) {
			t.Fatalf("storing a retired token: %v, want %v", err, storage.ErrTokenRetired)
		}
		other := detRow("cus_2", tok)
		other.Tenant = "othershop" // retirement is per tenant
		if err := insert(other); err != nil {
			t.Fatalf("the same token string in another tenant: %v", err)
		}
	})
}

// TestRetiringAndStoringATokenSerialise: on PostgreSQL (READ COMMITTED), an
// insert of a deterministic token waits for an erasure retiring it that has
// not committed yet, and is then refused. Without the advisory lock, each
// would miss the other's uncommitted row and both would commit: a retired
// token in use.
func TestRetiringAndStoringATokenSerialise(t *testing.T) {
	db := storetest.Postgres(t, migrations.FS)
	ctx := context.Background()
	s := storage.New(db)
	newSubject(t, s, "cus_1")
	const tok = "det_em_0000000000000000000043"
	if err := db.InTx(ctx, func(tx *sql.Tx) error { return s.InsertRows(ctx, tx, []storage.Token{detRow("cus_1", tok)}) }); err != nil {
		t.Fatal(err)
	}
	erasing, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer erasing.Rollback()
	if er, err := s.EraseSubject(ctx, erasing, "shop", "cus_1", "dsr_1", time.Now(), deterministic, 0); err != nil || er.TokensRetired != 1 {
		t.Fatalf("erasure: %+v, %v", er, err)
	}
	inserted := make(chan error, 1)
	go func() {
		inserted <- db.InTx(ctx, func(tx *sql.Tx) error { return s.InsertRows(ctx, tx, []storage.Token{detRow("cus_2", tok)}) })
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case err := <-inserted:
			t.Fatalf("the insert did not wait for the uncommitted erasure: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the insert to wait")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := erasing.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-inserted; !errors.Is(err, storage.ErrTokenRetired) {
		t.Fatalf("insert after the erasure committed: %v, want %v", err, storage.ErrTokenRetired)
	}
}
