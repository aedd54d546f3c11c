package enduser_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
)

var identityID = "spiffe://" + servertest.TrustDomain + "/identity"

// fakeIdentity serves GetJwks from a real Issuer's key set and
// WatchRevocations from a log the test appends to: the feed's contract as
// pkg/enduser relies on it (backlog after the cursor, a heartbeat, then
// live changes and heartbeats). Identity itself is being built alongside.
type fakeIdentity struct {
	identityv1.UnimplementedIdentityServiceServer
	issuer *accesstoken.Issuer

	mu      sync.Mutex
	log     []*identityv1.WatchRevocationsResponse
	changed chan struct{} // closed and replaced on every append or break
	broken  int           // streams started before a break end
	cursors []string
	streams int
	// expired: resuming from any cursor fails as pkg/events does once the
	// log was trimmed past it.
	expired bool
}

func newFakeIdentity(iss *accesstoken.Issuer) *fakeIdentity {
	return &fakeIdentity{issuer: iss, changed: make(chan struct{})}
}

func (f *fakeIdentity) GetJwks(ctx context.Context, _ *identityv1.GetJwksRequest) (*identityv1.GetJwksResponse, error) {
	data, err := f.issuer.JWKS(ctx)
	if err != nil {
		return nil, err
	}
	return &identityv1.GetJwksResponse{JwksJson: data, MaxAge: durationpb.New(accesstoken.JWKSMaxAge)}, nil
}

func (f *fakeIdentity) revoke(sid, client string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, &identityv1.WatchRevocationsResponse{
		Cursor: strconv.Itoa(len(f.log) + 1), SessionId: sid, ClientId: client,
		RevokeTime: timestamppb.New(at), ExpireTime: timestamppb.New(at.Add(5 * time.Minute)),
	})
	close(f.changed)
	f.changed = make(chan struct{})
}

// breakStreams ends every open WatchRevocations stream with Unavailable.
func (f *fakeIdentity) breakStreams() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.broken = f.streams
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeIdentity) WatchRevocations(req *identityv1.WatchRevocationsRequest, stream grpc.ServerStreamingServer[identityv1.WatchRevocationsResponse]) error {
	next := 0
	if req.GetCursor() != "" {
		n, err := strconv.Atoi(req.GetCursor())
		if err != nil {
			return status.Error(codes.InvalidArgument, "bad cursor")
		}
		next = n
	}
	f.mu.Lock()
	f.streams++
	me := f.streams
	f.cursors = append(f.cursors, req.GetCursor())
	expired := f.expired && req.GetCursor() != ""
	f.mu.Unlock()
	if expired {
		return status.Error(codes.FailedPrecondition, "cursor expired")
	}
	heartbeat := func() error {
		return stream.Send(&identityv1.WatchRevocationsResponse{Cursor: strconv.Itoa(next)})
	}
	for first := true; ; first = false {
		f.mu.Lock()
		pending := f.log[min(next, len(f.log)):]
		changed, broken := f.changed, me <= f.broken
		f.mu.Unlock()
		if broken {
			return status.Error(codes.Unavailable, "identity restarting")
		}
		for _, r := range pending {
			if err := stream.Send(r); err != nil {
				return err
			}
			next++
		}
		if first {
			if err := heartbeat(); err != nil { // the backlog is complete
				return err
			}
		}
		select {
		case <-stream.Context().Done():
			return nil
		case <-changed:
		case <-time.After(time.Second):
			if err := heartbeat(); err != nil {
				return err
			}
		}
	}
}

func (f *fakeIdentity) cursorsSeen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.cursors...)
}

// shop is the protected service: it answers with the end user it sees and
// records the audit event it would send.
type shop struct {
	testpb.UnimplementedTestServiceServer
	mu        sync.Mutex
	events    []auditclient.Event
	forwarded []string // what Forward would send downstream
}

func (s *shop) answer(ctx context.Context) *testpb.SimpleResponse {
	p, ok := enduser.FromContext(ctx)
	ev := auditclient.New(ctx, "shop.read", auditclient.Success)
	out, _ := metadata.FromOutgoingContext(enduser.Forward(ctx))
	s.mu.Lock()
	s.events = append(s.events, ev)
	s.forwarded = out.Get("authorization")
	s.mu.Unlock()
	who := "nobody"
	if ok {
		who = string(p.Kind) + ":" + p.Subject + ":aal" + strconv.Itoa(p.AAL)
	}
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: []byte(who)}}
}

func (s *shop) lastEvent() auditclient.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events[len(s.events)-1]
}

func (s *shop) EmptyCall(ctx context.Context, _ *testpb.Empty) (*testpb.Empty, error) {
	if _, ok := enduser.FromContext(ctx); ok {
		return nil, status.Error(codes.Internal, "end user on a method that does not read tokens")
	}
	return &testpb.Empty{}, nil
}

func (s *shop) UnaryCall(ctx context.Context, _ *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	return s.answer(ctx), nil
}

func (s *shop) CacheableUnaryCall(ctx context.Context, _ *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	return s.answer(ctx), nil
}

func (s *shop) StreamingOutputCall(_ *testpb.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	return stream.Send(&testpb.StreamingOutputCallResponse{Payload: s.answer(stream.Context()).GetPayload()})
}

func (s *shop) FullDuplexCall(stream grpc.BidiStreamingServer[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error {
	return stream.Send(&testpb.StreamingOutputCallResponse{Payload: s.answer(stream.Context()).GetPayload()})
}

// The shop's end-user table: one of each kind of rule.
var shopPolicy = enduser.Policy{
	testpb.TestService_EmptyCall_FullMethodName:          {Require: enduser.None},
	testpb.TestService_UnaryCall_FullMethodName:          {Require: enduser.Optional},
	testpb.TestService_CacheableUnaryCall_FullMethodName: {Require: enduser.User, AAL: 2, MaxAge: 5 * time.Minute}, // full card reveal
	testpb.TestService_StreamingOutputCall_FullMethodName: {
		Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindStaff}, Roles: []string{accesstoken.RolePrivacyOfficer}, AAL: 2,
	},
	testpb.TestService_FullDuplexCall_FullMethodName:     {Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindClient}, Scopes: []string{"audit.read"}},
	testpb.TestService_StreamingInputCall_FullMethodName: {Require: enduser.None},
	testpb.TestService_HalfDuplexCall_FullMethodName:     {Require: enduser.None},
	testpb.TestService_UnimplementedCall_FullMethodName:  {Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindCustomer}},
}

type env struct {
	km       *keys.Local
	issuer   *accesstoken.Issuer
	identity *fakeIdentity
	shop     *shop
	client   testpb.TestServiceClient
	revs     *enduser.Revocations
	// cli is the shop as the workload sotto-cli calls it.
	cli testpb.TestServiceClient
}

func newKeyring(t *testing.T) *keys.Local {
	t.Helper()
	km, err := newKeyringB(t)
	if err != nil {
		t.Fatal(err)
	}
	return km
}

func newKeyringB(t testing.TB) (*keys.Local, error) {
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		return nil, err
	}
	return km, km.EnsureKey(context.Background(), accesstoken.KeyName, keys.TypeEd25519)
}

// newEnv runs identity (fake) and the shop, each a real mTLS gRPC server,
// the shop with the real interceptor chain plus end-user authentication
// that fetches keys and follows revocations from identity over gRPC.
func newEnv(t *testing.T) *env { return newEnvWith(t, shopPolicy) }

// newEnvWith is newEnv with another end-user table; the gateway and
// sotto-cli may call every method.
func newEnvWith(t *testing.T, policy enduser.Policy) *env {
	t.Helper()
	pki := servertest.NewPKI(t)
	e := &env{km: newKeyring(t)}
	var err error
	e.issuer, err = accesstoken.NewIssuer(e.km, accesstoken.KeyName, identityID)
	if err != nil {
		t.Fatal(err)
	}
	e.identity = newFakeIdentity(e.issuer)
	idSrv := pki.NewServer(t, "identity", authz.Policy{
		identityv1.IdentityService_GetJwks_FullMethodName:          {"shop"},
		identityv1.IdentityService_WatchRevocations_FullMethodName: {"shop"},
	})
	identityv1.RegisterIdentityServiceServer(idSrv.GRPC(), e.identity)
	idAddr := servertest.Start(t, idSrv)

	idClient := identityv1.NewIdentityServiceClient(pki.Dial(t, "shop", "identity", idAddr))
	keySource := enduser.IdentityKeys(idClient)
	e.revs = enduser.NewRevocations(enduser.NewIdentityRevocations(idClient),
		enduser.WithReconnectBackoff(10*time.Millisecond, 50*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	bg.Go(func() { _ = e.revs.Run(ctx) })
	bg.Go(func() { _ = keySource.Run(ctx) })
	t.Cleanup(func() { cancel(); bg.Wait() })

	verifier, err := accesstoken.NewVerifier(keySource, identityID)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := enduser.NewAuthenticator(verifier, e.revs, policy)
	if err != nil {
		t.Fatal(err)
	}
	allGateway := authz.Policy{}
	for m := range policy {
		allGateway[m] = []string{"gateway", "sotto-cli"}
	}
	srv, err := server.New(context.Background(), "shop", pki.Config(t, "shop"), allGateway, servertest.Logger(),
		server.WithInterceptors(auth.UnaryInterceptor(), auth.StreamInterceptor()))
	if err != nil {
		t.Fatal(err)
	}
	e.shop = &shop{}
	testpb.RegisterTestServiceServer(srv.GRPC(), e.shop)
	var served []string
	for name, info := range srv.GRPC().GetServiceInfo() {
		for _, m := range info.Methods {
			served = append(served, "/"+name+"/"+m.Name)
		}
	}
	if err := auth.CheckMethods(served); err != nil {
		t.Fatal(err)
	}
	addr := servertest.Start(t, srv)
	e.client = testpb.NewTestServiceClient(pki.Dial(t, "gateway", "shop", addr))
	e.cli = testpb.NewTestServiceClient(pki.Dial(t, "sotto-cli", "shop", addr))
	e.waitReady(t)
	return e
}

// waitReady waits for the revocation feed's backlog (an event, not a time).
func (e *env) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.revs.Ready(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatal("revocation feed never became ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func person(kind accesstoken.Kind, sub, sid string, aal int, authAgo time.Duration) accesstoken.Claims {
	c := accesstoken.Claims{
		Subject: sub, Kind: kind, SessionID: sid, AAL: aal, AMR: []string{"pwd"},
		AuthTime: time.Now().Add(-authAgo),
	}
	if kind == accesstoken.KindCustomer {
		c.Tenant = "shop1"
	}
	if aal == 2 {
		c.AMR = append(c.AMR, "otp")
	}
	return c
}

func (e *env) issue(t *testing.T, c accesstoken.Claims, opts ...accesstoken.IssuerOption) string {
	t.Helper()
	iss := e.issuer
	if len(opts) > 0 {
		var err error
		iss, err = accesstoken.NewIssuer(e.km, accesstoken.KeyName, identityID, opts...)
		if err != nil {
			t.Fatal(err)
		}
	}
	tok, err := iss.Issue(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func bearer(tok string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
}

// wantStatus checks code and reason and that the message does not hold the
// token.
func wantStatus(t *testing.T, err error, code codes.Code, reason, tok string) *errdetails.ErrorInfo {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code {
		t.Fatalf("code = %s (%s); want %s %s", st.Code(), st.Message(), code, reason)
	}
	var info *errdetails.ErrorInfo
	for _, d := range st.Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			info = i
		}
	}
	if info == nil || info.GetReason() != reason || info.GetDomain() != "shop.sotto.dev" {
		t.Fatalf("ErrorInfo = %v; want %s in shop.sotto.dev", info, reason)
	}
	if sig := tok[strings.LastIndex(tok, ".")+1:]; tok != "" && (strings.Contains(st.Message(), tok) || sig != "" && strings.Contains(st.Message(), sig)) {
		t.Errorf("message holds the token: %q", st.Message())
	}
	return info
}

func (e *env) unary(ctx context.Context) (string, error) {
	resp, err := e.client.UnaryCall(ctx, &testpb.SimpleRequest{})
	return string(resp.GetPayload().GetBody()), err
}

func (e *env) reveal(ctx context.Context) (string, error) {
	resp, err := e.client.CacheableUnaryCall(ctx, &testpb.SimpleRequest{})
	return string(resp.GetPayload().GetBody()), err
}

// signRaw signs any header and claims with the genuine key.
func signRaw(t *testing.T, km keys.KeyManager, hdr, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(hdr) + "." + enc(claims)
	sig, err := km.Sign(context.Background(), accesstoken.KeyName, []byte(input))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig.Sig)
}

func rawClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss": identityID, "aud": []string{"sotto"}, "sub": "acc_1", "kind": "customer", "tenant": "shop1",
		"sid": "ses_raw", "aal": 2, "amr": []string{"pwd", "otp"}, "auth_time": now.Unix(), "iat": now.Unix(),
		"nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": "raw",
	}
}

func TestRefusedTokensOverSockets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	now := time.Now()
	good := e.issue(t, person(accesstoken.KindCustomer, "acc_1", "ses_1", 2, 0))
	parts := strings.Split(good, ".")

	var claims map[string]any
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(payload, &claims)
	claims["sub"] = "acc_2"
	forged, _ := json.Marshal(claims)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]

	noneHdr, _ := json.Marshal(map[string]string{"alg": "none", "typ": "at+jwt", "kid": "identity-token.v1"})
	algNone := base64.RawURLEncoding.EncodeToString(noneHdr) + "." + parts[1] + "."

	otherKM := newKeyring(t)
	otherIss, err := accesstoken.NewIssuer(otherKM, accesstoken.KeyName, identityID)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, err := otherIss.Issue(context.Background(), person(accesstoken.KindCustomer, "acc_1", "ses_1", 2, 0))
	if err != nil {
		t.Fatal(err)
	}
	evil, err := accesstoken.NewIssuer(e.km, accesstoken.KeyName, "spiffe://evil.example/identity")
	if err != nil {
		t.Fatal(err)
	}
	wrongIssuer, err := evil.Issue(context.Background(), person(accesstoken.KindCustomer, "acc_1", "ses_1", 2, 0))
	if err != nil {
		t.Fatal(err)
	}
	hdr := map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": "identity-token.v1"}
	wrongAud := rawClaims(now)
	wrongAud["aud"] = []string{"elsewhere"}
	unknownKid := map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": "identity-token.v9"}

	expired := e.issue(t, person(accesstoken.KindCustomer, "acc_1", "ses_1", 2, 10*time.Minute),
		accesstoken.WithIssuerClock(clockwork.NewFakeClockAt(now.Add(-6*time.Minute))))
	notYet := e.issue(t, person(accesstoken.KindCustomer, "acc_1", "ses_1", 2, -2*time.Minute),
		accesstoken.WithIssuerClock(clockwork.NewFakeClockAt(now.Add(2*time.Minute))))

	tests := []struct {
		name, token, reason string
	}{
		{"tampered", tampered, accesstoken.ReasonTokenInvalid},
		{"alg none", algNone, accesstoken.ReasonTokenInvalid},
		{"wrong key", wrongKey, accesstoken.ReasonTokenInvalid},
		{"wrong issuer", wrongIssuer, accesstoken.ReasonTokenInvalid},
		{"wrong audience", signRaw(t, e.km, hdr, wrongAud), accesstoken.ReasonTokenInvalid},
		{"unknown kid", signRaw(t, e.km, unknownKid, rawClaims(now)), accesstoken.ReasonTokenInvalid},
		{"expired", expired, accesstoken.ReasonTokenExpired},
		{"not yet valid", notYet, accesstoken.ReasonTokenNotYetValid},
		{"garbage", "abc.def.ghi", accesstoken.ReasonTokenMalformed},
	}
	for _, tt := range tests {
		// Refused where a user is required, and where one is optional: a bad
		// token is never silently dropped.
		for name, call := range map[string]func(context.Context) (string, error){"user": e.reveal, "optional": e.unary} {
			_, err := call(bearer(tt.token))
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				wantStatus(t, err, codes.Unauthenticated, tt.reason, tt.token)
			})
		}
	}
	// The genuine token passes.
	if who, err := e.reveal(bearer(good)); err != nil || who != "customer:acc_1:aal2" {
		t.Fatalf("good token: %q, %v", who, err)
	}
}

func TestAuthorizationHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.issue(t, person(accesstoken.KindCustomer, "acc_1", "ses_1", 1, 0))

	_, err := e.reveal(context.Background())
	wantStatus(t, err, codes.Unauthenticated, accesstoken.ReasonTokenMissing, "")
	if who, err := e.unary(context.Background()); err != nil || who != "nobody" {
		t.Errorf("optional without a token: %q, %v", who, err)
	}
	if _, err := e.client.EmptyCall(bearer("not even a jwt"), &testpb.Empty{}); err != nil {
		t.Errorf("a method that reads no token: %v", err)
	}
	if who, err := e.unary(metadata.AppendToOutgoingContext(context.Background(), "authorization", "bEaReR "+tok)); err != nil || who != "customer:acc_1:aal1" {
		t.Errorf("scheme in another case: %q, %v", who, err)
	}
	for name, md := range map[string][]string{
		"two values": {"authorization", "Bearer " + tok, "authorization", "Bearer " + tok},
		"basic":      {"authorization", "Basic dXNlcjpwYXNz"},
		"no token":   {"authorization", "Bearer "},
		"no scheme":  {"authorization", tok},
		"two tokens": {"authorization", "Bearer " + tok + " " + tok},
	} {
		_, err := e.unary(metadata.AppendToOutgoingContext(context.Background(), md...))
		t.Run(name, func(t *testing.T) { wantStatus(t, err, codes.Unauthenticated, accesstoken.ReasonTokenMalformed, tok) })
	}
}

func TestEndUserOnContextAndInAudit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.issue(t, person(accesstoken.KindCustomer, "acc_42", "ses_42", 2, time.Minute))
	who, err := e.reveal(bearer(tok))
	if err != nil || who != "customer:acc_42:aal2" {
		t.Fatalf("reveal: %q, %v", who, err)
	}
	ev := e.shop.lastEvent()
	if ev.ActorSubject != "acc_42" {
		t.Errorf("audit actor subject = %q; want acc_42", ev.ActorSubject)
	}
	if want := "spiffe://" + servertest.TrustDomain + "/gateway"; ev.CallerWorkload != want {
		t.Errorf("audit caller workload = %q; want %q (the workload and the end user are separate facts)", ev.CallerWorkload, want)
	}
	// A call on the user's behalf carries their token on.
	e.shop.mu.Lock()
	fwd := e.shop.forwarded
	e.shop.mu.Unlock()
	if len(fwd) != 1 || fwd[0] != "Bearer "+tok {
		t.Errorf("Forward sent %d authorization values; want the end user's token", len(fwd))
	}
	// Without an end user the event names none, and nothing is forwarded.
	if _, err := e.unary(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ev := e.shop.lastEvent(); ev.ActorSubject != "" {
		t.Errorf("actor subject without an end user = %q", ev.ActorSubject)
	}
	e.shop.mu.Lock()
	defer e.shop.mu.Unlock()
	if len(e.shop.forwarded) != 0 {
		t.Errorf("Forward without an end user sent %d values", len(e.shop.forwarded))
	}
}

func TestStepUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wantStepUp := func(t *testing.T, err error) {
		t.Helper()
		info := wantStatus(t, err, codes.FailedPrecondition, enduser.ReasonStepUpRequired, "")
		if got := info.GetMetadata(); got[enduser.MetadataRequiredAAL] != "2" || got[enduser.MetadataMaxAgeSeconds] != "300" {
			t.Errorf("step-up metadata = %v; want required_aal 2, max_age_seconds 300", got)
		}
	}
	// aal1: below the level.
	_, err := e.reveal(bearer(e.issue(t, person(accesstoken.KindCustomer, "acc_1", "ses_1", 1, 0))))
	wantStep := wantStepUp
	wantStep(t, err)
	// aal2, but the elevation is 6 minutes old: it has expired.
	_, err = e.reveal(bearer(e.issue(t, person(accesstoken.KindCustomer, "acc_1", "ses_1", 2, 6*time.Minute))))
	wantStep(t, err)
	// aal2 within 5 minutes.
	if who, err := e.reveal(bearer(e.issue(t, person(accesstoken.KindCustomer, "acc_1", "ses_1", 2, 4*time.Minute)))); err != nil || who != "customer:acc_1:aal2" {
		t.Errorf("fresh aal2: %q, %v", who, err)
	}
	// A client cannot step up: forbidden, not STEP_UP_REQUIRED.
	client := accesstoken.Claims{Subject: "cli_1", Kind: accesstoken.KindClient, SessionID: "grant_1", Scope: "audit.read"}
	_, err = e.reveal(bearer(e.issue(t, client)))
	wantStatus(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden, "")
}

func TestKindsRolesAndScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	stream := func(tok string) (string, error) {
		s, err := e.client.StreamingOutputCall(bearer(tok), &testpb.StreamingOutputCallRequest{})
		if err != nil {
			return "", err
		}
		resp, err := s.Recv()
		return string(resp.GetPayload().GetBody()), err
	}
	bidi := func(tok string) (string, error) {
		s, err := e.client.FullDuplexCall(bearer(tok))
		if err != nil {
			return "", err
		}
		resp, err := s.Recv()
		return string(resp.GetPayload().GetBody()), err
	}
	officer := person(accesstoken.KindStaff, "acc_po", "ses_po", 2, 0)
	officer.Roles = []string{accesstoken.RolePrivacyOfficer}
	agent := person(accesstoken.KindStaff, "acc_sa", "ses_sa", 2, 0)
	agent.Roles = []string{accesstoken.RoleSupportAgent}
	if who, err := stream(e.issue(t, officer)); err != nil || who != "staff:acc_po:aal2" {
		t.Errorf("privacy officer: %q, %v", who, err)
	}
	_, err := stream(e.issue(t, agent))
	wantStatus(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden, "")
	_, err = stream(e.issue(t, person(accesstoken.KindCustomer, "acc_1", "ses_1", 2, 0)))
	wantStatus(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden, "")
	_, err = stream("")
	wantStatus(t, err, codes.Unauthenticated, accesstoken.ReasonTokenMalformed, "")

	// Kinds alone: customers only. Staff are refused; a customer passes to
	// the (unimplemented) handler.
	staffOnly := person(accesstoken.KindStaff, "acc_sa", "ses_sa", 2, 0)
	_, err = e.client.UnimplementedCall(bearer(e.issue(t, staffOnly)), &testpb.Empty{})
	wantStatus(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden, "")
	_, err = e.client.UnimplementedCall(bearer(e.issue(t, person(accesstoken.KindCustomer, "acc_1", "ses_1", 1, 0))), &testpb.Empty{})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("customer on a customers-only method: %v; want the handler's Unimplemented", err)
	}

	reader := accesstoken.Claims{Subject: "cli_1", Kind: accesstoken.KindClient, SessionID: "grant_1", Scope: "audit.read conversation.write"}
	writer := accesstoken.Claims{Subject: "cli_2", Kind: accesstoken.KindClient, SessionID: "grant_2", Scope: "conversation.write"}
	if who, err := bidi(e.issue(t, reader)); err != nil || who != "client:cli_1:aal0" {
		t.Errorf("client with the scope: %q, %v", who, err)
	}
	_, err = bidi(e.issue(t, writer))
	wantStatus(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden, "")
}

func TestRevokedSessionRefusedOnceTheFeedSaysSo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.issue(t, person(accesstoken.KindCustomer, "acc_1", "ses_gone", 2, 0))
	other := e.issue(t, person(accesstoken.KindCustomer, "acc_1", "ses_kept", 2, 0))
	if _, err := e.reveal(bearer(tok)); err != nil {
		t.Fatal(err)
	}
	e.identity.revoke("ses_gone", "", time.Now())
	waitRefused(t, func() error { _, err := e.reveal(bearer(tok)); return err }, accesstoken.ReasonTokenRevoked)
	if _, err := e.reveal(bearer(other)); err != nil {
		t.Errorf("another session of the account: %v", err)
	}

	// The feed breaks; the shop reconnects from its cursor and sees what
	// was revoked meanwhile.
	e.identity.breakStreams()
	client := accesstoken.Claims{Subject: "cli_9", Kind: accesstoken.KindClient, SessionID: "grant_9", Scope: "audit.read"}
	clientTok := e.issue(t, client)
	e.identity.revoke("", "cli_9", time.Now())
	waitRefused(t, func() error {
		s, err := e.client.FullDuplexCall(bearer(clientTok))
		if err == nil {
			_, err = s.Recv()
		}
		return err
	}, accesstoken.ReasonTokenRevoked)
	if _, err := e.reveal(bearer(tok)); status.Code(err) != codes.Unauthenticated {
		t.Errorf("revoked session after the reconnect: %v", err)
	}
	cursors := e.identity.cursorsSeen()
	if len(cursors) < 2 || cursors[0] != "" || cursors[len(cursors)-1] == "" {
		t.Errorf("WatchRevocations cursors = %q; want a resume from a cursor after the first", cursors)
	}

	// The feed trimmed past the shop's cursor: the shop starts over from the
	// backlog and still learns of what was revoked meanwhile.
	e.identity.mu.Lock()
	e.identity.expired = true
	e.identity.mu.Unlock()
	e.identity.breakStreams()
	third := e.issue(t, person(accesstoken.KindCustomer, "acc_3", "ses_third", 2, 0))
	e.identity.revoke("ses_third", "", time.Now())
	waitRefused(t, func() error { _, err := e.reveal(bearer(third)); return err }, accesstoken.ReasonTokenRevoked)
	cursors = e.identity.cursorsSeen()
	if cursors[len(cursors)-1] != "" {
		t.Errorf("after an expired cursor, resumed from %q; want the backlog", cursors[len(cursors)-1])
	}
}

// waitRefused calls until the refusal arrives: the revocation travels
// through identity's stream (an event, with a generous deadline, not a
// timing assertion).
func waitRefused(t *testing.T, call func() error, reason string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := call()
		if err != nil {
			wantStatus(t, err, codes.Unauthenticated, reason, "")
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("revocation never reached the shop")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRuleByCallingWorkload: one method, two callers. The operator's CLI
// reads without a person behind it; the gateway only for a privacy officer
// at aal2. Which rule applies follows the mTLS peer, never the token.
func TestRuleByCallingWorkload(t *testing.T) {
	t.Parallel()
	policy := enduser.Policy{}
	for m, r := range shopPolicy {
		policy[m] = r
	}
	policy[testpb.TestService_UnaryCall_FullMethodName] = enduser.Rule{Require: enduser.None, Workloads: map[string]enduser.Rule{
		"gateway": {Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindStaff}, Roles: []string{accesstoken.RolePrivacyOfficer}, AAL: 2},
	}}
	policy[testpb.TestService_CacheableUnaryCall_FullMethodName] = enduser.Rule{Require: enduser.Optional, Workloads: map[string]enduser.Rule{
		"gateway": {Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindCustomer}},
	}}
	e := newEnvWith(t, policy)
	officer := person(accesstoken.KindStaff, "acc_po", "ses_po", 2, 0)
	officer.Roles = []string{accesstoken.RolePrivacyOfficer}
	officerTok := e.issue(t, officer)
	officer.AAL, officer.AMR = 1, []string{"pwd"}
	officerAAL1 := e.issue(t, officer)
	customer := e.issue(t, person(accesstoken.KindCustomer, "acc_1", "ses_1", 1, 0))

	call := func(c testpb.TestServiceClient, ctx context.Context) (string, error) {
		resp, err := c.UnaryCall(ctx, &testpb.SimpleRequest{})
		return string(resp.GetPayload().GetBody()), err
	}
	// The CLI: no person needed, and a token it sends is not read.
	if who, err := call(e.cli, context.Background()); err != nil || who != "nobody" {
		t.Errorf("sotto-cli without a token: %q, %v", who, err)
	}
	if who, err := call(e.cli, bearer(customer)); err != nil || who != "nobody" {
		t.Errorf("sotto-cli with a token on a None rule: %q, %v", who, err)
	}
	// The gateway: the privacy officer at aal2, nobody else.
	_, err := call(e.client, context.Background())
	wantStatus(t, err, codes.Unauthenticated, accesstoken.ReasonTokenMissing, "")
	_, err = call(e.client, bearer(customer))
	wantStatus(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden, customer)
	_, err = call(e.client, bearer(officerAAL1))
	wantStatus(t, err, codes.FailedPrecondition, enduser.ReasonStepUpRequired, officerAAL1)
	if who, err := call(e.client, bearer(officerTok)); err != nil || who != "staff:acc_po:aal2" {
		t.Errorf("gateway for the privacy officer: %q, %v", who, err)
	}

	// Optional for the CLI: a token is verified and its end user kept; the
	// gateway's rule (customers) is not the CLI's.
	if who, err := e.cli.CacheableUnaryCall(bearer(officerTok), &testpb.SimpleRequest{}); err != nil || string(who.GetPayload().GetBody()) != "staff:acc_po:aal2" {
		t.Errorf("sotto-cli with a staff token on an Optional rule: %v, %v", who, err)
	}
	_, err = e.cli.CacheableUnaryCall(bearer("abc.def.ghi"), &testpb.SimpleRequest{})
	wantStatus(t, err, codes.Unauthenticated, accesstoken.ReasonTokenMalformed, "")
	_, err = e.client.CacheableUnaryCall(bearer(officerTok), &testpb.SimpleRequest{})
	wantStatus(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden, officerTok)
}

// TestAnyOf: one method, two kinds of people asked different things (an
// administrator at aal2, an integrator with a scope); anyone else is
// refused, and a person one step-up away is asked for it.
func TestAnyOf(t *testing.T) {
	t.Parallel()
	policy := enduser.Policy{}
	for m, r := range shopPolicy {
		policy[m] = r
	}
	policy[testpb.TestService_UnaryCall_FullMethodName] = enduser.Rule{Require: enduser.None, Workloads: map[string]enduser.Rule{
		"gateway": {Require: enduser.User, AnyOf: []enduser.Rule{
			{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindStaff}, Roles: []string{accesstoken.RoleAdmin}, AAL: 2, MaxAge: 15 * time.Minute},
			{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindClient}, Scopes: []string{"vault.store"}},
		}},
	}}
	e := newEnvWith(t, policy)
	staff := func(aal int, ago time.Duration, roles ...string) string {
		c := person(accesstoken.KindStaff, "acc_s", "ses_s", aal, ago)
		c.Roles = roles
		return e.issue(t, c)
	}
	client := func(scope string) string {
		return e.issue(t, accesstoken.Claims{Subject: "cli_1", Kind: accesstoken.KindClient, SessionID: "grant_1", Scope: scope})
	}
	call := func(tok string) (string, error) {
		resp, err := e.client.UnaryCall(bearer(tok), &testpb.SimpleRequest{})
		return string(resp.GetPayload().GetBody()), err
	}
	for name, tok := range map[string]string{"admin at aal2": staff(2, time.Minute, accesstoken.RoleAdmin), "integrator with the scope": client("vault.store other.scope")} {
		if _, err := call(tok); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, tok := range map[string]string{
		"support agent":                staff(2, 0, accesstoken.RoleSupportAgent),
		"integrator without the scope": client("other.scope"),
		"customer":                     e.issue(t, person(accesstoken.KindCustomer, "acc_1", "ses_1", 2, 0)),
	} {
		_, err := call(tok)
		t.Run(name, func(t *testing.T) { wantStatus(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden, tok) })
	}
	for name, tok := range map[string]string{"admin at aal1": staff(1, 0, accesstoken.RoleAdmin), "admin, aal2 an hour ago": staff(2, time.Hour, accesstoken.RoleAdmin)} {
		_, err := call(tok)
		t.Run(name, func(t *testing.T) {
			info := wantStatus(t, err, codes.FailedPrecondition, enduser.ReasonStepUpRequired, tok)
			if md := info.GetMetadata(); md[enduser.MetadataRequiredAAL] != "2" || md[enduser.MetadataMaxAgeSeconds] != "900" {
				t.Errorf("step-up metadata %v", md)
			}
		})
	}
	// The CLI still needs nobody.
	if who, err := e.cli.UnaryCall(context.Background(), &testpb.SimpleRequest{}); err != nil || string(who.GetPayload().GetBody()) != "nobody" {
		t.Errorf("sotto-cli: %v, %v", who, err)
	}
}
