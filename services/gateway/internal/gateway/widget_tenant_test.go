package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestWidgetOriginBoundToItsShop: with origins per shop, a page of shop
// beta cannot open a visitor session for shop alpha, nor post to, read or
// follow alpha's chat with a token of alpha's, while alpha's page can and
// the widget itself (the gateway's own origin) and callers without an
// Origin are not affected. Refused requests reach no service. Seen failing
// with originBound returning true (beta's visitor session for alpha was
// 200, its post reached the service).
func TestWidgetOriginBoundToItsShop(t *testing.T) {
	const alpha, beta = "https://alpha.example", "https://beta.example"
	s := newChatStand(t, Options{WidgetOrigins: []string{"alpha=" + alpha, "beta=" + beta}})
	refused := func(what string, rec interface {
		Result() *http.Response
	}) {
		t.Helper()
		r := rec.Result()
		var out map[string]any
		json.NewDecoder(r.Body).Decode(&out)
		if r.StatusCode != http.StatusForbidden || reason(out) != reasonOriginRejected {
			t.Errorf("%s: %d %v, want 403 %s", what, r.StatusCode, out, reasonOriginRejected)
		}
	}
	session := func(origin, body string) (int, string) {
		rec := s.call(t, http.MethodPost, "/v1/visitor-sessions", "", body, "Origin", origin)
		var out struct {
			AccessToken string `json:"access_token"`
		}
		json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out.AccessToken
	}

	calls := s.identity.calls.Load()
	refused("beta's page asks a visitor session for alpha", s.call(t, http.MethodPost, "/v1/visitor-sessions", "", `{"tenant":"alpha"}`, "Origin", beta))
	refused("a body that does not parse", s.call(t, http.MethodPost, "/v1/visitor-sessions", "", `{"tenant":"beta","tenant":"alpha"}`, "Origin", beta))
	refused("no shop named (the default shop)", s.call(t, http.MethodPost, "/v1/visitor-sessions", "", `{}`, "Origin", beta))
	if n := s.identity.calls.Load(); n != calls {
		t.Errorf("%d refused visitor sessions reached identity", n-calls)
	}
	code, tok := session(alpha, `{"tenant":"alpha"}`)
	if code != http.StatusOK || tok == "" {
		t.Fatalf("alpha's page, alpha's visitor session: %d", code)
	}
	code, betaTok := session(beta, `{"tenant":"beta"}`)
	if code != http.StatusOK || betaTok == "" {
		t.Fatalf("beta's page, beta's visitor session: %d", code)
	}
	// A token of the page's own shop does not license a session for another
	// (seen failing when the body was read only without a token).
	calls = s.identity.calls.Load()
	refused("beta's page, with beta's token, asks a visitor session for alpha", s.call(t, http.MethodPost, "/v1/visitor-sessions", betaTok, `{"tenant":"alpha"}`, "Origin", beta))
	if n := s.identity.calls.Load(); n != calls {
		t.Errorf("a refused visitor session with a token reached identity")
	}
	rec := s.call(t, http.MethodPost, "/v1/conversations", tok, `{"channel":"CHAT_CHANNEL_WEB"}`, "Origin", alpha)
	var opened struct {
		Conversation struct {
			ID string `json:"conversation_id"`
		} `json:"conversation"`
	}
	if json.Unmarshal(rec.Body.Bytes(), &opened) != nil || opened.Conversation.ID == "" {
		t.Fatalf("alpha's page opens a chat: %d %s", rec.Code, rec.Body)
	}
	id := opened.Conversation.ID

	before := s.chat.posts.Load()
	refused("beta's page posts to alpha's chat", s.call(t, http.MethodPost, "/v1/conversations/"+id+"/messages", tok, `{"text":"hi"}`, "Origin", beta))
	refused("beta's page opens a chat for alpha", s.call(t, http.MethodPost, "/v1/conversations", tok, `{"channel":"CHAT_CHANNEL_WEB"}`, "Origin", beta))
	refused("beta's page reads alpha's chat", s.call(t, http.MethodGet, "/v1/conversations/"+id, tok, "", "Origin", beta))
	// Bounded: without the check the stream would stay open.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev := httptest.NewRequestWithContext(ctx, http.MethodGet, "/v1/conversations/"+id+"/events", nil)
	ev.Header.Set("Authorization", "Bearer "+tok)
	ev.Header.Set("Origin", beta)
	evRec := httptest.NewRecorder()
	s.h.ServeHTTP(evRec, ev)
	refused("beta's page follows alpha's chat", evRec)
	if n := s.chat.posts.Load(); n != before {
		t.Errorf("%d refused posts reached the service", n-before)
	}

	// Alpha's page, the framed widget (the gateway's own origin) and a
	// caller without an Origin go on.
	if rec := s.call(t, http.MethodPost, "/v1/conversations/"+id+"/messages", tok, `{"text":"hi"}`, "Origin", alpha); rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != alpha {
		t.Errorf("alpha's page posts: %d %s", rec.Code, rec.Body)
	}
	if rec := s.call(t, http.MethodPost, "/v1/conversations/"+id+"/messages", tok, `{"text":"hi"}`, "Origin", "http://example.com"); rec.Code != http.StatusOK {
		t.Errorf("the widget on the gateway's origin posts: %d %s", rec.Code, rec.Body)
	}
	if rec := s.call(t, http.MethodPost, "/v1/conversations/"+id+"/messages", tok, `{"text":"hi"}`); rec.Code != http.StatusOK {
		t.Errorf("no Origin: %d %s", rec.Code, rec.Body)
	}
	// A preflight cannot know the shop: any listed page gets its answer.
	req := s.call(t, http.MethodOptions, "/v1/conversations", "", "", "Origin", beta, "Access-Control-Request-Method", "POST")
	if req.Code != http.StatusNoContent {
		t.Errorf("beta's preflight: %d", req.Code)
	}
}

// TestWidgetOriginForEveryShop: a bare origin (the setting before it was per
// shop) still acts for every shop.
func TestWidgetOriginForEveryShop(t *testing.T) {
	s := newChatStand(t, Options{WidgetOrigins: []string{widgetOrigin}})
	for _, tenant := range []string{"alpha", "beta"} {
		if rec := s.call(t, http.MethodPost, "/v1/visitor-sessions", "", `{"tenant":"`+tenant+`"}`, "Origin", widgetOrigin); rec.Code != http.StatusOK {
			t.Errorf("%s from a page listed for every shop: %d %s", tenant, rec.Code, rec.Body)
		}
	}
}
