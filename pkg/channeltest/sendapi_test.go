package channeltest_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/sottohq/sotto/pkg/channeltest"
)

func post(t *testing.T, api *channeltest.SendAPI, path, token string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, api.URL()+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(api)}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func errorCode(out map[string]any) float64 {
	e, _ := out["error"].(map[string]any)
	if e == nil || e["message"] == "" || e["type"] == "" {
		return 0
	}
	c, _ := e["code"].(float64)
	return c
}

func whatsAppText(to, body string) map[string]any {
	return map[string]any{"messaging_product": "whatsapp", "to": to, "type": "text", "text": map[string]string{"body": body}}
}

// TestSendAPI: the emulator answers like the Graph API: accepted sends are
// recorded with the platform's answer shape, a wrong token is 401 code 190,
// a malformed body 400 code 100, and queued failures come first, in order.
func TestSendAPI(t *testing.T) {
	api := channeltest.NewSendAPI(t)
	api.AddWhatsAppNumber("1065", "wa-token")
	api.AddPage("page-token")

	status, out := post(t, api, "/v23.0/1065/messages", "wa-token", whatsAppText("447700900123", "hello"))
	msgs, _ := out["messages"].([]any)
	if status != 200 || out["messaging_product"] != "whatsapp" || len(msgs) != 1 {
		t.Errorf("WhatsApp send: %d %v", status, out)
	}
	status, out = post(t, api, "/v23.0/me/messages", "page-token", map[string]any{
		"recipient": map[string]string{"id": "2468"}, "messaging_type": "RESPONSE", "message": map[string]string{"text": "hi"}})
	if status != 200 || out["recipient_id"] != "2468" || out["message_id"] == "" {
		t.Errorf("Messenger send: %d %v", status, out)
	}
	d := api.Deliveries()
	if len(d) != 2 || d[0].To != "447700900123" || d[0].Text != "hello" || d[1].Platform != "messenger" || d[1].To != "2468" {
		t.Errorf("deliveries %+v", d)
	}

	for name, tc := range map[string]struct {
		path, token string
		body        any
		status      int
		code        float64
	}{
		"wrong WhatsApp token":   {"/v23.0/1065/messages", "page-token", whatsAppText("447700900123", "x"), 401, 190},
		"unknown number id":      {"/v23.0/9999/messages", "wa-token", whatsAppText("447700900123", "x"), 401, 190},
		"no token":               {"/v23.0/me/messages", "", map[string]any{}, 401, 190},
		"no messaging_product":   {"/v23.0/1065/messages", "wa-token", map[string]any{"to": "1", "type": "text", "text": map[string]string{"body": "x"}}, 400, 100},
		"empty body text":        {"/v23.0/1065/messages", "wa-token", whatsAppText("447700900123", ""), 400, 100},
		"Messenger without type": {"/v23.0/me/messages", "page-token", map[string]any{"recipient": map[string]string{"id": "1"}, "message": map[string]string{"text": "x"}}, 400, 100},
	} {
		status, out := post(t, api, tc.path, tc.token, tc.body)
		if status != tc.status || errorCode(out) != tc.code {
			t.Errorf("%s: %d %v, want %d code %v", name, status, out, tc.status, tc.code)
		}
	}

	api.Fail(channeltest.Unavailable, channeltest.OutsideWindow)
	for _, want := range []float64{2, 131047} {
		if _, out := post(t, api, "/v23.0/1065/messages", "wa-token", whatsAppText("447700900123", "x")); errorCode(out) != want {
			t.Errorf("queued failure: %v, want code %v", out, want)
		}
	}
	if status, _ := post(t, api, "/v23.0/1065/messages", "wa-token", whatsAppText("447700900123", "again")); status != 200 || len(api.Deliveries()) != 3 {
		t.Errorf("after the failures: %d, %d deliveries", status, len(api.Deliveries()))
	}
}

func tlsConfig(api *channeltest.SendAPI) *tls.Config {
	return &tls.Config{RootCAs: api.RootCAs(), MinVersion: tls.VersionTLS12}
}
