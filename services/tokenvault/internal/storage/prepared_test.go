package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// maxStatements is what the store may keep prepared, whatever the sizes of
// the batches it writes and reads: INSERTs of 1 to 128 rows in powers of two
// (8), with and without the deterministic upsert (16), subject checks of 1 to
// 128 subjects (8), token reads of 1 to 64 (7), and the single statements.
const maxStatements = 40

// TestPreparedStatementsStayFew: every batch size from 1 to 200 rows, every
// group of 1 to 130 subjects and every read of 1 to 70 tokens leave at most
// maxStatements prepared. database/sql prepares each again on every pool
// connection and SQLite keeps them outside the Go heap, so one per exact size
// grew the process by up to 19 MiB per connection (the soak's tokenvault
// growth). Checked to fail (hundreds of statements) with one statement per
// size. The batches are also read back whole, the padded subject check still
// refuses a stale version, and the same on PostgreSQL.
func TestPreparedStatementsStayFew(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := storage.New(db)
		var subjects []storage.SubjectVersion
		for i := range 130 {
			name := fmt.Sprintf("cus_%d", i)
			newSubject(t, s, name)
			subjects = append(subjects, storage.SubjectVersion{Tenant: "shop", Subject: name, Version: 1})
		}
		var written []string
		for n := 1; n <= 200; n++ {
			var rows []storage.Token
			for i := range n {
				rows = append(rows,
					storage.Token{Token: fmt.Sprintf("tok_%03d_%03d", n, i), Tenant: "shop", Subject: "cus_1", DataType: 1, Format: 1, Ciphertext: []byte{1}, DEKVersion: 1, Created: time.Now()},
					detRow("cus_1", fmt.Sprintf("det_%03d_%03d", n, i)))
			}
			if err := db.InTx(ctx, func(tx *sql.Tx) error { return s.InsertRows(ctx, tx, rows) }); err != nil {
				t.Fatalf("%d rows: %v", n, err)
			}
			for _, r := range rows {
				written = append(written, r.Token)
			}
		}
		for n := 1; n <= len(subjects); n++ {
			if err := db.InTx(ctx, func(tx *sql.Tx) error { return s.CheckSubjects(ctx, tx, subjects[:n]) }); err != nil {
				t.Fatalf("%d subjects: %v", n, err)
			}
		}
		// Three subjects, padded to four by repeating the last: a stale
		// version of the last must still be refused.
		stale := slices.Clone(subjects[:3])
		stale[2].Version = 2
		if err := db.InTx(ctx, func(tx *sql.Tx) error { return s.CheckSubjects(ctx, tx, stale) }); !errors.Is(err, storage.ErrSubjectChanged) {
			t.Errorf("stale version in a padded group: %v, want ErrSubjectChanged", err)
		}
		for n := 1; n <= 70; n++ {
			want := written[n*5 : n*6]
			got, err := s.FindTokens(ctx, want)
			if err != nil {
				t.Fatal(err)
			}
			for _, tok := range want {
				if len(got[tok]) != 1 {
					t.Fatalf("read of %d tokens: %s has %d rows, want 1", n, tok, len(got[tok]))
				}
			}
			if len(got) != len(want) {
				t.Fatalf("read of %d tokens: %d found", n, len(got))
			}
		}
		if n := s.PreparedStatements(); n > maxStatements {
			t.Errorf("%d statements prepared, want at most %d", n, maxStatements)
		}
	})
}
