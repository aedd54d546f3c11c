package server_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc/metadata"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
)

// The stand-in vault (harness_test.go) reads values back the way the real
// one does for conversation (services/tokenvault: internal/server's
// relayed() and TestConversationRelaysPeople): a relayed access token is
// verified with identity's keys (a bad one is Unauthenticated, never
// ignored) and its person decided by the end-user rules of the shipped
// policy.yaml that name conversation; a call without one by its workload
// rules. Customers see another customer's tokens as unknown; a value
// needing a step-up refuses the call FailedPrecondition STEP_UP_REQUIRED,
// as pkg/enduser reports it. It is a stand-in because the real vault is in
// another module's internal packages; it reads the real policy file.

// relayRule is a rule of services/tokenvault/policy.yaml.
type relayRule struct {
	Name      string   `yaml:"name"`
	Callers   []string `yaml:"callers"`
	Purposes  []string `yaml:"purposes"`
	DataTypes []string `yaml:"data_types"`
	Actions   []string `yaml:"actions"`
	EndUser   *struct {
		Kinds   []string `yaml:"kinds"`
		Roles   []string `yaml:"roles"`
		OwnData bool     `yaml:"own_data"`
		AAL     int      `yaml:"aal"`
		MaxAge  string   `yaml:"max_age"`
	} `yaml:"end_user"`
}

// revealState is one harness's reveal side: the verifier of relayed
// tokens and what the stand-in was asked.
type revealState struct {
	verifier *accesstoken.Verifier
	rules    []relayRule

	mu       sync.Mutex
	detok    [][]string // tokens of each Detokenize call
	masked   [][]string // tokens of each RevealMasked call
	relayed  []bool     // whether each Detokenize call carried a person
	purposes []string
}

var revealStates sync.Map // *vault → *revealState

// reveals turns the stand-in's reveal side on for h (its Detokenize and
// RevealMasked are Unavailable before).
func (h *harness) reveals() *revealState {
	h.t.Helper()
	if st, ok := revealStates.Load(h.vault); ok {
		return st.(*revealState)
	}
	jwks, err := h.issuer.JWKS(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	set, err := accesstoken.ParseJWKS(jwks)
	if err != nil {
		h.t.Fatal(err)
	}
	verifier, err := accesstoken.NewVerifier(set, issuerName)
	if err != nil {
		h.t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "tokenvault", "policy.yaml"))
	if err != nil {
		h.t.Fatal(err)
	}
	var p struct {
		Rules []relayRule `yaml:"rules"`
	}
	if err := yaml.Unmarshal(b, &p); err != nil {
		h.t.Fatal(err)
	}
	st := &revealState{verifier: verifier, rules: p.Rules}
	revealStates.Store(h.vault, st)
	h.t.Cleanup(func() { revealStates.Delete(h.vault) })
	return st
}

func (st *revealState) detokenizeCalls() [][]string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return slices.Clone(st.detok)
}

func (st *revealState) maskedCalls() [][]string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return slices.Clone(st.masked)
}

// person is the verified person a call relays, nil for none.
type standinPerson struct {
	subject, tenant, kind string
	roles                 []string
	aal                   int
	authTime              time.Time
}

func (v *vault) revealState() (*revealState, error) {
	v.mu.Lock()
	down := v.down
	v.mu.Unlock()
	st, ok := revealStates.Load(v)
	if down || !ok {
		return nil, errs.E(errs.Unavailable, "STANDIN_DOWN", "the stand-in is down")
	}
	return st.(*revealState), nil
}

func (st *revealState) personOf(ctx context.Context) (*standinPerson, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vs := md.Get("authorization")
	if len(vs) == 0 {
		return nil, nil
	}
	tok, ok := strings.CutPrefix(vs[0], "Bearer ")
	if len(vs) != 1 || !ok {
		return nil, errs.E(errs.Unauthenticated, accesstoken.ReasonTokenMalformed, "authorization is not a bearer token")
	}
	c, err := st.verifier.Verify(ctx, tok)
	if err != nil {
		return nil, err
	}
	tenant := c.Tenant
	if tenant == "" {
		tenant = "default"
	}
	return &standinPerson{subject: c.Subject, tenant: tenant, kind: string(c.Kind), roles: c.Roles, aal: c.AAL, authTime: c.AuthTime}, nil
}

// owner finds a token's value, data type and subject from the Tokenize
// request that made it.
func (v *vault) owner(tok string) (value string, dt tokenvaultv1.DataType, tenant, subject string, ok bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	value, ok = v.values[tok]
	if !ok {
		return "", 0, "", "", false
	}
	for _, req := range v.calls {
		for _, it := range req.GetItems() {
			if it.GetValue() == value {
				t := req.GetTenant()
				if t == "" {
					t = "default"
				}
				return value, it.GetDataType(), t, req.GetSubject(), true
			}
		}
	}
	return "", 0, "", "", false
}

// decide is tokenvault's policy.Evaluate for the caller conversation.
func (st *revealState) decide(action, purpose string, dt tokenvaultv1.DataType, p *standinPerson, tenant, subject string) (rule string, allowed bool, stepUp *enduser.StepUpError) {
	typ := strings.ToLower(strings.TrimPrefix(dt.String(), "DATA_TYPE_"))
	for _, r := range st.rules {
		actions := r.Actions
		if len(actions) == 0 {
			actions = []string{"detokenize"}
		}
		if !slices.Contains(actions, action) || !slices.Contains(r.Callers, "conversation") {
			continue
		}
		eu := r.EndUser
		switch {
		case (eu == nil) != (p == nil):
			continue
		case eu != nil && !slices.Contains(eu.Kinds, p.kind):
			continue
		case eu != nil && len(eu.Roles) > 0 && !slices.ContainsFunc(eu.Roles, func(role string) bool { return slices.Contains(p.roles, role) }):
			continue
		}
		if (action != "mask" && !slices.Contains(r.Purposes, purpose)) || !slices.Contains(r.DataTypes, typ) {
			continue
		}
		if eu != nil && eu.OwnData && (p.subject != subject || p.tenant != tenant) {
			continue
		}
		if eu != nil {
			maxAge, _ := time.ParseDuration(eu.MaxAge)
			if p.aal < eu.AAL || (maxAge > 0 && time.Since(p.authTime) > maxAge) {
				if stepUp == nil || eu.AAL < stepUp.RequiredAAL {
					stepUp = &enduser.StepUpError{RequiredAAL: max(eu.AAL, 1), MaxAge: maxAge}
				}
				continue
			}
		}
		return r.Name, true, nil
	}
	return "default-deny", false, stepUp
}

// hidden: a customer does not learn that another's token exists.
func hidden(p *standinPerson, tenant, subject string) bool {
	return p != nil && p.kind == string(accesstoken.KindCustomer) && (p.subject != subject || p.tenant != tenant)
}

func (v *vault) Detokenize(ctx context.Context, req *tokenvaultv1.DetokenizeRequest) (*tokenvaultv1.DetokenizeResponse, error) {
	st, err := v.revealState()
	if err != nil {
		return nil, err
	}
	p, err := st.personOf(ctx)
	if err != nil {
		return nil, err
	}
	st.mu.Lock()
	st.detok = append(st.detok, slices.Clone(req.GetTokens()))
	st.relayed = append(st.relayed, p != nil)
	st.purposes = append(st.purposes, req.GetPurpose())
	st.mu.Unlock()
	out := &tokenvaultv1.DetokenizeResponse{}
	var ups []*enduser.StepUpError
	for _, tok := range req.GetTokens() {
		r := &tokenvaultv1.DetokenizeResult{Token: tok}
		value, dt, tenant, subject, ok := v.owner(tok)
		if !ok || hidden(p, tenant, subject) {
			r.Error = &tokenvaultv1.ItemError{Reason: "UNKNOWN_TOKEN", Message: "no such token"}
			out.Results = append(out.Results, r)
			continue
		}
		rule, allowed, up := st.decide("detokenize", req.GetPurpose(), dt, p, tenant, subject)
		r.DataType, r.Decision = dt, &tokenvaultv1.Decision{Allowed: allowed, Rule: rule}
		if allowed {
			r.Value = value
		} else if up != nil {
			ups = append(ups, up)
		}
		out.Results = append(out.Results, r)
	}
	if len(ups) > 0 {
		// The strongest level asked, as the real engine's stepUpError.
		worst := ups[0]
		for _, up := range ups[1:] {
			worst.RequiredAAL = max(worst.RequiredAAL, up.RequiredAAL)
			if up.MaxAge > 0 && (worst.MaxAge == 0 || up.MaxAge < worst.MaxAge) {
				worst.MaxAge = up.MaxAge
			}
		}
		return nil, worst
	}
	return out, nil
}

func (v *vault) RevealMasked(ctx context.Context, req *tokenvaultv1.RevealMaskedRequest) (*tokenvaultv1.RevealMaskedResponse, error) {
	st, err := v.revealState()
	if err != nil {
		return nil, err
	}
	p, err := st.personOf(ctx)
	if err != nil {
		return nil, err
	}
	st.mu.Lock()
	st.masked = append(st.masked, slices.Clone(req.GetTokens()))
	st.mu.Unlock()
	out := &tokenvaultv1.RevealMaskedResponse{}
	for _, tok := range req.GetTokens() {
		r := &tokenvaultv1.MaskedResult{Token: tok}
		value, dt, tenant, subject, ok := v.owner(tok)
		if !ok || hidden(p, tenant, subject) {
			r.Error = &tokenvaultv1.ItemError{Reason: "UNKNOWN_TOKEN", Message: "no such token"}
			out.Results = append(out.Results, r)
			continue
		}
		r.DataType = dt
		if p != nil {
			if _, allowed, up := st.decide("mask", "", dt, p, tenant, subject); !allowed {
				if up != nil {
					return nil, up
				}
				r.Error = &tokenvaultv1.ItemError{Reason: "CALLER_NOT_ALLOWED", Message: "not allowed"}
				out.Results = append(out.Results, r)
				continue
			}
		}
		r.Masked = standinMask(value)
		out.Results = append(out.Results, r)
	}
	return out, nil
}

// standinMask keeps the last four characters of a value and hides the
// rest.
func standinMask(v string) string {
	rs := []rune(strings.ReplaceAll(v, " ", ""))
	if len(rs) <= 4 {
		return "••••"
	}
	return "•••• " + string(rs[len(rs)-4:])
}
