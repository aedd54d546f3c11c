package enduser

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/sottohq/sotto/pkg/accesstoken"
)

// Requirement says whether a method needs an end user.
type Requirement int

const (
	// None: the method does not act for people; a token it carries is not
	// read, and no end user is on the context. Workload authorisation
	// (pkg/authz) still applies. The zero value, so that a Rule{} written
	// by mistake opens nothing: Policy.Check refuses a rule with None and
	// any other field set.
	None Requirement = iota
	// Optional: an end user may be behind the call. A token, when present,
	// must be valid (a bad one is refused, never ignored) and its end user
	// goes on the context; without one the call proceeds as the workload's.
	// A visitor's token is refused here: no Optional rule names kinds.
	Optional
	// User: an end user must be behind the call, and the rule's level, age,
	// kinds, roles and scopes apply.
	User
)

func (r Requirement) String() string {
	switch r {
	case None:
		return "none"
	case Optional:
		return "optional"
	case User:
		return "user"
	}
	return fmt.Sprintf("Requirement(%d)", int(r))
}

// Rule is one method's end-user requirement.
type Rule struct {
	// Require: None, Optional or User.
	Require Requirement
	// Kinds the end user may be; empty allows every kind but
	// accesstoken.KindVisitor, which a rule admits only by naming it.
	Kinds []accesstoken.Kind
	// AAL is the lowest assurance level; a person below it must step up.
	AAL int
	// MaxAge bounds how long ago the authentication that set the level
	// happened (auth_time); older must step up. Zero: any age.
	MaxAge time.Duration
	// Roles: the end user must have at least one of them (staff).
	Roles []string
	// Scopes: the end user must have every one of them (integrators).
	Scopes []string
	// Workloads replaces the rule for calls from the named workloads (their
	// SPIFFE names, as pkg/authz spells callers). The caller and the end
	// user are two facts, and a method may need both: `sotto audit verify`
	// (workload sotto-cli) reads the audit log with no person behind it,
	// while the gateway reads it only for a privacy officer at aal2:
	//
	//	{Require: enduser.None, Workloads: map[string]enduser.Rule{
	//		"gateway": {Require: enduser.User, Roles: []string{"privacy_officer"}, AAL: 2},
	//	}}
	//
	// The workload is the mTLS peer pkg/authz has already admitted; a rule
	// named here is complete in itself (no Workloads of its own).
	Workloads map[string]Rule
	// AnyOf admits an end user who satisfies any one of these rules (each a
	// User rule complete in itself): people of different kinds asked
	// different things, e.g. through the gateway an administrator at aal2
	// or an integrator with a scope. A rule with AnyOf has Require User and
	// no conditions of its own. A person who would satisfy one of them after
	// a step-up is asked to step up (the first such alternative's level).
	AnyOf []Rule
}

// forWorkload is the rule for a call from the named workload.
func (r Rule) forWorkload(name string) Rule {
	if w, ok := r.Workloads[name]; ok {
		return w
	}
	return r
}

// Policy is a service's end-user table: full gRPC method name ("/pkg.Service/
// Method", use the generated *_FullMethodName constants) → rule. It is
// written as a Go map in the service (not YAML): the method names are then
// the generated constants, so a typo does not compile, and the rules are
// typed.
//
// Deny by default, at start-up: the table must name every method the
// service serves (health and reflection aside), each with its Requirement,
// even None. A method missing from the table, or a table entry the server
// does not serve, stops the service from starting (CheckMethods), so a new
// RPC cannot ship without someone deciding whether people may call it, and a
// misspelt entry cannot leave the real method open. At run time a method
// without a rule is refused (PermissionDenied), never let through.
//
// Example (tokenvault):
//
//	var endUsers = enduser.Policy{
//		tokenvaultv1.TokenVaultService_Tokenize_FullMethodName:   {Require: enduser.None},
//		tokenvaultv1.TokenVaultService_Detokenize_FullMethodName: {Require: enduser.Optional},
//		tokenvaultv1.TokenVaultService_RevealCard_FullMethodName: {Require: enduser.User, AAL: 2, MaxAge: 5 * time.Minute},
//	}
type Policy map[string]Rule

// exempt are the methods every server has that never act for people; the
// table need not (and must not) list them.
func exempt(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(method, "/grpc.reflection.v1.ServerReflection/") ||
		strings.HasPrefix(method, "/grpc.reflection.v1alpha.ServerReflection/")
}

// Check validates the rules themselves.
func (p Policy) Check() error {
	var problems []string
	for _, m := range p.methods() {
		r := p[m]
		if !validMethod(m) {
			problems = append(problems, fmt.Sprintf("%q is not a full method name (/package.Service/Method)", m))
			continue
		}
		if exempt(m) {
			problems = append(problems, fmt.Sprintf("%s: health and reflection are not end-user methods", m))
		}
		problems = append(problems, r.problems(m)...)
		for _, w := range sortedKeys(r.Workloads) {
			where := m + " for " + w
			if err := spiffeid.ValidatePathSegment(w); err != nil || w == "" {
				problems = append(problems, fmt.Sprintf("%s: %q is not a workload name", m, w))
			}
			if len(r.Workloads[w].Workloads) > 0 {
				problems = append(problems, where+": a workload's rule has no workloads of its own")
			}
			problems = append(problems, r.Workloads[w].problems(where)...)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("end-user policy: %s", strings.Join(problems, "; "))
	}
	return nil
}

// problems are what is wrong with the rule's own fields (m names it).
func (r Rule) problems(m string) []string {
	var problems []string
	if len(r.AnyOf) > 0 {
		if r.Require != User || r.AAL != 0 || r.MaxAge != 0 || len(r.Kinds) > 0 || len(r.Roles) > 0 || len(r.Scopes) > 0 {
			problems = append(problems, m+": a rule with alternatives (AnyOf) is Require User with no conditions of its own")
		}
		for i, alt := range r.AnyOf {
			where := fmt.Sprintf("%s alternative %d", m, i+1)
			if alt.Require != User || len(alt.AnyOf) > 0 || len(alt.Workloads) > 0 {
				problems = append(problems, where+": an alternative is a User rule with no alternatives or workloads of its own")
				continue
			}
			problems = append(problems, alt.problems(where)...)
		}
		return problems
	}
	switch r.Require {
	case None, Optional:
		if r.AAL != 0 || r.MaxAge != 0 || len(r.Kinds) > 0 || len(r.Roles) > 0 || len(r.Scopes) > 0 {
			problems = append(problems, fmt.Sprintf("%s: require %s with conditions (they apply only with User)", m, r.Require))
		}
	case User:
		if r.AAL < accesstoken.AALNone || r.AAL > accesstoken.AAL2 || r.MaxAge < 0 {
			problems = append(problems, fmt.Sprintf("%s: aal must be 0..2 and max age not negative", m))
		}
		for _, k := range r.Kinds {
			if k != accesstoken.KindCustomer && k != accesstoken.KindStaff && k != accesstoken.KindClient && k != accesstoken.KindVisitor {
				problems = append(problems, fmt.Sprintf("%s: unknown kind %q", m, k))
			}
		}
		// A visitor has aal 0 and cannot step up: a rule naming visitors
		// with a level or an age would admit none of them, which is a
		// mistake, not a rule.
		if slices.Contains(r.Kinds, accesstoken.KindVisitor) && (r.AAL > accesstoken.AALNone || r.MaxAge > 0 || len(r.Roles) > 0 || len(r.Scopes) > 0) {
			problems = append(problems, m+": a rule for visitors asks no level, age, roles or scopes (give people their own alternative)")
		}
	default:
		problems = append(problems, fmt.Sprintf("%s: unknown requirement %d", m, r.Require))
	}
	return problems
}

// CheckMethods checks that the table names exactly the methods served:
// each served method (health and reflection aside) has a rule, and each
// rule names a served method.
func (p Policy) CheckMethods(served []string) error {
	if err := p.Check(); err != nil {
		return err
	}
	var problems []string
	for _, m := range served {
		if _, ok := p[m]; !ok && !exempt(m) {
			problems = append(problems, "no rule for "+m)
		}
	}
	for _, m := range p.methods() {
		if !slices.Contains(served, m) {
			problems = append(problems, "rule for "+m+", which this service does not serve")
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("end-user policy: %s", strings.Join(problems, "; "))
	}
	return nil
}

func (p Policy) methods() []string { return sortedKeys(p) }

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func validMethod(m string) bool {
	rest, ok := strings.CutPrefix(m, "/")
	if !ok {
		return false
	}
	svc, meth, ok := strings.Cut(rest, "/")
	return ok && strings.Contains(svc, ".") && meth != "" && !strings.ContainsAny(meth, "/ ")
}
