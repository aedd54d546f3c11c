package engine_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"strconv"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// canary is an e-mail address at a private domain, unique to one test, and
// the pieces of it that must never be found at rest.
type canary struct {
	email, local, label, domain, mask string
}

func newCanary(t *testing.T) canary {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	h := hex.EncodeToString(b)
	c := canary{local: "quentin" + h, label: "home" + h}
	c.domain = c.label + ".name"
	c.email = c.local + "@" + c.domain
	c.mask = "q•••@h•••.name"
	return c
}

// secrets are the canary's pieces a database file must not hold.
func (c canary) secrets() map[string][]byte {
	return map[string][]byte{
		"local part": []byte(c.local), "private domain": []byte(c.label), "masked view": []byte(c.mask),
	}
}

// mustHold fails t unless raw holds every one of want: a scan that cannot
// find what is there proves nothing by finding nothing.
func mustHold(t *testing.T, raw []byte, want map[string][]byte) {
	t.Helper()
	for what, b := range want {
		if !bytes.Contains(raw, b) {
			t.Fatalf("the %s is not in the stored bytes: the scan is blind", what)
		}
	}
}

func mustNotHold(t *testing.T, raw []byte, secrets map[string][]byte) {
	t.Helper()
	for what, b := range secrets {
		if bytes.Contains(raw, b) {
			t.Errorf("the canary's %s is stored in plaintext", what)
		}
	}
}

// TestMasksAreNotStored: tokenizing writes no masked view, nor any piece of
// one, anywhere the database keeps data (SQLite's file and WAL,
// PostgreSQL's table file), while RevealMasked still shows the right mask.
func TestMasksAreNotStored(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newCanary(t)
		f := newFixture(t, db, time.Minute)
		toks := f.tokenize(t, "cus_1",
			engine.Item{Value: c.email, Type: tokens.Email},
			engine.Item{Value: c.email, Type: tokens.Email, Format: tokens.FormatDeterministic},
			engine.Item{Value: "4242 4242 4242 4242", Type: tokens.CardNumber, Format: tokens.FormatCard})
		res, err := f.eng.RevealMasked(ctx, conversation, toks)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []string{c.mask, c.mask, "•••• 4242"} {
			if res[i].Err != nil || res[i].Masked != want || res[i].Type != []tokens.DataType{tokens.Email, tokens.Email, tokens.CardNumber}[i] {
				t.Errorf("token %d: %+v, want %q", i, res[i], want)
			}
		}
		raw := storetest.StoredBytes(t, db)
		mustHold(t, raw, map[string][]byte{"random token": []byte(toks[0]), "card token": []byte(toks[2])})
		mustNotHold(t, raw, c.secrets())
	})
}

// TestMasksDieWithTheKey: after an erasure a masked view can no longer be
// had, not from this replica, not from a fresh one, and not by anyone who
// reads the rows: the only thing it can be computed from is sealed under a
// key that no longer exists, and nothing of it is in the database.
func TestMasksDieWithTheKey(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newCanary(t)
		f := newFixture(t, db, time.Minute)
		toks := f.tokenize(t, "cus_gone",
			engine.Item{Value: c.email, Type: tokens.Email},
			engine.Item{Value: "Quentin Blake", Type: tokens.Name})
		before, err := f.eng.RevealMasked(ctx, conversation, toks)
		if err != nil || before[0].Masked != c.mask || before[1].Masked != "Q•••" {
			t.Fatalf("before erasure: %+v, %v", before, err)
		}
		if _, err := f.eng.EraseSubject(ctx, conversation, "", "cus_gone", "dsr_1"); err != nil {
			t.Fatal(err)
		}
		pol, err := policy.Parse(tokenvault.DefaultPolicy)
		if err != nil {
			t.Fatal(err)
		}
		// Another replica: nothing cached, no tombstone of this erasure.
		fresh := engine.New(f.st, f.km, f.audit, auditclient.NewOutbox(db, nil, nil), pol, nil, engine.Options{Now: func() time.Time { return f.now }})
		for name, e := range map[string]*engine.Engine{"this replica": f.eng, "a fresh replica": fresh} {
			res, err := e.RevealMasked(ctx, conversation, toks)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res {
				if r.Masked != "" || r.Err == nil || r.Err.Reason != "SUBJECT_ERASED" {
					t.Errorf("%s, token %d after erasure: %+v", name, i, r)
				}
			}
		}
		rows, err := f.st.SubjectTokens(ctx, "default", "cus_gone")
		if err != nil || len(rows) != 2 {
			t.Fatalf("rows after erasure: %d, %v", len(rows), err)
		}
		for _, r := range rows {
			if _, err := f.st.GetSubjectKey(ctx, "default", "cus_gone", r.DEKVersion); !errs.Is(err, errs.NotFound) {
				t.Errorf("the key that seals token %s survived the erasure: %v", r.Token, err)
			}
		}
		raw := storetest.StoredBytes(t, db)
		mustHold(t, raw, map[string][]byte{"random token": []byte(toks[0])})
		mustNotHold(t, raw, c.secrets())
	})
}

// downToVersion1 migrates db back to the schema the previous release left
// (migration 1), keeping its rows: today's engine needs today's schema to
// write them, the previous release's schema is what the upgrade starts from.
func downToVersion1(t *testing.T, db *store.DB) {
	t.Helper()
	dir, err := fs.Sub(migrations.FS, string(db.Dialect))
	if err != nil {
		t.Fatal(err)
	}
	dialect := goose.DialectSQLite3
	if db.Dialect == store.Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, db.DB, dir, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
}

// TestMigrationRemovesPlaintextMasks: a database of the previous release,
// whose rows carry plaintext masks, holds none once migrated (SQLite's file
// and WAL, PostgreSQL's table file, dead row versions included), and its
// tokens still reveal their masks, now computed and masked by today's rules.
func TestMigrationRemovesPlaintextMasks(t *testing.T) {
	for _, dialect := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			var db *store.DB
			if dialect == store.SQLite {
				db = storetest.SQLite(t, migrations.FS)
			} else {
				db = storetest.Postgres(t, migrations.FS)
			}
			c := newCanary(t)
			f := newFixture(t, db, time.Minute)
			toks := f.tokenize(t, "cus_1",
				engine.Item{Value: c.email, Type: tokens.Email},
				engine.Item{Value: "4242 4242 4242 4242", Type: tokens.CardNumber, Format: tokens.FormatCard})
			downToVersion1(t, db)
			// What the previous release stored with each row.
			oldMask := "q•••@" + c.domain
			for tok, m := range map[string]string{toks[0]: oldMask, toks[1]: "•••• 4242"} {
				if _, err := db.ExecContext(ctx, `UPDATE tokens SET masked = $1 WHERE token = $2`, m, tok); err != nil {
					t.Fatal(err)
				}
			}
			mustHold(t, storetest.StoredBytes(t, db), map[string][]byte{"old mask": []byte(oldMask)})

			if err := db.Migrate(ctx, "", migrations.FS); err != nil {
				t.Fatal(err)
			}
			raw := storetest.StoredBytes(t, db)
			mustHold(t, raw, map[string][]byte{"random token": []byte(toks[0])})
			mustNotHold(t, raw, map[string][]byte{"old mask": []byte(oldMask), "private domain": []byte(c.label)})

			res, err := f.eng.RevealMasked(ctx, conversation, toks)
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Err != nil || res[0].Masked != c.mask || res[1].Err != nil || res[1].Masked != "•••• 4242" {
				t.Fatalf("masks after the migration: %+v", res)
			}
		})
	}
}

// BenchmarkRevealMasked100: masked views of 100 tokens of 10 subjects whose
// data keys are cached (SQLite, local keyring): what computing masks on
// read costs over reading a stored one is an AES-GCM open per token.
func BenchmarkRevealMasked100(b *testing.B) {
	db := storetest.SQLite(b, migrations.FS)
	f := newFixtureB(b, db)
	ctx := context.Background()
	var toks []string
	for s := range 10 {
		items := make([]engine.Item, 10)
		for i := range items {
			items[i] = engine.Item{Value: "customer" + strconv.Itoa(s*10+i) + "@smith-family.name", Type: tokens.Email}
		}
		res, err := f.eng.Tokenize(ctx, conversation, engine.TokenizeRequest{Subject: "cus_" + strconv.Itoa(s), Items: items})
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			toks = append(toks, r.Token)
		}
	}
	b.ResetTimer()
	for range b.N {
		res, err := f.eng.RevealMasked(ctx, conversation, toks)
		if err != nil || res[0].Masked != "c•••@s•••.name" {
			b.Fatalf("%+v, %v", res[0], err)
		}
	}
	b.ReportMetric(float64(b.N*len(toks))/b.Elapsed().Seconds(), "masks/s")
}
