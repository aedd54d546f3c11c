package events_test

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/store/storetest"
)

// The feed test service is registered by hand, as a service's Watch RPC
// would be: it receives {"cursor": ...} and streams {"cursor", "topic",
// "key", "payload" (base64)} or a heartbeat {"cursor"}.
const watchMethod = "/sotto.eventstest.v1.FeedTestService/Watch"

type watchService struct{ o *events.Outbox }

func (s watchService) watch(ss grpc.ServerStream) error {
	var req structpb.Struct
	if err := ss.RecvMsg(&req); err != nil {
		return err
	}
	sub := events.Subscription{Topics: []string{"identity.session.revoked"}, Cursor: req.GetFields()["cursor"].GetStringValue()}
	return s.o.Feed(ss.Context(), sub, func(c events.Change) error {
		m := map[string]any{"cursor": c.Cursor}
		if c.Event != nil {
			m["topic"], m["key"] = c.Event.Topic, c.Event.Key
			m["payload"] = base64.StdEncoding.EncodeToString(c.Event.Payload)
		}
		resp, err := structpb.NewStruct(m)
		if err != nil {
			return err
		}
		return ss.SendMsg(resp)
	})
}

var watchDesc = grpc.ServiceDesc{
	ServiceName: "sotto.eventstest.v1.FeedTestService",
	HandlerType: (*any)(nil),
	Streams: []grpc.StreamDesc{{
		StreamName: "Watch", ServerStreams: true,
		Handler: func(srv any, ss grpc.ServerStream) error { return srv.(watchService).watch(ss) },
	}},
}

// watchClient is one Watch call.
type watchClient struct {
	stream grpc.ClientStream
	cancel context.CancelFunc
}

func watch(t *testing.T, conn *grpc.ClientConn, cursor string) *watchClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, watchMethod)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	req, _ := structpb.NewStruct(map[string]any{"cursor": cursor})
	if err := stream.SendMsg(req); err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := stream.CloseSend(); err != nil {
		cancel()
		t.Fatal(err)
	}
	w := &watchClient{stream: stream, cancel: cancel}
	t.Cleanup(cancel)
	return w
}

// recv returns the next message, or the stream's error.
func (w *watchClient) recv() (cursor, key, payload string, err error) {
	var resp structpb.Struct
	if err := w.stream.RecvMsg(&resp); err != nil {
		return "", "", "", err
	}
	f := resp.GetFields()
	p, _ := base64.StdEncoding.DecodeString(f["payload"].GetStringValue())
	return f["cursor"].GetStringValue(), f["key"].GetStringValue(), string(p), nil
}

func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.Reason
		}
	}
	return ""
}

// TestFeedOverGRPC runs a change feed as a server-streaming RPC of a
// production server (mTLS, the interceptor chain, authorisation): the
// client gets its starting cursor, a sealed payload in plaintext, resumes
// after reconnecting without loss or repeats; a workload the policy does
// not name is refused; an expired or garbled cursor is refused with its
// reason in ErrorInfo.
func TestFeedOverGRPC(t *testing.T) {
	ctx := t.Context()
	db := storetest.SQLite(t, serviceMigrations())
	c := newClock()
	opts := testOptions(c)
	opts.Sealer = newSealer(t, db, newKeys(t))
	o := newOutbox(t, db, opts)

	pki := servertest.NewPKI(t)
	srv := pki.NewServer(t, "identity", authz.Policy{watchMethod: {"crmsync"}})
	srv.GRPC().RegisterService(&watchDesc, watchService{o})
	addr := servertest.Start(t, srv)
	conn := pki.Dial(t, "crmsync", "identity", addr)

	w := watch(t, conn, "")
	start, key, _, err := w.recv()
	if err != nil || start == "" || key != "" {
		t.Fatalf("first message: cursor %q key %q (%v), want a heartbeat", start, key, err)
	}
	publish(t, db, o, ev("identity.session.revoked", "s1", "revoked "+canary))
	c1, key, payload, err := w.recv()
	if err != nil || key != "s1" || payload != "revoked "+canary {
		t.Fatalf("event: key %q payload %q (%v)", key, payload, err)
	}
	w.cancel() // the client goes away

	publish(t, db, o, ev("identity.session.revoked", "s2", "e2"))
	w = watch(t, conn, c1)
	if cur, key, _, err := w.recv(); err != nil || cur != c1 || key != "" {
		t.Fatalf("after reconnecting: cursor %q key %q (%v), want a heartbeat at the resume cursor", cur, key, err)
	}
	publish(t, db, o, ev("identity.session.revoked", "s3", "e3"))
	var keys []string
	for len(keys) < 2 {
		_, key, _, err := w.recv()
		if err != nil {
			t.Fatal(err)
		}
		if key != "" {
			keys = append(keys, key)
		}
	}
	if keys[0] != "s2" || keys[1] != "s3" {
		t.Fatalf("after reconnecting got %v, want s2, s3", keys)
	}
	w.cancel()

	other := pki.Dial(t, "tokenvault", "identity", addr)
	if _, _, _, err := watch(t, other, "").recv(); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a workload the policy does not name: %v, want PermissionDenied", err)
	}

	c.Advance(2 * time.Hour)
	publish(t, db, o, ev("identity.session.revoked", "s4", "e4"))
	if _, err := o.Trim(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, cursor string
		code         codes.Code
		reason       string
	}{
		{"expired", start, codes.FailedPrecondition, events.ReasonCursorExpired},
		{"garbled", "not-a-cursor", codes.InvalidArgument, events.ReasonCursorInvalid},
	} {
		_, key, _, err := watch(t, conn, tc.cursor).recv()
		if status.Code(err) != tc.code || reasonOf(err) != tc.reason || key != "" {
			t.Fatalf("%s cursor: %v (reason %q), want %v %s", tc.name, err, reasonOf(err), tc.code, tc.reason)
		}
	}
}
