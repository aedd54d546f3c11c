package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// recorder stands in for the audit client: it refuses what the client
// refuses (auditclient.Validate), keeps what it is given and can be switched
// off to show the engine fails closed. (The real audit path is covered end
// to end in test/e2e.)
type recorder struct {
	mu     sync.Mutex
	events []auditclient.Event
	down   bool
}

func (r *recorder) Record(_ context.Context, evs ...auditclient.Event) error {
	if err := auditclient.Validate(evs...); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		return errs.E(errs.Unavailable, "AUDIT_UNAVAILABLE", "audit down")
	}
	r.events = append(r.events, evs...)
	return nil
}

// flakyKeys wraps a real KeyManager and can make the backend "unavailable",
// as a Vault outage does.
type flakyKeys struct {
	keys.KeyManager
	mu             sync.Mutex
	down           bool
	wraps, unwraps int
}

func (f *flakyKeys) setDown(d bool) { f.mu.Lock(); f.down = d; f.mu.Unlock() }
func (f *flakyKeys) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errs.E(errs.Unavailable, "KEY_BACKEND_UNAVAILABLE", "key backend unavailable")
	}
	return nil
}
func (f *flakyKeys) WrapKey(ctx context.Context, n string, p, a []byte) ([]byte, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.wraps++
	f.mu.Unlock()
	return f.KeyManager.WrapKey(ctx, n, p, a)
}
func (f *flakyKeys) UnwrapKey(ctx context.Context, n string, w, a []byte) ([]byte, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.unwraps++
	f.mu.Unlock()
	return f.KeyManager.UnwrapKey(ctx, n, w, a)
}

func startWriter(t testing.TB, e *engine.Engine) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.RunWriter(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

type fixture struct {
	eng   *engine.Engine
	db    *store.DB
	st    *storage.Store
	km    *flakyKeys
	audit *recorder
	now   time.Time
}

var conversation = engine.Caller{Workload: "conversation", ID: "spiffe://sotto.test/conversation"}

func newFixture(t *testing.T, db *store.DB, ttl time.Duration) *fixture {
	return newFixtureTB(t, db, ttl)
}

func newFixtureB(b *testing.B, db *store.DB) *fixture { return newFixtureTB(b, db, time.Minute) }

func newFixtureTB(t testing.TB, db *store.DB, ttl time.Duration) *fixture {
	t.Helper()
	local, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := local.EnsureKey(context.Background(), "tokenvault-kek", keys.TypeAES256GCM); err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse(tokenvault.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, st: storage.New(db), km: &flakyKeys{KeyManager: local}, audit: &recorder{}, now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	f.eng = engine.New(f.st, f.km, f.audit, auditclient.NewOutbox(db, nil, nil), pol, nil, engine.Options{
		CacheTTL: ttl, Now: func() time.Time { return f.now }, Tenants: []string{"default", "othershop"},
	})
	startWriter(t, f.eng)
	return f
}

func (f *fixture) tokenize(t *testing.T, subject string, items ...engine.Item) []string {
	t.Helper()
	res, err := f.eng.Tokenize(context.Background(), conversation, engine.TokenizeRequest{Subject: subject, Scope: "conv_1", Items: items})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(res))
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("item %d: %v", i, r.Err)
		}
		out[i] = r.Token
	}
	return out
}

func TestTokenizeDetokenizePolicy(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, time.Minute)
		ctx := context.Background()
		toks := f.tokenize(t, "cus_1",
			engine.Item{Value: "Jane Doe", Type: tokens.Name},
			engine.Item{Value: "Jane.Doe@Example.com", Type: tokens.Email},
			engine.Item{Value: "4242 4242 4242 4242", Type: tokens.CardNumber, Format: tokens.FormatCard},
			engine.Item{Value: "+44 20 7946 0958", Type: tokens.Phone, Format: tokens.FormatFPE},
		)
		for _, tok := range toks {
			if strings.Contains(tok, "Jane") || strings.Contains(tok, "4242424242424242") {
				t.Fatalf("token %q contains the value", tok)
			}
		}
		if card := toks[2]; len(card) != 16 || card[:6] != "424242" || card[12:] != "4242" || tokens.Luhn(card) {
			t.Fatalf("card token %q must keep 6+4 digits and fail Luhn", card)
		}
		if ph := toks[3]; !strings.HasPrefix(ph, "+0000") || len(ph) != len("+0000442079460958") {
			t.Fatalf("phone token %q is not a format-preserving, undiallable phone token", ph)
		}

		res, err := f.eng.Detokenize(ctx, conversation, "order_support", toks)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			value, rule, reason string
		}{
			{"Jane Doe", "conversation-order-support", ""},
			{"jane.doe@example.com", "conversation-order-support", ""},
			{"", policy.DefaultDeny, reasons.DataTypeNotAllowed},
			{"+442079460958", "conversation-order-support", ""},
		}
		for i, w := range want {
			r := res[i]
			if r.Value != w.value || r.Decision.Rule != w.rule || r.Decision.Reason != w.reason || r.Decision.Allowed != (w.value != "") {
				t.Errorf("token %d: value %q decision %+v; want %q %s %s", i, r.Value, r.Decision, w.value, w.rule, w.reason)
			}
		}
		// Every decision is audited, naming the caller, with no value in it.
		if len(f.audit.events) != 4 {
			t.Fatalf("%d audit events, want 4", len(f.audit.events))
		}
		for i, ev := range f.audit.events {
			if ev.CallerWorkload != conversation.ID || ev.Purpose != "order_support" || ev.ResourceID != toks[i] || ev.Subject != "cus_1" {
				t.Errorf("event %d = %+v", i, ev)
			}
			if strings.Contains(ev.ResourceID+ev.Reason+ev.Action, "Jane") {
				t.Errorf("event %d carries a value", i)
			}
		}
		if f.audit.events[2].Outcome != auditclient.Denied || f.audit.events[0].Outcome != auditclient.Success {
			t.Errorf("outcomes %v %v", f.audit.events[0].Outcome, f.audit.events[2].Outcome)
		}

		for _, tc := range []struct {
			name    string
			caller  engine.Caller
			purpose string
			reason  string
		}{
			{"unknown caller", engine.Caller{Workload: "gateway"}, "order_support", reasons.CallerNotAllowed},
			{"wrong purpose", conversation, "marketing", reasons.PurposeNotAllowed},
		} {
			res, err := f.eng.Detokenize(ctx, tc.caller, tc.purpose, toks[:1])
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Value != "" || res[0].Decision.Allowed || res[0].Decision.Reason != tc.reason {
				t.Errorf("%s: %+v", tc.name, res[0])
			}
		}
	})
}

func TestDetokenizeFailsClosedWithoutAudit(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, time.Minute)
		toks := f.tokenize(t, "cus_1", engine.Item{Value: "Jane Doe", Type: tokens.Name})
		f.audit.down = true
		res, err := f.eng.Detokenize(context.Background(), conversation, "order_support", toks)
		if !errs.Is(err, errs.Unavailable) || errs.ReasonOf(err) != "AUDIT_UNAVAILABLE" || res != nil {
			t.Fatalf("detokenize with audit down: %v, %v", res, err)
		}
		if _, _, err := f.eng.ExportSubject(context.Background(), conversation, "", "cus_1", "dsr_1", "", 0); !errs.Is(err, errs.Unavailable) {
			t.Fatalf("export with audit down: %v", err)
		}
		if _, err := f.eng.EraseSubject(context.Background(), conversation, "", "cus_1", "dsr_1"); !errs.Is(err, errs.Unavailable) {
			t.Fatalf("erase with audit down: %v", err)
		}
		// Nothing was erased.
		f.audit.down = false
		res, err = f.eng.Detokenize(context.Background(), conversation, "order_support", toks)
		if err != nil || res[0].Value != "Jane Doe" {
			t.Fatalf("after audit returned: %+v %v", res, err)
		}
	})
}

func TestPerItemErrors(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, time.Minute)
		ctx := context.Background()
		res, err := f.eng.Tokenize(ctx, conversation, engine.TokenizeRequest{Subject: "cus_1", TTL: time.Hour, Items: []engine.Item{
			{Value: "4242424242424241", Type: tokens.CardNumber}, // fails Luhn: a typo
			{Value: "not-an-email", Type: tokens.Email},
			{Value: "Jane Doe", Type: tokens.Name, Format: tokens.FormatCard},
			{Value: "Jane Doe", Type: tokens.Name},
		}})
		if err != nil {
			t.Fatal(err)
		}
		wantReasons := []string{"INVALID_VALUE", "INVALID_VALUE", "UNSUPPORTED_FORMAT", ""}
		for i, w := range wantReasons {
			got := ""
			if res[i].Err != nil {
				got = res[i].Err.Reason
				if strings.Contains(res[i].Err.Message, "4242") || strings.Contains(res[i].Err.Message, "not-an-email") {
					t.Fatalf("item %d error echoes the value", i)
				}
			}
			if got != w {
				t.Errorf("item %d: reason %q, want %q", i, got, w)
			}
		}
		good := res[3].Token
		f.now = f.now.Add(2 * time.Hour) // past the TTL
		out, err := f.eng.Detokenize(ctx, conversation, "order_support", []string{"tok_xx_!!", "tok_nm_0000000000000000000000", good})
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range []string{"MALFORMED_TOKEN", "UNKNOWN_TOKEN", "TOKEN_EXPIRED"} {
			if out[i].Err == nil || out[i].Err.Reason != w || out[i].Value != "" {
				t.Errorf("token %d: %+v, want %s", i, out[i], w)
			}
		}
	})
}

func TestDeterministicTokensAndLookup(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, time.Minute)
		ctx := context.Background()
		a := f.tokenize(t, "cus_a", engine.Item{Value: "shared@example.com", Type: tokens.Email, Format: tokens.FormatDeterministic})[0]
		b := f.tokenize(t, "cus_b", engine.Item{Value: "Shared@Example.com ", Type: tokens.Email, Format: tokens.FormatDeterministic})[0]
		again := f.tokenize(t, "cus_a", engine.Item{Value: "shared@example.com", Type: tokens.Email, Format: tokens.FormatDeterministic})[0]
		random := f.tokenize(t, "cus_c", engine.Item{Value: "shared@example.com", Type: tokens.Email})[0]
		if a != b || a != again || !strings.HasPrefix(a, "det_em_") {
			t.Fatalf("deterministic tokens differ: %s %s %s", a, b, again)
		}
		det, matches, err := f.eng.Lookup(ctx, conversation, "", "order_support", tokens.Email, "SHARED@example.com")
		if err != nil {
			t.Fatal(err)
		}
		// Lookup works through deterministic tokens only: cus_c's random
		// token is not an index.
		subjects := map[string]string{}
		for _, m := range matches {
			subjects[m.Subject] = m.Token
		}
		if det != a || len(matches) != 2 || subjects["cus_a"] != a || subjects["cus_b"] != a || strings.HasPrefix(random, "det_") {
			t.Fatalf("lookup: %s %v", det, subjects)
		}
		last := f.audit.events[len(f.audit.events)-1]
		if last.Action != "tokenvault.lookup" || last.ResourceID != det || last.CallerWorkload != conversation.ID {
			t.Fatalf("lookup audit event %+v", last)
		}
		// Another tenant has other keys: other tokens, no matches.
		other, m2, err := f.eng.Lookup(ctx, conversation, "othershop", "order_support", tokens.Email, "shared@example.com")
		if err != nil || other == a || len(m2) != 0 {
			t.Fatalf("other tenant: %s %v %v", other, m2, err)
		}
		// A lookup is an oracle: only where policy grants it, and only audited.
		// Only configured tenants are served: no keys are minted for made-up ones.
		if _, err := f.eng.Tokenize(ctx, conversation, engine.TokenizeRequest{Tenant: "madeup", Subject: "cus_1", Items: []engine.Item{{Value: "x", Type: tokens.FreeText}}}); errs.ReasonOf(err) != "UNKNOWN_TENANT" {
			t.Fatalf("tokenize for an unknown tenant: %v", err)
		}
		if _, _, err := f.eng.Lookup(ctx, conversation, "madeup", "order_support", tokens.Email, "shared@example.com"); errs.ReasonOf(err) != "UNKNOWN_TENANT" {
			t.Fatalf("lookup in an unknown tenant: %v", err)
		}
		before := len(f.audit.events)
		if _, _, err := f.eng.Lookup(ctx, conversation, "", "order_support", tokens.CardNumber, "4242424242424242"); !errs.Is(err, errs.PermissionDenied) {
			t.Fatalf("card lookup: %v", err)
		}
		if len(f.audit.events) != before+1 || f.audit.events[before].Outcome != auditclient.Denied || f.audit.events[before].Reason != reasons.DataTypeNotAllowed {
			t.Fatalf("a refused lookup is audited as denied: %+v", f.audit.events[before:])
		}
		if _, _, err := f.eng.Lookup(ctx, engine.Caller{Workload: "crmsync"}, "", "crm_sync", tokens.Email, "shared@example.com"); !errs.Is(err, errs.PermissionDenied) {
			t.Fatalf("lookup without a rule: %v", err)
		}
		f.audit.down = true
		if _, m, err := f.eng.Lookup(ctx, conversation, "", "order_support", tokens.Email, "shared@example.com"); !errs.Is(err, errs.Unavailable) || m != nil {
			t.Fatalf("lookup with audit down: %v %v", m, err)
		}
	})
}

func TestEraseCryptoShreds(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, time.Minute)
		ctx := context.Background()
		gone := f.tokenize(t, "cus_gone",
			engine.Item{Value: "Jane Doe", Type: tokens.Name},
			engine.Item{Value: "jane@example.com", Type: tokens.Email, Format: tokens.FormatDeterministic},
			engine.Item{Value: "+447700900123", Type: tokens.Phone})
		kept := f.tokenize(t, "cus_kept", engine.Item{Value: "John Roe", Type: tokens.Name})
		// Warm the key cache: erasure must not leave the key there.
		if _, err := f.eng.Detokenize(ctx, conversation, "order_support", gone[:1]); err != nil {
			t.Fatal(err)
		}

		ev, err := f.eng.EraseSubject(ctx, conversation, "", "cus_gone", "dsr_42")
		if err != nil {
			t.Fatal(err)
		}
		if ev.TokensAffected != 3 || ev.LookupsRemoved != 1 || ev.TokensRetired != 1 || ev.TokensKept != 0 || ev.KEKVersion != 1 ||
			len(ev.DestroyedVersions) != 1 || ev.AlreadyErased || ev.RequestID != "dsr_42" {
			t.Fatalf("evidence %+v", ev)
		}
		subj, err := f.st.GetSubject(ctx, "default", "cus_gone")
		if err != nil || subj.Erased.IsZero() || subj.EraseRequest != "dsr_42" {
			t.Fatalf("subject after erasure: %+v %v", subj, err)
		}
		if _, err := f.st.GetSubjectKey(ctx, "default", "cus_gone", 1); !errs.Is(err, errs.NotFound) {
			t.Fatalf("data key survived erasure: %v", err)
		}
		// The rows of random tokens remain (their tokens answer
		// SUBJECT_ERASED) with their ciphertexts overwritten; the
		// deterministic token (a keyed hash of the value) is gone.
		rows, err := f.st.SubjectTokens(ctx, "default", "cus_gone")
		if err != nil || len(rows) != 2 {
			t.Fatalf("rows after erasure: %d %v", len(rows), err)
		}
		for _, r := range rows {
			if len(r.Ciphertext) != 0 {
				t.Fatalf("row after erasure still holds a ciphertext: %+v", r)
			}
		}
		res, err := f.eng.Detokenize(ctx, conversation, "order_support", append(gone, kept...))
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []string{"SUBJECT_ERASED", "UNKNOWN_TOKEN", "SUBJECT_ERASED"} {
			if res[i].Value != "" || res[i].Err == nil || res[i].Err.Reason != want {
				t.Errorf("erased token %d: %+v, want %s", i, res[i], want)
			}
		}
		if res[3].Value != "John Roe" {
			t.Errorf("another subject's value: %+v", res[3])
		}
		if _, m, _ := f.eng.Lookup(ctx, conversation, "", "order_support", tokens.Email, "jane@example.com"); len(m) != 0 {
			t.Errorf("lookup still finds the erased subject: %v", m)
		}
		masked, _ := f.eng.RevealMasked(ctx, conversation, gone[:1])
		if masked[0].Masked != "" || masked[0].Err == nil {
			t.Errorf("masked view after erasure: %+v", masked[0])
		}
		if _, err := f.eng.Tokenize(ctx, conversation, engine.TokenizeRequest{Subject: "cus_gone", Items: []engine.Item{{Value: "x", Type: tokens.FreeText}}}); errs.ReasonOf(err) != "SUBJECT_ERASED" {
			t.Errorf("tokenize for an erased subject: %v", err)
		}
		again, err := f.eng.EraseSubject(ctx, conversation, "", "cus_gone", "dsr_43")
		if err != nil || !again.AlreadyErased {
			t.Fatalf("second erasure: %+v %v", again, err)
		}
		before := len(f.audit.events)
		if _, err := f.eng.EraseSubject(ctx, conversation, "", "cus_nobody", "dsr_44"); !errs.Is(err, errs.NotFound) || len(f.audit.events) != before {
			t.Fatalf("erasing an unknown subject: %v, %d new audit events", err, len(f.audit.events)-before)
		}
	})
}

func TestExportSubject(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, time.Minute)
		items := []engine.Item{{Value: "Jane Doe", Type: tokens.Name}, {Value: "4242424242424242", Type: tokens.CardNumber}}
		for i := 0; i < 5; i++ {
			items = append(items, engine.Item{Value: fmt.Sprintf("Order note %d", i), Type: tokens.FreeText})
		}
		f.tokenize(t, "cus_1", items...)
		f.tokenize(t, "cus_2", engine.Item{Value: "John Roe", Type: tokens.Name})
		consent := engine.Caller{Workload: "consent"}
		// Page through everything, 3 at a time.
		got := map[string]bool{}
		after, pages := "", 0
		for {
			out, next, err := f.eng.ExportSubject(context.Background(), consent, "", "cus_1", "dsr_1", after, 3)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, v := range out {
				if got[v.Value] {
					t.Fatalf("value exported twice")
				}
				got[v.Value] = true
			}
			if next == "" {
				break
			}
			after = next
			if pages > 5 {
				t.Fatal("export does not end")
			}
		}
		if pages != 3 || len(got) != 7 || !got["Jane Doe"] || !got["4242424242424242"] || got["John Roe"] {
			t.Fatalf("export: %d pages, %d values", pages, len(got))
		}
		last := f.audit.events[len(f.audit.events)-1]
		if last.Action != "tokenvault.export" || last.Subject != "cus_1" || last.ResourceID != "dsr_1" {
			t.Fatalf("export audit event %+v", last)
		}
	})
}

func TestRotationRewrapsWithoutReencrypting(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, time.Minute)
		ctx := context.Background()
		var toks []string
		for _, s := range []string{"cus_1", "cus_2", "cus_3"} {
			toks = append(toks, f.tokenize(t, s, engine.Item{Value: "Name " + s, Type: tokens.Name})...)
		}
		before, _ := f.st.SubjectTokens(ctx, "default", "cus_1")
		st, err := f.eng.RotateKeys(ctx, engine.Caller{Workload: "sotto-cli"}, true)
		if err != nil {
			t.Fatal(err)
		}
		if st.KEKVersion != 2 || st.PendingRewrap != 3 {
			t.Fatalf("after rotate: %+v", st)
		}
		// Serving goes on during the rewrap: old wrappings still open.
		if res, err := f.eng.Detokenize(ctx, conversation, "order_support", toks); err != nil || res[0].Value != "Name cus_1" {
			t.Fatalf("detokenize mid-rotation: %v", err)
		}
		if n, err := f.eng.RewrapOnce(ctx, 2); err != nil || n != 2 {
			t.Fatalf("first rewrap batch: %d %v", n, err)
		}
		if n, err := f.eng.RewrapOnce(ctx, 2); err != nil || n != 1 {
			t.Fatalf("second rewrap batch (resumes): %d %v", n, err)
		}
		st, _ = f.eng.RotateKeys(ctx, engine.Caller{Workload: "sotto-cli"}, false)
		if st.PendingRewrap != 0 {
			t.Fatalf("pending after rewrap: %+v", st)
		}
		after, _ := f.st.SubjectTokens(ctx, "default", "cus_1")
		if string(before[0].Ciphertext) != string(after[0].Ciphertext) {
			t.Fatal("values were re-encrypted; only data keys should be rewrapped")
		}
		// A fresh engine (empty cache) opens the rewrapped keys.
		g := newFixtureWithKeys(t, db, f.km)
		res, err := g.eng.Detokenize(ctx, conversation, "order_support", toks)
		if err != nil || res[2].Value != "Name cus_3" {
			t.Fatalf("after rewrap: %+v %v", res, err)
		}
		sk, _ := f.st.GetSubjectKey(ctx, "default", "cus_2", 1)
		if v, _ := f.km.WrappedVersion(sk.Wrapped); v != 2 || sk.KEKVersion != 2 {
			t.Fatalf("data key still wrapped under v%d (recorded %d)", v, sk.KEKVersion)
		}
	})
}

func newFixtureWithKeys(t *testing.T, db *store.DB, km *flakyKeys) *fixture {
	t.Helper()
	pol, _ := policy.Parse(tokenvault.DefaultPolicy)
	f := &fixture{db: db, st: storage.New(db), km: km, audit: &recorder{}, now: time.Now()}
	f.eng = engine.New(f.st, km, f.audit, auditclient.NewOutbox(db, nil, nil), pol, nil, engine.Options{})
	startWriter(t, f.eng)
	return f
}

// TestKeyBackendOutage: while the key backend (Vault) is down, subjects
// whose keys are cached keep working until the cache entry expires; a new
// subject gets Unavailable and nothing is half-written.
func TestKeyBackendOutage(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		const ttl = time.Minute
		f := newFixture(t, db, ttl)
		ctx := context.Background()
		known := f.tokenize(t, "cus_known", engine.Item{Value: "Jane Doe", Type: tokens.Name})
		f.km.setDown(true)

		more := f.tokenize(t, "cus_known", engine.Item{Value: "Jane Q. Doe", Type: tokens.Name})
		res, err := f.eng.Detokenize(ctx, conversation, "order_support", append(known, more...))
		if err != nil || res[0].Value != "Jane Doe" || res[1].Value != "Jane Q. Doe" {
			t.Fatalf("cached subject during outage: %+v %v", res, err)
		}

		_, err = f.eng.Tokenize(ctx, conversation, engine.TokenizeRequest{Subject: "cus_new", Items: []engine.Item{{Value: "New Person", Type: tokens.Name}}})
		if !errs.Is(err, errs.Unavailable) {
			t.Fatalf("new subject during outage: %v, want Unavailable", err)
		}
		if _, err := f.st.GetSubject(ctx, "default", "cus_new"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("half-written subject: %v", err)
		}
		if rows, _ := f.st.SubjectTokens(ctx, "default", "cus_new"); len(rows) != 0 {
			t.Fatalf("half-written tokens: %d", len(rows))
		}

		// Until the cached key expires by the engine's clock, the known
		// subject keeps working; then it is unavailable too.
		f.now = f.now.Add(ttl - time.Second)
		res, err = f.eng.Detokenize(ctx, conversation, "order_support", known)
		if err != nil || res[0].Value != "Jane Doe" {
			t.Fatalf("cached subject just before the TTL: %+v %v", res, err)
		}
		f.now = f.now.Add(time.Second)
		res, err = f.eng.Detokenize(ctx, conversation, "order_support", known)
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Value != "" || res[0].Err == nil || res[0].Err.Reason != "KEY_UNAVAILABLE" {
			t.Fatalf("after expiry: %+v", res[0])
		}
		f.km.setDown(false)
		res, err = f.eng.Detokenize(ctx, conversation, "order_support", known)
		if err != nil || res[0].Value != "Jane Doe" {
			t.Fatalf("after recovery: %+v %v", res, err)
		}
	})
}

func TestSubjectKeyRotationReencrypts(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, time.Minute)
		ctx := context.Background()
		old := f.tokenize(t, "cus_1", engine.Item{Value: "Jane Doe", Type: tokens.Name}, engine.Item{Value: "+447700900123", Type: tokens.Phone})
		other := f.tokenize(t, "cus_2", engine.Item{Value: "John Roe", Type: tokens.Name})
		st, err := f.eng.RotateSubjectKey(ctx, engine.Caller{Workload: "sotto-cli"}, "", "cus_1")
		if err != nil {
			t.Fatal(err)
		}
		if st.PendingReencrypt != 2 {
			t.Fatalf("after rotation: %+v", st)
		}
		// New values use the new key at once; old ones still open.
		fresh := f.tokenize(t, "cus_1", engine.Item{Value: "Jane Q. Doe", Type: tokens.Name})
		rows, _ := f.st.SubjectTokens(ctx, "default", "cus_1")
		versions := map[string]int{}
		for _, r := range rows {
			versions[r.Token] = r.DEKVersion
		}
		if versions[old[0]] != 1 || versions[fresh[0]] != 2 {
			t.Fatalf("versions before the job: %v", versions)
		}
		res, err := f.eng.Detokenize(ctx, conversation, "order_support", append(old, fresh...))
		if err != nil || res[0].Value != "Jane Doe" || res[2].Value != "Jane Q. Doe" {
			t.Fatalf("mid-rotation: %+v %v", res, err)
		}
		if n, err := f.eng.ReencryptOnce(ctx, 100); err != nil || n != 2 {
			t.Fatalf("re-encrypt: %d %v", n, err)
		}
		// The retired key is destroyed once no value needs it.
		if _, err := f.st.GetSubjectKey(ctx, "default", "cus_1", 1); !errs.Is(err, errs.NotFound) {
			t.Fatalf("retired key still stored: %v", err)
		}
		if _, err := f.st.GetSubjectKey(ctx, "default", "cus_2", 1); err != nil {
			t.Fatalf("another subject's key was destroyed: %v", err)
		}
		g := newFixtureWithKeys(t, db, f.km) // empty cache: only stored keys count
		res, err = g.eng.Detokenize(ctx, conversation, "order_support", append(append(old, fresh...), other...))
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []string{"Jane Doe", "+447700900123", "Jane Q. Doe", "John Roe"} {
			if res[i].Value != want {
				t.Errorf("token %d after re-encryption: %+v", i, res[i])
			}
		}
		st, _ = f.eng.RotateKeys(ctx, engine.Caller{Workload: "sotto-cli"}, false)
		if st.PendingReencrypt != 0 {
			t.Fatalf("backlog after the job: %+v", st)
		}
		// Erasure destroys every version.
		if _, err := f.eng.RotateSubjectKey(ctx, engine.Caller{Workload: "sotto-cli"}, "", "cus_1"); err != nil {
			t.Fatal(err)
		}
		ev, err := f.eng.EraseSubject(ctx, conversation, "", "cus_1", "dsr_9")
		if err != nil || len(ev.DestroyedVersions) != 2 {
			t.Fatalf("erasure after two rotations: %+v %v", ev, err)
		}
	})
}

// TestSmallTokenSpacesDoNotCollide: many card tokens of one card, in one
// request and across requests, must all be distinct, keep the last 4 digits
// (and only those, for a 13-digit card) and fail Luhn.
func TestSmallTokenSpacesDoNotCollide(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, time.Minute)
		items := make([]engine.Item, 150)
		for i := range items {
			items[i] = engine.Item{Value: "4222222222222", Type: tokens.CardNumber, Format: tokens.FormatCard}
		}
		seen := map[string]bool{}
		for round := 0; round < 2; round++ {
			for _, tok := range f.tokenize(t, "cus_1", items...) {
				if seen[tok] {
					t.Fatalf("token %s issued twice", tok)
				}
				seen[tok] = true
				if len(tok) != 13 || tok[9:] != "2222" || tokens.Luhn(tok) {
					t.Fatalf("card token %s", tok)
				}
			}
		}
		if len(seen) != 300 {
			t.Fatalf("%d distinct tokens, want 300", len(seen))
		}
	})
}

// TestReplicasSeeErasureAndRotation: two engines over one database (two
// replicas). Keys cached by one never outlive an erasure or a rotation done
// by the other.
func TestReplicasSeeErasureAndRotation(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newFixture(t, db, time.Hour)
		b := newFixtureWithKeys(t, db, a.km)
		toks := a.tokenize(t, "cus_1", engine.Item{Value: "Jane Doe", Type: tokens.Name})
		// b caches cus_1's key.
		if res, err := b.eng.Detokenize(ctx, conversation, "order_support", toks); err != nil || res[0].Value != "Jane Doe" {
			t.Fatalf("b before: %+v %v", res, err)
		}
		// a rotates the data key: b's cached "current" key is stale, yet b's
		// next tokenization lands under the new version.
		if _, err := a.eng.RotateSubjectKey(ctx, engine.Caller{Workload: "sotto-cli"}, "", "cus_1"); err != nil {
			t.Fatal(err)
		}
		fresh := b.tokenize(t, "cus_1", engine.Item{Value: "Jane Q. Doe", Type: tokens.Name})
		rows, _ := a.st.SubjectTokens(ctx, "default", "cus_1")
		for _, r := range rows {
			if r.Token == fresh[0] && r.DEKVersion != 2 {
				t.Fatalf("b sealed with retired version %d", r.DEKVersion)
			}
		}
		// a erases: b still holds keys in memory, but uses none of them.
		if _, err := a.eng.EraseSubject(ctx, conversation, "", "cus_1", "dsr_1"); err != nil {
			t.Fatal(err)
		}
		res, err := b.eng.Detokenize(ctx, conversation, "order_support", append(toks, fresh...))
		if err != nil {
			t.Fatal(err)
		}
		for i := range res {
			if res[i].Value != "" || res[i].Err == nil || res[i].Err.Reason != "SUBJECT_ERASED" {
				t.Fatalf("b after erasure, token %d: %+v", i, res[i])
			}
		}
		_, err = b.eng.Tokenize(ctx, conversation, engine.TokenizeRequest{Subject: "cus_1", Items: []engine.Item{{Value: "x y", Type: tokens.Name}}})
		if errs.ReasonOf(err) != "SUBJECT_ERASED" {
			t.Fatalf("b tokenizing for the erased subject: %v", err)
		}
		if rows, _ := a.st.SubjectTokens(ctx, "default", "cus_1"); len(rows) != 2 {
			t.Fatalf("rows after erasure: %d", len(rows))
		}
	})
}

func TestMaskedViewsAndExpiry(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, time.Minute)
		ctx := context.Background()
		toks := f.tokenize(t, "cus_1",
			engine.Item{Value: "4242 4242 4242 4242", Type: tokens.CardNumber, Format: tokens.FormatCard},
			engine.Item{Value: "jane@example.com", Type: tokens.Email})
		res, err := f.eng.RevealMasked(ctx, conversation, toks)
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Masked != "•••• 4242" || res[1].Masked != "j•••@e•••.com" {
			t.Fatalf("masked views: %q %q", res[0].Masked, res[1].Masked)
		}
		// Who looked is recorded through the outbox.
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_outbox`).Scan(&n); err != nil || n != 2 {
			t.Fatalf("outbox rows after tokenize + reveal: %d %v", n, err)
		}

		// Expired tokens are purged, values and all.
		short, err := f.eng.Tokenize(ctx, conversation, engine.TokenizeRequest{Subject: "cus_1", TTL: time.Minute,
			Items: []engine.Item{{Value: "Jane Doe", Type: tokens.Name}}})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := f.eng.PurgeExpired(ctx); err != nil || n != 0 {
			t.Fatalf("purge before expiry: %d %v", n, err)
		}
		f.now = f.now.Add(2 * time.Minute)
		if n, err := f.eng.PurgeExpired(ctx); err != nil || n != 1 {
			t.Fatalf("purge after expiry: %d %v", n, err)
		}
		out, _ := f.eng.Detokenize(ctx, conversation, "order_support", []string{short[0].Token, toks[1]})
		if out[0].Err == nil || out[0].Err.Reason != "UNKNOWN_TOKEN" || out[1].Value != "jane@example.com" {
			t.Fatalf("after purge: %+v", out)
		}
	})
}

// TestNewSubjectCostsOneKeyCall: a new subject's first Tokenize wraps its
// data key once and uses it as is, rather than reading it back and asking
// the key backend (Vault) to unwrap what it just wrapped; a fresh engine
// (another replica, or after a restart) unwraps it from the database.
func TestNewSubjectCostsOneKeyCall(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, time.Minute)
		toks := f.tokenize(t, "cus_new", engine.Item{Value: "Ada Lovelace", Type: tokens.Name})
		if f.km.wraps != 1 || f.km.unwraps != 0 {
			t.Fatalf("first tokenize of a new subject: %d wraps and %d unwraps, want 1 and 0", f.km.wraps, f.km.unwraps)
		}
		other := newFixtureWithKeys(t, db, f.km)
		res, err := other.eng.Detokenize(context.Background(), conversation, "order_support", toks)
		if err != nil || res[0].Value != "Ada Lovelace" {
			t.Fatalf("detokenize on another engine: %+v, %v", res, err)
		}
		if f.km.unwraps != 1 {
			t.Fatalf("another engine: %d unwraps, want 1", f.km.unwraps)
		}
	})
}

// TestCiphertextsAndKeysAreBoundToTheirRows: associated data binds each
// ciphertext to its token, subject and type, and each wrapped data key to its
// subject, so rows moved around in the database (by an attacker with write
// access, or a bug) do not decrypt as someone else's data.
func TestCiphertextsAndKeysAreBoundToTheirRows(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, time.Minute)
		ctx := context.Background()
		a := f.tokenize(t, "cus_a", engine.Item{Value: "Jane Doe", Type: tokens.Name}, engine.Item{Value: "John Roe", Type: tokens.Name})
		b := f.tokenize(t, "cus_b", engine.Item{Value: "Ann Poe", Type: tokens.Name})
		if _, err := db.ExecContext(ctx, `UPDATE tokens SET ciphertext = (SELECT ciphertext FROM tokens WHERE token = $1) WHERE token = $2`, a[1], a[0]); err != nil {
			t.Fatal(err)
		}
		res, err := f.eng.Detokenize(ctx, conversation, "order_support", a[:1])
		if err != nil || res[0].Value != "" || res[0].Err == nil || res[0].Err.Reason != "VALUE_UNREADABLE" {
			t.Fatalf("a ciphertext moved to another token of the subject: %+v, %v; want VALUE_UNREADABLE", res, err)
		}
		// cus_b's wrapped key copied over cus_a's: a fresh engine (nothing
		// cached) cannot use it for cus_a.
		if _, err := db.ExecContext(ctx, `UPDATE subject_keys SET wrapped = (SELECT wrapped FROM subject_keys WHERE subject = 'cus_b') WHERE subject = 'cus_a'`); err != nil {
			t.Fatal(err)
		}
		fresh := newFixtureWithKeys(t, db, f.km)
		res, err = fresh.eng.Detokenize(ctx, conversation, "order_support", []string{a[1], b[0]})
		if err != nil || res[0].Value != "" || res[0].Err == nil || res[0].Err.Reason != "KEY_UNAVAILABLE" {
			t.Fatalf("another subject's wrapped key: %+v, %v; want KEY_UNAVAILABLE", res, err)
		}
		if res[1].Value != "Ann Poe" { // the check itself works: cus_b's own key still opens cus_b's value
			t.Fatalf("cus_b with its own key: %+v", res[1])
		}
	})
}

// TestRotationsFailClosedWithoutAudit: a rotation the audit log did not
// record does not happen.
func TestRotationsFailClosedWithoutAudit(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, time.Minute)
		ctx := context.Background()
		f.tokenize(t, "cus_1", engine.Item{Value: "Jane Doe", Type: tokens.Name})
		f.audit.down = true
		if _, err := f.eng.RotateKeys(ctx, conversation, true); errs.ReasonOf(err) != "AUDIT_UNAVAILABLE" {
			t.Fatalf("KEK rotation with audit down: %v, want AUDIT_UNAVAILABLE", err)
		}
		if _, err := f.eng.RotateSubjectKey(ctx, conversation, "", "cus_1"); errs.ReasonOf(err) != "AUDIT_UNAVAILABLE" {
			t.Fatalf("subject key rotation with audit down: %v, want AUDIT_UNAVAILABLE", err)
		}
		f.audit.down = false
		if rec, err := f.st.GetSubject(ctx, "default", "cus_1"); err != nil || rec.CurrentVersion != 1 {
			t.Fatalf("subject key version after refused rotation: %d (%v), want 1", rec.CurrentVersion, err)
		}
		f.tokenize(t, "cus_2", engine.Item{Value: "John Roe", Type: tokens.Name})
		if k, err := f.st.GetSubjectKey(ctx, "default", "cus_2", 1); err != nil || k.KEKVersion != 1 {
			t.Fatalf("KEK version of a new key after refused rotation: %d (%v), want 1", k.KEKVersion, err)
		}
	})
}

// TestMetadataHidesWhoSharesADeterministicToken: two customers with the same
// e-mail share its deterministic token; its metadata names neither.
func TestMetadataHidesWhoSharesADeterministicToken(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, time.Minute)
		det := engine.Item{Value: "shared@example.com", Type: tokens.Email, Format: tokens.FormatDeterministic}
		tok := f.tokenize(t, "cus_a", det)[0]
		f.tokenize(t, "cus_b", det)
		md, err := f.eng.TokenMetadata(context.Background(), conversation, tok)
		if err != nil || md.Subject != "" || md.Token.Token != tok {
			t.Fatalf("metadata of a shared deterministic token: %+v, %v; want no subject", md, err)
		}
		random := f.tokenize(t, "cus_a", engine.Item{Value: "Jane Doe", Type: tokens.Name})[0]
		if md, err := f.eng.TokenMetadata(context.Background(), conversation, random); err != nil || md.Subject != "cus_a" {
			t.Fatalf("metadata of a random token: %+v, %v; want its subject", md, err)
		}
	})
}
