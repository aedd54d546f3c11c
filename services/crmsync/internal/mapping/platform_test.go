package mapping

import (
	"testing"

	"github.com/sottohq/sotto/pkg/errs"
)

// TestPlatformMapping: a CRM platform that pulls its changes has a mapping
// of fields only; CRM settings in it are MAPPING_INVALID, and its plaintext
// fields keep to the same purposes as any other mapping's.
func TestPlatformMapping(t *testing.T) {
	rules := Rules{PlaintextPurposes: []string{"crm_sync"}}
	m, err := Parse("shop", Platform, []byte("fields:\n  - {field: email, property: email, purpose: crm_sync, form: plaintext}\n"), rules)
	if err != nil || len(m.Fields) != 1 || *m.Rate != DefaultPlatformRate {
		t.Fatalf("platform mapping: %+v, %v", m, err)
	}
	for name, y := range map[string]string{
		"hubspot settings":    "hubspot: {id_property: sotto_subject}\nfields: []\n",
		"plaintext elsewhere": "fields:\n  - {field: email, property: email, purpose: marketing, form: plaintext}\n",
	} {
		if _, err := Parse("shop", Platform, []byte(y), rules); errs.ReasonOf(err) != "MAPPING_INVALID" {
			t.Errorf("%s: %v, want MAPPING_INVALID", name, err)
		}
	}
}
