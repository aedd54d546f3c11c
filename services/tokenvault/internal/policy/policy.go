// Package policy decides whether a caller may see a detokenized value: deny
// by default, from rules in one readable YAML file (policy.yaml at the
// service root is the default).
package policy

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
)

// Action is what a rule allows.
type Action string

// Actions.
const (
	// ActionDetokenize reveals values behind tokens.
	ActionDetokenize Action = "detokenize"
	// ActionLookup finds customers by a value (an oracle: it confirms guesses).
	ActionLookup Action = "lookup"
)

// Rule allows callers an action on data types for purposes.
type Rule struct {
	Name      string   `yaml:"name"`
	Callers   []string `yaml:"callers"`
	Purposes  []string `yaml:"purposes"`
	DataTypes []string `yaml:"data_types"`
	// Actions defaults to [detokenize].
	Actions []Action `yaml:"actions"`

	types []tokens.DataType
}

// Policy is a parsed rule set.
type Policy struct {
	Rules []Rule `yaml:"rules"`
}

// Decision is the outcome for one value.
type Decision struct {
	Allowed bool
	// Rule is the deciding rule's name, or DefaultDeny.
	Rule string
	// Reason says why a value was denied: the most specific mismatch
	// (reasons.CallerNotAllowed, PurposeNotAllowed or DataTypeNotAllowed).
	Reason string
}

// DefaultDeny is the rule name of a decision no rule allowed.
const DefaultDeny = "default-deny"

var (
	nameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	callerRE  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	purposeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

var typeNames = map[string]tokens.DataType{
	"card_number": tokens.CardNumber, "email": tokens.Email, "phone": tokens.Phone, "name": tokens.Name,
	"postal_address": tokens.PostalAddress, "date_of_birth": tokens.DateOfBirth, "national_id": tokens.NationalID,
	"free_text": tokens.FreeText,
}

// Parse reads a policy strictly: unknown keys, unknown data types, empty
// lists and duplicate rule names are errors, so a typo can never widen or
// silently narrow access.
func Parse(data []byte) (*Policy, error) {
	var p Policy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	seen := map[string]bool{}
	for i := range p.Rules {
		r := &p.Rules[i]
		switch {
		case !nameRE.MatchString(r.Name):
			return nil, fmt.Errorf("policy: rule %d: invalid name %q", i+1, r.Name)
		case seen[r.Name]:
			return nil, fmt.Errorf("policy: duplicate rule %q", r.Name)
		case len(r.Callers) == 0 || len(r.Purposes) == 0 || len(r.DataTypes) == 0:
			return nil, fmt.Errorf("policy: rule %q: callers, purposes and data_types must each list at least one entry", r.Name)
		}
		seen[r.Name] = true
		if len(r.Actions) == 0 {
			r.Actions = []Action{ActionDetokenize}
		}
		for _, a := range r.Actions {
			if a != ActionDetokenize && a != ActionLookup {
				return nil, fmt.Errorf("policy: rule %q: unknown action %q", r.Name, a)
			}
		}
		for _, c := range r.Callers {
			if !callerRE.MatchString(c) {
				return nil, fmt.Errorf("policy: rule %q: invalid caller %q (a workload name, no wildcards)", r.Name, c)
			}
		}
		for _, pu := range r.Purposes {
			if !purposeRE.MatchString(pu) {
				return nil, fmt.Errorf("policy: rule %q: invalid purpose %q", r.Name, pu)
			}
		}
		for _, t := range r.DataTypes {
			dt, ok := typeNames[t]
			if !ok {
				return nil, fmt.Errorf("policy: rule %q: unknown data type %q", r.Name, t)
			}
			r.types = append(r.types, dt)
		}
	}
	return &p, nil
}

// Decide returns the detokenize decision for caller (workload name),
// purpose and data type.
func (p *Policy) Decide(caller, purpose string, t tokens.DataType) Decision {
	return p.DecideAction(ActionDetokenize, caller, purpose, t)
}

// DecideAction returns the decision for an action: the first rule that
// allows the action and matches caller, purpose and data type allows;
// otherwise the denial names the closest miss.
func (p *Policy) DecideAction(action Action, caller, purpose string, t tokens.DataType) Decision {
	reason := reasons.CallerNotAllowed
	for _, r := range p.Rules {
		if !slices.Contains(r.Actions, action) || !slices.Contains(r.Callers, caller) {
			continue
		}
		if !slices.Contains(r.Purposes, purpose) {
			if reason == reasons.CallerNotAllowed {
				reason = reasons.PurposeNotAllowed
			}
			continue
		}
		if !slices.Contains(r.types, t) {
			reason = reasons.DataTypeNotAllowed // the closest miss: only the type is wrong
			continue
		}
		return Decision{Allowed: true, Rule: r.Name}
	}
	return Decision{Rule: DefaultDeny, Reason: reason}
}
