package gateway

// The gateway's catalogue of error reasons: the "reason" of the error bodies
// it writes itself (reasons from a service's status pass through unchanged).
const (
	reasonMalformedRequest = "MALFORMED_REQUEST"
	reasonUnauthenticated  = "UNAUTHENTICATED"
	reasonRequestTooLarge  = "REQUEST_TOO_LARGE"
	reasonInternal         = "INTERNAL"
	reasonUnavailable      = "UNAVAILABLE"
	reasonMethodNotAllowed = "METHOD_NOT_ALLOWED"
	reasonRouteNotFound    = "ROUTE_NOT_FOUND"
	reasonForbidden        = "FORBIDDEN"
	reasonRateLimited      = "RATE_LIMITED"
	reasonCSRFRejected     = "CSRF_REJECTED"
	// reasonOriginRejected: a browser request (or CORS preflight) from an
	// origin that is not one of the web widget's (widget.go).
	reasonOriginRejected = "ORIGIN_REJECTED"
	// reasonTooManyStreams: the token's subject has as many event streams
	// open as it may (sse.go).
	reasonTooManyStreams = "TOO_MANY_STREAMS"
	// reasonContentTypeUnsupported: a request body that is not declared
	// application/json (contenttype.go).
	reasonContentTypeUnsupported = "CONTENT_TYPE_UNSUPPORTED"
)

// Why an authentication at the edge was refused: the reason of its audit
// event (ActionEdgeAuth), never the token presented. A token the verifier
// refused is recorded with the verifier's reason (TOKEN_EXPIRED, ...).
const (
	refusalMissingToken = "MISSING_TOKEN"
	refusalInvalidToken = "INVALID_TOKEN"
	refusalInsufficient = "INSUFFICIENT_ACCESS"
)
