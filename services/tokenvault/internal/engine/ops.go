package engine

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/consentclient"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
)

// DefaultTenant is used when a request names none.
const DefaultTenant = "default"

// ItemError is a per-item failure: the request as a whole succeeded.
type ItemError struct {
	Reason  string
	Message string
}

// Item is one value to tokenize.
type Item struct {
	Value  string
	Type   tokens.DataType
	Format tokens.Format // 0 means Random
}

// TokenizeRequest is one Tokenize call.
type TokenizeRequest struct {
	Tenant, Subject, Scope string
	TTL                    time.Duration
	Items                  []Item
}

// TokenizeResult is the outcome for one item.
type TokenizeResult struct {
	Token string
	Err   *ItemError
}

// maxTokenAttempts bounds retries when a generated token is already taken.
const maxTokenAttempts = 8

// tenant resolves a request's tenant: empty is the default tenant, and
// only configured tenants are served.
func (e *Engine) tenant(t string) (string, error) {
	if t == "" {
		t = DefaultTenant
	}
	if !slices.Contains(e.opts.Tenants, t) {
		return "", errs.E(errs.NotFound, reasons.UnknownTenant, "this vault does not serve that tenant")
	}
	return t, nil
}

// pendingItem is an item on its way to a token.
type pendingItem struct {
	index   int
	typ     tokens.DataType
	format  tokens.Format
	norm    string
	typeKey []byte
	token   string
	attempt int
	// gen is the generation of a deterministic token (see settleGenerations).
	gen int
}

// Tokenize encrypts the values under the subject's data key and stores them
// with an audit event in one transaction. Items are validated before any key
// is made, and the database is asked a fixed number of questions per
// request, not per item.
func (e *Engine) Tokenize(ctx context.Context, caller Caller, req TokenizeRequest) ([]TokenizeResult, error) {
	results, err := e.tokenize(ctx, caller, req)
	if errors.Is(err, storage.ErrSubjectChanged) || errors.Is(err, storage.ErrTokenRetired) {
		// Our cached key was stale (the subject's key rotated, or it was
		// erased, maybe by another replica), or an erasure retired one of
		// our deterministic tokens meanwhile: drop the key and try once more
		// from the database, which says which.
		tenant, _ := e.tenant(req.Tenant) // known valid: tokenize got this far
		e.deks.Remove(subjectKey(tenant, req.Subject, 0))
		results, err = e.tokenize(ctx, caller, req)
		if errors.Is(err, storage.ErrSubjectChanged) {
			err = errs.E(errs.Aborted, reasons.SubjectChanged, "the subject changed concurrently; retry")
		}
	}
	return results, err
}

func (e *Engine) tokenize(ctx context.Context, caller Caller, req TokenizeRequest) ([]TokenizeResult, error) {
	tenant, err := e.tenant(req.Tenant)
	if err != nil {
		return nil, err
	}
	results := make([]TokenizeResult, len(req.Items))
	var items []*pendingItem
	for i, it := range req.Items {
		format := it.Format
		if format == 0 {
			format = tokens.FormatRandom
		}
		norm, err := tokens.Normalize(it.Type, it.Value)
		switch {
		case err != nil:
			results[i].Err = &ItemError{Reason: reasons.InvalidValue, Message: "the value is not a valid " + it.Type.String()}
			continue
		case format == tokens.FormatCard && it.Type != tokens.CardNumber:
			results[i].Err = &ItemError{Reason: reasons.UnsupportedFormat, Message: "card tokens are only for card numbers"}
			continue
		case format == tokens.FormatFPE && len(norm) > maxFPELen:
			// FF1 costs grow with the length; long values get opaque tokens.
			results[i].Err = &ItemError{Reason: reasons.UnsupportedFormat, Message: "value too long for a format-preserving token"}
			continue
		}
		items = append(items, &pendingItem{index: i, typ: it.Type, format: format, norm: norm})
	}
	if len(items) == 0 {
		return results, nil
	}
	dek, dekVersion, err := e.dek(ctx, tenant, req.Subject, 0, true)
	if err != nil {
		return nil, err
	}
	// Deterministic items need the tenant key, derived per data type once
	// per request and only for the types present.
	var tenantKey []byte
	typeKeys := map[tokens.DataType][]byte{}
	for _, p := range items {
		if p.format != tokens.FormatDeterministic {
			continue
		}
		if tenantKey == nil {
			if tenantKey, err = e.tenantKey(ctx, tenant); err != nil {
				return nil, err
			}
		}
		if typeKeys[p.typ] == nil {
			typeKeys[p.typ] = detKey(tenantKey, p.typ)
		}
		p.typeKey = typeKeys[p.typ]
	}
	var minted []*pendingItem
	for _, p := range items {
		if ierr := e.mint(dek, tenant, req.Subject, p); ierr != nil {
			results[p.index].Err = ierr
			continue
		}
		minted = append(minted, p)
	}
	reused, err := e.settleTokens(ctx, tenant, req.Subject, dek, minted, results)
	if err != nil {
		return nil, err
	}

	gcm, err := newGCM(dek)
	if err != nil {
		return nil, err
	}
	now := e.opts.Now().UTC()
	var expires time.Time
	if req.TTL > 0 {
		expires = now.Add(req.TTL)
	}
	var rows []storage.Token
	for _, p := range minted {
		if results[p.index].Err != nil {
			continue
		}
		results[p.index].Token = p.token
		if reused[p.index] {
			continue
		}
		ct, err := sealWith(gcm, []byte(p.norm), valueAAD(p.token, tenant, req.Subject, p.typ))
		if err != nil {
			return nil, errs.Wrap(err, errs.Internal, reasons.EncryptFailed, "cannot encrypt value")
		}
		rows = append(rows, storage.Token{
			Token: p.token, Tenant: tenant, Subject: req.Subject, DataType: int(p.typ), Format: int(p.format),
			Scope: req.Scope, Ciphertext: ct, DEKVersion: dekVersion, Created: now, Expires: expires,
		})
	}
	ev := caller.event(ctx, ActionTokenize, auditclient.Success)
	ev.Subject, ev.ResourceType, ev.ResourceID = req.Subject, ResourceTokenBatch, req.Scope
	sealed, err := auditclient.Seal(ev)
	if err != nil {
		return nil, err
	}
	err = e.write(ctx, &writeJob{tenant: tenant, subject: req.Subject, dekVersion: dekVersion, rows: rows, event: sealed[0]})
	if errs.Is(err, errs.AlreadyExists) {
		// Another request took one of the generated tokens between our check
		// and our insert; nothing was written, the caller may retry.
		return nil, errs.E(errs.Aborted, reasons.TokenCollision, "a generated token collided; retry")
	}
	if err != nil {
		return nil, err
	}
	return results, nil
}

// maxFPELen bounds the values that get format-preserving tokens.
const maxFPELen = 64

// mint makes a candidate token for p (attempt p.attempt).
func (e *Engine) mint(dek []byte, tenant, subject string, p *pendingItem) *ItemError {
	var err error
	switch p.format {
	case tokens.FormatRandom:
		p.token, err = tokens.NewRandom(p.typ)
	case tokens.FormatDeterministic:
		p.token, err = tokens.Deterministic(genKey(p.typeKey, p.gen), p.typ, p.norm)
	case tokens.FormatCard:
		p.token, err = tokens.CardToken(p.norm)
	case tokens.FormatFPE:
		// The FF1 key comes from the subject's data key, so erasure destroys
		// it too; the attempt counter in the tweak moves to another token when
		// one is taken.
		tweak := []byte(tenant + "\x00" + subject + "\x00" + p.typ.Code() + "\x00" + itoa(p.attempt))
		p.token, err = tokens.FormatPreserving(derive(dek, "sotto/tokenvault/ff1/"+p.typ.Code()), tweak, p.typ, p.norm)
	default:
		return &ItemError{Reason: reasons.UnsupportedFormat, Message: "unknown token format"}
	}
	if err != nil {
		return &ItemError{Reason: reasons.UnsupportedFormat, Message: "this value cannot have a token of that format"}
	}
	return nil
}

// settleTokens makes every candidate token usable: deterministic tokens move
// to their value's current generation, and those the subject already holds
// are reused; card and format-preserving tokens taken by someone else are
// re-minted (their token spaces are small); random tokens are 128-bit and
// left to the primary key. Returns the reused items.
func (e *Engine) settleTokens(ctx context.Context, tenant, subject string, dek []byte, items []*pendingItem, results []TokenizeResult) (map[int]bool, error) {
	reused := map[int]bool{}
	var dets []string
	var detItems []*pendingItem
	for _, p := range items {
		if p.format == tokens.FormatDeterministic {
			detItems = append(detItems, p)
		}
	}
	if err := e.settleGenerations(ctx, tenant, detItems, results); err != nil {
		return nil, err
	}
	for _, p := range detItems {
		if results[p.index].Err == nil {
			dets = append(dets, p.token)
		}
	}
	if len(dets) > 0 {
		found, err := e.store.FindTokens(ctx, dets)
		if err != nil {
			return nil, err
		}
		inRequest := map[string]bool{}
		for _, p := range detItems {
			if results[p.index].Err != nil {
				continue
			}
			for _, r := range found[p.token] {
				// An expired row is renewed by the insert, not handed out again.
				live := r.Expires.IsZero() || e.opts.Now().Before(r.Expires)
				if r.Tenant == tenant && r.Subject == subject && live {
					reused[p.index] = true
				}
			}
			if inRequest[p.token] {
				reused[p.index] = true // the same value twice in one request
			}
			inRequest[p.token] = true
		}
	}
	pending := map[*pendingItem]bool{}
	for _, p := range items {
		if p.format == tokens.FormatCard || p.format == tokens.FormatFPE {
			pending[p] = true
		}
	}
	claimed := map[string]bool{}
	for round := 0; len(pending) > 0; round++ {
		if round == maxTokenAttempts {
			for p := range pending {
				results[p.index].Err = &ItemError{Reason: reasons.TokenSpaceExhausted, Message: "no free token of that format; use another format"}
			}
			break
		}
		candidates := make([]string, 0, len(pending))
		for p := range pending {
			candidates = append(candidates, p.token)
		}
		taken, err := e.store.TakenTokens(ctx, candidates)
		if err != nil {
			return nil, err
		}
		for p := range pending {
			if !taken[p.token] && !claimed[p.token] {
				claimed[p.token] = true
				delete(pending, p)
				continue
			}
			p.attempt++
			if ierr := e.mint(dek, tenant, subject, p); ierr != nil {
				results[p.index].Err = ierr
				delete(pending, p)
			}
		}
	}
	return reused, nil
}

func (e *ItemError) Error() string { return e.Reason + ": " + e.Message }

// tokenShape admits every token this vault issues (opaque, card digits, FPE
// digits or alphanumerics with an optional "+"), and nothing else.
var tokenShape = regexp.MustCompile(`^\+?[A-Za-z0-9_]{1,64}$`)

// DetokenizeResult is the outcome for one token.
type DetokenizeResult struct {
	Token    string
	Value    string
	Type     tokens.DataType
	Decision policy.Decision
	Err      *ItemError
}

// Caller identifies who asks: the workload (its SPIFFE name and full ID) and,
// when a person is behind the call, that verified end user, for the policy
// and as the actor of the audit events.
type Caller struct {
	Workload string // SPIFFE name, e.g. "conversation"
	ID       string // full SPIFFE ID, recorded in the audit log
	// Person is the end user (pkg/enduser verified their token), or nil.
	Person *policy.Person
	// Tenant is the shop a reveal (Detokenize, RevealMasked, TokenMetadata)
	// is for; "" is DefaultTenant. Tokens of other tenants are unknown to
	// the call (ofTenant). Calls that name a tenant of their own (Tokenize,
	// Lookup, EraseSubject, ...) do not read it.
	Tenant string
}

// ofTenant splits a token's rows: those of tenant, and, when none is,
// one of another tenant (other), whose refusal the caller records. A
// caller working for one shop must not reveal another shop's values
// because of a confused deputy upstream (the wrong conversation's token):
// to it, such a token is unknown, answered exactly as one that does not
// exist, so that it learns nothing of other shops' tokens.
func ofTenant(tenant string, rows []storage.Token) (mine []storage.Token, other *storage.Token) {
	for _, r := range rows {
		if r.Tenant == tenant {
			mine = append(mine, r)
		}
	}
	if len(mine) == 0 && len(rows) > 0 {
		return nil, &rows[0]
	}
	return mine, nil
}

// endUser is the subject the audit events name as the actor, or "".
func (c Caller) endUser() string {
	if c.Person == nil {
		return ""
	}
	return c.Person.Subject
}

// hidesOthers: a customer learns nothing of tokens that are not theirs (not
// even that they exist, or their type): another's token answers as an
// unknown one. The audit log still records the refusal with its owner.
func (c Caller) hidesOthers() bool {
	return c.Person != nil && c.Person.Kind == string(accesstoken.KindCustomer)
}

func ownerOf(row storage.Token) policy.Owner {
	return policy.Owner{Tenant: row.Tenant, Subject: row.Subject}
}

// decide asks the policy about row for c.
func (e *Engine) decide(c Caller, action policy.Action, purpose string, row storage.Token) policy.Decision {
	return e.policy.Evaluate(policy.Request{
		Action: action, Workload: c.Workload, Person: c.Person, Purpose: purpose,
		Type: tokens.DataType(row.DataType), Owner: ownerOf(row),
		Now: e.opts.Now(),
	})
}

// unknownToken is the answer for a token that does not exist, or that a
// customer may not know exists.
func unknownToken() *ItemError {
	return &ItemError{Reason: reasons.UnknownToken, Message: "no such token"}
}

// stepUpError is the refusal of a call some value of which needs a fresh or
// stronger authentication: the strongest level asked, within the shortest
// age.
func stepUpError(ups []*policy.StepUp) error {
	var out *enduser.StepUpError
	for _, up := range ups {
		if out == nil {
			out = &enduser.StepUpError{RequiredAAL: up.AAL, MaxAge: up.MaxAge}
			continue
		}
		out.RequiredAAL = max(out.RequiredAAL, up.AAL)
		if up.MaxAge > 0 && (out.MaxAge == 0 || up.MaxAge < out.MaxAge) {
			out.MaxAge = up.MaxAge
		}
	}
	return out
}

// resolve picks the row a token stands for. A deterministic token has one
// row per subject holding the value; any live, unexpired one will do (the
// value is the same). Any other token has exactly one row.
func (e *Engine) resolve(rows []storage.Token) (storage.Token, *ItemError) {
	return e.resolveFor(nil, rows)
}

// resolveFor is resolve for a caller: a person's own row of a deterministic
// token comes first (the value is the same, but whose it is decides
// own_data).
func (e *Engine) resolveFor(p *policy.Person, rows []storage.Token) (storage.Token, *ItemError) {
	if p != nil && len(rows) > 1 {
		for _, r := range rows {
			if r.Tenant == p.Tenant && r.Subject == p.Subject && !r.SubjectErased && (r.Expires.IsZero() || e.opts.Now().Before(r.Expires)) {
				return r, nil
			}
		}
	}
	switch {
	case len(rows) == 0:
		return storage.Token{}, &ItemError{Reason: reasons.UnknownToken, Message: "no such token"}
	case len(rows) > 1 && tokens.Format(rows[0].Format) != tokens.FormatDeterministic:
		// The unique index makes this impossible; refuse rather than guess.
		return storage.Token{}, &ItemError{Reason: reasons.AmbiguousToken, Message: "the token is ambiguous"}
	}
	var fallback *ItemError
	var restricted *storage.Token
	for _, r := range rows {
		switch {
		case r.SubjectErased:
			fallback = &ItemError{Reason: reasons.SubjectErased, Message: "the subject was erased; the value no longer exists"}
		case !r.Expires.IsZero() && !e.opts.Now().Before(r.Expires):
			fallback = &ItemError{Reason: reasons.TokenExpired, Message: "the token has expired"}
		case r.SubjectRestricted:
			// A deterministic token another live subject holds too is that
			// subject's value as well: their row serves, and the restricted
			// one only when there is no other.
			if restricted == nil {
				restricted = &r
			}
		default:
			return r, nil
		}
	}
	if restricted != nil {
		return *restricted, nil
	}
	return rows[0], fallback
}

// restrictedFor: the subject of row restricted its processing (GDPR Art.
// 18), and caller is not that subject reading their own data, the one
// reading a restriction leaves open (exercising their rights). Workloads,
// staff and integrators are refused whatever the policy says.
func (c Caller) restrictedFor(row storage.Token) bool {
	if !row.SubjectRestricted {
		return false
	}
	own := c.Person != nil && c.Person.Kind == string(accesstoken.KindCustomer) && c.Person.Owns(ownerOf(row))
	return !own
}

// restrictedError refuses a call that asked for a restricted subject's
// value: nothing of the call is revealed, as for a step-up, so that the
// caller cannot mistake a partial answer for the subject's whole data.
func restrictedError() error {
	return errs.E(errs.FailedPrecondition, reasons.SubjectRestricted, "the processing of a value's subject is restricted; nothing was revealed")
}

// Detokenize reveals the values behind tokens where policy allows. Every
// decision is recorded in the audit log synchronously, and if that fails no
// value is returned. When a value needs the person behind the call to step
// up, the call fails as a whole with STEP_UP_REQUIRED and reveals nothing
// (the refusals recorded): the client steps up and asks again.
func (e *Engine) Detokenize(ctx context.Context, caller Caller, purpose string, toks []string) ([]DetokenizeResult, error) {
	tenant, err := e.tenant(caller.Tenant)
	if err != nil {
		return nil, err
	}
	results := make([]DetokenizeResult, len(toks))
	var lookup []string
	for i, t := range toks {
		results[i].Token = t
		if !tokenShape.MatchString(t) {
			results[i].Err = &ItemError{Reason: reasons.MalformedToken, Message: "not a token"}
			continue
		}
		lookup = append(lookup, t)
	}
	found, err := e.store.FindTokens(ctx, lookup)
	if err != nil {
		return nil, err
	}
	// Decide every token before opening any, so a step-up refusal is known
	// before a value is decrypted or an access recorded as granted. Events
	// stay in request order.
	var (
		events     = make([]*auditclient.Event, len(results))
		allowed    []int
		rows       = make([]storage.Token, len(results))
		stepUps    []*policy.StepUp
		restricted bool
	)
	for i := range results {
		r := &results[i]
		if r.Err != nil {
			continue
		}
		mine, other := ofTenant(tenant, found[r.Token])
		if other != nil {
			ev := caller.event(ctx, ActionDetokenize, auditclient.Denied)
			ev.Subject, ev.ResourceType, ev.ResourceID, ev.Purpose, ev.Reason = other.Subject, ResourceToken, r.Token, purpose, reasons.TenantMismatch
			events[i] = &ev
			r.Err = unknownToken()
			continue
		}
		row, ierr := e.resolveFor(caller.Person, mine)
		if ierr != nil && row.Token == "" {
			r.Err = ierr
			continue
		}
		r.Type = tokens.DataType(row.DataType)
		ev := caller.event(ctx, ActionDetokenize, auditclient.Success)
		ev.Subject, ev.ResourceType, ev.ResourceID, ev.Purpose = row.Subject, ResourceToken, r.Token, purpose
		events[i] = &ev
		if ierr != nil {
			r.Err = ierr
			ev.Outcome, ev.Reason = auditclient.Failure, ierr.Reason
			continue
		}
		if caller.restrictedFor(row) {
			ev.Outcome, ev.Reason = auditclient.Denied, reasons.SubjectRestricted
			if caller.hidesOthers() {
				*r = DetokenizeResult{Token: r.Token, Err: unknownToken()}
				continue
			}
			restricted = true
			continue
		}
		d := e.decide(caller, policy.ActionDetokenize, purpose, row)
		if !d.Allowed {
			ev.Outcome, ev.Reason = auditclient.Denied, d.Reason
			if d.StepUp != nil {
				stepUps = append(stepUps, d.StepUp)
			}
			if caller.hidesOthers() && !caller.Person.Owns(ownerOf(row)) {
				*r = DetokenizeResult{Token: r.Token, Err: unknownToken()}
				continue
			}
			r.Decision = d
			continue
		}
		r.Decision, rows[i] = d, row
		allowed = append(allowed, i)
	}
	if restricted {
		for _, i := range allowed {
			events[i] = nil
		}
		if err := e.audit.Record(ctx, inOrder(events)...); err != nil {
			return nil, errs.Wrap(err, errs.Unavailable, reasons.AuditUnavailable, "the audit log did not record the refusal")
		}
		return nil, restrictedError()
	}
	if len(stepUps) == 0 {
		allowed = e.applyConsent(ctx, purpose, allowed, results, rows, events)
	}
	if len(stepUps) > 0 {
		// Nothing is revealed, so nothing allowed is recorded as revealed.
		for _, i := range allowed {
			events[i] = nil
		}
		if err := e.audit.Record(ctx, inOrder(events)...); err != nil {
			return nil, errs.Wrap(err, errs.Unavailable, reasons.AuditUnavailable, "the audit log did not record the refusal")
		}
		return nil, stepUpError(stepUps)
	}
	for _, i := range allowed {
		r, row, ev := &results[i], rows[i], events[i]
		dek, _, err := e.dek(ctx, row.Tenant, row.Subject, row.DEKVersion, false)
		if err != nil {
			r.Decision = policy.Decision{}
			r.Err = keyError(err)
			ev.Outcome, ev.Reason = auditclient.Failure, r.Err.Reason
			continue
		}
		pt, err := open(dek, row.Ciphertext, valueAAD(row.Token, row.Tenant, row.Subject, r.Type))
		if err != nil {
			r.Err = &ItemError{Reason: reasons.ValueUnreadable, Message: "the stored value cannot be decrypted"}
			ev.Outcome, ev.Reason = auditclient.Failure, r.Err.Reason
			continue
		}
		r.Value = string(pt)
	}
	if err := e.audit.Record(ctx, inOrder(events)...); err != nil {
		// No audit, no plaintext: the results are dropped.
		return nil, errs.Wrap(err, errs.Unavailable, reasons.AuditUnavailable, "the audit log did not record the access; nothing was revealed")
	}
	return results, nil
}

// applyConsent is the consent condition: of the allowed values, those
// whose rule requires consent stay allowed only if the consent service
// says their subject agreed to purpose. The others are refused
// (CONSENT_REQUIRED, or CONSENT_UNAVAILABLE when it could not be asked) and
// recorded as denied. It returns what stays allowed.
func (e *Engine) applyConsent(ctx context.Context, purpose string, allowed []int, results []DetokenizeResult, rows []storage.Token, events []*auditclient.Event) []int {
	var ask []int
	for _, i := range allowed {
		if results[i].Decision.NeedsConsent {
			ask = append(ask, i)
		}
	}
	if len(ask) == 0 {
		return allowed
	}
	subjects := make([]string, len(ask))
	for j, i := range ask {
		subjects[j] = rows[i].Subject
	}
	refused := map[int]bool{}
	for j, reason := range e.consentRefusals(ctx, purpose, subjects) {
		if reason == "" {
			continue
		}
		i := ask[j]
		refused[i] = true
		results[i].Decision = policy.Decision{Rule: results[i].Decision.Rule, Reason: reason}
		events[i].Outcome, events[i].Reason = auditclient.Denied, reason
	}
	return slices.DeleteFunc(allowed, func(i int) bool { return refused[i] })
}

// consentRefusals asks the consent service about each subject's agreement
// to purpose, in one batch: per subject "" (agreed, or the purpose's legal
// basis needs no agreement) or why not. Fail closed: no client, or an
// answer that could not be had, refuses all of them.
func (e *Engine) consentRefusals(ctx context.Context, purpose string, subjects []string) []string {
	out := make([]string, len(subjects))
	fill := func(reason string) []string {
		for i := range out {
			out[i] = reason
		}
		return out
	}
	if e.opts.Consent == nil {
		return fill(reasons.ConsentUnavailable)
	}
	pairs := make([]consentclient.Pair, len(subjects))
	for i, sub := range subjects {
		pairs[i] = consentclient.Pair{Subject: sub, Purpose: purpose}
	}
	// A consent service that hangs does not hold the call (and its audit)
	// for the caller's whole deadline: the client bounds each call it makes
	// on a cache miss (consentclient.Options.CallTimeout), and past the bound
	// the values are refused. Cached answers set no timer.
	ds, err := e.opts.Consent.BatchCheck(ctx, pairs)
	switch {
	case errs.Is(err, errs.InvalidArgument) || status.Code(err) == codes.InvalidArgument:
		// The consent service does not know the purpose: nobody can have
		// agreed to it. A policy naming it is a configuration error.
		e.logger.WarnContext(ctx, "a rule requires consent to a purpose the consent service does not know", "purpose", purpose)
		return fill(reasons.ConsentRequired)
	case err != nil || len(ds) != len(pairs):
		e.logger.WarnContext(ctx, "consent could not be checked; refusing the values that need it", logging.Err(err))
		return fill(reasons.ConsentUnavailable)
	}
	for i, d := range ds {
		if !d.Allowed {
			out[i] = reasons.ConsentRequired
		}
	}
	return out
}

// inOrder is the events there are, in request order.
func inOrder(evs []*auditclient.Event) []auditclient.Event {
	out := make([]auditclient.Event, 0, len(evs))
	for _, ev := range evs {
		if ev != nil {
			out = append(out, *ev)
		}
	}
	return out
}

func keyError(err error) *ItemError {
	switch {
	case errs.ReasonOf(err) == reasons.SubjectErased:
		return &ItemError{Reason: reasons.SubjectErased, Message: "the subject was erased; the value no longer exists"}
	case errs.Is(err, errs.Unavailable):
		return &ItemError{Reason: reasons.KeyUnavailable, Message: "the key service is unavailable"}
	default:
		return &ItemError{Reason: reasons.KeyUnavailable, Message: "the value's key cannot be used"}
	}
}

// MaskedResult is the masked view of one token.
type MaskedResult struct {
	Token  string
	Masked string
	Type   tokens.DataType
	Err    *ItemError
}

// RevealMasked returns masked views of the values, each computed from its
// value, decrypted in memory with the subject's data key: a stored mask
// would be plaintext at rest ("j•••@smith-family.name" names a person) that
// erasure would have to find, while this one goes with the key. It costs
// what Detokenize costs, a cached key and an AES-GCM open per token (one
// unwrap per subject when not cached; per-token KEY_UNAVAILABLE while the
// key service is down for an uncached subject). Each call is recorded
// through the outbox (masked views are partial data, so who looked is worth
// knowing, but no plaintext is returned that would justify failing closed).
func (e *Engine) RevealMasked(ctx context.Context, caller Caller, toks []string) ([]MaskedResult, error) {
	tenant, err := e.tenant(caller.Tenant)
	if err != nil {
		return nil, err
	}
	results := make([]MaskedResult, len(toks))
	var lookup []string
	for i, t := range toks {
		results[i].Token = t
		if !tokenShape.MatchString(t) {
			results[i].Err = &ItemError{Reason: reasons.MalformedToken, Message: "not a token"}
			continue
		}
		lookup = append(lookup, t)
	}
	found, err := e.store.FindTokens(ctx, lookup)
	if err != nil {
		return nil, err
	}
	// For a person, the policy's mask rules decide each token first; a
	// refusal is recorded per token (probing someone else's tokens shows in
	// their audit trail), and a step-up refuses the call, as Detokenize does.
	var (
		refusals   []auditclient.Event
		stepUps    []*policy.StepUp
		rows       = make([]storage.Token, len(results))
		restricted bool
	)
	for i := range results {
		r := &results[i]
		if r.Err != nil {
			continue
		}
		mine, other := ofTenant(tenant, found[r.Token])
		if other != nil {
			ev := caller.event(ctx, ActionRevealMasked, auditclient.Denied)
			ev.Subject, ev.ResourceType, ev.ResourceID, ev.Reason = other.Subject, ResourceToken, r.Token, reasons.TenantMismatch
			refusals = append(refusals, ev)
			r.Err = unknownToken()
			continue
		}
		row, ierr := e.resolveFor(caller.Person, mine)
		if ierr != nil {
			r.Err = ierr
			continue
		}
		if caller.restrictedFor(row) {
			ev := caller.event(ctx, ActionRevealMasked, auditclient.Denied)
			ev.Subject, ev.ResourceType, ev.ResourceID, ev.Reason = row.Subject, ResourceToken, r.Token, reasons.SubjectRestricted
			refusals = append(refusals, ev)
			r.Err = unknownToken()
			restricted = restricted || !caller.hidesOthers()
			continue
		}
		if caller.Person != nil {
			if d := e.decide(caller, policy.ActionMask, "", row); !d.Allowed {
				ev := caller.event(ctx, ActionRevealMasked, auditclient.Denied)
				ev.Subject, ev.ResourceType, ev.ResourceID, ev.Reason = row.Subject, ResourceToken, r.Token, d.Reason
				refusals = append(refusals, ev)
				if d.StepUp != nil {
					stepUps = append(stepUps, d.StepUp)
				}
				r.Err = &ItemError{Reason: d.Reason, Message: "the policy does not allow a masked view of this value (rule " + d.Rule + ")"}
				if caller.hidesOthers() && !caller.Person.Owns(ownerOf(row)) {
					r.Err = unknownToken()
				}
				continue
			}
		}
		rows[i] = row
	}
	if restricted {
		if err := e.enqueue(ctx, refusals...); err != nil {
			return nil, err
		}
		return nil, restrictedError()
	}
	if len(stepUps) > 0 {
		if err := e.enqueue(ctx, refusals...); err != nil {
			return nil, err
		}
		return nil, stepUpError(stepUps)
	}
	for i := range results {
		r := &results[i]
		if r.Err != nil {
			continue
		}
		masked, ierr := e.mask(ctx, rows[i])
		if ierr != nil {
			r.Err = ierr
			continue
		}
		r.Masked, r.Type = masked, tokens.DataType(rows[i].DataType)
	}
	ev := caller.event(ctx, ActionRevealMasked, auditclient.Success)
	ev.ResourceType = ResourceTokenBatch
	if len(toks) == 1 && results[0].Err == nil {
		ev.ResourceType, ev.ResourceID = ResourceToken, toks[0]
		if caller.Person != nil {
			ev.Subject = rows[0].Subject // the person's own (the policy said so)
		}
	}
	if err := e.enqueue(ctx, append(refusals, ev)...); err != nil {
		return nil, err
	}
	return results, nil
}

// enqueue records events through the outbox.
func (e *Engine) enqueue(ctx context.Context, evs ...auditclient.Event) error {
	if err := e.store.DB().InTx(ctx, func(tx *sql.Tx) error { return e.outbox.Enqueue(ctx, tx, evs...) }); err != nil {
		return err
	}
	e.outbox.Notify()
	return nil
}

// mask decrypts row's value and masks it; the plaintext never leaves here.
func (e *Engine) mask(ctx context.Context, row storage.Token) (string, *ItemError) {
	dek, _, err := e.dek(ctx, row.Tenant, row.Subject, row.DEKVersion, false)
	if err != nil {
		return "", keyError(err)
	}
	t := tokens.DataType(row.DataType)
	pt, err := open(dek, row.Ciphertext, valueAAD(row.Token, row.Tenant, row.Subject, t))
	if err != nil {
		return "", &ItemError{Reason: reasons.ValueUnreadable, Message: "the stored value cannot be decrypted"}
	}
	defer clear(pt)
	return tokens.Mask(t, string(pt)), nil
}

// Match is one subject holding a looked-up value.
type Match struct{ Subject, Token string }

// Lookup finds the subjects holding value as a deterministic token. It is
// an oracle (it confirms guesses), so it is governed like detokenization:
// the policy must allow the caller the "lookup" action for the purpose and
// data type (a denied lookup is refused before anything is read), and every
// lookup, allowed or denied, is audited synchronously. Subjects whose
// processing is restricted are not matched. The token it returns
// is the value's current deterministic token: never one that an erasure
// retired.
func (e *Engine) Lookup(ctx context.Context, caller Caller, tenant, purpose string, t tokens.DataType, value string) (string, []Match, error) {
	tenant, err := e.tenant(tenant)
	if err != nil {
		return "", nil, err
	}
	d := e.policy.DecideAction(policy.ActionLookup, caller.Workload, purpose, t)
	if !d.Allowed {
		// A refused lookup is a probe worth knowing about, as a refused
		// detokenization is.
		ev := caller.event(ctx, ActionLookup, auditclient.Denied)
		ev.ResourceType, ev.ResourceID, ev.Purpose = ResourceDataType, t.Code(), purpose
		ev.Reason = d.Reason
		if err := e.audit.Record(ctx, ev); err != nil {
			return "", nil, errs.Wrap(err, errs.Unavailable, reasons.AuditUnavailable, "the audit log did not record the refused lookup")
		}
		return "", nil, errs.E(errs.PermissionDenied, d.Reason, "lookup of this data type for this purpose is not allowed (rule %s)", d.Rule)
	}
	norm, err := tokens.Normalize(t, value)
	if err != nil {
		return "", nil, errs.E(errs.InvalidArgument, reasons.InvalidValue, "the value is not a valid %s", t.String())
	}
	tk, err := e.tenantKey(ctx, tenant)
	if err != nil {
		return "", nil, err
	}
	// The value's current generation: a token an erasure retired is never
	// returned again, so a copy of it elsewhere stays unlinkable to the value.
	p := &pendingItem{typ: t, format: tokens.FormatDeterministic, norm: norm, typeKey: detKey(tk, t)}
	res := make([]TokenizeResult, 1)
	if ierr := e.mint(nil, tenant, "", p); ierr != nil {
		return "", nil, errs.E(errs.InvalidArgument, reasons.UnsupportedFormat, "this value cannot be looked up")
	}
	if err := e.settleGenerations(ctx, tenant, []*pendingItem{p}, res); err != nil {
		return "", nil, err
	}
	if res[0].Err != nil {
		return "", nil, errs.E(errs.FailedPrecondition, res[0].Err.Reason, "%s", res[0].Err.Message)
	}
	det := p.token
	found, err := e.store.FindTokens(ctx, []string{det})
	if err != nil {
		return "", nil, err
	}
	var out []Match
	for _, r := range found[det] {
		// A restricted subject is not found, as an erased one is: a match
		// is processing of the subject, and answering "no match" does not
		// tell the caller that a restriction exists.
		if r.Tenant == tenant && !r.SubjectErased && !caller.restrictedFor(r) {
			out = append(out, Match{Subject: r.Subject, Token: r.Token})
		}
	}
	ev := caller.event(ctx, ActionLookup, auditclient.Success)
	ev.ResourceType, ev.ResourceID, ev.Purpose = ResourceToken, det, purpose
	if d.NeedsConsent && len(out) > 0 {
		// Only subjects who agreed to the purpose are found for it; when
		// consent cannot be asked, nobody is (and the lookup says so).
		subjects := make([]string, len(out))
		for i, m := range out {
			subjects[i] = m.Subject
		}
		refusals := e.consentRefusals(ctx, purpose, subjects)
		if slices.Contains(refusals, reasons.ConsentUnavailable) {
			ev.Outcome, ev.Reason = auditclient.Failure, reasons.ConsentUnavailable
			if err := e.audit.Record(ctx, ev); err != nil {
				return "", nil, errs.Wrap(err, errs.Unavailable, reasons.AuditUnavailable, "the audit log did not record the failed lookup")
			}
			return "", nil, errs.E(errs.Unavailable, reasons.ConsentUnavailable, "consent cannot be checked right now; nothing was returned")
		}
		kept := out[:0]
		for i, m := range out {
			if refusals[i] == "" {
				kept = append(kept, m)
			}
		}
		out = kept
	}
	if err := e.audit.Record(ctx, ev); err != nil {
		return "", nil, errs.Wrap(err, errs.Unavailable, reasons.AuditUnavailable, "the audit log did not record the lookup; nothing was returned")
	}
	return det, out, nil
}

// Metadata describes a token without its value.
type Metadata struct {
	storage.Token
	Erased bool
}

// TokenMetadata returns a token's metadata, for a caller working for
// caller.Tenant: another tenant's token is NotFound UNKNOWN_TOKEN, as an
// unknown one.
func (e *Engine) TokenMetadata(ctx context.Context, caller Caller, tok string) (Metadata, error) {
	tenant, err := e.tenant(caller.Tenant)
	if err != nil {
		return Metadata{}, err
	}
	if !tokenShape.MatchString(tok) {
		return Metadata{}, errs.E(errs.InvalidArgument, reasons.MalformedToken, "not a token")
	}
	found, err := e.store.FindTokens(ctx, []string{tok})
	if err != nil {
		return Metadata{}, err
	}
	mine, _ := ofTenant(tenant, found[tok])
	row, ierr := e.resolve(mine)
	if row.Token == "" {
		return Metadata{}, errs.E(errs.NotFound, ierr.Reason, "%s", ierr.Message)
	}
	row.Ciphertext = nil
	if tokens.Format(row.Format) == tokens.FormatDeterministic {
		// Several subjects may hold it; naming one would tell the caller who
		// else shares a value.
		row.Subject = ""
	}
	return Metadata{Token: row, Erased: row.SubjectErased}, nil
}
