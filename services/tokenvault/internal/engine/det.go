package engine

import (
	"context"

	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
)

// Deterministic tokens are tenant-wide (the same value gives the same token
// for every subject, which is what lookup needs), so erasing a subject cannot
// destroy the key they come from. What erasure does instead (ADR 0007): the
// erased subject's deterministic tokens that no other live subject holds are
// retired, and a value whose token was retired gets the token of its next
// generation, made with a key derived for that generation. Copies of the
// retired token (in logs, in other systems) then stay unlinkable to the
// value: neither Tokenize nor Lookup ever returns it again.

// maxGenerations bounds how many of one value's tokens can have been
// retired: each retirement takes an erasure of every subject holding it.
const maxGenerations = 64

// genKey is the key of a deterministic token type's generation gen.
// Generation 0 is the type key itself, so tokens issued before any
// retirement keep their value.
func genKey(typeKey []byte, gen int) []byte {
	if gen == 0 {
		return typeKey
	}
	return derive(typeKey, "sotto/tokenvault/det/gen/"+itoa(gen))
}

// settleGenerations moves each deterministic item (minted at generation 0)
// to its value's current generation: the first whose token no erasure
// retired. One query per generation reached, so usually one.
func (e *Engine) settleGenerations(ctx context.Context, tenant string, items []*pendingItem, results []TokenizeResult) error {
	pending := items
	for len(pending) > 0 {
		toks := make([]string, len(pending))
		for i, p := range pending {
			toks[i] = p.token
		}
		retired, err := e.store.RetiredTokens(ctx, tenant, toks)
		if err != nil {
			return err
		}
		var next []*pendingItem
		for _, p := range pending {
			if !retired[p.token] {
				continue
			}
			p.gen++
			if p.gen == maxGenerations {
				results[p.index].Err = &ItemError{Reason: reasons.TokenSpaceExhausted, Message: "no deterministic token is left for this value; use another format"}
				continue
			}
			if ierr := e.mint(nil, tenant, "", p); ierr != nil {
				results[p.index].Err = ierr
				continue
			}
			next = append(next, p)
		}
		pending = next
	}
	return nil
}
