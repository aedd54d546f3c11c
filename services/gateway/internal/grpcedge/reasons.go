package grpcedge

// The edge's catalogue of error reasons, in ErrorInfo domain
// gateway.sotto.dev. A token the verifier refuses keeps the verifier's
// reason (TOKEN_MISSING, TOKEN_MALFORMED, TOKEN_INVALID, TOKEN_EXPIRED,
// TOKEN_NOT_YET_VALID, TOKEN_REVOKED; KEYS_UNAVAILABLE and
// REVOCATIONS_STALE when it cannot check), so that a client knows whether to
// fetch a new token. A backend's status passes through unchanged, in its
// own domain.
const (
	// ReasonMethodNotOffered: the method is not in the edge's table.
	// Unimplemented.
	ReasonMethodNotOffered = "METHOD_NOT_OFFERED"
	// ReasonClientTokenRequired: the token is a person's (customer or
	// staff); the gRPC edge serves integrators. PermissionDenied.
	ReasonClientTokenRequired = "CLIENT_TOKEN_REQUIRED"
	// ReasonScopeRequired: the token lacks the method's scope, named in the
	// ErrorInfo metadata under MetadataRequiredScope. PermissionDenied.
	ReasonScopeRequired = "SCOPE_REQUIRED"
	// ReasonTenantMismatch: the request names a tenant that is not the
	// token's. PermissionDenied.
	ReasonTenantMismatch = "TENANT_MISMATCH"
	// ReasonRateLimited: the client (or, on a public method, the source
	// address) has used its quota; RetryInfo says when to retry.
	// ResourceExhausted.
	ReasonRateLimited = "RATE_LIMITED"
	// ReasonMalformedRequest: a request the edge must read (for its tenant)
	// does not decode. InvalidArgument.
	ReasonMalformedRequest = "MALFORMED_REQUEST"
	// ReasonBackendUnavailable: the service behind the method cannot be
	// reached. Unavailable.
	ReasonBackendUnavailable = "BACKEND_UNAVAILABLE"
)

// MetadataRequiredScope is the ErrorInfo metadata key of SCOPE_REQUIRED.
const MetadataRequiredScope = "required_scope"

// Why a call was refused, as the reason of its audit event
// (gateway.authenticate, the REST edge's action): the REST edge's words
// where they mean the same, never the token presented.
const (
	refusalMissingToken = "MISSING_TOKEN"
	refusalInvalidToken = "INVALID_TOKEN"
)
