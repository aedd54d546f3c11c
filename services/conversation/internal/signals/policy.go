package signals

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// Kind, Scope and Action are the numbers of the proto enums SignalKind,
// SignalScope and SignalAction (sotto.conversation.v1), which the database
// stores.
type (
	Kind   int32
	Scope  int32
	Action int32
)

// Kinds.
const (
	Velocity         Kind = 1
	CardTesting      Kind = 2
	AccountTakeover  Kind = 3
	OrderEnumeration Kind = 4
	PromptInjection  Kind = 5
)

// Scopes.
const (
	ScopeConversation  Scope = 1
	ScopeVisitor       Scope = 2
	ScopeAccount       Scope = 3
	ScopeSourceAddress Scope = 4
)

// Actions, weakest first.
const (
	Record        Action = 1
	Throttle      Action = 2
	RequireStepUp Action = 3
	HandOff       Action = 4
	Block         Action = 5
)

var (
	kindNames = map[Kind]string{Velocity: "velocity", CardTesting: "card_testing", AccountTakeover: "account_takeover",
		OrderEnumeration: "order_enumeration", PromptInjection: "prompt_injection"}
	scopeNames = map[Scope]string{ScopeConversation: "conversation", ScopeVisitor: "visitor", ScopeAccount: "account",
		ScopeSourceAddress: "source_address"}
	actionNames = map[Action]string{Record: "record", Throttle: "throttle", RequireStepUp: "require_step_up",
		HandOff: "hand_off", Block: "block"}
)

func (k Kind) String() string   { return kindNames[k] }
func (s Scope) String() string  { return scopeNames[s] }
func (a Action) String() string { return actionNames[a] }

// lasting reports actions that refuse the scope's messages for a while.
func (a Action) lasting() bool { return a == Throttle || a == RequireStepUp || a == Block }

// Rule raises a signal of Kind over Scope when Threshold events are counted
// within Window, and does Action (for For, when it lasts).
type Rule struct {
	Kind      Kind
	Scope     Scope
	Window    time.Duration
	Threshold int
	Action    Action
	For       time.Duration
}

// Policy is the rules, by shop.
type Policy struct {
	def     []Rule
	tenants map[string][]Rule
	// maxWindow is the longest window of any rule: events older than it
	// count for nothing and are pruned.
	maxWindow time.Duration
}

//go:embed policy.yaml
var defaultPolicy []byte

// DefaultPolicy is the built-in policy (policy.yaml).
func DefaultPolicy() *Policy {
	p, err := ParsePolicy(bytes.NewReader(defaultPolicy))
	if err != nil {
		panic("signals: the embedded policy.yaml is invalid: " + err.Error())
	}
	return p
}

// LoadPolicy reads a policy file; "" is the built-in policy.
func LoadPolicy(path string) (*Policy, error) {
	if path == "" {
		return DefaultPolicy(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, errs.Wrap(err, errs.InvalidArgument, reasons.SignalPolicyInvalid, "the signals policy file cannot be read")
	}
	defer f.Close()
	return ParsePolicy(f)
}

type ruleYAML struct {
	Kind      string `yaml:"kind"`
	Scope     string `yaml:"scope"`
	Window    string `yaml:"window"`
	Threshold int    `yaml:"threshold"`
	Action    string `yaml:"action"`
	For       string `yaml:"for"`
}

type policyYAML struct {
	Default []ruleYAML            `yaml:"default"`
	Tenants map[string][]ruleYAML `yaml:"tenants"`
}

// maxRuleWindow bounds windows and durations: events are kept as long as
// the longest window, and a week is longer than any attack worth counting.
const maxRuleWindow = 7 * 24 * time.Hour

// ParsePolicy parses a policy (see policy.yaml). Unknown fields, kinds,
// scopes and actions, a lasting action without `for`, and two rules with
// the same kind, scope and action are errors (InvalidArgument
// SIGNAL_POLICY_INVALID): the service must not start with a policy it
// reads differently from its author.
func ParsePolicy(r io.Reader) (*Policy, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var py policyYAML
	if err := dec.Decode(&py); err != nil && !errors.Is(err, io.EOF) {
		return nil, invalidPolicy("%v", err)
	}
	p := &Policy{tenants: map[string][]Rule{}}
	var err error
	if p.def, err = p.rules(py.Default); err != nil {
		return nil, err
	}
	for tenant, rs := range py.Tenants {
		own, err := p.rules(rs)
		if err != nil {
			return nil, invalidPolicy("tenant %q: %v", tenant, err)
		}
		replaced := map[[2]int32]bool{}
		for _, r := range own {
			replaced[[2]int32{int32(r.Kind), int32(r.Scope)}] = true
		}
		merged := own
		for _, r := range p.def {
			if !replaced[[2]int32{int32(r.Kind), int32(r.Scope)}] {
				merged = append(merged, r)
			}
		}
		p.tenants[tenant] = merged
	}
	return p, nil
}

func invalidPolicy(format string, a ...any) error {
	return errs.E(errs.InvalidArgument, reasons.SignalPolicyInvalid, "signals policy: "+format, a...)
}

func lookup[K comparable](names map[K]string, name, what string) (K, error) {
	for k, n := range names {
		if n == name {
			return k, nil
		}
	}
	var zero K
	return zero, invalidPolicy("unknown %s %q", what, name)
}

func (p *Policy) rules(in []ruleYAML) ([]Rule, error) {
	seen := map[[3]int32]bool{}
	out := make([]Rule, 0, len(in))
	for i, y := range in {
		var r Rule
		var err error
		if r.Kind, err = lookup(kindNames, y.Kind, "kind"); err != nil {
			return nil, err
		}
		if r.Scope, err = lookup(scopeNames, y.Scope, "scope"); err != nil {
			return nil, err
		}
		if r.Action, err = lookup(actionNames, y.Action, "action"); err != nil {
			return nil, err
		}
		if r.Window, err = time.ParseDuration(y.Window); err != nil || r.Window <= 0 || r.Window > maxRuleWindow {
			return nil, invalidPolicy("rule %d: window %q is not a duration between 0 and 168h", i+1, y.Window)
		}
		if y.Threshold < 1 || y.Threshold > 100000 {
			return nil, invalidPolicy("rule %d: threshold %d is not between 1 and 100000", i+1, y.Threshold)
		}
		r.Threshold = y.Threshold
		switch {
		case r.Action.lasting():
			if r.For, err = time.ParseDuration(y.For); err != nil || r.For <= 0 || r.For > maxRuleWindow {
				return nil, invalidPolicy("rule %d: %s needs `for`, a duration between 0 and 168h", i+1, r.Action)
			}
		case y.For != "":
			return nil, invalidPolicy("rule %d: %s does not last; `for` is for throttle, require_step_up and block", i+1, r.Action)
		}
		key := [3]int32{int32(r.Kind), int32(r.Scope), int32(r.Action)}
		if seen[key] {
			return nil, invalidPolicy("rule %d: a second %s rule over %s doing %s", i+1, r.Kind, r.Scope, r.Action)
		}
		seen[key] = true
		p.maxWindow = max(p.maxWindow, r.Window)
		out = append(out, r)
	}
	return out, nil
}

// For returns a shop's rules.
func (p *Policy) For(tenant string) []Rule {
	if rs, ok := p.tenants[tenant]; ok {
		return rs
	}
	return p.def
}

// String of a rule, for errors and logs.
func (r Rule) String() string {
	return fmt.Sprintf("%s/%s ≥%d in %s → %s", r.Kind, r.Scope, r.Threshold, r.Window, r.Action)
}
