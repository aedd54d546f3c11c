// Package policy decides whether a caller may see a detokenized value: deny
// by default, from rules in one readable YAML file (policy.yaml at the
// service root is the default).
//
// A caller is a workload (its SPIFFE name) and, when a person is behind the
// call, that person (the end user of a verified access token, ADR 0009). A
// rule is for one or the other: a rule without end_user applies only to
// workloads acting on their own, a rule with one only to calls a person is
// behind, so a workload's grant never carries over to the people it serves,
// nor the other way round.
package policy

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"time"

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
	// ActionMask shows masked views (RevealMasked) to people. Workloads get
	// masked views by the RPC policy (internal/server), not by this file;
	// RevealMasked states no purpose, so a mask rule lists none.
	ActionMask Action = "mask"
)

// Rule allows callers an action on data types for purposes.
type Rule struct {
	Name      string   `yaml:"name"`
	Callers   []string `yaml:"callers"`
	Purposes  []string `yaml:"purposes"`
	DataTypes []string `yaml:"data_types"`
	// Actions defaults to [detokenize].
	Actions []Action `yaml:"actions"`
	// EndUser makes the rule one for calls a person is behind, and says
	// which people.
	EndUser *EndUser `yaml:"end_user"`
	// RequiresConsent: the rule allows a value only if the consent service
	// says the value's subject agreed to the purpose (or its legal basis
	// needs no agreement). The engine asks; when consent says no, or cannot
	// be asked, the value is refused.
	RequiresConsent bool `yaml:"requires_consent"`

	types []tokens.DataType
}

// EndUser is what a rule asks of the person behind a call.
type EndUser struct {
	// Kinds of account: customer, staff, client (at least one).
	Kinds []string `yaml:"kinds"`
	// Roles: the person needs at least one of them (staff), if any are listed.
	Roles []string `yaml:"roles"`
	// OwnData: only values whose subject (and tenant) is the person's own
	// account.
	OwnData bool `yaml:"own_data"`
	// AAL is the lowest assurance level (1 password, 2 second factor);
	// below it the person must step up.
	AAL int `yaml:"aal"`
	// MaxAge bounds how long ago the authentication that set the level
	// happened (e.g. 5m); older must step up. Zero: any age.
	MaxAge time.Duration `yaml:"max_age"`
}

// Person is the verified end user of a call, as the policy needs them
// (from pkg/enduser's Principal).
type Person struct {
	Subject string
	// Tenant is the vault tenant of the person's account.
	Tenant   string
	Kind     string
	Roles    []string
	AAL      int
	AuthTime time.Time
}

// Owner is whose value a request is about.
type Owner struct{ Tenant, Subject string }

// Request is one question to the policy: may this caller take this action
// on a value of this type, for this purpose?
type Request struct {
	Action Action
	// Workload is the calling workload's SPIFFE name.
	Workload string
	// Person is the end user behind the call, or nil.
	Person *Person
	// Purpose the caller states (none for ActionMask).
	Purpose string
	Type    tokens.DataType
	// Owner of the value (for own_data).
	Owner Owner
	// Now is when the request is decided (for max_age).
	Now time.Time
}

// StepUp is what a person must reach for a rule to allow them.
type StepUp struct {
	AAL    int
	MaxAge time.Duration
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
	// (reasons.CallerNotAllowed, PurposeNotAllowed, DataTypeNotAllowed,
	// NotDataSubject or StepUpRequired).
	Reason string
	// StepUp, with reason StepUpRequired, is what the person must reach.
	StepUp *StepUp
	// NeedsConsent: the allowing rule requires the subject's consent to
	// the purpose; the decision stands only once the consent service agrees.
	NeedsConsent bool
}

// DefaultDeny is the rule name of a decision no rule allowed.
const DefaultDeny = "default-deny"

var (
	nameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	callerRE  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	purposeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	roleRE    = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

var kindNames = []string{"customer", "staff", "client"}

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
		case len(r.Callers) == 0 || len(r.DataTypes) == 0:
			return nil, fmt.Errorf("policy: rule %q: callers and data_types must each list at least one entry", r.Name)
		}
		seen[r.Name] = true
		if len(r.Actions) == 0 {
			r.Actions = []Action{ActionDetokenize}
		}
		for _, a := range r.Actions {
			if a != ActionDetokenize && a != ActionLookup && a != ActionMask {
				return nil, fmt.Errorf("policy: rule %q: unknown action %q", r.Name, a)
			}
		}
		if err := r.checkShape(); err != nil {
			return nil, fmt.Errorf("policy: rule %q: %w", r.Name, err)
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

// RequiresConsent reports whether any rule has the consent condition (the
// vault then needs the consent service).
func (p *Policy) RequiresConsent() bool {
	return slices.ContainsFunc(p.Rules, func(r Rule) bool { return r.RequiresConsent })
}

// checkShape checks what goes together: purposes for detokenize and lookup
// (a mask states none), end users for masks (workloads get masked views by
// the RPC policy), no lookups for people (an oracle they have no need of),
// and the end user's own fields.
func (r *Rule) checkShape() error {
	mask := slices.Contains(r.Actions, ActionMask)
	switch {
	case mask && len(r.Actions) > 1:
		return fmt.Errorf("mask is a rule of its own (it states no purpose)")
	case mask && len(r.Purposes) > 0:
		return fmt.Errorf("a mask rule lists no purposes (RevealMasked states none)")
	case mask && r.EndUser == nil:
		return fmt.Errorf("a mask rule is for people (end_user): workloads get masked views by the RPC policy")
	case !mask && len(r.Purposes) == 0:
		return fmt.Errorf("purposes must list at least one entry")
	case r.EndUser != nil && slices.Contains(r.Actions, ActionLookup):
		return fmt.Errorf("people may not look values up")
	case mask && r.RequiresConsent:
		return fmt.Errorf("a mask rule states no purpose, so it cannot require consent to one")
	}
	eu := r.EndUser
	if eu == nil {
		return nil
	}
	if len(eu.Kinds) == 0 {
		return fmt.Errorf("end_user.kinds must list at least one of %v", kindNames)
	}
	for _, k := range eu.Kinds {
		if !slices.Contains(kindNames, k) {
			return fmt.Errorf("end_user: unknown kind %q", k)
		}
	}
	for _, role := range eu.Roles {
		if !roleRE.MatchString(role) {
			return fmt.Errorf("end_user: invalid role %q", role)
		}
	}
	switch {
	case eu.AAL < 0 || eu.AAL > 2:
		return fmt.Errorf("end_user.aal must be 0, 1 or 2")
	case eu.MaxAge < 0:
		return fmt.Errorf("end_user.max_age must not be negative")
	case eu.MaxAge > 0 && eu.AAL < 1:
		return fmt.Errorf("end_user.max_age needs an aal of 1 or 2 (an authentication to be recent)")
	}
	return nil
}

// Decide returns the detokenize decision for a workload acting on its own
// (name), purpose and data type.
func (p *Policy) Decide(caller, purpose string, t tokens.DataType) Decision {
	return p.DecideAction(ActionDetokenize, caller, purpose, t)
}

// DecideAction is Decide for any action.
func (p *Policy) DecideAction(action Action, caller, purpose string, t tokens.DataType) Decision {
	return p.Evaluate(Request{Action: action, Workload: caller, Purpose: purpose, Type: t})
}

// Evaluate returns the decision for req: the first rule that matches the
// caller (workload, and person if any), the action, purpose, data type,
// owner and the person's level allows. Otherwise the denial names the
// closest miss; a rule that a fresh or stronger authentication would
// satisfy comes first, with what to reach.
func (p *Policy) Evaluate(req Request) Decision {
	deny := Decision{Rule: DefaultDeny, Reason: reasons.CallerNotAllowed}
	closer := func(reason string) {
		if rank[reason] > rank[deny.Reason] {
			deny.Reason = reason
		}
	}
	for _, r := range p.Rules {
		if !slices.Contains(r.Actions, req.Action) || !slices.Contains(r.Callers, req.Workload) || !r.admits(req.Person) {
			continue
		}
		if req.Action != ActionMask && !slices.Contains(r.Purposes, req.Purpose) {
			closer(reasons.PurposeNotAllowed)
			continue
		}
		if !slices.Contains(r.types, req.Type) {
			closer(reasons.DataTypeNotAllowed)
			continue
		}
		if r.EndUser != nil && r.EndUser.OwnData && !req.Person.Owns(req.Owner) {
			closer(reasons.NotDataSubject)
			continue
		}
		if up := r.EndUser.stepUp(req.Person, req.Now); up != nil {
			if deny.StepUp == nil || up.AAL < deny.StepUp.AAL {
				// Of several rules a step-up would satisfy, ask for the least.
				deny.StepUp = up
			}
			closer(reasons.StepUpRequired)
			continue
		}
		return Decision{Allowed: true, Rule: r.Name, NeedsConsent: r.RequiresConsent}
	}
	if deny.Reason != reasons.StepUpRequired {
		deny.StepUp = nil
	}
	return deny
}

// rank orders denial reasons from the farthest miss to the closest.
var rank = map[string]int{
	reasons.CallerNotAllowed:   0,
	reasons.PurposeNotAllowed:  1,
	reasons.DataTypeNotAllowed: 2,
	reasons.NotDataSubject:     3,
	reasons.StepUpRequired:     4,
}

// admits reports whether the rule is for this caller's person: a rule
// without end_user only when no person is behind the call, one with it
// only for a person of its kinds and roles.
func (r *Rule) admits(p *Person) bool {
	eu := r.EndUser
	switch {
	case eu == nil || p == nil:
		return eu == nil && p == nil
	case !slices.Contains(eu.Kinds, p.Kind):
		return false
	case len(eu.Roles) > 0 && !slices.ContainsFunc(eu.Roles, func(role string) bool { return slices.Contains(p.Roles, role) }):
		return false
	}
	return true
}

// Owns reports whether a value of o is the person's own: the same subject
// in the same tenant.
func (p *Person) Owns(o Owner) bool {
	return p != nil && p.Subject != "" && p.Subject == o.Subject && p.Tenant == o.Tenant
}

// stepUp is what p must reach for eu, or nil when p is there.
func (eu *EndUser) stepUp(p *Person, now time.Time) *StepUp {
	if eu == nil {
		return nil
	}
	tooOld := eu.MaxAge > 0 && now.Sub(p.AuthTime) > eu.MaxAge
	if p.AAL < eu.AAL || tooOld {
		return &StepUp{AAL: max(eu.AAL, 1), MaxAge: eu.MaxAge}
	}
	return nil
}
