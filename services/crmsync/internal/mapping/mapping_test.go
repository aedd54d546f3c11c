package mapping_test

import (
	"testing"
	"testing/fstest"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/crmsync/internal/mapping"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
)

var rules = mapping.Rules{PlaintextPurposes: []string{"crm_sync"}}

const hubspotYAML = `
hubspot:
  id_property: sotto_subject
fields:
  - {field: email, property: email, purpose: crm_sync, form: plaintext}
  - {field: first_name, property: firstname, purpose: crm_sync, form: masked}
  - {field: last_name, property: lastname, purpose: crm_sync}
  - {field: conversation_summary, property: sotto_last_conversation, purpose: crm_sync}
`

// TestUnmappedFieldsNeverLeave: Apply keeps only the mapped fields, in
// their mapped forms; a field the mapping does not name (phone, the postal
// address) is not in the result whatever its value.
func TestUnmappedFieldsNeverLeave(t *testing.T) {
	set, err := mapping.Load(fstest.MapFS{"shop/hubspot.yaml": {Data: []byte(hubspotYAML)}}, rules)
	if err != nil {
		t.Fatal(err)
	}
	ms := set.For("shop")
	if len(ms) != 1 || len(set.For("other")) != 0 {
		t.Fatalf("mappings %v", ms)
	}
	items := ms[0].Apply(map[string]string{"email": "tok_e", "first_name": "tok_f", "phone": "tok_p",
		"postal_address": "tok_a", "last_name": ""})
	want := []mapping.Item{{Property: "email", Purpose: "crm_sync", Form: mapping.Plaintext, Value: "tok_e"},
		{Property: "firstname", Purpose: "crm_sync", Form: mapping.Masked, Value: "tok_f"}}
	if len(items) != len(want) {
		t.Fatalf("items %+v, want %+v", items, want)
	}
	for i := range want {
		if items[i] != want[i] {
			t.Fatalf("item %d = %+v, want %+v", i, items[i], want[i])
		}
	}
}

// TestMappingRules: plaintext only under a purpose that permits it, known
// forms and connectors, a summary only as it is, no property twice.
func TestMappingRules(t *testing.T) {
	for name, tc := range map[string]struct{ conn, yaml string }{
		"plaintext for marketing":  {"hubspot", "fields: [{field: email, property: email, purpose: marketing, form: plaintext}]"},
		"unknown form":             {"hubspot", "fields: [{field: email, property: email, purpose: crm_sync, form: hashed}]"},
		"summary in plaintext":     {"hubspot", "fields: [{field: conversation_summary, property: s, purpose: crm_sync, form: plaintext}]"},
		"property twice":           {"hubspot", "fields: [{field: email, property: e, purpose: crm_sync}, {field: phone, property: e, purpose: crm_sync}]"},
		"unknown key":              {"hubspot", "fields: [{field: email, property: e, purpose: crm_sync, send_all: true}]"},
		"unknown connector":        {"pipedrive", "fields: []"},
		"salesforce without url":   {"salesforce", "salesforce: {external_id_field: Sotto_Subject__c}\nfields: []"},
		"salesforce url with path": {"salesforce", "salesforce: {url: 'https://a.my.salesforce.com/x', external_id_field: S__c}\nfields: []"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := mapping.Parse("shop", tc.conn, []byte(tc.yaml), rules)
			if !errs.Is(err, errs.InvalidArgument) || errs.ReasonOf(err) != reasons.MappingInvalid {
				t.Fatalf("got %v, want MAPPING_INVALID", err)
			}
		})
	}
	m, err := mapping.Parse("shop", "salesforce", []byte("salesforce: {url: 'https://acme.my.salesforce.com', external_id_field: Sotto_Subject__c}\nfields: [{field: email, property: Email, purpose: crm_sync}]"), rules)
	if err != nil {
		t.Fatal(err)
	}
	if m.Salesforce.APIVersion != "v62.0" || m.Salesforce.Object != "Contact" || m.Fields[0].Form != mapping.Token ||
		*m.Rate != mapping.DefaultSalesforceRate {
		t.Fatalf("defaults not applied: %+v %+v", m.Salesforce, m.Fields)
	}
}

// TestConsentMappings: a purpose's consent maps to a CRM property, sent
// under crm_sync by default as the mapping's own values (never a
// customer's); one that would be sent under itself, one without both
// values (no default: an opt-out flag guessed as opt-in would mark a
// withdrawn customer subscribed; seen failing with the old true/false
// default), a value that is not a plain constant, or a property mapped
// twice is MAPPING_INVALID.
func TestConsentMappings(t *testing.T) {
	m, err := mapping.Parse("shop", "hubspot", []byte(hubspotYAML+`consents:
  - {purpose: marketing, property: sotto_marketing_opt_out, granted: "false", withdrawn: "true"}
`), rules)
	if err != nil {
		t.Fatal(err)
	}
	if it, ok := m.ConsentItem("marketing", false); !ok || it != (mapping.Item{Property: "sotto_marketing_opt_out", Purpose: "crm_sync",
		Form: mapping.Literal, Value: "true", StateOf: "marketing", Granted: false}) {
		t.Fatalf("withdrawal: %+v %v", it, ok)
	}
	if it, _ := m.ConsentItem("marketing", true); it.Value != "false" {
		t.Fatalf("grant: %+v", it)
	}
	if _, ok := m.ConsentItem("analytics", true); ok {
		t.Fatal("an unmapped purpose maps")
	}
	for name, bad := range map[string]string{
		"under itself":   `{purpose: crm_sync, property: p1, granted: "true", withdrawn: "false"}`,
		"no values":      `{purpose: marketing, property: p1}`,
		"one value":      `{purpose: marketing, property: p1, withdrawn: "true"}`,
		"not a constant": `{purpose: marketing, property: p1, granted: "a@b c", withdrawn: "x"}`,
		"property twice": `{purpose: marketing, property: email}`,
		"literal field":  `{purpose: marketing, property: p1, under: ""}`,
	} {
		y := hubspotYAML + "consents:\n  - " + bad + "\n"
		if name == "literal field" {
			y = hubspotYAML + "  - {field: x, property: p2, purpose: crm_sync, form: literal}\n"
		}
		if _, err := mapping.Parse("shop", "hubspot", []byte(y), rules); errs.ReasonOf(err) != reasons.MappingInvalid {
			t.Errorf("%s: %v", name, err)
		}
	}
}
