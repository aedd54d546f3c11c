package server_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/audit/internal/ledger"
	auditserver "github.com/sottohq/sotto/services/audit/internal/server"
	"github.com/sottohq/sotto/services/audit/internal/storage"
	"github.com/sottohq/sotto/services/audit/migrations"
)

// auditEnv is the real audit service (SQLite, local keyring) on a loopback
// mTLS socket, with the real interceptors and end-user authentication by
// tokens of a local identity key (see people).
type auditEnv struct {
	pki    *servertest.PKI
	addr   string
	people *people
	clock  *testClock // the privacy participant's
}

// startAudit runs the service with the default append limits.
func startAudit(t testing.TB) *auditEnv {
	t.Helper()
	return startAuditLimited(t, auditserver.DefaultAppendLimit)
}

// client connects as the workload name, sending tok (if any) as the
// gateway forwards a person's access token.
func (a *auditEnv) client(t testing.TB, name, tok string) auditv1.AuditServiceClient {
	t.Helper()
	return auditv1.NewAuditServiceClient(a.conn(t, name, tok))
}

// conn is client's connection.
func (a *auditEnv) conn(t testing.TB, name, tok string) *grpc.ClientConn {
	t.Helper()
	var opts []grpc.DialOption
	if tok != "" {
		opts = append(opts, grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			return invoker(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok), method, req, reply, cc, opts...)
		}))
	}
	conn, err := dial.Service(a.addr, a.pki.Source(t, name), "audit", nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// officer reads through the gateway as a privacy officer at aal2, the
// person the gateway's operator routes are for.
func (a *auditEnv) officer(t testing.TB) auditv1.AuditServiceClient {
	t.Helper()
	return a.client(t, "gateway", a.people.token(t, person(accesstoken.KindStaff, "acc_officer", 2, 0, accesstoken.RolePrivacyOfficer)))
}

func startAuditLimited(t testing.TB, limit auditserver.AppendLimit) *auditEnv {
	t.Helper()
	return startAuditOn(t, storetest.SQLite(t, migrations.FS), limit)
}

// startAuditOn runs the service over db (SQLite or PostgreSQL).
func startAuditOn(t testing.TB, db *store.DB, limit auditserver.AppendLimit) *auditEnv {
	t.Helper()
	ctx := context.Background()
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	km.EnsureKey(ctx, "audit-checkpoint", keys.TypeEd25519)
	km.EnsureKey(ctx, "audit-subject", keys.TypeAES256GCM)
	st := storage.New(db)
	hasher, err := ledger.NewSubjectHasher(ctx, km, "audit-subject", st)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ledger.NewCheckpointSigner(ctx, km, "audit-checkpoint", "sotto.test/audit")
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.New(st, hasher, signer, slog.New(slog.NewTextHandler(io.Discard, nil)), ledger.Options{CheckpointInterval: 50 * time.Millisecond})
	if err := l.Init(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { l.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	pki := servertest.NewPKI(t)
	ppl := newPeople(t, auditserver.EndUsers)
	srv := ppl.server(t, pki, "audit", auditserver.Policy)
	pages := pageTokens(t, hasher)
	auditv1.RegisterAuditServiceServer(srv.GRPC(), auditserver.New(l, pages, limit))
	eventKey, err := hasher.PrivacyEventKey()
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	privacyv1.RegisterPrivacyParticipantServiceServer(srv.GRPC(),
		auditserver.NewPrivacy(l, pages, eventKey, "spiffe://"+servertest.TrustDomain+"/audit", clock.Now))
	ppl.checkMethods(t, srv)
	return &auditEnv{pki: pki, addr: servertest.Start(t, srv), people: ppl, clock: clock}
}

// pageTokens is the page token codec main builds, from the hasher's key.
func pageTokens(t testing.TB, hasher *ledger.SubjectHasher) *pagetoken.Codec {
	t.Helper()
	key, err := hasher.PageTokenKey()
	if err != nil {
		t.Fatal(err)
	}
	pages, err := pagetoken.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

func validEvent() *auditv1.EventInput {
	return &auditv1.EventInput{
		EventId:   uuid.NewString(),
		OccurTime: timestamppb.Now(),
		Subject:   "cus_123",
		Action:    "tokenvault.detokenize",
		Outcome:   auditv1.Outcome_OUTCOME_SUCCESS,
	}
}

func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.Reason
		}
	}
	return ""
}

func TestAppendRecordsCallerWorkload(t *testing.T) {
	env := startAudit(t)
	pki, addr := env.pki, env.addr
	ctx := context.Background()
	tv := auditv1.NewAuditServiceClient(pki.Dial(t, "tokenvault", "audit", addr))
	ev := validEvent()
	resp, err := tv.AppendEvents(ctx, &auditv1.AppendEventsRequest{Events: []*auditv1.EventInput{ev}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 1 || resp.Results[0].EventId != ev.EventId {
		t.Fatalf("results = %v", resp.Results)
	}
	gw := env.officer(t)
	got, err := gw.GetEvent(ctx, &auditv1.GetEventRequest{EventId: ev.EventId})
	if err != nil {
		t.Fatal(err)
	}
	if got.Event.ActorWorkload != "spiffe://sotto.test/tokenvault" {
		t.Fatalf("actor_workload = %q; it must come from the mTLS peer", got.Event.ActorWorkload)
	}
	if got.Event.SubjectHash == "" || strings.Contains(got.Event.SubjectHash, "cus_123") {
		t.Fatalf("subject_hash = %q", got.Event.SubjectHash)
	}
}

func TestReadsAreDeniedToOtherWorkloads(t *testing.T) {
	env := startAudit(t)
	pki, addr := env.pki, env.addr
	tv := auditv1.NewAuditServiceClient(pki.Dial(t, "tokenvault", "audit", addr))
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"ListEvents": func() error { _, err := tv.ListEvents(ctx, &auditv1.ListEventsRequest{}); return err },
		"GetEvent": func() error {
			_, err := tv.GetEvent(ctx, &auditv1.GetEventRequest{EventId: "0193a5b0-0000-7000-8000-000000000000"})
			return err
		},
		"ListEntries":     func() error { _, err := tv.ListEntries(ctx, &auditv1.ListEntriesRequest{}); return err },
		"ListCheckpoints": func() error { _, err := tv.ListCheckpoints(ctx, &auditv1.ListCheckpointsRequest{}); return err },
	} {
		if err := call(); status.Code(err) != codes.PermissionDenied {
			t.Errorf("tokenvault %s: %v, want PermissionDenied", name, err)
		}
	}
}

func TestBadInputIsInvalidArgumentAndLosesNothing(t *testing.T) {
	env := startAudit(t)
	pki, addr := env.pki, env.addr
	ctx := context.Background()
	conn := pki.Dial(t, "tokenvault", "audit", addr)
	client := auditv1.NewAuditServiceClient(conn)
	kept := validEvent()
	if _, err := client.AppendEvents(ctx, &auditv1.AppendEventsRequest{Events: []*auditv1.EventInput{kept}}); err != nil {
		t.Fatal(err)
	}

	mutate := func(f func(e *auditv1.EventInput)) *auditv1.AppendEventsRequest {
		e := validEvent()
		f(e)
		return &auditv1.AppendEventsRequest{Events: []*auditv1.EventInput{e}}
	}
	tooMany := &auditv1.AppendEventsRequest{}
	for i := 0; i < 1001; i++ {
		tooMany.Events = append(tooMany.Events, validEvent())
	}
	tests := []struct {
		name string
		req  *auditv1.AppendEventsRequest
	}{
		{"empty batch", &auditv1.AppendEventsRequest{}},
		{"batch over 1000", tooMany},
		{"event id not a uuid", mutate(func(e *auditv1.EventInput) { e.EventId = "42" })},
		{"no occur time", mutate(func(e *auditv1.EventInput) { e.OccurTime = nil })},
		{"free-text action", mutate(func(e *auditv1.EventInput) { e.Action = "looked up Jane Doe's card" })},
		{"email as resource id", mutate(func(e *auditv1.EventInput) { e.ResourceId = "jane@example.com" })},
		{"outcome unspecified", mutate(func(e *auditv1.EventInput) { e.Outcome = 0 })},
		{"undefined outcome", mutate(func(e *auditv1.EventInput) { e.Outcome = 42 })},
		{"subject with spaces", mutate(func(e *auditv1.EventInput) { e.Subject = "Jane Doe" })},
		{"bad trace id", mutate(func(e *auditv1.EventInput) { e.TraceId = "xyz" })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.AppendEvents(ctx, tc.req)
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("got %v, want InvalidArgument", err)
			}
			if msg := status.Convert(err).Message(); strings.Contains(msg, "Jane") || strings.Contains(msg, "jane@") {
				t.Fatalf("error message echoes the input: %q", msg)
			}
		})
	}

	// Raw wire-level abuse: invalid UTF-8 and unknown fields.
	valid, err := proto.Marshal(&auditv1.AppendEventsRequest{Events: []*auditv1.EventInput{validEvent()}})
	if err != nil {
		t.Fatal(err)
	}
	badUTF8 := protowire.AppendTag(nil, 1, protowire.BytesType)
	inner := protowire.AppendTag(nil, 5, protowire.BytesType)
	inner = protowire.AppendBytes(inner, []byte("tokenvault.\xff\xfe"))
	badUTF8 = protowire.AppendBytes(badUTF8, inner)
	unknown := protowire.AppendTag(append([]byte(nil), valid...), 99, protowire.VarintType)
	unknown = protowire.AppendVarint(unknown, 7)
	raws := []struct {
		name, reason string
		body         []byte
	}{
		{"invalid utf-8", "MALFORMED_REQUEST", badUTF8},
		{"unknown field", "UNKNOWN_FIELD", unknown},
		{"garbage", "MALFORMED_REQUEST", []byte{0xff, 0xff, 0xff, 0xff}},
	}
	for _, tc := range raws {
		t.Run(tc.name, func(t *testing.T) {
			var out []byte
			err := conn.Invoke(ctx, auditv1.AuditService_AppendEvents_FullMethodName, &tc.body, &out, grpc.ForceCodecV2(rawCodec{}))
			if status.Code(err) != codes.InvalidArgument || reasonOf(err) != tc.reason {
				t.Fatalf("got %v (reason %q), want InvalidArgument %s", err, reasonOf(err), tc.reason)
			}
		})
	}
	t.Run("oversized message", func(t *testing.T) {
		big := make([]byte, 2<<20)
		err := conn.Invoke(ctx, auditv1.AuditService_AppendEvents_FullMethodName, &big, new([]byte), grpc.ForceCodecV2(rawCodec{}))
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("got %v, want ResourceExhausted", err)
		}
	})

	// The service still works and the earlier event is intact.
	gw := env.officer(t)
	got, err := gw.GetEvent(ctx, &auditv1.GetEventRequest{EventId: kept.EventId})
	if err != nil || got.Event.LeafIndex != 0 {
		t.Fatalf("stored event after bad input: %v, %v", got, err)
	}
	list, err := gw.ListEvents(ctx, &auditv1.ListEventsRequest{})
	if err != nil || len(list.Events) != 1 {
		t.Fatalf("list after bad input: %d events, %v", len(list.GetEvents()), err)
	}
}

func TestPagination(t *testing.T) {
	env := startAudit(t)
	pki, addr := env.pki, env.addr
	ctx := context.Background()
	tv := auditv1.NewAuditServiceClient(pki.Dial(t, "tokenvault", "audit", addr))
	req := &auditv1.AppendEventsRequest{}
	for i := 0; i < 25; i++ {
		req.Events = append(req.Events, validEvent())
	}
	if _, err := tv.AppendEvents(ctx, req); err != nil {
		t.Fatal(err)
	}
	gw := env.officer(t)
	var got []string
	token := ""
	for pages := 0; ; pages++ {
		resp, err := gw.ListEvents(ctx, &auditv1.ListEventsRequest{PageSize: 10, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range resp.Events {
			got = append(got, e.EventId)
		}
		if token = resp.NextPageToken; token == "" {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if len(got) != 25 {
		t.Fatalf("got %d events over pages, want 25", len(got))
	}
	for i, e := range req.Events {
		if got[i] != e.EventId {
			t.Fatalf("event %d out of order", i)
		}
	}
	_, err := gw.ListEvents(ctx, &auditv1.ListEventsRequest{PageToken: "not-a-token"})
	if status.Code(err) != codes.InvalidArgument || reasonOf(err) != "INVALID_PAGE_TOKEN" {
		t.Fatalf("bad page token: %v", err)
	}
}

// rawCodec sends pre-encoded bytes, to put malformed messages on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}
func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}
func (rawCodec) Name() string { return "proto" }

var _ encoding.CodecV2 = rawCodec{}
