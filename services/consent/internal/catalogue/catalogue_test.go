package catalogue_test

import (
	"testing"

	consent "github.com/sottohq/sotto/services/consent"
	"github.com/sottohq/sotto/services/consent/internal/catalogue"
)

// TestDefaultCatalogueParses: the embedded catalogue is valid, and has the
// purposes the suite's services name.
func TestDefaultCatalogueParses(t *testing.T) {
	f, err := catalogue.Parse(consent.DefaultCatalogue)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]catalogue.Purpose{}
	for _, p := range f.Purposes {
		ids[p.ID] = p
	}
	for _, want := range []string{"order_support", "delivery", "self_service", "personalisation", "marketing",
		"crm_sync", "analytics", "model_improvement", "account_recovery"} {
		if _, ok := ids[want]; !ok {
			t.Errorf("catalogue lacks %s", want)
		}
	}
	if len(f.Notices) == 0 {
		t.Error("catalogue has no notices")
	}
}
