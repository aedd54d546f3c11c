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
)

// Why an operator authentication was refused: the reason of its audit event
// (ActionOperatorAuth), never the token presented.
const (
	refusalRoutesClosed = "ROUTES_CLOSED"
	refusalMissingToken = "MISSING_TOKEN"
	refusalInvalidToken = "INVALID_TOKEN"
)
