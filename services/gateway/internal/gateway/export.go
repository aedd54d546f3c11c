package gateway

import (
	"context"
	"mime"
	"net/http"
	"regexp"
	"strings"

	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	apiv1 "github.com/sottohq/sotto/gen/go/sotto/api/v1"
)

// A data-subject request's export is a file (google.api.HttpBody), the one
// answer the edge does not marshal as JSON: its bytes pass through as
// consent assembled them, under headers the edge decides.
const exportRoute = "GET /v1/privacy/requests/{request_id}/export"

// dsrRequestID is consent's pattern for a request id (the proto's
// buf.validate rule on every request_id field of DataSubjectRequestService;
// TestRequestIDPatternIsTheProtos keeps the two equal). The edge checks it
// itself because the id ends up in the download's Content-Disposition
// header: nothing a client chose reaches a header unchecked.
var dsrRequestID = regexp.MustCompile(`^dsr_[A-Za-z0-9_-]{8,64}$`)

// pathChecks are path parameters the edge validates before a route reaches
// its service: route → parameter → pattern. A mismatch is a 400 that does
// not repeat the value.
var pathChecks = map[string]map[string]*regexp.Regexp{
	"GET /v1/privacy/requests/{request_id}":         {"request_id": dsrRequestID},
	"POST /v1/privacy/requests/{request_id}:verify": {"request_id": dsrRequestID},
	"POST /v1/privacy/requests/{request_id}:extend": {"request_id": dsrRequestID},
	"POST /v1/privacy/requests/{request_id}:pause":  {"request_id": dsrRequestID},
	"POST /v1/privacy/requests/{request_id}:resume": {"request_id": dsrRequestID},
	"POST /v1/privacy/requests/{request_id}:reject": {"request_id": dsrRequestID},
	"POST /v1/privacy/requests/{request_id}:retry":  {"request_id": dsrRequestID},
	exportRoute: {"request_id": dsrRequestID},
}

type exportIDKey struct{}

// checkPath applies the route's pathChecks and, on the export route, keeps
// the validated request id for the download's headers (exportHeaders).
func checkPath(w http.ResponseWriter, r *http.Request, route string, params map[string]string) (*http.Request, bool) {
	for name, re := range pathChecks[route] {
		if !re.MatchString(params[name]) {
			writeError(w, http.StatusBadRequest, codes.InvalidArgument, reasonMalformedRequest, "a path parameter is malformed",
				&apiv1.FieldViolation{Field: name, Description: "must match " + re.String()})
			return r, false
		}
	}
	if route == exportRoute {
		r = r.WithContext(context.WithValue(r.Context(), exportIDKey{}, params["request_id"]))
	}
	return r, true
}

// exportContentType is the canonical spelling of ct, with its file
// extension, when it is one an export may have: JSON, or CSV in UTF-8.
// Anything else from the service is not served: the edge's answers are
// JSON, and a file of another type (HTML, say) would put active content on
// the API's origin.
func exportContentType(ct string) (canonical, ext string, ok bool) {
	media, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", "", false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return "", "", false
		}
	}
	switch {
	case media == "application/json":
		return "application/json", "json", true
	case media == "text/csv" && len(params) == 1:
		return "text/csv; charset=utf-8", "csv", true
	}
	return "", "", false
}

// exportHeaders is a grpc-gateway forward-response option: a file answer
// (HttpBody) is served as a download of an allowed type, on the export route
// only, never sniffed or cached. It reads neither the body nor anything
// that would log it; a refusal is an internal error (the service sent what
// the edge does not serve), logged by route and code only.
func exportHeaders(ctx context.Context, w http.ResponseWriter, m proto.Message) error {
	body, ok := m.(*httpbody.HttpBody)
	if !ok {
		return nil
	}
	id, _ := ctx.Value(exportIDKey{}).(string)
	ct, ext, ok := exportContentType(body.GetContentType())
	if !ok || !dsrRequestID.MatchString(id) {
		return status.Error(codes.Internal, "file answer not servable")
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", `attachment; filename="sotto-export-`+id+`.`+ext+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	return nil
}
