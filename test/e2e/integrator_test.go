package e2e

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/integratorclient"
)

// TestIntegratorPlatformThroughTheEdge plays a messaging platform
// integrating over gRPC, through the real binaries: the operator registers
// it as an integrator client of the shop (scopes conversation.ingest and
// conversation.watch), the platform gets a token at the gateway's token
// endpoint and dials the gateway's gRPC edge over TLS (its self-signed
// certificate pinned by the fingerprint the gateway logged), posts a
// user's message with an e-mail address and a card number on the API
// channel, and reads the message (in placeholders) and the assistant's
// reply from WatchConversation. Another tenant in the request is refused
// at the edge, a web conversation is NOT_FOUND to the platform, and no
// canary is in conversation's database, its WAL or the gateway's,
// conversation's and identity's logs.
func TestIntegratorPlatformThroughTheEdge(t *testing.T) {
	state := t.TempDir()
	s := startSuite(t, state)
	// dev up gives the gateway's gRPC edge its own address (dev.json).
	edgeAddr := s.Info.Services["gateway"].GRPC
	if edgeAddr == "" {
		t.Fatal("dev.json names no gRPC edge for the gateway")
	}

	op := s.OperatorToken()
	r := s.Request(http.MethodPost, "/v1/clients", op,
		`{"display_name":"Chat platform","scopes":["conversation.ingest","conversation.watch"],"tenant":"default"}`)
	clientID, _ := r.Body["client_id"].(string)
	secret, _ := r.Body["client_secret"].(string)
	if r.Code != http.StatusOK || clientID == "" || secret == "" {
		t.Fatalf("create the integrator client: %d %s", r.Code, r.Raw)
	}
	tlsConfig, err := integratorclient.PinnedTLS(edgeFingerprint(t, state))
	if err != nil {
		t.Fatal(err)
	}
	creds := &integratorclient.ClientCredentials{TokenURL: s.Info.GatewayURL + "/v1/oauth/token", ClientID: clientID,
		ClientSecret: secret, Scopes: []string{"conversation.ingest", "conversation.watch"}}
	conn, err := integratorclient.Dial(edgeAddr, tlsConfig, creds)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	platform := conversationv1.NewConversationServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	email, card := sealingCanaries(t)
	msg := func(tenant, id string) *conversationv1.IngestChannelMessageRequest {
		return &conversationv1.IngestChannelMessageRequest{Tenant: tenant, Channel: conversationv1.ChatChannel_CHAT_CHANNEL_API,
			ChannelUserId: "platform-user-42", ChannelMessageId: id,
			Text: "Where is my order? Write to " + email + ", I paid with " + card}
	}
	if _, err := platform.IngestChannelMessage(ctx, msg("othershop", "platform-msg-0")); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("another tenant: %v, want PermissionDenied", err)
	}
	in, err := platform.IngestChannelMessage(ctx, msg("default", "platform-msg-1"))
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	stream, err := platform.WatchConversation(ctx, &conversationv1.WatchConversationRequest{ConversationId: in.GetConversationId()})
	if err != nil {
		t.Fatal(err)
	}
	var got []*conversationv1.Message
	for len(got) < 2 {
		ev, err := stream.Recv()
		if err != nil {
			t.Fatalf("watch after %d messages: %v", len(got), err)
		}
		got = append(got, ev.GetMessage())
	}
	if got[0].GetMessageId() != in.GetMessageId() || !strings.Contains(got[0].GetText(), "[EMAIL_1]") || !strings.Contains(got[0].GetText(), "[CARD_1]") ||
		got[1].GetAuthor() != conversationv1.Author_AUTHOR_ASSISTANT || got[1].GetText() == "" {
		t.Fatalf("streamed %v, want the user's message in placeholders and the assistant's reply", got)
	}
	for _, m := range got {
		if strings.Contains(m.GetText(), email) || strings.Contains(m.GetText(), card) {
			t.Fatalf("the stream carried a canary: %q", m.GetText())
		}
	}

	// A web conversation of the same shop is not the platform's to read.
	vr := s.Request(http.MethodPost, "/v1/visitor-sessions", "", `{"tenant":"default"}`)
	vis, _ := vr.Body["access_token"].(string)
	wr := s.Request(http.MethodPost, "/v1/conversations", vis, `{"channel":"CHAT_CHANNEL_WEB"}`)
	web, _ := wr.Body["conversation"].(map[string]any)
	webID, _ := web["conversation_id"].(string)
	if webID == "" {
		t.Fatalf("web conversation: %d %s", wr.Code, wr.Raw)
	}
	ws, err := platform.WatchConversation(ctx, &conversationv1.WatchConversationRequest{ConversationId: webID})
	if err == nil {
		_, err = ws.Recv()
	}
	if status.Code(err) != codes.NotFound {
		t.Fatalf("the platform on a web conversation: %v, want NotFound", err)
	}
	cancel()

	canaries := []string{email, email[:strings.IndexByte(email, '@')], card}
	searched := 0
	for _, f := range []string{"data/conversation.db", "data/conversation.db-wal", "logs/gateway.log", "logs/conversation.log", "logs/identity.log"} {
		b, err := os.ReadFile(filepath.Join(state, f))
		if err != nil {
			if os.IsNotExist(err) && strings.HasSuffix(f, "-wal") {
				continue
			}
			t.Fatal(err)
		}
		searched += len(b)
		for _, c := range canaries {
			if bytes.Contains(b, []byte(c)) {
				t.Errorf("%s holds the canary %q", f, c)
			}
		}
	}
	if searched == 0 {
		t.Fatal("nothing searched")
	}
}

var edgeCertificate = regexp.MustCompile(`grpc edge certificate: self-signed (sha256:[0-9a-f]{64})`)

// edgeFingerprint is the self-signed edge certificate's fingerprint from
// the gateway's log (ADR 0011: how a developer's client trusts it).
func edgeFingerprint(t *testing.T, state string) string {
	t.Helper()
	var log []byte
	for range 100 {
		log, _ = os.ReadFile(filepath.Join(state, "logs", "gateway.log"))
		if m := edgeCertificate.FindSubmatch(log); m != nil {
			return string(m[1])
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no edge certificate in the gateway's log:\n%s", log)
	return ""
}
