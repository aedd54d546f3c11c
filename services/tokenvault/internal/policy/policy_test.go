package policy_test

import (
	"strings"
	"testing"

	"github.com/sottohq/sotto/services/tokenvault"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
)

func TestShippedPolicyParses(t *testing.T) {
	p, err := policy.Parse(tokenvault.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rules) == 0 {
		t.Fatal("no rules")
	}
	// No shipped rule reveals card numbers: nothing in Sotto needs a PAN back.
	for _, caller := range []string{"conversation", "crmsync", "identity", "gateway", "consent"} {
		for _, purpose := range []string{"order_support", "delivery", "crm_sync", "account_recovery"} {
			if d := p.Decide(caller, purpose, tokens.CardNumber); d.Allowed {
				t.Errorf("%s may see card numbers for %s (rule %s)", caller, purpose, d.Rule)
			}
		}
	}
}

func TestDecide(t *testing.T) {
	p, err := policy.Parse([]byte(`
rules:
  - name: support
    callers: [conversation]
    purposes: [order_support]
    data_types: [name, email]
  - name: sync
    callers: [crmsync]
    purposes: [crm_sync]
    data_types: [email]
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		caller, purpose string
		t               tokens.DataType
		allowed         bool
		rule, reason    string
	}{
		{"conversation", "order_support", tokens.Name, true, "support", ""},
		{"crmsync", "crm_sync", tokens.Email, true, "sync", ""},
		{"conversation", "order_support", tokens.CardNumber, false, policy.DefaultDeny, reasons.DataTypeNotAllowed},
		{"conversation", "marketing", tokens.Name, false, policy.DefaultDeny, reasons.PurposeNotAllowed},
		{"crmsync", "order_support", tokens.Email, false, policy.DefaultDeny, reasons.PurposeNotAllowed},
		{"gateway", "order_support", tokens.Name, false, policy.DefaultDeny, reasons.CallerNotAllowed},
		{"", "", tokens.Name, false, policy.DefaultDeny, reasons.CallerNotAllowed},
	}
	for _, tc := range tests {
		d := p.Decide(tc.caller, tc.purpose, tc.t)
		if d.Allowed != tc.allowed || d.Rule != tc.rule || d.Reason != tc.reason {
			t.Errorf("Decide(%s, %s, %v) = %+v, want %v %s %s", tc.caller, tc.purpose, tc.t, d, tc.allowed, tc.rule, tc.reason)
		}
	}
}

func TestLookupIsItsOwnGrant(t *testing.T) {
	p, err := policy.Parse(tokenvault.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	// conversation may detokenize names but not look customers up by name.
	if !p.Decide("conversation", "order_support", tokens.Name).Allowed {
		t.Fatal("conversation cannot detokenize names")
	}
	if d := p.DecideAction(policy.ActionLookup, "conversation", "order_support", tokens.Name); d.Allowed {
		t.Fatalf("lookup by name allowed by %s", d.Rule)
	}
	if !p.DecideAction(policy.ActionLookup, "conversation", "order_support", tokens.Email).Allowed {
		t.Fatal("conversation cannot find a customer by e-mail")
	}
	for _, dt := range []tokens.DataType{tokens.CardNumber, tokens.DateOfBirth, tokens.NationalID} {
		for _, c := range []string{"conversation", "identity", "crmsync", "consent", "gateway"} {
			for _, pu := range []string{"order_support", "account_recovery", "crm_sync"} {
				if d := p.DecideAction(policy.ActionLookup, c, pu, dt); d.Allowed {
					t.Errorf("lookup of %v by %s for %s allowed by %s", dt, c, pu, d.Rule)
				}
			}
		}
	}
}

// TestParseIsStrict: a typo must never widen access, or narrow it silently.
func TestParseIsStrict(t *testing.T) {
	rule := func(body string) string { return "rules:\n  - name: r\n" + body }
	full := "    callers: [conversation]\n    purposes: [order_support]\n    data_types: [name]\n"
	for name, doc := range map[string]string{
		"unknown key":       rule(full + "    data_type: [email]\n"),
		"unknown data type": rule("    callers: [conversation]\n    purposes: [order_support]\n    data_types: [names]\n"),
		"wildcard caller":   rule("    callers: ['*']\n    purposes: [order_support]\n    data_types: [name]\n"),
		"no purposes":       rule("    callers: [conversation]\n    purposes: []\n    data_types: [name]\n"),
		"bad purpose":       rule("    callers: [conversation]\n    purposes: [Order Support]\n    data_types: [name]\n"),
		"duplicate rule":    rule(full) + "  - name: r\n" + full,
		"not yaml":          "rules: [",
		"unknown action":    rule(full + "    actions: [delete]\n"),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := policy.Parse([]byte(doc)); err == nil {
				t.Fatalf("accepted:\n%s", doc)
			} else if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error")
			}
		})
	}
}

// TestIdentityMayOnlyLookUpAddresses: identity's grant is exactly what it
// uses: looking up e-mail addresses for login and account recovery. It may
// detokenize nothing and look up nothing else.
func TestIdentityMayOnlyLookUpAddresses(t *testing.T) {
	p, err := policy.Parse(tokenvault.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	for _, purpose := range []string{"authentication", "account_recovery"} {
		if d := p.DecideAction(policy.ActionLookup, "identity", purpose, tokens.Email); !d.Allowed {
			t.Errorf("identity cannot look up e-mail addresses for %s: %+v", purpose, d)
		}
	}
	types := []tokens.DataType{tokens.CardNumber, tokens.Email, tokens.Phone, tokens.Name, tokens.PostalAddress,
		tokens.DateOfBirth, tokens.NationalID, tokens.FreeText}
	for _, dt := range types {
		for _, purpose := range []string{"authentication", "account_recovery", "order_support", "crm_sync", "self_service"} {
			if d := p.Decide("identity", purpose, dt); d.Allowed {
				t.Errorf("identity may detokenize %v for %s (rule %s)", dt, purpose, d.Rule)
			}
			if dt == tokens.Email && (purpose == "authentication" || purpose == "account_recovery") {
				continue
			}
			if d := p.DecideAction(policy.ActionLookup, "identity", purpose, dt); d.Allowed {
				t.Errorf("identity may look up %v for %s (rule %s)", dt, purpose, d.Rule)
			}
		}
	}
}
