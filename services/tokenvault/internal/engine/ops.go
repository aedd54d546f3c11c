package engine

import (
	"context"
	"database/sql"
	"regexp"
	"time"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
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

func tenantOrDefault(t string) string {
	if t == "" {
		return DefaultTenant
	}
	return t
}

// Tokenize encrypts the values under the subject's data key and stores them,
// with their lookup entries and an audit event, in one transaction.
func (e *Engine) Tokenize(ctx context.Context, caller Caller, req TokenizeRequest) ([]TokenizeResult, error) {
	tenant := tenantOrDefault(req.Tenant)
	dek, dekVersion, err := e.dek(ctx, tenant, req.Subject, 0, true)
	if err != nil {
		return nil, err
	}
	tenantKey, err := e.tenantKey(ctx, tenant)
	if err != nil {
		return nil, err
	}
	now := e.opts.Now().UTC()
	var expires time.Time
	if req.TTL > 0 {
		expires = now.Add(req.TTL)
	}
	results := make([]TokenizeResult, len(req.Items))
	var rows []storage.Token
	var lookups []storage.Lookup
	taken := map[string]bool{}
	for i, it := range req.Items {
		format := it.Format
		if format == 0 {
			format = tokens.FormatRandom
		}
		norm, err := tokens.Normalize(it.Type, it.Value)
		if err != nil {
			results[i].Err = &ItemError{Reason: "INVALID_VALUE", Message: "the value is not a valid " + it.Type.String()}
			continue
		}
		typeKey := derive(tenantKey, "sotto/tokenvault/det/"+it.Type.Code())
		tok, reused, err := e.newToken(ctx, tenant, req.Subject, dek, typeKey, it.Type, format, norm, taken)
		if err != nil {
			if ie, ok := err.(*ItemError); ok {
				results[i].Err = ie
				continue
			}
			return nil, err
		}
		results[i].Token = tok
		if reused {
			continue
		}
		taken[tok] = true
		ct, err := seal(dek, []byte(norm), valueAAD(tok, tenant, req.Subject, it.Type))
		if err != nil {
			return nil, errs.Wrap(err, errs.Internal, "ENCRYPT_FAILED", "cannot encrypt value")
		}
		rows = append(rows, storage.Token{
			Token: tok, Tenant: tenant, Subject: req.Subject, DataType: int(it.Type), Format: int(format),
			Scope: req.Scope, Ciphertext: ct, DEKVersion: dekVersion, Masked: tokens.Mask(it.Type, norm),
			Created: now, Expires: expires,
		})
		lookups = append(lookups, storage.Lookup{Tenant: tenant, DataType: int(it.Type), MAC: lookupMAC(typeKey, norm), Subject: req.Subject, Token: tok})
	}
	ev := auditclient.New(ctx, "tokenvault.tokenize", auditclient.Success)
	ev.Subject, ev.ActorSubject, ev.ResourceType, ev.ResourceID = req.Subject, caller.EndUser, "token_batch", req.Scope
	ev.CallerWorkload = caller.ID
	err = e.store.DB().InTx(ctx, func(tx *sql.Tx) error {
		if err := e.store.InsertTokens(ctx, tx, rows, lookups); err != nil {
			return err
		}
		return e.outbox.Enqueue(ctx, tx, ev)
	})
	if errs.Is(err, errs.AlreadyExists) {
		// Another request took one of the generated tokens between our check
		// and our insert; nothing was written, the caller may retry.
		return nil, errs.E(errs.Aborted, "TOKEN_COLLISION", "a generated token collided; retry")
	}
	if err != nil {
		return nil, err
	}
	e.outbox.Notify()
	return results, nil
}

// newToken makes a token of the requested format that is not yet taken. A
// deterministic token the subject already holds is reused.
func (e *Engine) newToken(ctx context.Context, tenant, subject string, dek, typeKey []byte, t tokens.DataType, f tokens.Format, norm string, taken map[string]bool) (tok string, reused bool, err error) {
	if f == tokens.FormatDeterministic {
		tok, err := tokens.Deterministic(typeKey, t, norm)
		if err != nil {
			return "", false, &ItemError{Reason: "UNSUPPORTED_FORMAT", Message: "this value cannot have a deterministic token"}
		}
		if taken[tok] {
			return tok, true, nil
		}
		rows, err := e.store.FindTokens(ctx, []string{tok})
		if err != nil {
			return "", false, err
		}
		for _, r := range rows[tok] {
			if r.Tenant == tenant && r.Subject == subject {
				return tok, true, nil
			}
		}
		return tok, false, nil
	}
	if f == tokens.FormatCard && t != tokens.CardNumber {
		return "", false, &ItemError{Reason: "UNSUPPORTED_FORMAT", Message: "card tokens are only for card numbers"}
	}
	for attempt := 0; attempt < maxTokenAttempts; attempt++ {
		switch f {
		case tokens.FormatRandom:
			tok, err = tokens.NewRandom(t)
		case tokens.FormatCard:
			tok, err = tokens.CardToken(norm)
		case tokens.FormatFPE:
			// The FF1 key comes from the subject's data key, so erasure
			// destroys it too; the attempt counter in the tweak moves to
			// another token when one is taken.
			tweak := []byte(tenant + "\x00" + subject + "\x00" + t.Code() + "\x00" + itoa(attempt))
			tok, err = tokens.FormatPreserving(derive(dek, "sotto/tokenvault/ff1/"+t.Code()), tweak, t, norm)
		default:
			return "", false, &ItemError{Reason: "UNSUPPORTED_FORMAT", Message: "unknown token format"}
		}
		if err != nil {
			return "", false, &ItemError{Reason: "UNSUPPORTED_FORMAT", Message: "this value cannot have a token of that format"}
		}
		if taken[tok] {
			continue
		}
		exists, err := e.store.TokenExists(ctx, tenant, tok)
		if err != nil {
			return "", false, err
		}
		if !exists {
			return tok, false, nil
		}
	}
	return "", false, &ItemError{Reason: "TOKEN_SPACE_EXHAUSTED", Message: "no free token of that format; use another format"}
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
// when known, the end user on whose behalf it acts.
type Caller struct {
	Workload string // SPIFFE name, e.g. "conversation"
	ID       string // full SPIFFE ID, recorded in the audit log
	EndUser  string // subject ID of an authenticated end user, or ""
}

// resolve picks the live row of a token (a deterministic token has one row
// per subject holding it).
func (e *Engine) resolve(rows []storage.Token) (storage.Token, *ItemError) {
	if len(rows) == 0 {
		return storage.Token{}, &ItemError{Reason: "UNKNOWN_TOKEN", Message: "no such token"}
	}
	for _, r := range rows {
		if r.Masked != "" || tokens.Format(r.Format) != tokens.FormatDeterministic {
			if !r.Expires.IsZero() && !e.opts.Now().Before(r.Expires) {
				return r, &ItemError{Reason: "TOKEN_EXPIRED", Message: "the token has expired"}
			}
			return r, nil
		}
	}
	return rows[0], nil
}

// Detokenize reveals the values behind tokens where policy allows. Every
// decision is recorded in the audit log synchronously, and if that fails no
// value is returned.
func (e *Engine) Detokenize(ctx context.Context, caller Caller, purpose string, toks []string) ([]DetokenizeResult, error) {
	results := make([]DetokenizeResult, len(toks))
	var lookup []string
	for i, t := range toks {
		results[i].Token = t
		if !tokenShape.MatchString(t) {
			results[i].Err = &ItemError{Reason: "MALFORMED_TOKEN", Message: "not a token"}
			continue
		}
		lookup = append(lookup, t)
	}
	found, err := e.store.FindTokens(ctx, lookup)
	if err != nil {
		return nil, err
	}
	var events []auditclient.Event
	for i := range results {
		r := &results[i]
		if r.Err != nil {
			continue
		}
		row, ierr := e.resolve(found[r.Token])
		if ierr != nil && row.Token == "" {
			r.Err = ierr
			continue
		}
		r.Type = tokens.DataType(row.DataType)
		ev := auditclient.New(ctx, "tokenvault.detokenize", auditclient.Success)
		ev.Subject, ev.ActorSubject, ev.ResourceType, ev.ResourceID, ev.Purpose = row.Subject, caller.EndUser, "token", r.Token, purpose
		ev.CallerWorkload = caller.ID
		if ierr != nil {
			r.Err = ierr
			ev.Outcome, ev.Reason = auditclient.Failure, ierr.Reason
			events = append(events, ev)
			continue
		}
		r.Decision = e.policy.Decide(caller.Workload, purpose, r.Type)
		if !r.Decision.Allowed {
			ev.Outcome, ev.Reason = auditclient.Denied, r.Decision.Reason
			events = append(events, ev)
			continue
		}
		dek, _, err := e.dek(ctx, row.Tenant, row.Subject, row.DEKVersion, false)
		if err != nil {
			r.Decision = policy.Decision{}
			r.Err = keyError(err)
			ev.Outcome, ev.Reason = auditclient.Failure, r.Err.Reason
			events = append(events, ev)
			continue
		}
		pt, err := open(dek, row.Ciphertext, valueAAD(row.Token, row.Tenant, row.Subject, r.Type))
		if err != nil {
			r.Err = &ItemError{Reason: "VALUE_UNREADABLE", Message: "the stored value cannot be decrypted"}
			ev.Outcome, ev.Reason = auditclient.Failure, r.Err.Reason
			events = append(events, ev)
			continue
		}
		r.Value = string(pt)
		events = append(events, ev)
	}
	if err := e.audit.Record(ctx, events...); err != nil {
		// No audit, no plaintext.
		for i := range results {
			results[i].Value = ""
		}
		return nil, errs.Wrap(err, errs.Unavailable, "AUDIT_UNAVAILABLE", "the audit log did not record the access; nothing was revealed")
	}
	return results, nil
}

func keyError(err error) *ItemError {
	switch {
	case errs.ReasonOf(err) == "SUBJECT_ERASED":
		return &ItemError{Reason: "SUBJECT_ERASED", Message: "the subject was erased; the value no longer exists"}
	case errs.Is(err, errs.Unavailable):
		return &ItemError{Reason: "KEY_UNAVAILABLE", Message: "the key service is unavailable"}
	default:
		return &ItemError{Reason: "KEY_UNAVAILABLE", Message: "the value's key cannot be used"}
	}
}

// MaskedResult is the masked view of one token.
type MaskedResult struct {
	Token  string
	Masked string
	Type   tokens.DataType
	Err    *ItemError
}

// RevealMasked returns masked views, stored at tokenization, without
// touching any key.
func (e *Engine) RevealMasked(ctx context.Context, toks []string) ([]MaskedResult, error) {
	results := make([]MaskedResult, len(toks))
	var lookup []string
	for i, t := range toks {
		results[i].Token = t
		if !tokenShape.MatchString(t) {
			results[i].Err = &ItemError{Reason: "MALFORMED_TOKEN", Message: "not a token"}
			continue
		}
		lookup = append(lookup, t)
	}
	found, err := e.store.FindTokens(ctx, lookup)
	if err != nil {
		return nil, err
	}
	for i := range results {
		r := &results[i]
		if r.Err != nil {
			continue
		}
		row, ierr := e.resolve(found[r.Token])
		switch {
		case ierr != nil:
			r.Err = ierr
		case row.Masked == "":
			r.Err = &ItemError{Reason: "SUBJECT_ERASED", Message: "the subject was erased; the value no longer exists"}
		default:
			r.Masked, r.Type = row.Masked, tokens.DataType(row.DataType)
		}
	}
	return results, nil
}

// Match is one subject holding a looked-up value.
type Match struct{ Subject, Token string }

// Lookup finds the subjects that hold value, by its keyed HMAC, and returns
// the value's deterministic token.
func (e *Engine) Lookup(ctx context.Context, tenant string, t tokens.DataType, value string) (string, []Match, error) {
	tenant = tenantOrDefault(tenant)
	norm, err := tokens.Normalize(t, value)
	if err != nil {
		return "", nil, errs.E(errs.InvalidArgument, "INVALID_VALUE", "the value is not a valid %s", t.String())
	}
	tk, err := e.tenantKey(ctx, tenant)
	if err != nil {
		return "", nil, err
	}
	typeKey := derive(tk, "sotto/tokenvault/det/"+t.Code())
	det, err := tokens.Deterministic(typeKey, t, norm)
	if err != nil {
		return "", nil, errs.E(errs.InvalidArgument, "UNSUPPORTED_FORMAT", "this value cannot be looked up")
	}
	rows, err := e.store.FindLookup(ctx, tenant, int(t), lookupMAC(typeKey, norm))
	if err != nil {
		return "", nil, err
	}
	out := make([]Match, len(rows))
	for i, r := range rows {
		out[i] = Match{Subject: r.Subject, Token: r.Token}
	}
	return det, out, nil
}

// Metadata describes a token without its value.
type Metadata struct {
	storage.Token
	Erased bool
}

// TokenMetadata returns a token's metadata.
func (e *Engine) TokenMetadata(ctx context.Context, tok string) (Metadata, error) {
	if !tokenShape.MatchString(tok) {
		return Metadata{}, errs.E(errs.InvalidArgument, "MALFORMED_TOKEN", "not a token")
	}
	found, err := e.store.FindTokens(ctx, []string{tok})
	if err != nil {
		return Metadata{}, err
	}
	row, ierr := e.resolve(found[tok])
	if row.Token == "" {
		return Metadata{}, errs.E(errs.NotFound, ierr.Reason, "%s", ierr.Message)
	}
	row.Ciphertext = nil
	return Metadata{Token: row, Erased: row.Masked == ""}, nil
}
