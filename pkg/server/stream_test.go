package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
)

// Canaries: text that must reach neither a client nor a log.
const (
	sqlCanary   = "SELECT ssn FROM subjects WHERE email = 'jane.canary@example.com'"
	piiCanary   = "jane.canary@example.com"
	replyCanary = "reply-canary-4111111111111111"
)

// The stream test service is registered by hand: it receives
// sotto.audit.v1.GetEventRequest, whose event_id must be a UUID
// (protovalidate), so validation has a rule to enforce.
const (
	echoMethod  = "/sotto.streamtest.v1.StreamTestService/Echo"
	failMethod  = "/sotto.streamtest.v1.StreamTestService/Fail"
	panicMethod = "/sotto.streamtest.v1.StreamTestService/Panic"
	// Careless uses what RecvMsg filled in even when RecvMsg refused it.
	carelessMethod = "/sotto.streamtest.v1.StreamTestService/Careless"
)

// failures says what Fail returns, by the event_id of the message it receives.
var failures = map[string]error{
	"00000000-0000-4000-8000-000000000001": errors.New("pq: duplicate key value violates unique constraint: " + sqlCanary),
	"00000000-0000-4000-8000-000000000002": fmt.Errorf("feed of %s: %w", piiCanary,
		errs.Wrap(errors.New("pq: "+sqlCanary), errs.Internal, "STORE_ERROR", "cannot read the feed")),
	"00000000-0000-4000-8000-000000000003": fmt.Errorf("subject %s: %w", piiCanary,
		errs.E(errs.NotFound, "SUBJECT_NOT_FOUND", "subject not found")),
}

type streamService struct {
	mu   sync.Mutex
	seen []string // event IDs of the messages Echo and Careless received
}

func (s *streamService) echo(stream grpc.ServerStream) error {
	for {
		var req auditv1.GetEventRequest
		if err := stream.RecvMsg(&req); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		s.record(req.GetEventId())
		if err := stream.SendMsg(&auditv1.GetEventResponse{Event: &auditv1.Event{EventId: req.GetEventId(), ActorSubjectHash: replyCanary}}); err != nil {
			return err
		}
	}
}

func (s *streamService) record(eventID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, eventID)
}

func (s *streamService) careless(stream grpc.ServerStream) error {
	var req auditv1.GetEventRequest
	err := stream.RecvMsg(&req)
	s.record(req.GetEventId())
	return err
}

func (s *streamService) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

func (s *streamService) fail(stream grpc.ServerStream) error {
	var req auditv1.GetEventRequest
	if err := stream.RecvMsg(&req); err != nil {
		return err
	}
	return failures[req.GetEventId()]
}

func (s *streamService) panicking(stream grpc.ServerStream) error {
	var req auditv1.GetEventRequest
	if err := stream.RecvMsg(&req); err != nil {
		return err
	}
	panic("boom: " + piiCanary)
}

var streamDesc = grpc.ServiceDesc{
	ServiceName: "sotto.streamtest.v1.StreamTestService",
	HandlerType: (*any)(nil),
	Streams: []grpc.StreamDesc{
		{StreamName: "Echo", ServerStreams: true, ClientStreams: true,
			Handler: func(srv any, ss grpc.ServerStream) error { return srv.(*streamService).echo(ss) }},
		{StreamName: "Fail", ServerStreams: true, ClientStreams: true,
			Handler: func(srv any, ss grpc.ServerStream) error { return srv.(*streamService).fail(ss) }},
		{StreamName: "Panic", ServerStreams: true, ClientStreams: true,
			Handler: func(srv any, ss grpc.ServerStream) error { return srv.(*streamService).panicking(ss) }},
		{StreamName: "Careless", ServerStreams: true, ClientStreams: true,
			Handler: func(srv any, ss grpc.ServerStream) error { return srv.(*streamService).careless(ss) }},
	},
}

// logBuffer is the server's log output; the server writes from its handler
// goroutines while the test reads.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records returns the log records with message msg about method.
func (b *logBuffer) records(t *testing.T, msg, method string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		if m["msg"] == msg && m["method"] == method {
			out = append(out, m)
		}
	}
	return out
}

// noCanaries fails the test if the log output holds message contents or
// error causes.
func (b *logBuffer) noCanaries(t *testing.T, extra ...string) {
	t.Helper()
	logs := b.String()
	for _, c := range append([]string{"jane", "SELECT", "pq:", "boom", replyCanary}, extra...) {
		if strings.Contains(logs, c) {
			t.Errorf("log output holds %q:\n%s", c, logs)
		}
	}
}

// startStreamServer runs a production server (server.New, mTLS on loopback)
// with the stream test service, and connects to it as the workload "client".
func startStreamServer(t *testing.T) (*grpc.ClientConn, *streamService, *logBuffer) {
	t.Helper()
	pki := servertest.NewPKI(t)
	logs := &logBuffer{}
	pol := authz.Policy{echoMethod: {"client"}, failMethod: {"client"}, panicMethod: {"client"}, carelessMethod: {"client"}}
	srv, err := server.New(context.Background(), "svc", pki.Config(t, "svc"), pol, logging.New(logs, "svc", slog.LevelInfo))
	if err != nil {
		t.Fatal(err)
	}
	svc := &streamService{}
	srv.GRPC().RegisterService(&streamDesc, svc)
	addr := servertest.Start(t, srv)
	return pki.Dial(t, "client", "svc", addr), svc, logs
}

// runStream sends msgs on a new stream of method, closes its sending side and
// reads replies until the server ends the stream. err is the stream's status
// (nil for OK).
func runStream(ctx context.Context, t *testing.T, conn *grpc.ClientConn, method string, msgs ...proto.Message) (replies []*auditv1.GetEventResponse, err error) {
	t.Helper()
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if err := stream.SendMsg(m); errors.Is(err, io.EOF) {
			break // the server ended the stream; its status comes from RecvMsg
		} else if err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatalf("close send: %v", err)
	}
	for {
		resp := new(auditv1.GetEventResponse)
		if err := stream.RecvMsg(resp); errors.Is(err, io.EOF) {
			return replies, nil
		} else if err != nil {
			return replies, err
		}
		replies = append(replies, resp)
	}
}

func reasonOf(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.Reason
		}
	}
	return ""
}

func withUnknownField(m proto.Message, value string) proto.Message {
	m = proto.Clone(m)
	raw := protowire.AppendTag(nil, 999, protowire.BytesType)
	raw = protowire.AppendString(raw, value)
	m.ProtoReflect().SetUnknown(raw)
	return m
}

// TestStreamErrorsAreMappedWithoutLeaks: a stream handler's error reaches the
// client as errs.ToStatus maps it. Neither the status message nor its details
// carry the cause or what a caller wrapped around it (without errorsStream,
// grpc-go sends err.Error()); internal causes are logged by type only.
func TestStreamErrorsAreMappedWithoutLeaks(t *testing.T) {
	t.Parallel()
	conn, _, logs := startStreamServer(t)
	tests := []struct {
		name, eventID string
		code          codes.Code
		msg, reason   string
		errorType     string // of the "internal error" log record; "" for none
	}{
		{"raw driver error", "00000000-0000-4000-8000-000000000001", codes.Internal, "internal error", "", "*errors.errorString"},
		{"typed internal wrapped in PII", "00000000-0000-4000-8000-000000000002", codes.Internal, "cannot read the feed", "STORE_ERROR", "*errors.errorString"},
		{"typed not found wrapped in PII", "00000000-0000-4000-8000-000000000003", codes.NotFound, "subject not found", "SUBJECT_NOT_FOUND", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runStream(context.Background(), t, conn, failMethod, &auditv1.GetEventRequest{EventId: tc.eventID})
			st := status.Convert(err)
			if st.Code() != tc.code || st.Message() != tc.msg || reasonOf(st) != tc.reason {
				t.Fatalf("status %v %q reason %q, want %v %q reason %q", st.Code(), st.Message(), reasonOf(st), tc.code, tc.msg, tc.reason)
			}
			if wire := fmt.Sprint(st.Proto()); strings.Contains(wire, "jane") || strings.Contains(wire, "SELECT") || strings.Contains(wire, "pq:") {
				t.Fatalf("the client's status holds the cause: %s", wire)
			}
		})
	}

	rpcs := logs.records(t, "rpc", failMethod)
	var lines []string
	for _, r := range rpcs {
		lines = append(lines, fmt.Sprint(r["code"], "/", r["reason"]))
	}
	if diff := cmp.Diff([]string{"Internal/<nil>", "Internal/STORE_ERROR", "NotFound/SUBJECT_NOT_FOUND"}, lines); diff != "" {
		t.Errorf("rpc log lines (code/reason) (-want +got):\n%s\n%s", diff, logs)
	}
	var types []string
	for _, r := range logs.records(t, "internal error", failMethod) {
		types = append(types, fmt.Sprint(r["error_type"]))
	}
	if diff := cmp.Diff([]string{"*errors.errorString", "*errors.errorString"}, types); diff != "" {
		t.Errorf("internal error log lines (error_type) (-want +got):\n%s\n%s", diff, logs)
	}
	logs.noCanaries(t)
}

// TestStreamMessagesAreValidated: every message a stream receives, not only
// the first, is checked for unknown fields and protovalidate rules; a refused
// message ends the stream with InvalidArgument and never reaches the handler.
func TestStreamMessagesAreValidated(t *testing.T) {
	t.Parallel()
	conn, svc, logs := startStreamServer(t)
	first := &auditv1.GetEventRequest{EventId: "11111111-1111-4111-8111-111111111111"}
	tests := []struct {
		name   string
		bad    proto.Message
		reason string
	}{
		{"breaks a rule", &auditv1.GetEventRequest{EventId: piiCanary}, "INVALID_ARGUMENT"},
		{"unknown field", withUnknownField(&auditv1.GetEventRequest{EventId: "22222222-2222-4222-8222-222222222222"}, piiCanary), "UNKNOWN_FIELD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(svc.received())
			replies, err := runStream(context.Background(), t, conn, echoMethod, first, tc.bad, first)
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument || reasonOf(st) != tc.reason {
				t.Fatalf("stream with a bad second message: %v (reason %q), want InvalidArgument %s", err, reasonOf(st), tc.reason)
			}
			if strings.Contains(st.Message(), "jane") {
				t.Errorf("refusal quotes the value: %q", st.Message())
			}
			if got := svc.received()[before:]; !slices.Equal(got, []string{first.EventId}) || len(replies) != 1 {
				t.Fatalf("handler received %q and replied %d times, want only the first message", got, len(replies))
			}
		})
	}

	// A handler that uses the message despite the refusal finds it empty.
	_, err := runStream(context.Background(), t, conn, carelessMethod, &auditv1.GetEventRequest{EventId: piiCanary})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("careless handler's stream: %v, want InvalidArgument", err)
	}
	if got := svc.received(); got[len(got)-1] != "" {
		t.Fatalf("a refused message reached a handler that ignored the refusal: %q", got[len(got)-1])
	}

	var lines []string
	for _, r := range logs.records(t, "rpc", echoMethod) {
		lines = append(lines, fmt.Sprint(r["code"], "/", r["reason"]))
	}
	if diff := cmp.Diff([]string{"InvalidArgument/INVALID_ARGUMENT", "InvalidArgument/UNKNOWN_FIELD"}, lines); diff != "" {
		t.Errorf("rpc log lines (-want +got):\n%s", diff)
	}
	logs.noCanaries(t)
}

// TestStreamPanicIsInternal: a panicking stream handler ends its stream with
// Internal; the process, and the next stream, carry on.
func TestStreamPanicIsInternal(t *testing.T) {
	t.Parallel()
	conn, _, logs := startStreamServer(t)
	_, err := runStream(context.Background(), t, conn, panicMethod, &auditv1.GetEventRequest{EventId: "33333333-3333-4333-8333-333333333333"})
	if st := status.Convert(err); st.Code() != codes.Internal || st.Message() != "internal error" {
		t.Fatalf("panicking stream: %v, want Internal \"internal error\"", err)
	}
	replies, err := runStream(context.Background(), t, conn, echoMethod, &auditv1.GetEventRequest{EventId: "44444444-4444-4444-8444-444444444444"})
	if err != nil || len(replies) != 1 {
		t.Fatalf("stream after the panic: %d replies, %v", len(replies), err)
	}
	if n := len(logs.records(t, "panic in handler", panicMethod)); n != 1 {
		t.Errorf("%d panic log records, want 1:\n%s", n, logs)
	}
	if rpcs := logs.records(t, "rpc", panicMethod); len(rpcs) != 1 || rpcs[0]["code"] != "Internal" {
		t.Errorf("rpc log lines for the panic: %v", rpcs)
	}
	logs.noCanaries(t)
}

// TestStreamLogLine: a stream gets one log line, written when it ends, with
// the fields logUnary writes and the message counts, and nothing of the
// messages themselves.
func TestStreamLogLine(t *testing.T) {
	t.Parallel()
	conn, _, logs := startStreamServer(t)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	ctx := metadata.AppendToOutgoingContext(context.Background(), "traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	ids := []string{"55555555-5555-4555-8555-555555555555", "66666666-6666-4666-8666-666666666666"}
	replies, err := runStream(ctx, t, conn, echoMethod,
		&auditv1.GetEventRequest{EventId: ids[0]}, &auditv1.GetEventRequest{EventId: ids[1]})
	if err != nil || len(replies) != 2 || replies[1].GetEvent().GetActorSubjectHash() != replyCanary {
		t.Fatalf("echo: %v replies, %v", replies, err)
	}
	rpcs := logs.records(t, "rpc", echoMethod)
	if len(rpcs) != 1 {
		t.Fatalf("%d rpc log lines for one stream, want 1:\n%s", len(rpcs), logs)
	}
	got := rpcs[0]
	if _, ok := got["duration_ms"].(float64); !ok {
		t.Errorf("duration_ms missing or not a number: %v", got)
	}
	delete(got, "duration_ms")
	delete(got, "time")
	want := map[string]any{
		"level":    "INFO",
		"msg":      "rpc",
		"service":  "svc",
		"method":   echoMethod,
		"code":     "OK",
		"peer":     "spiffe://sotto.test/client",
		"trace_id": traceID,
		"received": map[string]any{"count": 2.0},
		"sent":     map[string]any{"count": 2.0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stream log line (-want +got):\n%s", diff)
	}
	logs.noCanaries(t, ids...)
}
