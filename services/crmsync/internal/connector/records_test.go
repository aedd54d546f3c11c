package connector_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/sottohq/sotto/services/crmsync/internal/connector"
)

// TestUpsertIDsAreTheCRMsRecordIDs: what a batch upsert answers as each
// record's id is the id the CRM's change events name for that record
// (HubSpot's objectId, Salesforce's recordIds), one record alone or many in
// one request, and none for a record the CRM refused; sent again, the same
// id.
func TestUpsertIDsAreTheCRMsRecordIDs(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	hs, hc := hubspot(t)
	sf, sc := salesforce(t)
	hs.Reject("sub_c")
	sf.Reject("sub_c")
	eventIDs := map[string]func(string) string{
		"hubspot": func(ext string) string {
			ev, _ := hs.Edit(ext, "firstname", "x", at)
			return strconv.FormatInt(ev.ObjectID, 10)
		},
		"salesforce": func(ext string) string {
			ev, _ := sf.Edit(ext, "FirstName", "x", at)
			if len(ev.Header.RecordIDs) != 1 {
				return ""
			}
			return ev.Header.RecordIDs[0]
		},
	}
	for name, c := range map[string]connector.Connector{"hubspot": hc, "salesforce": sc} {
		for _, batch := range [][]string{{"sub_one"}, {"sub_a", "sub_b", "sub_c"}} {
			for round := range 2 {
				each, ids, err := connector.UpsertIDs(ctx, c, records(batch...))
				if err != nil {
					t.Fatalf("%s %v: %v", name, batch, err)
				}
				for i, ext := range batch {
					switch {
					case ext == "sub_c" && (each[i] == nil || ids[i] != ""):
						t.Errorf("%s: the refused record: %v, id %q", name, each[i], ids[i])
					case ext != "sub_c" && (each[i] != nil || ids[i] == "" || ids[i] != eventIDs[name](ext)):
						t.Errorf("%s round %d: %s answered id %q (%v), its events name %q", name, round, ext, ids[i], each[i], eventIDs[name](ext))
					}
				}
			}
		}
	}
}
