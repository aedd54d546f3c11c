package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/sottohq/sotto/gen"
	apiv1 "github.com/sottohq/sotto/gen/go/sotto/api/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/servertest"
)

// swaggerSchema is the part of a Swagger 2.0 schema object this test reads.
type swaggerSchema struct {
	Ref        string                    `json:"$ref"`
	Type       string                    `json:"type"`
	Properties map[string]*swaggerSchema `json:"properties"`
	Items      *swaggerSchema            `json:"items"`
	// AdditionalProperties is a map's value schema (proto map fields).
	AdditionalProperties *additionalProperties `json:"additionalProperties"`
}

// additionalProperties is a schema, or a boolean (Swagger 2.0 allows both;
// protobufAny says true: any property, undescribed).
type additionalProperties struct {
	swaggerSchema
	boolean, allowed bool
}

func (a *additionalProperties) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &a.allowed); err == nil {
		a.boolean = true
		return nil
	}
	return json.Unmarshal(b, &a.swaggerSchema)
}

type swaggerDoc struct {
	Paths map[string]map[string]struct {
		OperationID string `json:"operationId"`
		Responses   map[string]struct {
			Schema *swaggerSchema `json:"schema"`
		} `json:"responses"`
	} `json:"paths"`
	Definitions map[string]*swaggerSchema `json:"definitions"`
}

// resolve follows $ref into the document's definitions.
func (d *swaggerDoc) resolve(t *testing.T, s *swaggerSchema) *swaggerSchema {
	t.Helper()
	for s != nil && s.Ref != "" {
		name, ok := strings.CutPrefix(s.Ref, "#/definitions/")
		if !ok || d.Definitions[name] == nil {
			t.Fatalf("unresolvable $ref %q", s.Ref)
		}
		s = d.Definitions[name]
	}
	return s
}

// errorSchemas returns, per operation, the schema of every error response it
// declares ("default" and 4xx/5xx). An operation without one fails the test:
// a client generated from it would have no error type at all.
func (d *swaggerDoc) errorSchemas(t *testing.T) map[string]*swaggerSchema {
	t.Helper()
	out := map[string]*swaggerSchema{}
	for path, ops := range d.Paths {
		for method, op := range ops {
			n := 0
			for key, resp := range op.Responses {
				if code, err := strconv.Atoi(key); key != "default" && (err != nil || code < 400) {
					continue
				}
				if resp.Schema == nil {
					t.Errorf("%s %s: error response %s has no schema", method, path, key)
					continue
				}
				out[fmt.Sprintf("%s %s %s", method, path, key)] = d.resolve(t, resp.Schema)
				n++
			}
			if n == 0 {
				t.Errorf("%s %s declares no error response", method, path)
			}
		}
	}
	return out
}

// jsonType is the Swagger type of a decoded JSON value.
func jsonType(v any) string {
	switch v := v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	}
	return "null"
}

// compare checks value against schema: every property the value has is
// declared with the same JSON type, recursively. seen collects the
// properties present (by path) so that, over all bodies, undeclared-but-
// never-sent properties show up too.
func (d *swaggerDoc) compare(t *testing.T, at string, schema *swaggerSchema, value any, seen map[string]bool) {
	t.Helper()
	schema = d.resolve(t, schema)
	got := jsonType(value)
	want := schema.Type
	if want == "" && schema.Properties != nil {
		want = "object"
	}
	if got != want && (got != "integer" || want != "number") {
		t.Errorf("%s: body has a %s, the schema declares %q", at, got, want)
		return
	}
	switch value := value.(type) {
	case map[string]any:
		for name, v := range value {
			p := at + "." + name
			seen[p] = true
			ps, ok := schema.Properties[name]
			if ap := schema.AdditionalProperties; !ok && ap != nil && (!ap.boolean || ap.allowed) {
				if ap.boolean {
					continue // any property, undescribed
				}
				// A map: any key, each value of the declared schema.
				d.compare(t, at+".*", &ap.swaggerSchema, v, seen)
				continue
			}
			if !ok {
				t.Errorf("%s: the body has it, the schema does not declare it (declared: %v)", p, slices.Sorted(maps.Keys(schema.Properties)))
				continue
			}
			d.compare(t, p, ps, v, seen)
		}
	case []any:
		if schema.Items == nil {
			t.Errorf("%s: array without an items schema", at)
			return
		}
		for _, v := range value {
			d.compare(t, at+"[]", schema.Items, v, seen)
		}
	}
}

// declared lists every property path the schema declares, recursively.
func (d *swaggerDoc) declared(t *testing.T, at string, schema *swaggerSchema, out map[string]bool, depth int) {
	t.Helper()
	schema = d.resolve(t, schema)
	if depth > 8 {
		t.Fatalf("%s: schema nests deeper than an error body can", at)
	}
	for name, ps := range schema.Properties {
		out[at+"."+name] = true
		d.declared(t, at+"."+name, ps, out, depth+1)
	}
	if schema.Items != nil {
		d.declared(t, at+"[]", schema.Items, out, depth+1)
	}
}

// steppingUpTokenVault asks for a step-up on every RevealMasked, as the
// vault does when a value needs a fresher second factor.
type steppingUpTokenVault struct {
	tokenvaultv1.UnimplementedTokenVaultServiceServer
}

func (steppingUpTokenVault) RevealMasked(context.Context, *tokenvaultv1.RevealMaskedRequest) (*tokenvaultv1.RevealMaskedResponse, error) {
	return nil, &enduser.StepUpError{RequiredAAL: 2, MaxAge: 5 * time.Minute}
}

// startInvalidatingTokenVault serves the token vault's API behind the
// production interceptor chain (pkg/server) with no implementation behind
// it: a request that breaks the proto's validation rules is refused with
// the field violations a real token vault returns, before any handler runs.
func startInvalidatingTokenVault(t *testing.T) (addr string, opts []grpc.DialOption) {
	t.Helper()
	pki := servertest.NewPKI(t)
	srv := pki.NewServer(t, "tokenvault", authz.Policy{
		"/sotto.tokenvault.v1.TokenVaultService/Tokenize":     {"gateway"},
		"/sotto.tokenvault.v1.TokenVaultService/RevealMasked": {"gateway"},
	})
	tokenvaultv1.RegisterTokenVaultServiceServer(srv.GRPC(), steppingUpTokenVault{})
	addr = servertest.Start(t, srv)
	opts, err := dial.Options(pki.Source(t, "gateway"), "tokenvault", nil)
	if err != nil {
		t.Fatal(err)
	}
	return addr, opts
}

// TestErrorBodiesMatchOpenAPI: the error bodies the gateway sends are what
// the OpenAPI document it serves says they are, so a client generated from
// the document decodes them. Every operation's error responses are checked
// against bodies of each of the gateway's error paths (its own refusals,
// routing errors, and statuses relayed from a backend, with violations).
func TestErrorBodiesMatchOpenAPI(t *testing.T) {
	var doc swaggerDoc
	if err := json.Unmarshal(gen.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc.errorSchemas(t)
	if len(schemas) == 0 {
		t.Fatal("the OpenAPI document has no operations with error responses; nothing would be compared")
	}

	tvAddr, tvDial := startInvalidatingTokenVault(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	h, err := New(context.Background(), []Backend{
		testBackend(t, "audit", dead, []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}...),
		testBackend(t, "tokenvault", tvAddr, tvDial...),
	}, Options{MaxBodyBytes: 1024, Auth: tokens(t)})
	if err != nil {
		t.Fatal(err)
	}
	admin := adminToken(t)

	bodies := map[string]map[string]any{}
	for _, tc := range []struct {
		name, method, path, token, body string
		code                            int
	}{
		{"unauthenticated", http.MethodGet, "/v1/audit/events", "", "", http.StatusUnauthorized},
		{"violations", http.MethodPost, "/v1/tokens:tokenize", admin, `{"subject":"","items":[]}`, http.StatusBadRequest},
		{"malformed", http.MethodPost, "/v1/tokens:tokenize", admin, `{`, http.StatusBadRequest},
		{"unknown route", http.MethodGet, "/v2/nothing", admin, "", http.StatusNotFound},
		{"too large", http.MethodPost, "/v1/tokens:tokenize", admin, strings.Repeat("x", 2048), http.StatusRequestEntityTooLarge},
		{"backend down", http.MethodGet, "/v1/audit/events", admin, "", http.StatusServiceUnavailable},
		{"step-up", http.MethodPost, "/v1/tokens:mask", admin, `{"tokens":["tok_x"]}`, http.StatusUnauthorized},
	} {
		code, body := do(h, tc.method, tc.path, tc.token, tc.body)
		if code != tc.code || body == nil {
			t.Fatalf("%s: %d %v, want %d with a JSON body", tc.name, code, body, tc.code)
		}
		bodies[tc.name] = body
	}
	// Without violations in some body, the comparison would not reach the
	// items schema.
	if v, _ := bodies["violations"]["error"].(map[string]any)["violations"].([]any); len(v) == 0 {
		t.Fatalf("the validation error carries no violations: %v", bodies["violations"])
	}

	for _, op := range slices.Sorted(maps.Keys(schemas)) {
		t.Run(op, func(t *testing.T) {
			schema := schemas[op]
			seen := map[string]bool{}
			for _, name := range slices.Sorted(maps.Keys(bodies)) {
				doc.compare(t, name+": body", schema, bodies[name], seen)
			}
			// Property paths are compared without the case prefix.
			sent := map[string]bool{}
			for p := range seen {
				_, rest, _ := strings.Cut(p, ": ")
				sent[rest] = true
			}
			declared := map[string]bool{}
			doc.declared(t, "body", schema, declared, 0)
			for _, p := range slices.Sorted(maps.Keys(declared)) {
				if !sent[p] {
					t.Errorf("%s: the schema declares it, no error body has it", p)
				}
			}
		})
	}
}

// TestRelayedErrorNotUTF8: a backend status message that is not valid UTF-8
// (it travels as a header; protojson refuses to encode such strings) still
// reaches the client as its own error, not as an internal one.
func TestRelayedErrorNotUTF8(t *testing.T) {
	st, err := status.New(codes.FailedPrecondition, "subject \xff erased").WithDetails(
		&errdetails.ErrorInfo{Reason: "SUBJECT_ERASED"},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "items[0]", Description: "broken rule"}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	handleError(context.Background(), slog.New(slog.DiscardHandler), rec, httptest.NewRequest(http.MethodGet, "/v1/audit/events", nil), st.Err())
	var got apiv1.ErrorResponse
	if err := protojson.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	want := &apiv1.ErrorResponse{Error: &apiv1.ErrorBody{
		Code: http.StatusBadRequest, Status: "FAILED_PRECONDITION", Message: "subject \uFFFD erased", Reason: "SUBJECT_ERASED",
		Violations: []*apiv1.FieldViolation{{Field: "items[0]", Description: "broken rule"}},
	}}
	if rec.Code != http.StatusBadRequest {
		t.Errorf("status %d, want 400", rec.Code)
	}
	if diff := cmp.Diff(want, &got, protocmp.Transform()); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}
