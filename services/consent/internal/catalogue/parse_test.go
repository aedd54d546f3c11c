package catalogue_test

import (
	"strings"
	"testing"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/consent/internal/catalogue"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

const okFile = `version: 1
purposes:
  - id: marketing
    display_name: Marketing
    legal_basis: consent
    jurisdictions: [US-CA, EU]
    ccpa_sale_or_share: true
    retention_days: 30
notices:
  - id: marketing
    purposes: [marketing]
    texts: {en: Hello}
`

// TestParseRefusesBrokenCatalogues: the service does not start on a file
// that breaks a rule.
func TestParseRefusesBrokenCatalogues(t *testing.T) {
	f, err := catalogue.Parse([]byte(okFile))
	if err != nil {
		t.Fatal(err)
	}
	if f.Purposes[0].Jurisdictions[0] != "EU" || f.Notices[0].Texts[0].SHA256 != catalogue.TextHash("Hello") {
		t.Fatalf("parsed %+v", f)
	}
	tests := map[string][2]string{
		"unknown field":          {"retention_days: 30", "retention_days: 30\n    colour: red"},
		"no version":             {"version: 1", "version: 0"},
		"unknown basis":          {"legal_basis: consent", "legal_basis: vibes"},
		"sale on a contract":     {"legal_basis: consent", "legal_basis: contract"},
		"bad id":                 {"- id: marketing\n    display_name", "- id: Marketing!\n    display_name"},
		"bad jurisdiction":       {"[US-CA, EU]", "[California]"},
		"no retention":           {"retention_days: 30", "retention_days: 0"},
		"notice for nothing":     {"purposes: [marketing]", "purposes: [telepathy]"},
		"notice bad language":    {"{en: Hello}", "{english: Hello}"},
		"notice without texts":   {"texts: {en: Hello}", "texts: {}"},
		"duplicate purpose":      {"notices:", "  - id: marketing\n    display_name: M\n    legal_basis: consent\n    retention_days: 1\nnotices:"},
		"display name with a NL": {"display_name: Marketing", "display_name: \"Mark\\neting\""},
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			src := strings.Replace(okFile, edit[0], edit[1], 1)
			if src == okFile {
				t.Fatal("the edit did not apply")
			}
			_, err := catalogue.Parse([]byte(src))
			if errs.KindOf(err) != errs.InvalidArgument || errs.ReasonOf(err) != reasons.CatalogueInvalid {
				t.Fatalf("%v, want InvalidArgument %s", err, reasons.CatalogueInvalid)
			}
		})
	}
}

// FuzzParse: the catalogue parser never panics and never accepts a purpose
// that breaks the rules.
func FuzzParse(f *testing.F) {
	f.Add([]byte(okFile))
	f.Add([]byte("version: 2\npurposes: []\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := catalogue.Parse(data)
		if err != nil {
			return
		}
		for _, p := range file.Purposes {
			if _, err := p.Check(); err != nil {
				t.Fatalf("accepted a purpose that fails its check: %v", err)
			}
		}
	})
}
