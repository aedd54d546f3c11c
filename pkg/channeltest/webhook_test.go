package channeltest_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sottohq/sotto/pkg/channeltest"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/webhook"
)

// TestSignVerifiesWithMetaScheme: the emulator's signature is what
// pkg/webhook's Meta scheme accepts, and only under the same secret.
func TestSignVerifiesWithMetaScheme(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	body := channeltest.WhatsAppDelivery{PhoneNumberID: "106540352242922", Messages: []channeltest.WhatsAppMessage{{From: "16505551234", Text: "hi"}}}.JSON()
	v, err := webhook.New(webhook.Config{Scheme: webhook.MetaSHA256, Secrets: [][]byte{[]byte(secret)}}, servertest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"X-Hub-Signature-256": {channeltest.Sign(secret, body)}}
	if _, err := v.Check(h, body); err != nil {
		t.Fatalf("signature refused: %v", err)
	}
	h.Set("X-Hub-Signature-256", channeltest.Sign(secret+"x", body))
	if _, err := v.Check(h, body); err == nil {
		t.Fatal("a signature under another secret verified")
	}
}

func TestWamIDEmbedsTheSender(t *testing.T) {
	id := channeltest.NewWamID("16505551234")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(id, "wamid."))
	if err != nil || !strings.HasPrefix(id, "wamid.") {
		t.Fatalf("%q: %v", id, err)
	}
	if !strings.Contains(string(raw), "16505551234") {
		t.Fatalf("%q does not hold the number", id)
	}
	if channeltest.NewWamID("16505551234") == id {
		t.Fatal("two wamids alike")
	}
}

func TestDeliveryFormats(t *testing.T) {
	var wa struct {
		Object string `json:"object"`
		Entry  []struct {
			Changes []struct {
				Field string `json:"field"`
				Value struct {
					Metadata struct {
						PhoneNumberID string `json:"phone_number_id"`
					} `json:"metadata"`
					Messages []struct {
						From, ID, Type string
						Text           struct{ Body string }
					} `json:"messages"`
					Statuses []struct{ ID, Status string } `json:"statuses"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	body := channeltest.WhatsAppDelivery{PhoneNumberID: "1065", Messages: []channeltest.WhatsAppMessage{
		{From: "4915112345678", ID: "wamid.X", Text: "Hallo"}, {From: "4915112345678", Type: "image"},
	}, Statuses: []channeltest.WhatsAppStatus{{ID: "wamid.Y", Status: "read"}}}.JSON()
	if err := json.Unmarshal(body, &wa); err != nil {
		t.Fatal(err)
	}
	ch := wa.Entry[0].Changes[0]
	if wa.Object != "whatsapp_business_account" || ch.Field != "messages" || ch.Value.Metadata.PhoneNumberID != "1065" ||
		len(ch.Value.Messages) != 2 || ch.Value.Messages[0].ID != "wamid.X" || ch.Value.Messages[0].Text.Body != "Hallo" ||
		ch.Value.Messages[1].Type != "image" || ch.Value.Statuses[0].Status != "read" {
		t.Fatalf("WhatsApp delivery: %s", body)
	}

	var ms struct {
		Object string `json:"object"`
		Entry  []struct {
			ID        string `json:"id"`
			Messaging []struct {
				Sender, Recipient struct{ ID string }
				Message           struct {
					MID    string `json:"mid"`
					Text   string `json:"text"`
					IsEcho bool   `json:"is_echo"`
				} `json:"message"`
			} `json:"messaging"`
		} `json:"entry"`
	}
	body = channeltest.MessengerDelivery{PageID: "page1", Events: []channeltest.MessengerEvent{
		{SenderID: "psid1", MID: "m_1", Text: "hello"}, {SenderID: "psid1", Text: "from the page", Echo: true},
	}}.JSON()
	if err := json.Unmarshal(body, &ms); err != nil {
		t.Fatal(err)
	}
	e := ms.Entry[0].Messaging
	if ms.Object != "page" || ms.Entry[0].ID != "page1" || e[0].Sender.ID != "psid1" || e[0].Recipient.ID != "page1" ||
		e[0].Message.MID != "m_1" || e[1].Sender.ID != "page1" || !e[1].Message.IsEcho {
		t.Fatalf("Messenger delivery: %s", body)
	}
}
