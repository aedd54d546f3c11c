package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWebChatThroughTheSuite: a shop's web widget, through the real
// binaries: an anonymous visitor session from identity (via the gateway),
// a web conversation, a message with an e-mail address and a card number
// posted over REST and received as Server-Sent Events (placeholders, the
// assistant's reply), the stream ending when the visitor closes the chat.
// The visitor's token opens nothing that needs an account, and no canary
// is in conversation's database, its WAL or any service's log.
func TestWebChatThroughTheSuite(t *testing.T) {
	state := t.TempDir()
	s := startSuite(t, state, "SOTTO_GATEWAY_WIDGET_ORIGINS=https://shop.example")

	r := s.Request(http.MethodPost, "/v1/visitor-sessions", "", `{"tenant":"default"}`)
	vis, _ := r.Body["access_token"].(string)
	visitorID, _ := r.Body["visitor_id"].(string)
	if r.Code != http.StatusOK || vis == "" || !strings.HasPrefix(visitorID, "vis_") {
		t.Fatalf("visitor session: %d %s", r.Code, r.Raw)
	}
	if r := s.Request(http.MethodPost, "/v1/visitor-sessions", "", `{"tenant":"no-such-shop"}`); r.Code != http.StatusBadRequest || r.Reason() != "TENANT_UNKNOWN" {
		t.Errorf("visitor session for an unknown shop: %d %s", r.Code, r.Raw)
	}
	if r := s.Request(http.MethodGet, "/v1/account", vis, ""); r.Code != http.StatusForbidden {
		t.Errorf("a visitor's account: %d %s, want 403", r.Code, r.Raw)
	}
	if r := s.Request(http.MethodPost, "/v1/conversations", vis, `{"channel":"CHAT_CHANNEL_WHATSAPP"}`); r.Code != http.StatusBadRequest || r.Reason() != "VISITOR_WEB_ONLY" {
		t.Errorf("a visitor on WhatsApp: %d %s", r.Code, r.Raw)
	}
	r = s.Request(http.MethodPost, "/v1/conversations", vis, `{"channel":"CHAT_CHANNEL_WEB"}`)
	conv, _ := r.Body["conversation"].(map[string]any)
	id, _ := conv["conversation_id"].(string)
	if r.Code != http.StatusOK || id == "" || conv["customer_subject"] != visitorID {
		t.Fatalf("open a conversation: %d %s", r.Code, r.Raw)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Info.GatewayURL+"/v1/conversations/"+id+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+vis)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("event stream: %d %v", resp.StatusCode, resp.Header)
	}
	events := bufio.NewReader(resp.Body)
	next := func() (event, id, data string) {
		t.Helper()
		for {
			line, err := events.ReadString('\n')
			if err != nil {
				t.Fatalf("event stream ended: %v", err)
			}
			line = strings.TrimSuffix(line, "\n")
			if line == "" && event != "" {
				return event, id, data
			}
			field, value, _ := strings.Cut(line, ": ")
			switch field {
			case "event":
				event = value
			case "id":
				id = value
			case "data":
				data = value
			}
		}
	}

	email, card := sealingCanaries(t)
	body, _ := json.Marshal(map[string]string{"text": "Where is my order? Write to " + email + ", I paid with " + card})
	if r := s.Request(http.MethodPost, "/v1/conversations/"+id+"/messages", vis, string(body)); r.Code != http.StatusOK {
		t.Fatalf("post: %d %s", r.Code, r.Raw)
	}
	var texts []string
	for range 2 {
		event, msgID, data := next()
		var m struct {
			Message struct {
				ID, Text, Author string
			}
		}
		dec := json.NewDecoder(strings.NewReader(data))
		if event != "message" || dec.Decode(&m) != nil {
			t.Fatalf("event %q %q", event, data)
		}
		var raw map[string]map[string]any
		json.Unmarshal([]byte(data), &raw)
		if raw["message"]["message_id"] != msgID {
			t.Errorf("event id %q is not the message's (%v)", msgID, raw["message"]["message_id"])
		}
		text, _ := raw["message"]["text"].(string)
		texts = append(texts, text)
	}
	if !strings.Contains(texts[0], "[EMAIL_1]") || !strings.Contains(texts[0], "[CARD_1]") || strings.Contains(texts[0], email) || texts[1] == "" {
		t.Errorf("streamed texts %q, want the customer's in placeholders and a reply", texts)
	}
	if r := s.Request(http.MethodPost, "/v1/conversations/"+id+":close", vis, `{}`); r.Code != http.StatusOK {
		t.Fatalf("close: %d %s", r.Code, r.Raw)
	}
	if event, _, _ := next(); event != "end" {
		t.Errorf("after the close: %q, want end", event)
	}

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
