package gateway

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
)

// chatStandIn stands in for the conversation service behind the gateway:
// real gRPC over mTLS, pkg/enduser applying the conversation service's
// rules for its chat calls (customers and visitors chat, support agents
// read), conversations kept in memory, each its owner's alone (another
// caller gets NOT_FOUND, as the real domain answers). The real service
// lives in another module's internal packages; its own tests cover the
// domain. It records what reached it, and when a watch ended.
type chatStandIn struct {
	conversationv1.UnimplementedConversationServiceServer

	mu      sync.Mutex
	convs   map[string]*chatConv
	changed chan struct{}
	posts   atomic.Int64
	// watchStarted receives once per WatchConversation the service began
	// and watchEnded once per one that returned. The gateway answers 200
	// once the client stream exists, which may be before the service runs
	// the handler: a stream cancelled in between never runs it, so a test
	// waits for the start (chatStand.running) before cancelling a stream
	// whose end it then waits for.
	watchStarted chan struct{}
	watchEnded   chan error
	// cutWatches makes a watch end Unavailable once it has sent what the
	// conversation holds, as a replica going away does.
	cutWatches atomic.Bool
}

type chatConv struct {
	owner, tenant string
	closed        bool
	msgs          []*conversationv1.Message
}

func newID(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b)
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

func (c *chatStandIn) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *chatStandIn) own(ctx context.Context, id string) (*chatConv, error) {
	p, _ := enduser.FromContext(ctx)
	conv, ok := c.convs[id]
	if !ok || (p.Kind != accesstoken.KindStaff && conv.owner != p.Subject) {
		return nil, errs.E(errs.NotFound, "CONVERSATION_NOT_FOUND", "conversation not found")
	}
	return conv, nil
}

func (c *chatStandIn) CreateConversation(ctx context.Context, req *conversationv1.CreateConversationRequest) (*conversationv1.CreateConversationResponse, error) {
	p, _ := enduser.FromContext(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	id := newID("cnv_")
	c.convs[id] = &chatConv{owner: p.Subject, tenant: p.Tenant}
	return &conversationv1.CreateConversationResponse{Conversation: &conversationv1.Conversation{
		ConversationId: id, Tenant: p.Tenant, Channel: req.GetChannel(), CustomerSubject: p.Subject}}, nil
}

func (c *chatStandIn) GetConversation(ctx context.Context, req *conversationv1.GetConversationRequest) (*conversationv1.GetConversationResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	conv, err := c.own(ctx, req.GetConversationId())
	if err != nil {
		return nil, err
	}
	return &conversationv1.GetConversationResponse{Conversation: &conversationv1.Conversation{
		ConversationId: req.GetConversationId(), Tenant: conv.tenant, CustomerSubject: conv.owner}}, nil
}

func (c *chatStandIn) PostMessage(ctx context.Context, req *conversationv1.PostMessageRequest) (*conversationv1.PostMessageResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	conv, err := c.own(ctx, req.GetConversationId())
	if err != nil {
		return nil, err
	}
	c.posts.Add(1)
	m := &conversationv1.Message{MessageId: newID("msg_"), ConversationId: req.GetConversationId(),
		Author: conversationv1.Author_AUTHOR_CUSTOMER, Text: req.GetText(), CreateTime: timestamppb.Now()}
	reply := &conversationv1.Message{MessageId: newID("msg_"), ConversationId: req.GetConversationId(),
		Author: conversationv1.Author_AUTHOR_ASSISTANT, Text: "You wrote: " + req.GetText(), CreateTime: timestamppb.Now()}
	conv.msgs = append(conv.msgs, m, reply)
	c.notify()
	return &conversationv1.PostMessageResponse{Message: m, Reply: reply}, nil
}

func (c *chatStandIn) CloseConversation(ctx context.Context, req *conversationv1.CloseConversationRequest) (*conversationv1.CloseConversationResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	conv, err := c.own(ctx, req.GetConversationId())
	if err != nil {
		return nil, err
	}
	conv.closed = true
	c.notify()
	return &conversationv1.CloseConversationResponse{}, nil
}

// WatchConversation sends the messages after after_message_id, then each
// new one, and ends once the conversation is closed and sent: the real
// service's contract (ADR 0014).
func (c *chatStandIn) WatchConversation(req *conversationv1.WatchConversationRequest, stream grpc.ServerStreamingServer[conversationv1.WatchConversationResponse]) (err error) {
	c.watchStarted <- struct{}{}
	defer func() { c.watchEnded <- stream.Context().Err() }()
	ctx := stream.Context()
	c.mu.Lock()
	conv, err := c.own(ctx, req.GetConversationId())
	if err != nil {
		c.mu.Unlock()
		return err
	}
	next := 0
	if after := req.GetAfterMessageId(); after != "" {
		next = -1
		for i, m := range conv.msgs {
			if m.GetMessageId() == after {
				next = i + 1
			}
		}
		if next < 0 {
			c.mu.Unlock()
			return errs.E(errs.NotFound, "MESSAGE_NOT_FOUND", "no such message")
		}
	}
	c.mu.Unlock()
	for {
		c.mu.Lock()
		pending := conv.msgs[next:]
		closed, changed := conv.closed, c.changed
		c.mu.Unlock()
		for _, m := range pending {
			if err := stream.Send(&conversationv1.WatchConversationResponse{Message: m}); err != nil {
				return err
			}
			next++
		}
		if closed {
			return nil
		}
		if c.cutWatches.Load() {
			return status.Error(codes.Unavailable, "transport is closing") // as grpc-go reports a cut
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// visitorIdentity stands in for identity's CreateVisitorSession with the
// tests' real token issuer.
type visitorIdentity struct {
	identityv1.UnimplementedIdentityServiceServer
	issuer *accesstoken.Issuer
	calls  atomic.Int64
}

func (v *visitorIdentity) CreateVisitorSession(ctx context.Context, req *identityv1.CreateVisitorSessionRequest) (*identityv1.CreateVisitorSessionResponse, error) {
	v.calls.Add(1)
	id := newID(accesstoken.VisitorPrefix)
	tok, c, err := v.issuer.IssueClaims(ctx, accesstoken.Claims{Subject: id, Kind: accesstoken.KindVisitor, Tenant: req.GetTenant(), SessionID: id})
	if err != nil {
		return nil, err
	}
	return &identityv1.CreateVisitorSessionResponse{AccessToken: tok, VisitorId: id, ExpireTime: timestamppb.New(c.Expiry)}, nil
}

const widgetOrigin = "https://shop.example"

// chatStand is a gateway in front of the two stand-ins, each behind the
// production interceptor chain (mTLS, workload policy, validation) with
// pkg/enduser's authenticator.
type chatStand struct {
	chat     *chatStandIn
	identity *visitorIdentity
	h        http.Handler
	srv      *httptest.Server
}

func newChatStand(t *testing.T, opts Options) *chatStand {
	t.Helper()
	s := &chatStand{
		chat:     &chatStandIn{convs: map[string]*chatConv{}, changed: make(chan struct{}), watchStarted: make(chan struct{}, 256), watchEnded: make(chan error, 256)},
		identity: &visitorIdentity{issuer: tokens(t).issuer},
	}
	pki := servertest.NewPKI(t)
	customers := enduser.Rule{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindCustomer}, AAL: accesstoken.AAL1}
	visitors := enduser.Rule{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindVisitor}}
	agents := enduser.Rule{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindStaff}, Roles: []string{accesstoken.RoleSupportAgent}, AAL: accesstoken.AAL2}
	chatters := enduser.Rule{Require: enduser.User, AnyOf: []enduser.Rule{customers, visitors}}
	readers := enduser.Rule{Require: enduser.User, AnyOf: []enduser.Rule{customers, agents, visitors}}
	people := enduser.Policy{
		conversationv1.ConversationService_CreateConversation_FullMethodName: chatters,
		conversationv1.ConversationService_PostMessage_FullMethodName:        chatters,
		conversationv1.ConversationService_CloseConversation_FullMethodName:  chatters,
		conversationv1.ConversationService_GetConversation_FullMethodName:    readers,
		conversationv1.ConversationService_WatchConversation_FullMethodName:  readers,
	}
	workloads := authz.Policy{}
	for m := range people {
		workloads[m] = []string{"gateway"}
	}
	authn, err := enduser.NewAuthenticator(tokens(t).verifier, noRevocations{}, people)
	if err != nil {
		t.Fatal(err)
	}
	chatSrv, err := server.New(context.Background(), "conversation", pki.Config(t, "conversation"), workloads, servertest.Logger(),
		server.WithInterceptors(authn.UnaryInterceptor(), authn.StreamInterceptor()))
	if err != nil {
		t.Fatal(err)
	}
	conversationv1.RegisterConversationServiceServer(chatSrv.GRPC(), s.chat)
	chatAddr := servertest.Start(t, chatSrv)
	idSrv := pki.NewServer(t, "identity", authz.Policy{identityv1.IdentityService_CreateVisitorSession_FullMethodName: {"gateway"}})
	identityv1.RegisterIdentityServiceServer(idSrv.GRPC(), s.identity)
	idAddr := servertest.Start(t, idSrv)
	backend := func(name, addr string) Backend {
		o, err := dial.Options(pki.Source(t, "gateway"), name, nil)
		if err != nil {
			t.Fatal(err)
		}
		return testBackend(t, name, addr, o...)
	}
	opts.MaxBodyBytes, opts.Auth = 1<<16, tokens(t)
	if opts.WidgetOrigins == nil {
		opts.WidgetOrigins = []string{widgetOrigin}
	}
	s.h, err = New(context.Background(), []Backend{backend("conversation", chatAddr), backend("identity", idAddr)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	s.srv = httptest.NewServer(s.h)
	t.Cleanup(s.srv.Close)
	return s
}

// call sends a request to the gateway; hdr are extra headers.
func (s *chatStand) call(t *testing.T, method, path, token, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

// visitor asks the gateway for a visitor session, as the widget does.
func (s *chatStand) visitor(t *testing.T) string {
	t.Helper()
	rec := s.call(t, http.MethodPost, "/v1/visitor-sessions", "", `{"tenant":"shop"}`, "Origin", widgetOrigin)
	var out struct {
		AccessToken string `json:"access_token"`
		VisitorID   string `json:"visitor_id"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.AccessToken == "" {
		t.Fatalf("visitor session: %d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("Access-Control-Allow-Origin") != widgetOrigin {
		t.Errorf("visitor session from the widget's origin: Access-Control-Allow-Origin %q", rec.Header().Get("Access-Control-Allow-Origin"))
	}
	return out.AccessToken
}

func (s *chatStand) open(t *testing.T, token string) string {
	t.Helper()
	rec := s.call(t, http.MethodPost, "/v1/conversations", token, `{"channel":"CHAT_CHANNEL_WEB"}`, "Origin", widgetOrigin)
	var out struct {
		Conversation struct {
			ID string `json:"conversation_id"`
		} `json:"conversation"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.Conversation.ID == "" {
		t.Fatalf("open a conversation: %d %s", rec.Code, rec.Body)
	}
	return out.Conversation.ID
}

func (s *chatStand) post(t *testing.T, token, id, text string) *httptest.ResponseRecorder {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"text": text})
	return s.call(t, http.MethodPost, "/v1/conversations/"+id+"/messages", token, string(body), "Origin", widgetOrigin)
}

// sseEvent is one event of a stream (or a comment, in comment).
type sseEvent struct {
	id, event, data, comment string
}

// eventStream reads a real HTTP response's events.
type eventStream struct {
	resp   *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
}

// watch opens the event stream over a real connection (the recorder
// cannot stream); the response is returned whatever its status.
// running waits until the service is running the watch of the stream
// opened last (see chatStandIn.watchStarted).
func (s *chatStand) running(t *testing.T) {
	t.Helper()
	select {
	case <-s.chat.watchStarted:
	case <-time.After(10 * time.Second):
		t.Fatal("the service never began the stream's watch")
	}
}

func (s *chatStand) watch(t *testing.T, token, id, lastEventID, query string) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	url := s.srv.URL + "/v1/conversations/" + id + "/events"
	if query != "" {
		url += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &eventStream{resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel}
}

// next reads the next event or comment; io.EOF when the stream ended.
func (e *eventStream) next() (sseEvent, error) {
	var ev sseEvent
	seen := false
	for {
		line, err := e.r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			if seen {
				return ev, nil
			}
			continue
		}
		seen = true
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "":
			ev.comment = value
		case "id":
			ev.id = value
		case "event":
			ev.event = value
		case "data":
			ev.data = value
		}
	}
}

// nextEvent skips comments and the retry field.
func (e *eventStream) nextEvent(t *testing.T) sseEvent {
	t.Helper()
	for {
		ev, err := e.next()
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		if ev.event != "" {
			return ev
		}
	}
}

// readSome reads a response that should end by itself, for at most a few
// seconds (a stream that does not end is cut, and its start is returned).
func readSome(e *eventStream) []byte {
	timer := time.AfterFunc(5*time.Second, e.cancel)
	defer timer.Stop()
	b, _ := io.ReadAll(e.resp.Body)
	return b
}

func messageText(t *testing.T, ev sseEvent) (id, text string) {
	t.Helper()
	var out struct {
		Message struct {
			ID   string `json:"message_id"`
			Text string `json:"text"`
		} `json:"message"`
	}
	if err := json.Unmarshal([]byte(ev.data), &out); err != nil {
		t.Fatalf("event data %q: %v", ev.data, err)
	}
	return out.Message.ID, out.Message.Text
}

// TestWebChatThroughTheGateway: a widget on the shop's page gets a visitor
// session, opens a web conversation, posts over REST and receives the
// messages as Server-Sent Events (id the message id, JSON data), resumes
// after the last id it saw, and the stream ends with "end" when the
// conversation is closed.
func TestWebChatThroughTheGateway(t *testing.T) {
	s := newChatStand(t, Options{})
	vis := s.visitor(t)
	id := s.open(t, vis)
	stream := s.watch(t, vis, id, "", "view=MESSAGE_VIEW_PLACEHOLDERS")
	if stream.resp.StatusCode != http.StatusOK || !strings.HasPrefix(stream.resp.Header.Get("Content-Type"), "text/event-stream") ||
		stream.resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("event stream: %d %v", stream.resp.StatusCode, stream.resp.Header)
	}
	if rec := s.post(t, vis, id, "where is my order?"); rec.Code != http.StatusOK {
		t.Fatalf("post: %d %s", rec.Code, rec.Body)
	}
	first := stream.nextEvent(t)
	reply := stream.nextEvent(t)
	firstID, text := messageText(t, first)
	replyID, replyText := messageText(t, reply)
	if first.event != "message" || first.id != firstID || text != "where is my order?" || reply.id != replyID || replyText != "You wrote: where is my order?" {
		t.Fatalf("events %+v %+v", first, reply)
	}

	// Resuming after the first message sends the reply only.
	resumed := s.watch(t, vis, id, firstID, "")
	if ev := resumed.nextEvent(t); ev.id != replyID {
		t.Fatalf("resumed after %s: first event %+v, want %s", firstID, ev, replyID)
	}
	resumed.cancel()

	if rec := s.call(t, http.MethodPost, "/v1/conversations/"+id+":close", vis, `{}`, "Origin", widgetOrigin); rec.Code != http.StatusOK {
		t.Fatalf("close: %d %s", rec.Code, rec.Body)
	}
	if ev := stream.nextEvent(t); ev.event != "end" {
		t.Fatalf("after the close: %+v, want an end event", ev)
	}
	if _, err := stream.next(); err != io.EOF {
		t.Fatalf("after the end event: %v, want the stream to end", err)
	}
}

// TestEventStreamRefusals: before a stream begins, refusals are JSON
// answers: no token 401, a malformed id, Last-Event-ID or view 400,
// another visitor's conversation 404 (the service's NOT_FOUND), an
// unknown Last-Event-ID 404.
func TestEventStreamRefusals(t *testing.T) {
	s := newChatStand(t, Options{})
	vis, other := s.visitor(t), s.visitor(t)
	id := s.open(t, vis)
	for _, tc := range []struct {
		name, token, id, last, query string
		code                         int
		reason                       string
	}{
		{"no token", "", id, "", "", http.StatusUnauthorized, reasonUnauthenticated},
		{"another visitor", other, id, "", "", http.StatusNotFound, "CONVERSATION_NOT_FOUND"},
		{"an integrator", tokens(t).token(t, accesstoken.Claims{Kind: accesstoken.KindClient, Subject: "cli_x", Tenant: "shop"}), id, "", "", http.StatusForbidden, reasonForbidden},
		{"bad id", vis, "cnv_x", "", "", http.StatusBadRequest, reasonMalformedRequest},
		{"bad Last-Event-ID", vis, id, "msg_1\nid: x", "", http.StatusBadRequest, reasonMalformedRequest},
		{"unknown Last-Event-ID", vis, id, "msg_" + strings.Repeat("a", 26), "", http.StatusNotFound, "MESSAGE_NOT_FOUND"},
		{"bad view", vis, id, "", "view=EVERYTHING", http.StatusBadRequest, reasonMalformedRequest},
		{"unknown parameter", vis, id, "", "after=1", http.StatusBadRequest, reasonMalformedRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := s.watch(t, tc.token, tc.id, strings.ReplaceAll(tc.last, "\n", ""), tc.query)
			if st.resp.StatusCode == http.StatusOK && tc.code != http.StatusNotFound {
				t.Fatalf("the stream began (200), want %d %s", tc.code, tc.reason)
			}
			body := readSome(st)
			var out map[string]any
			json.Unmarshal(body, &out)
			if tc.name == "unknown Last-Event-ID" {
				// The service refuses it on the stream itself, after the
				// checks Get makes: an error event, then the end.
				if st.resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "event: error") || !strings.Contains(string(body), `"reason":"MESSAGE_NOT_FOUND"`) {
					t.Fatalf("%d %q, want an error event with MESSAGE_NOT_FOUND", st.resp.StatusCode, body)
				}
				return
			}
			if st.resp.StatusCode != tc.code || reason(out) != tc.reason {
				t.Fatalf("%d %s, want %d %s", st.resp.StatusCode, body, tc.code, tc.reason)
			}
		})
	}
}

// TestEventStreamIsGetOnly: HEAD (which the pattern also matches) does
// not open a stream.
func TestEventStreamIsGetOnly(t *testing.T) {
	s := newChatStand(t, Options{})
	vis := s.visitor(t)
	id := s.open(t, vis)
	req, err := http.NewRequest(http.MethodHead, s.srv.URL+"/v1/conversations/"+id+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+vis)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("HEAD: %v (a stream was held open)", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("HEAD: %d, want 405", resp.StatusCode)
	}
}

// TestEventStreamHeartbeatAndDisconnect: a quiet stream gets comment
// lines, and a client that goes away cancels the gRPC stream behind it.
func TestEventStreamHeartbeatAndDisconnect(t *testing.T) {
	s := newChatStand(t, Options{SSEHeartbeat: 5 * time.Millisecond})
	vis := s.visitor(t)
	id := s.open(t, vis)
	stream := s.watch(t, vis, id, "", "")
	s.running(t)
	for {
		ev, err := stream.next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.comment == "keep-alive" {
			break
		}
	}
	stream.cancel()
	select {
	case err := <-s.chat.watchEnded:
		if err == nil {
			t.Fatal("the service's watch ended without its context being cancelled")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the service's watch kept running after the client went away")
	}
}

// TestEventStreamsBoundedPerSubject: one subject holds at most
// MaxStreamsPerSubject streams (429 TOO_MANY_STREAMS beyond); another
// subject is not affected; a closed stream frees its place.
func TestEventStreamsBoundedPerSubject(t *testing.T) {
	s := newChatStand(t, Options{MaxStreamsPerSubject: 1})
	vis, other := s.visitor(t), s.visitor(t)
	id, otherID := s.open(t, vis), s.open(t, other)
	first := s.watch(t, vis, id, "", "")
	if first.resp.StatusCode != http.StatusOK {
		t.Fatalf("first stream: %d", first.resp.StatusCode)
	}
	s.running(t)
	second := s.watch(t, vis, id, "", "")
	if second.resp.StatusCode == http.StatusOK {
		t.Fatal("a second stream of one visitor began, want 429")
	}
	body, _ := io.ReadAll(second.resp.Body)
	var out map[string]any
	json.Unmarshal(body, &out)
	if second.resp.StatusCode != http.StatusTooManyRequests || reason(out) != reasonTooManyStreams || second.resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second stream of one visitor: %d %s", second.resp.StatusCode, body)
	}
	if st := s.watch(t, other, otherID, "", ""); st.resp.StatusCode != http.StatusOK {
		t.Fatalf("another visitor's stream: %d", st.resp.StatusCode)
	}
	first.cancel()
	<-s.chat.watchEnded
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := s.watch(t, vis, id, "", "")
		if st.resp.StatusCode == http.StatusOK {
			break
		}
		st.cancel()
		if time.Now().After(deadline) {
			t.Fatalf("a closed stream's place was not freed: %d", st.resp.StatusCode)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestVisitorOnlyOnChatRoutes: a visitor's token is refused at the edge
// (403 before any service) on every route that does not name visitors:
// the account, the token vault, consents, a hand-off, a revealed value, a
// channel link code; and is accepted on public routes.
func TestVisitorOnlyOnChatRoutes(t *testing.T) {
	h := newDownGateway(t) // backends down: reaching one is 503
	vis := visitorToken(t)
	for _, rt := range []struct{ method, path, body string }{
		{http.MethodGet, "/v1/account", ""},
		{http.MethodPost, "/v1/sessions:logout", "{}"},
		{http.MethodPost, "/v1/tokens:detokenize", `{"tokens":["tok_x"]}`},
		{http.MethodPost, "/v1/tokens:mask", `{"tokens":["tok_x"]}`},
		{http.MethodGet, "/v1/consent/consents", ""},
		{http.MethodPost, "/v1/conversations/cnv_" + strings.Repeat("a", 26) + ":handOff", "{}"},
		{http.MethodPost, "/v1/conversations/cnv_" + strings.Repeat("a", 26) + ":revealValue", `{"placeholder":"[EMAIL_1]"}`},
		{http.MethodPost, "/v1/channel-link-codes", `{"channel":"CHAT_CHANNEL_WHATSAPP"}`},
		{http.MethodGet, "/v1/conversation-signals", ""},
	} {
		if code, body := do(h, rt.method, rt.path, vis, rt.body); code != http.StatusForbidden || reason(body) != reasonForbidden {
			t.Errorf("visitor on %s %s: %d %v, want 403 %s", rt.method, rt.path, code, body, reasonForbidden)
		}
	}
	// A public route lets the visitor's token through to the service
	// (down here: 503), which decides.
	if code, body := do(h, http.MethodPost, "/v1/sessions:login", vis, `{"email":"a@b.c","password":"x"}`); code != http.StatusServiceUnavailable {
		t.Errorf("visitor on a public route: %d %v, want it to reach the (down) service", code, body)
	}
}

// newDownGateway routes to every REST service of the manifest at an
// address where nothing listens: what the gateway itself decides.
func newDownGateway(t *testing.T) http.Handler {
	t.Helper()
	var backends []Backend
	for name := range routes {
		backends = append(backends, testBackend(t, name, "127.0.0.1:1"))
	}
	h, err := New(context.Background(), backends, Options{MaxBodyBytes: 1024, Auth: tokens(t)})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// visitorToken is an anonymous visitor's token for the shop "shop".
func visitorToken(t testing.TB) string {
	t.Helper()
	id := newID(accesstoken.VisitorPrefix)
	tok, err := tokens(t).issuer.Issue(context.Background(), accesstoken.Claims{Subject: id, Kind: accesstoken.KindVisitor, Tenant: "shop", SessionID: id})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestMessagesLimitedPerSubject: each subject posts at most its burst
// quickly (then 429 RATE_LIMITED with Retry-After, the service not
// reached); another visitor has a budget of their own.
func TestMessagesLimitedPerSubject(t *testing.T) {
	s := newChatStand(t, Options{MessageRatePerMinute: 1, MessageBurst: 2})
	vis, other := s.visitor(t), s.visitor(t)
	id, otherID := s.open(t, vis), s.open(t, other)
	for i := range 2 {
		if rec := s.post(t, vis, id, "hello"); rec.Code != http.StatusOK {
			t.Fatalf("post %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	rec := s.post(t, vis, id, "hello")
	var out map[string]any
	json.Unmarshal(rec.Body.Bytes(), &out)
	if rec.Code != http.StatusTooManyRequests || reason(out) != reasonRateLimited || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("third post in a row: %d %s %q, want 429 %s with Retry-After", rec.Code, rec.Body, rec.Header().Get("Retry-After"), reasonRateLimited)
	}
	if n := s.chat.posts.Load(); n != 2 {
		t.Errorf("%d posts reached the service, want 2", n)
	}
	if rec := s.post(t, other, otherID, "hello"); rec.Code != http.StatusOK {
		t.Errorf("another visitor: %d %s", rec.Code, rec.Body)
	}
}

// TestVisitorSessionsLimitedPerAddress: visitor sessions are public and
// limited per client address on a budget of their own: spending it leaves
// the address's logins alone, and another address unaffected.
func TestVisitorSessionsLimitedPerAddress(t *testing.T) {
	s := newChatStand(t, Options{VisitorSessionRatePerMinute: 1, VisitorSessionBurst: 2, AuthRatePerMinute: 1, AuthBurst: 1})
	ask := func(addr string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/visitor-sessions", strings.NewReader(`{"tenant":"shop"}`))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		s.h.ServeHTTP(rec, req)
		return rec
	}
	for i := range 2 {
		if rec := ask("192.0.2.10:1"); rec.Code != http.StatusOK {
			t.Fatalf("visitor session %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	rec := ask("192.0.2.10:1")
	var out map[string]any
	json.Unmarshal(rec.Body.Bytes(), &out)
	if rec.Code != http.StatusTooManyRequests || reason(out) != reasonRateLimited || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("third visitor session from one address: %d %s", rec.Code, rec.Body)
	}
	if n := s.identity.calls.Load(); n != 2 {
		t.Errorf("%d visitor sessions reached identity, want 2", n)
	}
	if rec := ask("192.0.2.11:1"); rec.Code != http.StatusOK {
		t.Errorf("another address: %d", rec.Code)
	}
	login := httptest.NewRequest(http.MethodPost, "/v1/sessions:login", strings.NewReader(`{"email":"a@b.c","password":"x"}`))
	login.Header.Set("Content-Type", "application/json")
	login.RemoteAddr = "192.0.2.10:1"
	lrec := httptest.NewRecorder()
	s.h.ServeHTTP(lrec, login)
	if lrec.Code == http.StatusTooManyRequests {
		t.Errorf("visitor sessions spent the address's login budget")
	}
}

// TestWidgetCORS: preflights are answered only for the widget's origins on
// the widget's routes, with the origin itself (never "*", never
// credentials) and only the methods and headers the widget uses; a
// state-changing request from another origin is refused before any
// service; requests without an Origin are not browsers' and pass.
func TestWidgetCORS(t *testing.T) {
	s := newChatStand(t, Options{})
	preflight := func(path, origin, method, headers string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodOptions, path, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", method)
		if headers != "" {
			req.Header.Set("Access-Control-Request-Headers", headers)
		}
		rec := httptest.NewRecorder()
		s.h.ServeHTTP(rec, req)
		return rec
	}
	ok := preflight("/v1/conversations/cnv_x/messages", widgetOrigin, http.MethodPost, "authorization, content-type")
	h := ok.Header()
	if ok.Code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != widgetOrigin || h.Get("Access-Control-Allow-Credentials") != "" ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") || !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
		t.Fatalf("preflight from the widget: %d %v", ok.Code, h)
	}
	for name, rec := range map[string]*httptest.ResponseRecorder{
		"another origin":            preflight("/v1/conversations", "https://evil.example", http.MethodPost, "authorization"),
		"a look-alike origin":       preflight("/v1/conversations", "https://shop.example.evil.example", http.MethodPost, ""),
		"the origin with a path":    preflight("/v1/conversations", widgetOrigin+"/", http.MethodPost, ""),
		"origin null":               preflight("/v1/conversations", "null", http.MethodPost, ""),
		"a route not the widget's":  preflight("/v1/sessions:login", widgetOrigin, http.MethodPost, "content-type"),
		"the token vault":           preflight("/v1/tokens:detokenize", widgetOrigin, http.MethodPost, "authorization"),
		"a method not the widget's": preflight("/v1/conversations", widgetOrigin, http.MethodDelete, ""),
		"a header not the widget's": preflight("/v1/conversations", widgetOrigin, http.MethodPost, "x-sotto-session"),
	} {
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		if rec.Code != http.StatusForbidden || reason(out) != reasonOriginRejected || rec.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight, %s: %d %v %s, want 403 %s without Access-Control-Allow-Origin", name, rec.Code, rec.Header(), rec.Body, reasonOriginRejected)
		}
	}

	vis := s.visitor(t)
	id := s.open(t, vis)
	before := s.chat.posts.Load()
	for _, origin := range []string{"https://evil.example", "null"} {
		rec := s.call(t, http.MethodPost, "/v1/conversations/"+id+"/messages", vis, `{"text":"hi"}`, "Origin", origin)
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		if rec.Code != http.StatusForbidden || reason(out) != reasonOriginRejected {
			t.Errorf("post from %s: %d %s, want 403 %s", origin, rec.Code, rec.Body, reasonOriginRejected)
		}
	}
	if rec := s.call(t, http.MethodPost, "/v1/visitor-sessions", "", `{"tenant":"shop"}`, "Origin", "https://evil.example"); rec.Code != http.StatusForbidden {
		t.Errorf("a visitor session for a foreign page: %d, want 403", rec.Code)
	}
	if n := s.chat.posts.Load(); n != before {
		t.Errorf("%d refused posts reached the service", n-before)
	}
	// A read from a foreign page is answered, but without the header that
	// would let the page see it.
	if rec := s.call(t, http.MethodGet, "/v1/conversations/"+id, vis, "", "Origin", "https://evil.example"); rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("read from a foreign page: %d ACAO %q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
	// No Origin: an app or a server, not a browser.
	if rec := s.post(t, vis, id, "hi"); rec.Code != http.StatusOK {
		t.Errorf("post from the widget: %d %s", rec.Code, rec.Body)
	}
	if rec := s.call(t, http.MethodPost, "/v1/conversations/"+id+"/messages", vis, `{"text":"hi"}`); rec.Code != http.StatusOK {
		t.Errorf("post without an Origin: %d %s", rec.Code, rec.Body)
	}
	// The widget's origin reads with the header.
	if rec := s.call(t, http.MethodGet, "/v1/conversations/"+id, vis, "", "Origin", widgetOrigin); rec.Header().Get("Access-Control-Allow-Origin") != widgetOrigin {
		t.Errorf("read from the widget: ACAO %q", rec.Header().Get("Access-Control-Allow-Origin"))
	}
}

// TestWidgetOriginsMustBeOrigins: a widget origin that no browser would
// send (a path, upper case, a wildcard) stops the gateway from starting.
func TestWidgetOriginsMustBeOrigins(t *testing.T) {
	for _, o := range []string{"*", "https://shop.example/", "https://Shop.example", "shop.example", "https://shop.example/widget"} {
		_, err := New(context.Background(), []Backend{testBackend(t, "audit", "127.0.0.1:1")}, Options{MaxBodyBytes: 1024, Auth: tokens(t), WidgetOrigins: []string{o}})
		if err == nil {
			t.Errorf("widget origin %q accepted", o)
		}
	}
}

// TestLinkCodesNeedASecondFactor: a customer asks for a messaging link code
// only after a second factor (the edge answers before the service); with
// it, the request reaches the (down) service, which also asks that it be
// recent.
func TestLinkCodesNeedASecondFactor(t *testing.T) {
	h := newDownGateway(t)
	body := `{"channel":"CHAT_CHANNEL_WHATSAPP"}`
	code, out := do(h, http.MethodPost, "/v1/channel-link-codes", customerToken(t), body)
	if code == http.StatusServiceUnavailable || code/100 != 4 {
		t.Fatalf("an aal1 customer asking for a link code: %d %v, want a refusal at the edge", code, out)
	}
	aal2 := tokens(t).token(t, accesstoken.Claims{Kind: accesstoken.KindCustomer, Subject: "acc_subject", Tenant: "shop", AAL: accesstoken.AAL2, AMR: []string{"pwd", "otp"}})
	if code, out := do(h, http.MethodPost, "/v1/channel-link-codes", aal2, body); code != http.StatusServiceUnavailable {
		t.Fatalf("an aal2 customer asking for a link code: %d %v, want it to reach the (down) service", code, out)
	}
}
