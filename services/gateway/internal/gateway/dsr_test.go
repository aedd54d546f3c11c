package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
)

// dsrConsent stands in for consent's DataSubjectRequestService: every
// method answers an empty success, DownloadExport answers what the test
// sets (a file or an error).
type dsrConsent struct {
	consentv1.UnimplementedDataSubjectRequestServiceServer
	mu       sync.Mutex
	export   *httpbody.HttpBody
	fail     error
	exportRq *consentv1.DownloadExportRequest
}

func (c *dsrConsent) CreateRequest(context.Context, *consentv1.CreateRequestRequest) (*consentv1.CreateRequestResponse, error) {
	return &consentv1.CreateRequestResponse{Request: &consentv1.Request{RequestId: "dsr_0123456789"}}, nil
}

func (c *dsrConsent) GetRequest(context.Context, *consentv1.GetRequestRequest) (*consentv1.GetRequestResponse, error) {
	return &consentv1.GetRequestResponse{}, nil
}

func (c *dsrConsent) ListRequests(context.Context, *consentv1.ListRequestsRequest) (*consentv1.ListRequestsResponse, error) {
	return &consentv1.ListRequestsResponse{}, nil
}

func (c *dsrConsent) VerifyRequest(context.Context, *consentv1.VerifyRequestRequest) (*consentv1.VerifyRequestResponse, error) {
	return &consentv1.VerifyRequestResponse{}, nil
}

func (c *dsrConsent) ExtendRequest(context.Context, *consentv1.ExtendRequestRequest) (*consentv1.ExtendRequestResponse, error) {
	return &consentv1.ExtendRequestResponse{}, nil
}

func (c *dsrConsent) PauseRequest(context.Context, *consentv1.PauseRequestRequest) (*consentv1.PauseRequestResponse, error) {
	return &consentv1.PauseRequestResponse{}, nil
}

func (c *dsrConsent) ResumeRequest(context.Context, *consentv1.ResumeRequestRequest) (*consentv1.ResumeRequestResponse, error) {
	return &consentv1.ResumeRequestResponse{}, nil
}

func (c *dsrConsent) RejectRequest(context.Context, *consentv1.RejectRequestRequest) (*consentv1.RejectRequestResponse, error) {
	return &consentv1.RejectRequestResponse{}, nil
}

func (c *dsrConsent) RetryRequest(context.Context, *consentv1.RetryRequestRequest) (*consentv1.RetryRequestResponse, error) {
	return &consentv1.RetryRequestResponse{}, nil
}

func (c *dsrConsent) DownloadExport(_ context.Context, req *consentv1.DownloadExportRequest) (*httpbody.HttpBody, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.exportRq = req
	if c.fail != nil {
		return nil, c.fail
	}
	return c.export, nil
}

func (c *dsrConsent) answer(body *httpbody.HttpBody, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.export, c.fail = body, err
}

// call is what reached consent: the method and its authorization metadata.
type call struct{ method, authorization string }

// dsrStand is a gateway in front of the stand-in, which runs behind the
// production interceptor chain (mTLS, workload policy, validation) with
// pkg/enduser's authenticator applying the step-up rule consent declares
// (a customer at aal2 within 15 minutes): the gateway reaches it as its
// own workload, over mTLS, and the step-up answer is the real one.
type dsrStand struct {
	consent *dsrConsent
	h       http.Handler
	log     *syncWriter
	mu      sync.Mutex
	calls   []call
}

func (s *dsrStand) reached() []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.calls...)
}

func (s *dsrStand) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// dsrMethods are DataSubjectRequestService's methods.
var dsrMethods = []string{
	consentv1.DataSubjectRequestService_CreateRequest_FullMethodName,
	consentv1.DataSubjectRequestService_GetRequest_FullMethodName,
	consentv1.DataSubjectRequestService_ListRequests_FullMethodName,
	consentv1.DataSubjectRequestService_VerifyRequest_FullMethodName,
	consentv1.DataSubjectRequestService_ExtendRequest_FullMethodName,
	consentv1.DataSubjectRequestService_PauseRequest_FullMethodName,
	consentv1.DataSubjectRequestService_ResumeRequest_FullMethodName,
	consentv1.DataSubjectRequestService_RejectRequest_FullMethodName,
	consentv1.DataSubjectRequestService_RetryRequest_FullMethodName,
	consentv1.DataSubjectRequestService_DownloadExport_FullMethodName,
}

// noRevocations: revocation is pkg/enduser's, tested there.
type noRevocations struct{}

func (noRevocations) Check(*accesstoken.Claims) error { return nil }

func newDSRStand(t *testing.T) *dsrStand {
	t.Helper()
	s := &dsrStand{consent: &dsrConsent{}, log: &syncWriter{w: &bytes.Buffer{}}}
	pki := servertest.NewPKI(t)
	workloads := authz.Policy{}
	people := enduser.Policy{}
	recent := 15 * time.Minute
	for _, m := range dsrMethods {
		workloads[m] = []string{"gateway"}
		people[m] = enduser.Rule{Require: enduser.User, AnyOf: []enduser.Rule{
			{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindCustomer}, AAL: accesstoken.AAL2, MaxAge: recent},
			{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindStaff}, Roles: []string{accesstoken.RolePrivacyOfficer}, AAL: accesstoken.AAL2, MaxAge: recent},
		}}
	}
	authn, err := enduser.NewAuthenticator(tokens(t).verifier, noRevocations{}, people)
	if err != nil {
		t.Fatal(err)
	}
	record := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		s.mu.Lock()
		s.calls = append(s.calls, call{info.FullMethod, strings.Join(md.Get("authorization"), ",")})
		s.mu.Unlock()
		return next(ctx, req)
	}
	srv, err := server.New(context.Background(), "consent", pki.Config(t, "consent"), workloads, servertest.Logger(),
		server.WithInterceptors(record, nil), server.WithInterceptors(authn.UnaryInterceptor(), nil))
	if err != nil {
		t.Fatal(err)
	}
	consentv1.RegisterDataSubjectRequestServiceServer(srv.GRPC(), s.consent)
	addr := servertest.Start(t, srv)
	opts, err := dial.Options(pki.Source(t, "gateway"), "consent", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.h, err = New(context.Background(), []Backend{testBackend(t, "consent", addr, opts...)},
		Options{MaxBodyBytes: 1 << 16, Auth: tokens(t), Logger: logging.New(s.log, "gateway", slog.LevelDebug)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A customer at aal2 just now, and a privacy officer.
func recentCustomerToken(t testing.TB) string {
	return tokens(t).token(t, accesstoken.Claims{Kind: accesstoken.KindCustomer, Subject: "acc_subject", Tenant: "shop", AAL: accesstoken.AAL2, AMR: []string{"pwd", "otp"}})
}

type dsrRoute struct {
	method, path, body, fullMethod string
	officer                        bool // a privacy officer's call (else a customer's)
}

const testRequestID = "dsr_0123456789abcdef"

var dsrRoutes = []dsrRoute{
	{http.MethodPost, "/v1/privacy/requests", `{"type":"REQUEST_TYPE_ACCESS","jurisdiction":"DE","request_key":"k1"}`, consentv1.DataSubjectRequestService_CreateRequest_FullMethodName, false},
	{http.MethodGet, "/v1/privacy/requests?page_size=10", "", consentv1.DataSubjectRequestService_ListRequests_FullMethodName, false},
	{http.MethodGet, "/v1/privacy/requests/" + testRequestID, "", consentv1.DataSubjectRequestService_GetRequest_FullMethodName, false},
	{http.MethodPost, "/v1/privacy/requests/" + testRequestID + ":verify", `{"method":"VERIFICATION_METHOD_DOCUMENTS_CHECKED"}`, consentv1.DataSubjectRequestService_VerifyRequest_FullMethodName, true},
	{http.MethodPost, "/v1/privacy/requests/" + testRequestID + ":extend", `{"reason":"EXTENSION_REASON_COMPLEXITY"}`, consentv1.DataSubjectRequestService_ExtendRequest_FullMethodName, true},
	{http.MethodPost, "/v1/privacy/requests/" + testRequestID + ":pause", `{"reason":"PAUSE_REASON_CLARIFICATION_REQUESTED"}`, consentv1.DataSubjectRequestService_PauseRequest_FullMethodName, true},
	{http.MethodPost, "/v1/privacy/requests/" + testRequestID + ":resume", `{}`, consentv1.DataSubjectRequestService_ResumeRequest_FullMethodName, true},
	{http.MethodPost, "/v1/privacy/requests/" + testRequestID + ":reject", `{"reason":"REJECTION_REASON_WITHDRAWN_BY_SUBJECT"}`, consentv1.DataSubjectRequestService_RejectRequest_FullMethodName, false},
	{http.MethodPost, "/v1/privacy/requests/" + testRequestID + ":retry", `{}`, consentv1.DataSubjectRequestService_RetryRequest_FullMethodName, true},
	{http.MethodGet, "/v1/privacy/requests/" + testRequestID + "/export", "", consentv1.DataSubjectRequestService_DownloadExport_FullMethodName, false},
}

func (s *dsrStand) do(method, path, token, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

func bodyReason(rec *httptest.ResponseRecorder) string {
	var out map[string]any
	json.Unmarshal(rec.Body.Bytes(), &out)
	return reason(out)
}

// TestDSRRoutesReachConsent: each route reaches its method of consent's
// DataSubjectRequestService with the caller's token as authorization
// metadata (consent checks it again), for a customer and for a privacy
// officer.
func TestDSRRoutesReachConsent(t *testing.T) {
	s := newDSRStand(t)
	s.consent.answer(&httpbody.HttpBody{ContentType: "application/json", Data: []byte("{}")}, nil)
	customer, officer := recentCustomerToken(t), operatorToken(t)
	seen := map[string]bool{}
	for _, rt := range dsrRoutes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			s.reset()
			tok := customer
			if rt.officer {
				tok = officer
			}
			rec := s.do(rt.method, rt.path, tok, rt.body)
			if rec.Code != http.StatusOK {
				t.Fatalf("%d %s, want 200", rec.Code, rec.Body)
			}
			want := []call{{rt.fullMethod, "Bearer " + tok}}
			if got := s.reached(); len(got) != 1 || got[0] != want[0] {
				t.Fatalf("reached consent as %v, want %v", got, want)
			}
			seen[rt.fullMethod] = true
		})
	}
	for _, m := range dsrMethods {
		if !seen[m] {
			t.Errorf("no route reached %s", m)
		}
	}
}

// TestDSRRoutesRefuseBeforeConsent: without a token every route is 401
// with a Bearer challenge; a token of the wrong kind or role is 403;
// neither reaches consent. The export is the customer's alone.
func TestDSRRoutesRefuseBeforeConsent(t *testing.T) {
	s := newDSRStand(t)
	tt := tokens(t)
	staff := func(roles ...string) string {
		return tt.token(t, accesstoken.Claims{Kind: accesstoken.KindStaff, Roles: roles, AAL: accesstoken.AAL2, AMR: []string{"pwd", "otp"}})
	}
	refused := map[string]string{
		"support agent":           staff(accesstoken.RoleSupportAgent),
		"administrator":           staff(accesstoken.RoleAdmin),
		"privacy officer at aal1": tt.token(t, accesstoken.Claims{Kind: accesstoken.KindStaff, Roles: []string{accesstoken.RolePrivacyOfficer}, AAL: accesstoken.AAL1, AMR: []string{"pwd"}}),
		"integrator":              tt.token(t, accesstoken.Claims{Kind: accesstoken.KindClient, Subject: "cli_platform", Scope: "tokenvault.tokenize"}),
	}
	for _, rt := range dsrRoutes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			s.reset()
			rec := s.do(rt.method, rt.path, "", rt.body)
			if rec.Code != http.StatusUnauthorized || bodyReason(rec) != reasonUnauthenticated || !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("no token: %d %s %q, want 401 %s with a Bearer challenge", rec.Code, rec.Body, rec.Header().Get("WWW-Authenticate"), reasonUnauthenticated)
			}
			for who, tok := range refused {
				if rec := s.do(rt.method, rt.path, tok, rt.body); rec.Code != http.StatusForbidden || bodyReason(rec) != reasonForbidden {
					t.Errorf("%s: %d %s, want 403 %s", who, rec.Code, rec.Body, reasonForbidden)
				}
			}
			if got := s.reached(); len(got) != 0 {
				t.Errorf("refused calls reached consent: %v", got)
			}
		})
	}
	if rec := s.do(http.MethodGet, "/v1/privacy/requests/"+testRequestID+"/export", operatorToken(t), ""); rec.Code != http.StatusForbidden {
		t.Errorf("a privacy officer downloaded an export: %d %s, want 403", rec.Code, rec.Body)
	}
	if got := s.reached(); len(got) != 0 {
		t.Errorf("the officer's download reached consent: %v", got)
	}
}

// TestDSRStepUp: consent asks a customer without a recent aal2 to step up
// (FailedPrecondition STEP_UP_REQUIRED); on every route the customer gets
// the RFC 9470 challenge (401, insufficient_user_authentication, max_age)
// as a JSON error, not a file.
func TestDSRStepUp(t *testing.T) {
	s := newDSRStand(t)
	s.consent.answer(&httpbody.HttpBody{ContentType: "application/json", Data: []byte("{}")}, nil)
	tt := tokens(t)
	weak := map[string]string{
		"aal1":     customerToken(t),
		"aal2 old": tt.token(t, accesstoken.Claims{Kind: accesstoken.KindCustomer, Tenant: "shop", AAL: accesstoken.AAL2, AMR: []string{"pwd", "otp"}, AuthTime: time.Now().Add(-2 * time.Hour)}),
	}
	for _, rt := range dsrRoutes {
		for name, tok := range weak {
			t.Run(name+" "+rt.method+" "+rt.path, func(t *testing.T) {
				rec := s.do(rt.method, rt.path, tok, rt.body)
				challenge := rec.Header().Get("WWW-Authenticate")
				if rec.Code != http.StatusUnauthorized || bodyReason(rec) != enduser.ReasonStepUpRequired ||
					!strings.Contains(challenge, `error="insufficient_user_authentication"`) || !strings.Contains(challenge, "max_age=900") {
					t.Fatalf("%d %s %q, want 401 %s with an insufficient_user_authentication challenge, max_age=900", rec.Code, rec.Body, challenge, enduser.ReasonStepUpRequired)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" || rec.Header().Get("Content-Disposition") != "" {
					t.Errorf("step-up answer served as %q, %q; want a JSON error, no attachment", ct, rec.Header().Get("Content-Disposition"))
				}
			})
		}
	}
}

// TestExportDownload: the export's bytes come through unchanged, as a
// download of its type named after the request, never sniffed nor cached;
// the format asked for reaches consent; nothing of the body is logged.
func TestExportDownload(t *testing.T) {
	s := newDSRStand(t)
	srv := httptest.NewServer(s.h)
	t.Cleanup(srv.Close)
	const canary = "jane.canary@example.com"
	for _, tc := range []struct {
		name, query, sent, served, file string
		format                          consentv1.ExportFormat
		data                            []byte
	}{
		{"json", "", "application/json", "application/json", "sotto-export-" + testRequestID + ".json", consentv1.ExportFormat_EXPORT_FORMAT_UNSPECIFIED,
			[]byte(`{"items":[{"field":"email","value":"` + canary + `"},{"field":"note","value":"<script>alert(1)</script> Zoë \u2028"}]}` + "\n")},
		{"csv", "?format=EXPORT_FORMAT_CSV", "text/csv; charset=UTF-8", "text/csv; charset=utf-8", "sotto-export-" + testRequestID + ".csv", consentv1.ExportFormat_EXPORT_FORMAT_CSV,
			[]byte("participant,category,item,field,value\r\ntokenvault,tokenvault.value,tok_1,value,\"" + canary + "\"\r\nidentity,identity.account,acc_1,note,\"a,\"\"b\"\"\r\nc\"\r\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.consent.answer(&httpbody.HttpBody{ContentType: tc.sent, Data: tc.data}, nil)
			s.log.mu.Lock()
			s.log.w.Reset()
			s.log.mu.Unlock()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/privacy/requests/"+testRequestID+"/export"+tc.query, nil)
			req.Header.Set("Authorization", "Bearer "+recentCustomerToken(t))
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.Equal(got, tc.data) {
				t.Fatalf("%d %q, want 200 and the export's bytes %q", resp.StatusCode, got, tc.data)
			}
			for h, want := range map[string]string{
				"Content-Type":           tc.served,
				"Content-Disposition":    `attachment; filename="` + tc.file + `"`,
				"Cache-Control":          "no-store",
				"X-Content-Type-Options": "nosniff",
			} {
				if v := resp.Header.Values(h); len(v) != 1 || v[0] != want {
					t.Errorf("%s: %q, want %q", h, v, want)
				}
			}
			s.consent.mu.Lock()
			format, id := s.consent.exportRq.GetFormat(), s.consent.exportRq.GetRequestId()
			s.consent.mu.Unlock()
			if format != tc.format || id != testRequestID {
				t.Errorf("consent was asked for %s of %q, want %s of %q", format, id, tc.format, testRequestID)
			}
			s.log.mu.Lock()
			logged := s.log.w.String()
			s.log.mu.Unlock()
			if strings.Contains(logged, canary) || strings.Contains(logged, "participant,category") {
				t.Errorf("the export is in the log: %s", logged)
			}
		})
	}
}

// TestExportOfAnotherTypeIsNotServed: a file answer that is not JSON or
// UTF-8 CSV (HTML, an unknown charset, no type) is an internal error in
// the edge's JSON, never served from the API's origin; the body is
// neither sent nor logged.
func TestExportOfAnotherTypeIsNotServed(t *testing.T) {
	s := newDSRStand(t)
	const canary = "<script>canary()</script>"
	for _, ct := range []string{"text/html", "text/html; charset=utf-8", "text/csv", "text/csv; charset=iso-8859-1", "application/json; charset=utf-8; x=y", "", "application/json\r\nX-Injected: 1"} {
		t.Run(ct, func(t *testing.T) {
			s.consent.answer(&httpbody.HttpBody{ContentType: ct, Data: []byte(canary)}, nil)
			rec := s.do(http.MethodGet, "/v1/privacy/requests/"+testRequestID+"/export", recentCustomerToken(t), "")
			if rec.Code != http.StatusInternalServerError || bodyReason(rec) != reasonInternal || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("%d %q %s, want a 500 %s JSON error", rec.Code, rec.Header().Get("Content-Type"), rec.Body, reasonInternal)
			}
			if rec.Header().Get("Content-Disposition") != "" || rec.Header().Get("X-Injected") != "" || strings.Contains(rec.Body.String(), "canary") {
				t.Errorf("served as a file: %v %s", rec.Header(), rec.Body)
			}
		})
	}
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	if strings.Contains(s.log.w.String(), "canary") {
		t.Errorf("the refused body is in the log: %s", s.log.w)
	}
}

// TestExportErrorIsJSON: an error from consent on the download (not found,
// already downloaded, unavailable) is the edge's JSON error with the
// status its code maps to, not a file.
func TestExportErrorIsJSON(t *testing.T) {
	s := newDSRStand(t)
	for _, tc := range []struct {
		err    error
		code   int
		reason string
	}{
		{errs.E(errs.NotFound, "REQUEST_NOT_FOUND", "no such request"), http.StatusNotFound, "REQUEST_NOT_FOUND"},
		{errs.E(errs.FailedPrecondition, "EXPORT_ALREADY_DOWNLOADED", "the export was downloaded"), http.StatusBadRequest, "EXPORT_ALREADY_DOWNLOADED"},
		{errs.E(errs.Unavailable, "PARTICIPANT_UNAVAILABLE", "a participant did not answer"), http.StatusServiceUnavailable, "PARTICIPANT_UNAVAILABLE"},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			s.consent.answer(nil, tc.err)
			rec := s.do(http.MethodGet, "/v1/privacy/requests/"+testRequestID+"/export?format=EXPORT_FORMAT_CSV", recentCustomerToken(t), "")
			if rec.Code != tc.code || bodyReason(rec) != tc.reason || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("%d %q %s, want %d %s as JSON", rec.Code, rec.Header().Get("Content-Type"), rec.Body, tc.code, tc.reason)
			}
			if rec.Header().Get("Content-Disposition") != "" || rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("error headers %v: want no attachment, no-store", rec.Header())
			}
		})
	}
}

// TestHostileRequestIDs: a request id that is not consent's pattern (line
// breaks, quotes, 10 KB, ...) is a 400 at the edge on every route that
// takes one, whatever consent would say: it reaches neither consent nor a
// header. Sent over a real connection, so the headers checked are the
// wire's.
func TestHostileRequestIDs(t *testing.T) {
	s := newDSRStand(t)
	s.consent.answer(&httpbody.HttpBody{ContentType: "application/json", Data: []byte("{}")}, nil)
	srv := httptest.NewServer(s.h)
	t.Cleanup(srv.Close)
	customer := recentCustomerToken(t)
	for name, id := range map[string]string{
		"CRLF":            "dsr_01234567%0D%0ASet-Cookie:%20injected=1",
		"LF":              "dsr_01234567%0AX-Injected:%201",
		"quote":           "dsr_01234567%22%3B%20filename=%22evil.html",
		"10 KB":           "dsr_" + strings.Repeat("a", 10<<10),
		"one too long":    "dsr_" + strings.Repeat("a", 65),
		"too short":       "dsr_1234567",
		"no prefix":       "0123456789abcdef",
		"encoded slash":   "dsr_01234567%2F..%2Fx",
		"space":           "dsr_01234567%20x",
		"unicode":         "dsr_01234567%C3%A9",
		"NUL":             "dsr_01234567%00",
		"semicolon":       "dsr_01234567;x",
		"percent literal": "dsr_01234567%2541",
	} {
		for _, suffix := range []string{"/export", "", ":retry"} {
			t.Run(name+suffix, func(t *testing.T) {
				s.reset()
				method := http.MethodGet
				if suffix == ":retry" {
					method = http.MethodPost
				}
				req, err := http.NewRequest(method, srv.URL+"/v1/privacy/requests/"+id+suffix, strings.NewReader("{}"))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+customer)
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var out map[string]any
				json.Unmarshal(body, &out)
				if resp.StatusCode != http.StatusBadRequest || reason(out) != reasonMalformedRequest || resp.Header.Get("Content-Type") != "application/json" {
					t.Errorf("%d %q %s, want a 400 %s JSON error", resp.StatusCode, resp.Header.Get("Content-Type"), body, reasonMalformedRequest)
				}
				for _, h := range []string{"Set-Cookie", "X-Injected", "Content-Disposition"} {
					if v := resp.Header.Values(h); len(v) > 0 {
						t.Errorf("%s: %q", h, v)
					}
				}
				if strings.Contains(string(body), "injected") || strings.Contains(string(body), "evil") {
					t.Errorf("the id is echoed: %s", body)
				}
				if got := s.reached(); len(got) != 0 {
					t.Errorf("reached consent: %v", got)
				}
			})
		}
	}
}

// TestRequestIDPatternIsTheProtos: the edge's request-id check is the
// pattern the proto declares on every request_id of the service, so the
// edge refuses nothing consent would take and lets through nothing it
// would refuse.
func TestRequestIDPatternIsTheProtos(t *testing.T) {
	svc := consentv1.File_sotto_consent_v1_dsr_proto.Services().ByName("DataSubjectRequestService")
	n := 0
	for i := range svc.Methods().Len() {
		in := svc.Methods().Get(i).Input()
		fd := in.Fields().ByName("request_id")
		if fd == nil || fd.Kind() != protoreflect.StringKind {
			continue
		}
		rule, _ := proto.GetExtension(fd.Options(), validate.E_Field).(*validate.FieldRules)
		if got := rule.GetString().GetPattern(); got != dsrRequestID.String() {
			t.Errorf("%s.request_id: the proto says %q, the edge checks %q", in.FullName(), got, dsrRequestID)
		}
		n++
	}
	if n != 8 {
		t.Errorf("%d methods take a request_id, want 8 (the edge checks %d routes)", n, len(pathChecks))
	}
}

// TestEveryRequestIDRouteIsChecked: every REST route with a {request_id}
// of a data-subject request has its check (a route added later cannot send
// an unchecked id on).
func TestEveryRequestIDRouteIsChecked(t *testing.T) {
	n := 0
	for route := range routeAccess {
		if strings.Contains(route, " /v1/privacy/") && strings.Contains(route, "{request_id}") {
			n++
			if pathChecks[route]["request_id"] != dsrRequestID {
				t.Errorf("%s: request_id is not checked", route)
			}
		}
	}
	if n != len(pathChecks) || n != 8 {
		t.Errorf("%d routes with a request id, %d checks; want 8 of each", n, len(pathChecks))
	}
}

func TestExportContentType(t *testing.T) {
	for _, tc := range []struct{ in, canonical, ext string }{
		{"application/json", "application/json", "json"},
		{"application/json; charset=utf-8", "application/json", "json"},
		{"Application/JSON", "application/json", "json"},
		{"text/csv; charset=utf-8", "text/csv; charset=utf-8", "csv"},
		{`text/csv; charset="UTF-8"`, "text/csv; charset=utf-8", "csv"},
		{"text/csv", "", ""},
		{"text/csv; charset=latin1", "", ""},
		{"text/csv; charset=utf-8; header=present", "", ""},
		{"text/html", "", ""},
		{"application/octet-stream", "", ""},
		{"", "", ""},
		{"application/json\r\nX: 1", "", ""},
	} {
		c, ext, ok := exportContentType(tc.in)
		if c != tc.canonical || ext != tc.ext || ok != (tc.canonical != "") {
			t.Errorf("%q: %q %q %v, want %q %q", tc.in, c, ext, ok, tc.canonical, tc.ext)
		}
	}
}

// TestFileAnswerElsewhereIsRefused: a file answer on a route that did not
// validate a request id for it (a route added later that returns HttpBody)
// is not served as a download with an unchecked name.
func TestFileAnswerElsewhereIsRefused(t *testing.T) {
	rec := httptest.NewRecorder()
	err := exportHeaders(context.Background(), rec, &httpbody.HttpBody{ContentType: "application/json", Data: []byte("{}")})
	if err == nil || rec.Header().Get("Content-Disposition") != "" {
		t.Fatalf("served: %v %v", err, rec.Header())
	}
	ctx := context.WithValue(context.Background(), exportIDKey{}, `dsr_01234567"; x`)
	if err := exportHeaders(ctx, rec, &httpbody.HttpBody{ContentType: "application/json"}); err == nil {
		t.Fatal("served under a malformed id")
	}
}
