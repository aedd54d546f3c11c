package connector_test

import (
	"context"
	"testing"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/crmsync/internal/connector"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
)

func records(ids ...string) []connector.Record {
	var out []connector.Record
	for _, id := range ids {
		out = append(out, connector.Record{ExternalID: id, Properties: map[string]string{"lastname": "tok_" + id}})
	}
	return out
}

// TestUpsertEachPerRecord: a batch with refused records answers per
// record: HubSpot's 207 names them in context.ids, Salesforce's collection
// (allOrNone false) says success false for them; the others are applied,
// in one request. Fails when a 207 is taken as all applied, or the
// collection is sent all-or-none.
func TestUpsertEachPerRecord(t *testing.T) {
	ctx := context.Background()
	hs, hc := hubspot(t)
	sf, sc := salesforce(t)
	for name, tc := range map[string]struct {
		reject func(...string)
		c      connector.Batcher
		e      emulator
	}{"hubspot": {hs.Reject, hc, hs}, "salesforce": {sf.Reject, sc, sf}} {
		t.Run(name, func(t *testing.T) {
			tc.reject("sub_b")
			before := tc.e.Counts().Requests
			each, err := tc.c.UpsertEach(ctx, records("sub_a", "sub_b", "sub_c"))
			if err != nil {
				t.Fatal(err)
			}
			if each[0] != nil || each[2] != nil {
				t.Fatalf("accepted records reported failed: %v", each)
			}
			if errs.ReasonOf(each[1]) != reasons.CRMRejected {
				t.Fatalf("the refused record: %v", each[1])
			}
			for _, id := range []string{"sub_a", "sub_c"} {
				if _, ok := tc.e.Record(id); !ok {
					t.Fatalf("%s not applied", id)
				}
			}
			if _, ok := tc.e.Record("sub_b"); ok {
				t.Fatal("the refused record applied")
			}
			// One data request (Salesforce: and perhaps its token).
			if n := tc.e.Counts().Requests - before; n < 1 || n > 2 {
				t.Fatalf("%d requests for one batch", n)
			}
		})
	}
}
