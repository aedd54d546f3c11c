package policy_test

import (
	"strings"
	"testing"
	"time"

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
	// No shipped workload rule reveals card numbers: nothing in Sotto needs a
	// PAN back (customers see their own; TestShippedPeopleRules).
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
		"unknown key":            rule(full + "    data_type: [email]\n"),
		"unknown data type":      rule("    callers: [conversation]\n    purposes: [order_support]\n    data_types: [names]\n"),
		"wildcard caller":        rule("    callers: ['*']\n    purposes: [order_support]\n    data_types: [name]\n"),
		"no purposes":            rule("    callers: [conversation]\n    purposes: []\n    data_types: [name]\n"),
		"bad purpose":            rule("    callers: [conversation]\n    purposes: [Order Support]\n    data_types: [name]\n"),
		"duplicate rule":         rule(full) + "  - name: r\n" + full,
		"not yaml":               "rules: [",
		"unknown action":         rule(full + "    actions: [delete]\n"),
		"unknown end-user key":   rule(full + "    end_user: {kinds: [customer], own: true}\n"),
		"end user of no kind":    rule(full + "    end_user: {own_data: true}\n"),
		"unknown kind":           rule(full + "    end_user: {kinds: [robot]}\n"),
		"aal 3":                  rule(full + "    end_user: {kinds: [customer], aal: 3}\n"),
		"negative age":           rule(full + "    end_user: {kinds: [customer], aal: 2, max_age: -5m}\n"),
		"age without a level":    rule(full + "    end_user: {kinds: [customer], max_age: 5m}\n"),
		"age not a duration":     rule(full + "    end_user: {kinds: [customer], aal: 2, max_age: five}\n"),
		"bad role":               rule(full + "    end_user: {kinds: [staff], roles: [Support Agent]}\n"),
		"people look up":         rule(full + "    actions: [lookup]\n    end_user: {kinds: [customer]}\n"),
		"mask for workloads":     rule("    callers: [conversation]\n    actions: [mask]\n    data_types: [name]\n"),
		"mask with purposes":     rule(full + "    actions: [mask]\n    end_user: {kinds: [customer]}\n"),
		"mask with detokenize":   rule("    callers: [gateway]\n    actions: [mask, detokenize]\n    data_types: [name]\n    end_user: {kinds: [customer]}\n"),
		"detokenize, no purpose": rule("    callers: [gateway]\n    data_types: [name]\n    end_user: {kinds: [customer]}\n"),
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

// TestEvaluatePeople: rules with end_user are for people, the others for
// workloads acting on their own; a person's kind, roles, own data, level
// and age decide, and the closest miss is reported.
func TestEvaluatePeople(t *testing.T) {
	p, err := policy.Parse([]byte(`
rules:
  - name: workload
    callers: [conversation, gateway]
    purposes: [order_support, self_service]
    data_types: [name, card_number]
  - name: own-name
    callers: [gateway]
    end_user: {kinds: [customer], own_data: true, aal: 1}
    purposes: [self_service]
    data_types: [name]
  - name: own-card
    callers: [gateway]
    end_user: {kinds: [customer], own_data: true, aal: 2, max_age: 5m}
    purposes: [self_service]
    data_types: [card_number]
  - name: agents-mask
    callers: [gateway]
    end_user: {kinds: [staff], roles: [support_agent], aal: 2}
    actions: [mask]
    data_types: [card_number]
`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	alice := func(aal int, ago time.Duration) *policy.Person {
		return &policy.Person{Subject: "acc_alice", Tenant: "default", Kind: "customer", AAL: aal, AuthTime: now.Add(-ago)}
	}
	agent := &policy.Person{Subject: "acc_sa", Tenant: "default", Kind: "staff", Roles: []string{"support_agent"}, AAL: 2, AuthTime: now}
	own := policy.Owner{Tenant: "default", Subject: "acc_alice"}
	bobs := policy.Owner{Tenant: "default", Subject: "acc_bob"}
	otherShop := policy.Owner{Tenant: "othershop", Subject: "acc_alice"}
	tests := []struct {
		name   string
		req    policy.Request
		rule   string
		reason string
		stepUp *policy.StepUp
	}{
		{"own name at aal1", policy.Request{Workload: "gateway", Person: alice(1, 0), Purpose: "self_service", Type: tokens.Name, Owner: own}, "own-name", "", nil},
		{"own card at aal1", policy.Request{Workload: "gateway", Person: alice(1, 0), Purpose: "self_service", Type: tokens.CardNumber, Owner: own},
			policy.DefaultDeny, reasons.StepUpRequired, &policy.StepUp{AAL: 2, MaxAge: 5 * time.Minute}},
		{"own card, aal2 six minutes ago", policy.Request{Workload: "gateway", Person: alice(2, 6*time.Minute), Purpose: "self_service", Type: tokens.CardNumber, Owner: own},
			policy.DefaultDeny, reasons.StepUpRequired, &policy.StepUp{AAL: 2, MaxAge: 5 * time.Minute}},
		{"own card, aal2 four minutes ago", policy.Request{Workload: "gateway", Person: alice(2, 4*time.Minute), Purpose: "self_service", Type: tokens.CardNumber, Owner: own}, "own-card", "", nil},
		{"bob's card", policy.Request{Workload: "gateway", Person: alice(2, 0), Purpose: "self_service", Type: tokens.CardNumber, Owner: bobs}, policy.DefaultDeny, reasons.NotDataSubject, nil},
		{"another shop's alice", policy.Request{Workload: "gateway", Person: alice(2, 0), Purpose: "self_service", Type: tokens.Name, Owner: otherShop}, policy.DefaultDeny, reasons.NotDataSubject, nil},
		{"own name, other purpose", policy.Request{Workload: "gateway", Person: alice(2, 0), Purpose: "order_support", Type: tokens.Name, Owner: own}, policy.DefaultDeny, reasons.PurposeNotAllowed, nil},
		{"own address", policy.Request{Workload: "gateway", Person: alice(2, 0), Purpose: "self_service", Type: tokens.PostalAddress, Owner: own}, policy.DefaultDeny, reasons.DataTypeNotAllowed, nil},
		{"through another workload", policy.Request{Workload: "conversation", Person: alice(2, 0), Purpose: "self_service", Type: tokens.Name, Owner: own}, policy.DefaultDeny, reasons.CallerNotAllowed, nil},
		{"gateway alone gets no workload rule for a person", policy.Request{Workload: "gateway", Person: alice(2, 0), Purpose: "order_support", Type: tokens.CardNumber, Owner: own}, policy.DefaultDeny, reasons.PurposeNotAllowed, nil},
		{"workload on its own", policy.Request{Workload: "gateway", Purpose: "order_support", Type: tokens.CardNumber, Owner: own}, "workload", "", nil},
		{"person rules are not for workloads", policy.Request{Workload: "gateway", Purpose: "self_service", Type: tokens.PostalAddress, Owner: own}, policy.DefaultDeny, reasons.DataTypeNotAllowed, nil},
		{"masks are not for workloads", policy.Request{Action: policy.ActionMask, Workload: "gateway", Type: tokens.CardNumber, Owner: bobs}, policy.DefaultDeny, reasons.CallerNotAllowed, nil},
		{"staff reveal", policy.Request{Workload: "gateway", Person: agent, Purpose: "self_service", Type: tokens.CardNumber, Owner: bobs}, policy.DefaultDeny, reasons.CallerNotAllowed, nil},
		{"agent masks", policy.Request{Action: policy.ActionMask, Workload: "gateway", Person: agent, Type: tokens.CardNumber, Owner: bobs}, "agents-mask", "", nil},
		{"customer masks", policy.Request{Action: policy.ActionMask, Workload: "gateway", Person: alice(2, 0), Type: tokens.CardNumber, Owner: own}, policy.DefaultDeny, reasons.CallerNotAllowed, nil},
		{"agent without the role", policy.Request{Action: policy.ActionMask, Workload: "gateway",
			Person: &policy.Person{Subject: "acc_x", Tenant: "default", Kind: "staff", Roles: []string{"admin"}, AAL: 2, AuthTime: now}, Type: tokens.CardNumber, Owner: bobs},
			policy.DefaultDeny, reasons.CallerNotAllowed, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.req.Action == "" {
				tc.req.Action = policy.ActionDetokenize
			}
			tc.req.Now = now
			d := p.Evaluate(tc.req)
			if d.Allowed != (tc.reason == "") || d.Rule != tc.rule || d.Reason != tc.reason {
				t.Fatalf("Evaluate = %+v; want rule %s reason %q", d, tc.rule, tc.reason)
			}
			if (d.StepUp == nil) != (tc.stepUp == nil) || d.StepUp != nil && *d.StepUp != *tc.stepUp {
				t.Fatalf("step-up %+v; want %+v", d.StepUp, tc.stepUp)
			}
		})
	}
}

// TestShippedPeopleRules: the shipped file lets customers see their own
// data as issue 9 says (masked; details at aal1; card and national ID at
// aal2 within 5 minutes) and staff only masked views at aal2.
func TestShippedPeopleRules(t *testing.T) {
	p, err := policy.Parse(tokenvault.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	types := []tokens.DataType{tokens.CardNumber, tokens.Email, tokens.Phone, tokens.Name, tokens.PostalAddress,
		tokens.DateOfBirth, tokens.NationalID, tokens.FreeText}
	customer := func(aal int, ago time.Duration) *policy.Person {
		return &policy.Person{Subject: "acc_1", Tenant: "default", Kind: "customer", AAL: aal, AuthTime: now.Add(-ago)}
	}
	own := policy.Owner{Tenant: "default", Subject: "acc_1"}
	sensitive := map[tokens.DataType]bool{tokens.CardNumber: true, tokens.NationalID: true, tokens.FreeText: true}
	for _, dt := range types {
		req := policy.Request{Action: policy.ActionDetokenize, Workload: "gateway", Purpose: "self_service", Type: dt, Owner: own, Now: now}
		req.Person = customer(1, 0)
		if d := p.Evaluate(req); d.Allowed == sensitive[dt] {
			t.Errorf("%v at aal1: %+v", dt, d)
		}
		req.Person = customer(2, 6*time.Minute)
		if d := p.Evaluate(req); d.Allowed == sensitive[dt] {
			t.Errorf("%v at aal2, 6 minutes old: %+v", dt, d)
		}
		req.Person = customer(2, 4*time.Minute)
		if d := p.Evaluate(req); !d.Allowed {
			t.Errorf("%v at aal2, 4 minutes old: %+v", dt, d)
		}
		req.Owner = policy.Owner{Tenant: "default", Subject: "acc_2"}
		if d := p.Evaluate(req); d.Allowed {
			t.Errorf("someone else's %v: allowed by %s", dt, d.Rule)
		}
		mask := policy.Request{Action: policy.ActionMask, Workload: "gateway", Person: customer(1, time.Hour), Type: dt, Owner: own, Now: now}
		if d := p.Evaluate(mask); !d.Allowed {
			t.Errorf("own %v masked: %+v", dt, d)
		}
		for _, role := range []string{"support_agent", "privacy_officer", "admin"} {
			staff := &policy.Person{Subject: "acc_s", Tenant: "default", Kind: "staff", Roles: []string{role}, AAL: 2, AuthTime: now}
			for _, purpose := range []string{"self_service", "order_support", "crm_sync", "delivery"} {
				if d := p.Evaluate(policy.Request{Action: policy.ActionDetokenize, Workload: "gateway", Person: staff, Purpose: purpose, Type: dt, Owner: own, Now: now}); d.Allowed {
					t.Errorf("%s reveals %v for %s (rule %s)", role, dt, purpose, d.Rule)
				}
			}
			if d := p.Evaluate(policy.Request{Action: policy.ActionMask, Workload: "gateway", Person: staff, Type: dt, Owner: own, Now: now}); !d.Allowed {
				t.Errorf("%s masked %v: %+v", role, dt, d)
			}
			staff.AAL = 1
			if d := p.Evaluate(policy.Request{Action: policy.ActionMask, Workload: "gateway", Person: staff, Type: dt, Owner: own, Now: now}); d.Reason != reasons.StepUpRequired {
				t.Errorf("%s at aal1 masked %v: %+v", role, dt, d)
			}
		}
		// No workload gets a person's rules, nor the gateway a workload's.
		for _, caller := range []string{"conversation", "crmsync", "identity", "consent", "gateway"} {
			if d := p.Evaluate(policy.Request{Action: policy.ActionDetokenize, Workload: caller, Purpose: "self_service", Type: dt, Owner: own, Now: now}); d.Allowed {
				t.Errorf("%s on its own reveals %v for self_service (rule %s)", caller, dt, d.Rule)
			}
		}
	}
}
