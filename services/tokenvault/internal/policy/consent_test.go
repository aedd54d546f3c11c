package policy_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sottohq/sotto/services/tokenvault"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
)

// TestConsentCondition: the deciding rule's requires_consent travels with
// the decision (the engine asks consent only then), and a mask rule, which
// states no purpose, cannot carry it.
func TestConsentCondition(t *testing.T) {
	p, err := policy.Parse([]byte(`rules:
  - name: sync
    callers: [crmsync]
    purposes: [crm_sync]
    data_types: [email]
    requires_consent: true
  - name: support
    callers: [conversation]
    purposes: [order_support]
    data_types: [email]
`))
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Decide("crmsync", "crm_sync", tokens.Email); !d.Allowed || !d.NeedsConsent {
		t.Errorf("sync: %+v; want allowed on consent", d)
	}
	if d := p.Decide("conversation", "order_support", tokens.Email); !d.Allowed || d.NeedsConsent {
		t.Errorf("support: %+v; want allowed without asking", d)
	}
	if !p.RequiresConsent() {
		t.Error("RequiresConsent: false")
	}
	_, err = policy.Parse([]byte(`rules:
  - name: masked
    callers: [gateway]
    end_user: {kinds: [customer]}
    actions: [mask]
    data_types: [email]
    requires_consent: true
`))
	if err == nil || !strings.Contains(err.Error(), "cannot require consent") {
		t.Errorf("a mask rule with requires_consent: %v", err)
	}
}

// TestShippedRulesAskConsentWhereTheCatalogueSays: every shipped rule with
// a purpose that the consent service's catalogue bases on consent or on a
// legitimate interest (which the customer may object to) carries
// requires_consent, so a withdrawal or an objection stops it; and every
// purpose of such a rule is in the catalogue (the consent service refuses
// purposes it does not know, which would refuse every value).
func TestShippedRulesAskConsentWhereTheCatalogueSays(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "consent", "catalogue.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cat struct {
		Purposes []struct {
			ID         string `yaml:"id"`
			LegalBasis string `yaml:"legal_basis"`
		} `yaml:"purposes"`
	}
	if err := yaml.Unmarshal(b, &cat); err != nil {
		t.Fatal(err)
	}
	basis := map[string]string{}
	for _, p := range cat.Purposes {
		basis[p.ID] = p.LegalBasis
	}
	if basis["crm_sync"] != "consent" {
		t.Fatalf("catalogue not read: %v", basis)
	}
	p, err := policy.Parse(tokenvault.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	asked := 0
	for _, r := range p.Rules {
		needs := slices.ContainsFunc(r.Purposes, func(pu string) bool {
			return basis[pu] == "consent" || basis[pu] == "legitimate_interest"
		})
		if needs && !r.RequiresConsent {
			t.Errorf("rule %s serves a consent-based purpose %v without requires_consent", r.Name, r.Purposes)
		}
		if r.RequiresConsent {
			asked++
			for _, pu := range r.Purposes {
				if basis[pu] == "" {
					t.Errorf("rule %s requires consent to %s, which the catalogue does not list", r.Name, pu)
				}
			}
		}
	}
	if asked == 0 {
		t.Error("no shipped rule asks consent")
	}
}
