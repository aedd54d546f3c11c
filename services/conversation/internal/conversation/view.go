package conversation

import (
	"context"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/pii"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// PurposeSelfService is the purpose a customer's re-identified view asks
// the token vault under: the customer seeing their own data.
const PurposeSelfService = "self_service"

// CheckReidentified says whether the caller may have conversation id's
// messages re-identified: only its own customer (who reads it). Staff are
// refused PermissionDenied REIDENTIFIED_CUSTOMERS_ONLY, whatever their
// role: a support agent reveals one value at a time (RevealValue, audited
// per value), never a whole transcript.
func (s *Service) CheckReidentified(ctx context.Context, c Caller, id string) error {
	if _, err := s.visible(ctx, c, id); err != nil {
		return err
	}
	if !c.isCustomer() {
		return errs.E(errs.PermissionDenied, reasons.ReidentifiedCustomersOnly, "only the conversation's customer reads it re-identified")
	}
	return nil
}

// Reidentify returns the texts of ms (one page of conversation id's
// messages) with each placeholder replaced by its value as the token vault
// lets the calling customer see it: in full where a rule allows it for
// self-service, else masked where a mask rule does. Placeholders stand
// where neither is allowed (a step-up not taken, a restricted subject, an
// erased value) and for any the conversation never gave out: the view
// fails closed, and the transcript stays readable rather than failing
// whole. Replacement is byte-exact (pii.Restore): a value the customer's
// text had is returned as the vault holds it (normalised, ADR 0014).
//
// It asks the vault once per page (Detokenize of every distinct token on
// the page); only when the vault asks for a step-up for some of them, once
// per placeholder type on the page, so that what needs none is still
// shown; then once for masked views of what is left. ok is false when the
// vault could not be reached: the texts are then as stored, for the caller
// to mark as the placeholder view. Callers check CheckReidentified first.
func (s *Service) Reidentify(ctx context.Context, c Caller, id string, ms []storage.Message) (texts []string, ok bool, err error) {
	if err := s.CheckReidentified(ctx, c, id); err != nil {
		return nil, false, err
	}
	texts = make([]string, len(ms))
	asked := askedScope{}
	for i, m := range ms {
		texts[i] = m.Text
		if _, err := pii.Restore(ctx, asked, m.Text); err != nil {
			return nil, false, err
		}
	}
	if len(asked) == 0 {
		return texts, true, nil
	}
	known, err := s.d.Store.Placeholders(ctx, s.d.Store.DB(), id)
	if err != nil {
		return nil, false, err
	}
	var toks []string
	typeOf := map[string]string{}
	tokenOf := map[string]string{}
	for _, p := range known {
		if asked[p.Placeholder] {
			tokenOf[p.Placeholder] = p.Token
			if _, dup := typeOf[p.Token]; !dup {
				toks = append(toks, p.Token)
			}
			typeOf[p.Token] = p.Type
		}
	}
	if len(toks) == 0 {
		return texts, true, nil
	}
	if s.d.Revealer == nil {
		return texts, false, nil
	}
	shown, err := s.showAll(ctx, tenantOf(c), toks, typeOf) // the conversation's shop: visible checked it is the customer's
	if err != nil {
		if errs.Is(err, errs.Unavailable) {
			s.d.Logger.WarnContext(ctx, "re-identified view unavailable: placeholders shown", "conversation", id, "reason", reasons.TokenVaultUnavailable)
			return texts, false, nil
		}
		return nil, false, err
	}
	values := valueScope{}
	for ph, tok := range tokenOf {
		if v, ok := shown[tok]; ok {
			values[ph] = v
		}
	}
	for i := range texts {
		if texts[i], err = pii.Restore(ctx, values, texts[i]); err != nil {
			return nil, false, err
		}
	}
	return texts, true, nil
}

// showAll is what the customer sees of each token: its value, else its
// masked view; a token with neither is absent.
func (s *Service) showAll(ctx context.Context, tenant string, toks []string, typeOf map[string]string) (map[string]string, error) {
	shown := map[string]string{}
	var rest []string
	res, err := s.d.Revealer.Detokenize(ctx, tenant, PurposeSelfService, toks)
	switch {
	case err == nil:
		rest = collect(shown, toks, res)
	case isStepUp(err):
		// The vault refuses a whole call some value of which needs a
		// step-up (cards, free text at aal1). Ask again per placeholder
		// type, which keeps apart what needs one from what does not.
		byType := map[string][]string{}
		var order []string
		for _, t := range toks {
			if _, seen := byType[typeOf[t]]; !seen {
				order = append(order, typeOf[t])
			}
			byType[typeOf[t]] = append(byType[typeOf[t]], t)
		}
		for _, typ := range order {
			group := byType[typ]
			res, err := s.d.Revealer.Detokenize(ctx, tenant, PurposeSelfService, group)
			switch {
			case err == nil:
				rest = append(rest, collect(shown, group, res)...)
			case isStepUp(err):
				rest = append(rest, group...)
			default:
				return nil, err
			}
		}
	default:
		return nil, err
	}
	if len(rest) == 0 {
		return shown, nil
	}
	masked, err := s.d.Revealer.Masked(ctx, tenant, rest)
	switch {
	case err == nil:
		collect(shown, rest, masked)
	case isStepUp(err) || errs.Is(err, errs.Unavailable):
		// Values stay placeholders where they could not be shown; what was
		// shown in full is not taken back.
	default:
		return nil, err
	}
	return shown, nil
}

// collect puts the allowed results into shown and returns the tokens that
// were not.
func collect(shown map[string]string, toks []string, res []Revealed) []string {
	var rest []string
	for i, r := range res {
		if r.Allowed {
			shown[toks[i]] = r.Value
		} else {
			rest = append(rest, toks[i])
		}
	}
	return rest
}

// askedScope records the placeholders a text holds (pii.Restore asks for
// each) and restores none.
type askedScope map[string]bool

func (a askedScope) Placeholder(context.Context, pii.Type, string) (string, error) { return "", nil }
func (a askedScope) Lookup(context.Context, pii.Type, string) (string, bool, error) {
	return "", false, nil
}
func (a askedScope) Value(_ context.Context, ph string) (string, bool, error) {
	a[ph] = true
	return "", false, nil
}

// valueScope restores placeholders to what the vault showed.
type valueScope map[string]string

func (v valueScope) Placeholder(context.Context, pii.Type, string) (string, error) { return "", nil }
func (v valueScope) Lookup(context.Context, pii.Type, string) (string, bool, error) {
	return "", false, nil
}
func (v valueScope) Value(_ context.Context, ph string) (string, bool, error) {
	val, ok := v[ph]
	return val, ok, nil
}
