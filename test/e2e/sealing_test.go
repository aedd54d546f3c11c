package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	collectortracev1 "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/sealclient"
	"github.com/sottohq/sotto/test/devsuite"
)

// collector is an OTLP/gRPC trace receiver: the services export their
// spans to it as they would to an OpenTelemetry Collector, and it keeps
// each export request's bytes by the exporting service's name.
type collector struct {
	collectortracev1.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans map[string][]byte
}

func (c *collector) Export(_ context.Context, req *collectortracev1.ExportTraceServiceRequest) (*collectortracev1.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		name := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				name = a.GetValue().GetStringValue()
			}
		}
		b, err := protojson.Marshal(rs)
		if err != nil {
			return nil, err
		}
		c.spans[name] = append(c.spans[name], b...)
	}
	return &collectortracev1.ExportTraceServiceResponse{}, nil
}

func (c *collector) of(service string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.spans[service])
}

func startCollector(t *testing.T) (*collector, string) {
	t.Helper()
	c := &collector{spans: map[string][]byte{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	collectortracev1.RegisterTraceServiceServer(srv, c)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return c, ln.Addr().String()
}

// gatewayREST is the conversation API through the gateway's REST routes,
// for pkg/sealclient (which takes the gRPC client's interfaces).
type gatewayREST struct {
	s     *suite
	token string
}

func (g gatewayREST) call(method, path string, in, out proto.Message) error {
	body := ""
	if in != nil {
		b, err := protojson.Marshal(in)
		if err != nil {
			return err
		}
		body = string(b)
	}
	r := g.s.Request(method, path, g.token, body)
	if r.Code != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, path, r.Code, r.Raw)
	}
	return protojson.Unmarshal([]byte(r.Raw), out)
}

func (g gatewayREST) GetSealingKeys(_ context.Context, _ *conversationv1.GetSealingKeysRequest, _ ...grpc.CallOption) (*conversationv1.GetSealingKeysResponse, error) {
	out := &conversationv1.GetSealingKeysResponse{}
	return out, gatewayREST{s: g.s}.call(http.MethodGet, "/v1/conversation-sealing-keys", nil, out)
}

func (g gatewayREST) PostMessage(_ context.Context, in *conversationv1.PostMessageRequest, _ ...grpc.CallOption) (*conversationv1.PostMessageResponse, error) {
	out := &conversationv1.PostMessageResponse{}
	return out, g.call(http.MethodPost, "/v1/conversations/"+in.GetConversationId()+"/messages", in, out)
}

func sealingCanaries(t *testing.T) (email, card string) {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	digits := []byte("4")
	r := make([]byte, 14)
	if _, err := rand.Read(r); err != nil {
		t.Fatal(err)
	}
	for _, x := range r {
		digits = append(digits, '0'+x%10)
	}
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return "odile." + hex.EncodeToString(b) + "@example.com", string(digits) + string(rune('0'+(10-sum%10)%10))
}

// TestSealedChatThroughTheGateway: through the real binaries (`sotto dev
// up`), a signed-in customer's message sealed with pkg/sealclient goes
// through the gateway's REST routes; the conversation service opens and
// tokenises it (the stored text has the placeholders) and the reply opens
// with the session's key. The gateway's log file, the spans it exported
// over OTLP, and its entire memory (every readable mapping of
// /proc/<pid>/mem) hold neither the canary values nor the reply. A message
// posted in the clear afterwards is found in the gateway's memory, which
// shows the search finds what is there.
func TestSealedChatThroughTheGateway(t *testing.T) {
	traces, otlp := startCollector(t)
	s := startSuite(t, t.TempDir(), "OTEL_EXPORTER_OTLP_ENDPOINT="+otlp, "OTEL_EXPORTER_OTLP_INSECURE=true")
	c := s.signUpCustomer("sealer")
	tok, _ := s.login(c, false)
	api := gatewayREST{s: s, token: tok}
	conv := &conversationv1.CreateConversationResponse{}
	if err := api.call(http.MethodPost, "/v1/conversations", &conversationv1.CreateConversationRequest{Channel: conversationv1.ChatChannel_CHAT_CHANNEL_WEB}, conv); err != nil {
		t.Fatal(err)
	}
	id := conv.GetConversation().GetConversationId()
	email, card := sealingCanaries(t)
	session, err := sealclient.New(api).NewSession()
	if err != nil {
		t.Fatal(err)
	}
	reply, resp, err := session.Post(context.Background(), api, &conversationv1.PostMessageRequest{ConversationId: id},
		"Hello, where is my order? My e-mail is "+email+" and I paid with card "+card+".")
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetMessage().GetText() != "" || !strings.Contains(reply, "[EMAIL_1]") {
		t.Fatalf("message text %q, reply %q", resp.GetMessage().GetText(), reply)
	}
	// Read straight from the conversation service, not through the gateway:
	// ListMessages is not sealed (its placeholder text would reach the
	// gateway's memory, the reply's included).
	cli := conversationv1.NewConversationServiceClient(s.Dial("gateway", "conversation", s.Info.Services["conversation"].GRPC))
	list, err := cli.ListMessages(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok),
		&conversationv1.ListMessagesRequest{ConversationId: id})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetMessages()) != 2 || !strings.Contains(list.GetMessages()[0].GetText(), "[EMAIL_1]") ||
		!strings.Contains(list.GetMessages()[0].GetText(), "[CARD_1]") {
		t.Fatalf("stored %v, want the opened text tokenised", list.GetMessages())
	}

	// The gateway's batch exporter sends every 5 s.
	deadline := time.Now().Add(30 * time.Second)
	for !bytes.Contains(traces.of("gateway"), []byte("/messages")) && !bytes.Contains(traces.of("gateway"), []byte("PostMessage")) {
		if time.Now().After(deadline) {
			t.Fatalf("the gateway exported no span of the post: %.500s", traces.of("gateway"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	gw := devsuite.ChildNamed(t, s.PID(), "gateway")
	mem := devsuite.ProcessMemory(t, gw)
	logs, err := os.ReadFile(filepath.Join(s.State, "logs", "gateway.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("gateway log: %d bytes, %v", len(logs), err)
	}
	spans := traces.of("gateway")
	for _, v := range []string{email, email[:strings.IndexByte(email, '@')], card, reply} {
		for where, b := range map[string][]byte{"log": logs, "spans": spans, "memory": mem} {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("the gateway's %s holds %q", where, v)
			}
		}
	}

	// A tampered message is refused at the service, and the gateway passes
	// the refusal on as a client error with its reason.
	bad, err := session.Seal(context.Background(), id, "hello")
	if err != nil {
		t.Fatal(err)
	}
	bad.Ciphertext[0] ^= 1
	b, err := protojson.Marshal(&conversationv1.PostMessageRequest{ConversationId: id, Sealed: bad})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Request(http.MethodPost, "/v1/conversations/"+id+"/messages", tok, string(b)); r.Code != http.StatusBadRequest || r.Reason() != "SEALED_INVALID" {
		t.Fatalf("tampered sealed message: %d %s", r.Code, r.Raw)
	}

	// The control: the same gateway passing a message in the clear.
	clearEmail, _ := sealingCanaries(t)
	plain := &conversationv1.PostMessageResponse{}
	if err := api.call(http.MethodPost, "/v1/conversations/"+id+"/messages",
		&conversationv1.PostMessageRequest{ConversationId: id, Text: "My new e-mail is " + clearEmail}, plain); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(devsuite.ProcessMemory(t, gw), []byte(clearEmail)) {
		t.Error("the search did not find a value the gateway passed in the clear")
	}
}
