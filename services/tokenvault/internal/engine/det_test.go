package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// TestErasureRetiresDeterministicTokens: after an erasure, the erased
// subject's deterministic token for a value is never returned again, by
// Lookup or by Tokenize for any subject: the value moves to its next
// generation, so copies of the old token elsewhere stay unlinkable to it. A
// token other live subjects hold stays theirs (and the evidence counts it as
// kept); a holder whose row expired does not keep it alive.
func TestErasureRetiresDeterministicTokens(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, time.Minute)
		det := func(subject, value string) string {
			t.Helper()
			return f.tokenize(t, subject, engine.Item{Value: value, Type: tokens.Email, Format: tokens.FormatDeterministic})[0]
		}
		lookup := func(value string) (string, map[string]string) {
			t.Helper()
			tok, matches, err := f.eng.Lookup(ctx, conversation, "", "order_support", tokens.Email, value)
			if err != nil {
				t.Fatal(err)
			}
			subjects := map[string]string{}
			for _, m := range matches {
				subjects[m.Subject] = m.Token
			}
			return tok, subjects
		}
		const x, y = "jane@example.com", "family@example.com"
		old := det("cus_a", x)
		shared := det("cus_a", y)
		if det("cus_b", y) != shared {
			t.Fatal("deterministic tokens of one value differ between subjects")
		}
		if tok, _ := lookup(x); tok != old {
			t.Fatalf("lookup before the erasure = %s, want %s", tok, old)
		}

		ev, err := f.eng.EraseSubject(ctx, conversation, "", "cus_a", "dsr_1")
		if err != nil {
			t.Fatal(err)
		}
		if ev.LookupsRemoved != 2 || ev.TokensRetired != 1 || ev.TokensKept != 1 {
			t.Fatalf("evidence: %d removed, %d retired, %d kept; want 2, 1 (x), 1 (y, cus_b holds it)", ev.LookupsRemoved, ev.TokensRetired, ev.TokensKept)
		}
		next, matches := lookup(x)
		if next == old || len(matches) != 0 {
			t.Fatalf("lookup after the erasure = %s %v; want another token, no matches", next, matches)
		}
		fresh := det("cus_c", x)
		if fresh == old || fresh != next {
			t.Fatalf("a new subject's token for the value = %s; want the next generation's %s, not the erased %s", fresh, next, old)
		}
		if tok, m := lookup(x); tok != fresh || len(m) != 1 || m["cus_c"] != fresh {
			t.Fatalf("lookup of the new holder = %s %v", tok, m)
		}
		res, err := f.eng.Detokenize(ctx, conversation, "order_support", []string{old})
		if err != nil || res[0].Err == nil || res[0].Err.Reason != "UNKNOWN_TOKEN" || res[0].Value != "" {
			t.Fatalf("detokenize of the retired token: %+v, %v", res, err)
		}
		// The kept token is still cus_b's, and still the value's.
		if tok, m := lookup(y); tok != shared || len(m) != 1 || m["cus_b"] != shared {
			t.Fatalf("lookup of the kept token = %s %v", tok, m)
		}
		if det("cus_d", y) != shared {
			t.Fatal("a kept token was not issued for its value")
		}

		// Generations go on: erasing the second holder retires its token too.
		if ev, err := f.eng.EraseSubject(ctx, conversation, "", "cus_c", "dsr_2"); err != nil || ev.TokensRetired != 1 {
			t.Fatalf("second erasure: %+v, %v", ev, err)
		}
		if third := det("cus_e", x); third == old || third == fresh {
			t.Fatalf("third generation token %s repeats an erased one", third)
		}

		// An expired row does not keep a token alive.
		const z = "shortlived@example.com"
		res2, err := f.eng.Tokenize(ctx, conversation, engine.TokenizeRequest{Subject: "cus_f", TTL: time.Minute,
			Items: []engine.Item{{Value: z, Type: tokens.Email, Format: tokens.FormatDeterministic}}})
		if err != nil || res2[0].Err != nil {
			t.Fatalf("tokenize with a TTL: %+v, %v", res2, err)
		}
		f.now = f.now.Add(2 * time.Minute)
		if det("cus_g", z) != res2[0].Token {
			t.Fatal("the same value got another token while nothing was retired")
		}
		if ev, err := f.eng.EraseSubject(ctx, conversation, "", "cus_g", "dsr_3"); err != nil || ev.TokensRetired != 1 || ev.TokensKept != 0 {
			t.Fatalf("erasure beside an expired holder: %+v, %v; want the token retired", ev, err)
		}
		if renewed := det("cus_f", z); renewed == res2[0].Token {
			t.Fatal("the expired holder was given the retired token again")
		}
	})
}
