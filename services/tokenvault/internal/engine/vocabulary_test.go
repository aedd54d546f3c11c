package engine

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// TestEventsNameTheCaller: every action tokenvault audits, recorded
// synchronously or through the outbox, names the workload and the end user
// of the Caller the engine was given, though ctx carries no RPC peer (the
// engine called directly, as the jobs and these tests do); and every action
// it records is one of its vocabulary's.
func TestEventsNameTheCaller(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		rec := &revRec{}
		e := revEngine(t, db, revKM(t), rec)
		done := make(chan struct{})
		go func() { e.RunWriter(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		caller := Caller{Workload: "consent", ID: "spiffe://sotto.test/consent", Person: &policy.Person{Subject: "staff_7", Kind: "staff"}}

		res, err := e.Tokenize(ctx, caller, TokenizeRequest{Subject: "cus_1", Scope: "conv_1", Items: []Item{
			{Value: "Jane Doe", Type: tokens.Name},
			{Value: "jane@example.com", Type: tokens.Email, Format: tokens.FormatDeterministic},
		}})
		if err != nil || res[0].Err != nil || res[1].Err != nil {
			t.Fatalf("tokenize: %+v, %v", res, err)
		}
		steps := []struct {
			name string
			run  func() error
		}{
			{"detokenize", func() error { _, err := e.Detokenize(ctx, caller, "order_support", []string{res[0].Token}); return err }},
			{"reveal masked", func() error { _, err := e.RevealMasked(ctx, caller, []string{res[0].Token}); return err }},
			{"lookup", func() error {
				_, _, err := e.Lookup(ctx, caller, "", "dsr_access", tokens.Email, "jane@example.com")
				return err
			}},
			{"export", func() error { _, _, err := e.ExportSubject(ctx, caller, "", "cus_1", "dsr_1", "", 10); return err }},
			{"rotate subject key", func() error { _, err := e.RotateSubjectKey(ctx, caller, "", "cus_1"); return err }},
			{"rotate keys", func() error { _, err := e.RotateKeys(ctx, caller, true); return err }},
			{"erase", func() error { _, err := e.EraseSubject(ctx, caller, "", "cus_1", "dsr_2"); return err }},
		}
		for _, s := range steps {
			// A refusal (the lookup, say) is audited too; only the events matter.
			_ = s.run()
		}

		type named struct{ action, workload, actor string }
		var got []named
		for _, ev := range rec.recorded() {
			got = append(got, named{ev.Action, ev.CallerWorkload, ev.ActorSubject})
		}
		for _, ev := range outboxEvents(t, db) {
			got = append(got, named{ev.GetAction(), ev.GetCallerWorkload(), ev.GetActorSubject()})
		}
		seen := map[string]bool{}
		for _, ev := range got {
			if ev.workload != caller.ID || ev.actor != caller.endUser() {
				t.Errorf("%s names workload %q and actor %q, want %q and %q", ev.action, ev.workload, ev.actor, caller.ID, caller.endUser())
			}
			seen[ev.action] = true
		}
		vocabulary := []string{
			string(ActionTokenize), string(ActionDetokenize), string(ActionRevealMasked), string(ActionLookup),
			string(ActionExport), string(ActionRotateSubjectKey), string(ActionRotateKeys), string(ActionErase),
		}
		for _, a := range vocabulary {
			if !strings.HasPrefix(a, "tokenvault.") {
				t.Errorf("action %s is outside tokenvault's namespace", a)
			}
			if !seen[a] {
				t.Errorf("no %s event recorded", a)
			}
			delete(seen, a)
		}
		if len(seen) > 0 {
			t.Errorf("actions outside the vocabulary: %v", slices.Sorted(maps.Keys(seen)))
		}
	})
}
