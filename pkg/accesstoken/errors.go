package accesstoken

import "github.com/sottohq/sotto/pkg/errs"

// Reasons of the errors a Verifier (and pkg/enduser) returns. Clients branch
// on them: TOKEN_EXPIRED means refresh, the others mean log in again.
const (
	// ReasonTokenMissing: no access token where one is required.
	ReasonTokenMissing = "TOKEN_MISSING"
	// ReasonTokenMalformed: not a JWS compact token, or claims that do not
	// decode.
	ReasonTokenMalformed = "TOKEN_MALFORMED"
	// ReasonTokenInvalid: a signature, algorithm, key, type, issuer,
	// audience or claim that does not check out.
	ReasonTokenInvalid = "TOKEN_INVALID"
	// ReasonTokenExpired: past exp (plus the allowed skew).
	ReasonTokenExpired = "TOKEN_EXPIRED"
	// ReasonTokenNotYetValid: before nbf or iat (minus the allowed skew).
	ReasonTokenNotYetValid = "TOKEN_NOT_YET_VALID"
	// ReasonTokenRevoked: the session or client was revoked (pkg/enduser).
	ReasonTokenRevoked = "TOKEN_REVOKED"
	// ReasonKeysUnavailable: no current verification keys (the JWK Set could
	// not be fetched for longer than allowed); Unavailable, retry later.
	ReasonKeysUnavailable = "KEYS_UNAVAILABLE"
	// ReasonClaimsInvalid: an Issue call with claims no token may carry
	// (InvalidArgument; a bug in the caller).
	ReasonClaimsInvalid = "CLAIMS_INVALID"
	// ReasonJWKSInvalid: a JWK Set that does not parse or holds a key that
	// is not an Ed25519 signing key with a kid.
	ReasonJWKSInvalid = "JWKS_INVALID"
)

func unauthenticated(reason, msg string) error {
	return errs.E(errs.Unauthenticated, reason, "%s", msg)
}

// invalid builds TOKEN_INVALID with a client-safe message naming the check.
func invalid(msg string) error { return unauthenticated(ReasonTokenInvalid, msg) }
