package enduser

import (
	"context"

	"github.com/sottohq/sotto/pkg/accesstoken"
)

type revalidateKey struct{}

// withRevalidate puts on ctx the revocation check of the token the call was
// authenticated with, for Revalidate.
func withRevalidate(ctx context.Context, r RevocationChecker, c *accesstoken.Claims) context.Context {
	return context.WithValue(ctx, revalidateKey{}, func() error { return r.Check(c) })
}

// Revalidate checks again, for a call that outlives its start (a server
// stream), that the session or client of the token the call was
// authenticated with has not been revoked since: nil when it has not;
// Unauthenticated TOKEN_REVOKED when it has; Unavailable REVOCATIONS_STALE
// when the revocation set cannot say (fail closed, as at the start). A
// call the interceptor put no end user on has nothing to revalidate (nil).
// Expiry is the caller's to compare with Principal.Expiry on its own
// clock; a stream should do both at each step it takes.
func Revalidate(ctx context.Context) error {
	check, ok := ctx.Value(revalidateKey{}).(func() error)
	if !ok {
		return nil
	}
	return check()
}
