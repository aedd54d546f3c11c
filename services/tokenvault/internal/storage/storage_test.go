package storage_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// TestTokensAreUniqueAcrossTenants: Detokenize takes a bare token, so a
// token that is not deterministic can exist once in the whole vault; a
// second tenant (or subject) with the same token string is refused, never
// stored beside the first. Deterministic tokens are per subject by design.
func TestTokensAreUniqueAcrossTenants(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := storage.New(db)
		row := func(tenant, subject string, format int) storage.Token {
			return storage.Token{Token: "4242421234564242", Tenant: tenant, Subject: subject, DataType: 1, Format: format,
				Ciphertext: []byte{1}, DEKVersion: 1, Created: time.Now()}
		}
		insert := func(r storage.Token) error {
			return db.InTx(ctx, func(tx *sql.Tx) error { return s.InsertRows(ctx, tx, []storage.Token{r}) })
		}
		const card, deterministic = 4, 2
		if err := insert(row("shop_a", "cus_1", card)); err != nil {
			t.Fatal(err)
		}
		for _, r := range []storage.Token{row("shop_b", "cus_9", card), row("shop_a", "cus_2", card)} {
			if err := insert(r); !errs.Is(err, errs.AlreadyExists) {
				t.Fatalf("duplicate token for %s/%s: %v, want AlreadyExists", r.Tenant, r.Subject, err)
			}
		}
		det := row("shop_a", "cus_1", deterministic)
		det.Token = "det_em_0000000000000000000001"
		for _, subject := range []string{"cus_1", "cus_2"} {
			d := det
			d.Subject = subject
			if err := insert(d); err != nil {
				t.Fatalf("deterministic token for %s: %v", subject, err)
			}
		}
	})
}
