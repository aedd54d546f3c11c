// Package modeltest is an OpenAI-compatible chat-completions server for
// tests: the real protocol (POST /v1/chat/completions, JSON in, a JSON
// completion or Server-Sent Events of chat.completion.chunk objects out,
// tool calls streamed in pieces, "data: [DONE]"), answering by a fixed
// script. It fails the test if a request body ever holds a canary value:
// the model must see placeholders only.
package modeltest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// Mode is how the server answers.
type Mode int

const (
	// Answer by the script (the default).
	Answer Mode = iota
	// Fail with 500 and an OpenAI error body.
	Fail
	// Hang until the client gives up (or the test ends).
	Hang
)

// Server is the test server.
type Server struct {
	t        testing.TB
	srv      *httptest.Server
	canaries []string
	release  chan struct{}

	mu       sync.Mutex
	mode     Mode
	bodies   [][]byte
	auth     []string
	toolSeen []string
}

// New starts a server that fails t if any request body holds one of
// canaries. Its URL (URL()) is the API base, ending in /v1.
func New(t testing.TB, canaries ...string) *Server {
	s := &Server{t: t, canaries: canaries, release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.completions)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(func() { close(s.release); s.srv.Close() })
	return s
}

// URL is the API base.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Host is host:port.
func (s *Server) Host() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// SetMode changes how the next requests are answered.
func (s *Server) SetMode(m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
}

// Requests is how many requests arrived.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

// Bodies are the request bodies received, in order.
func (s *Server) Bodies() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.bodies...)
}

// Authorization are the Authorization headers received, in order.
func (s *Server) Authorization() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auth...)
}

// ToolResults are the tool messages the client sent back, in order.
func (s *Server) ToolResults() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.toolSeen...)
}

type message struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCallID string          `json:"tool_call_id"`
}

func (m message) text() string {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(m.Content, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

type request struct {
	Model    string            `json:"model"`
	Messages []message         `json:"messages"`
	Stream   bool              `json:"stream"`
	Tools    []json.RawMessage `json:"tools"`
}

var (
	numberRE      = regexp.MustCompile(`[0-9]{5,10}`)
	placeholderRE = regexp.MustCompile(`\[[A-Z]+_[0-9]+\]`)
)

func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	for _, c := range s.canaries {
		if c != "" && strings.Contains(string(body), c) {
			s.t.Errorf("the model server received the canary value %q", c)
		}
	}
	var req request
	if err := json.Unmarshal(body, &req); err != nil || req.Model == "" || len(req.Messages) == 0 {
		s.t.Errorf("the model server got a malformed request: %v", err)
		http.Error(w, `{"error":{"message":"bad request","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, body)
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	mode := s.mode
	last := req.Messages[len(req.Messages)-1]
	if last.Role == "tool" {
		s.toolSeen = append(s.toolSeen, last.text())
	}
	s.mu.Unlock()
	switch mode {
	case Fail:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"error":{"message":"the model is overloaded","type":"server_error"}}`)
		return
	case Hang:
		select {
		case <-r.Context().Done():
		case <-s.release:
		}
		return
	}
	content, call := script(req, last)
	if !req.Stream {
		writeCompletion(w, req.Model, content, call)
		return
	}
	writeStream(w, req.Model, content, call)
}

// toolCall is a function call the script makes.
type toolCall struct{ name, arguments string }

// script: after a tool result, say what it says; for "#leak", invent a
// placeholder and a value; for a message naming an order number (with
// tools offered), call a tool; otherwise answer, naming the placeholders
// the customer used.
func script(req request, last message) (string, *toolCall) {
	if last.Role == "tool" {
		var res map[string]string
		_ = json.Unmarshal([]byte(last.text()), &res)
		switch {
		case res["error"] != "":
			return "Sorry, that did not work: " + res["error"] + ".", nil
		case res["return_number"] != "":
			return fmt.Sprintf("Your return %s for order %s is %s.", res["return_number"], res["order_number"], res["status"]), nil
		default:
			return fmt.Sprintf("Your order %s is %s (carrier %s).", res["order_number"], res["status"], res["carrier"]), nil
		}
	}
	text := last.text()
	if strings.Contains(text, "#flood") {
		// A server that streams without end (well: 200 KB).
		return strings.Repeat("blah ", 40000), nil
	}
	if strings.Contains(text, "#leak") {
		// A model misbehaving: a placeholder the conversation never gave
		// out and a value it cannot have seen.
		return "Write to [EMAIL_7] or to leaked.person@example.com.", nil
	}
	if n := numberRE.FindString(text); n != "" && len(req.Tools) > 0 {
		name := "lookup_order"
		if strings.Contains(strings.ToLower(text), "return") {
			name = "start_return"
		}
		return "", &toolCall{name: name, arguments: `{"order_number":"` + n + `"}`}
	}
	reply := "Thanks for your message, I am the model."
	if ph := placeholderRE.FindAllString(text, -1); len(ph) > 0 {
		reply += " I noted " + strings.Join(ph, " and ") + "."
	}
	return reply, nil
}

func writeCompletion(w http.ResponseWriter, model, content string, call *toolCall) {
	msg := map[string]any{"role": "assistant", "content": content}
	finish := "stop"
	if call != nil {
		msg["content"] = nil
		msg["tool_calls"] = []any{map[string]any{"id": "call_1", "type": "function",
			"function": map[string]any{"name": call.name, "arguments": call.arguments}}}
		finish = "tool_calls"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id": "chatcmpl-test", "object": "chat.completion", "created": 1,
		"model": model, "choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}}})
}

// writeStream sends the answer as chunks: the role, the content in pieces
// of a few bytes (or the tool call's name, then its arguments in pieces),
// the finish reason, then [DONE].
func writeStream(w http.ResponseWriter, model, content string, call *toolCall) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	flusher, _ := w.(http.Flusher)
	send := func(delta map[string]any, finish any) {
		b, _ := json.Marshal(map[string]any{"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1,
			"model": model, "choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}})
		_, _ = fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	send(map[string]any{"role": "assistant", "content": ""}, nil)
	finish := "stop"
	if call != nil {
		send(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "id": "call_1", "type": "function",
			"function": map[string]any{"name": call.name, "arguments": ""}}}}, nil)
		for _, piece := range pieces(call.arguments, 7) {
			send(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "function": map[string]any{"arguments": piece}}}}, nil)
		}
		finish = "tool_calls"
	} else {
		for _, piece := range pieces(content, 9) {
			send(map[string]any{"content": piece}, nil)
		}
	}
	send(map[string]any{}, finish)
	_, _ = io.WriteString(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}

// pieces cuts s into pieces of about n bytes, on rune boundaries.
func pieces(s string, n int) []string {
	var out []string
	for len(s) > 0 {
		i := min(n, len(s))
		for i < len(s) && !utf8Start(s[i]) {
			i++
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
