package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// watchFrom opens the event stream as watch does, for the client that a
// trusted proxy names in X-Forwarded-For.
func (s *chatStand) watchFrom(t *testing.T, token, id, client string) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.srv.URL+"/v1/conversations/"+id+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Forwarded-For", client)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &eventStream{resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel}
}

// TestEventStreamsBoundedPerAddress: one client address holds at most
// MaxStreamsPerAddress streams however many visitor sessions it mints (429
// TOO_MANY_STREAMS beyond, the service not asked); IPv6 addresses count
// by /64; another address is not affected; a closed stream frees its
// place. Fails without the per-address count (each new visitor is a new
// subject, so the per-subject bound never applies).
func TestEventStreamsBoundedPerAddress(t *testing.T) {
	s := newChatStand(t, Options{MaxStreamsPerAddress: 2,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	type visitor struct{ token, id string }
	var vs []visitor
	for range 4 {
		tok := s.visitor(t)
		vs = append(vs, visitor{tok, s.open(t, tok)})
	}
	for _, client := range []string{"198.51.100.7", "2001:db8:1:2::1"} {
		var open []*eventStream
		for i, v := range vs[:2] {
			from := client
			if i == 1 && strings.Contains(client, ":") {
				from = "2001:db8:1:2:ffff::9" // the same /64
			}
			st := s.watchFrom(t, v.token, v.id, from)
			if st.resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: stream %d: %d", client, i, st.resp.StatusCode)
			}
			s.running(t)
			open = append(open, st)
		}
		third := s.watchFrom(t, vs[2].token, vs[2].id, client)
		if third.resp.StatusCode == http.StatusOK {
			t.Fatalf("%s: a third visitor's stream from one address began, want 429", client)
		}
		body, _ := io.ReadAll(third.resp.Body)
		var out map[string]any
		json.Unmarshal(body, &out)
		if third.resp.StatusCode != http.StatusTooManyRequests || reason(out) != reasonTooManyStreams || third.resp.Header.Get("Retry-After") == "" {
			t.Fatalf("%s: a third visitor's stream from one address: %d %s, want 429 %s", client, third.resp.StatusCode, body, reasonTooManyStreams)
		}
		if st := s.watchFrom(t, vs[3].token, vs[3].id, "198.51.100.8"); st.resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: another address: %d", client, st.resp.StatusCode)
		} else {
			s.running(t)
			st.cancel()
			<-s.chat.watchEnded
		}
		for _, st := range open {
			st.cancel()
			<-s.chat.watchEnded
		}
	}
	// The places are given back once the streams have ended.
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := s.watchFrom(t, vs[2].token, vs[2].id, "198.51.100.7")
		if st.resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("closed streams' places were not freed: %d", st.resp.StatusCode)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestEventStreamCutUpstreamIsAReconnect: when the service's side of the
// watch goes away (Unavailable: a replica stopping, a connection at its
// maximum age) the stream ends as at its lifetime, with a reconnect line
// and no error event for the widget to show; the message before the cut
// carries its id so the reconnect resumes after it. Fails with the cut
// sent on as "event: error".
func TestEventStreamCutUpstreamIsAReconnect(t *testing.T) {
	s := newChatStand(t, Options{SSEHeartbeat: time.Hour})
	vis := s.visitor(t)
	id := s.open(t, vis)
	if rec := s.post(t, vis, id, "hello"); rec.Code != http.StatusOK {
		t.Fatalf("post: %d %s", rec.Code, rec.Body)
	}
	s.chat.cutWatches.Store(true)
	st := s.watch(t, vis, id, "", "")
	if st.resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", st.resp.StatusCode)
	}
	body, err := io.ReadAll(st.resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "\nevent: message\n") || !strings.HasSuffix(string(body), ": upstream went away, reconnect\n\n") ||
		strings.Contains(string(body), "event: error") || strings.Contains(string(body), "event: end") {
		t.Fatalf("a cut upstream stream, want its message then a reconnect line only: %q", body)
	}
}

// TestEventStreamLifetime: a stream ends when its lifetime is over, without
// "end" (the client is to reconnect), and the gRPC watch behind it is
// cancelled; reconnecting with Last-Event-ID resumes after the last
// message seen. Fails without the lifetime (the stream stays open until
// the test cuts it, with no reconnect line).
func TestEventStreamLifetime(t *testing.T) {
	s := newChatStand(t, Options{SSEMaxLifetime: 200 * time.Millisecond, SSEHeartbeat: time.Hour})
	vis := s.visitor(t)
	id := s.open(t, vis)
	if rec := s.post(t, vis, id, "hello"); rec.Code != http.StatusOK {
		t.Fatalf("post: %d %s", rec.Code, rec.Body)
	}
	st := s.watch(t, vis, id, "", "")
	if st.resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", st.resp.StatusCode)
	}
	s.running(t)
	body := string(readSome(st))
	if !strings.Contains(body, ": lifetime over, reconnect\n\n") || strings.Contains(body, "event: end") {
		t.Fatalf("the stream did not end at its lifetime as a reconnect: %q", body)
	}
	if err := <-s.chat.watchEnded; err == nil {
		t.Fatal("the service's watch was not cancelled at the stream's lifetime")
	}
	var last string
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			last = v
		}
	}
	if last == "" {
		t.Fatalf("no message before the lifetime ended: %q", body)
	}
	if rec := s.post(t, vis, id, "again"); rec.Code != http.StatusOK {
		t.Fatalf("post: %d %s", rec.Code, rec.Body)
	}
	again := s.watch(t, vis, id, last, "")
	if again.resp.StatusCode != http.StatusOK {
		t.Fatalf("reconnect: %d", again.resp.StatusCode)
	}
	if _, text := messageText(t, again.nextEvent(t)); text != "again" {
		t.Fatalf("after reconnecting: %q, want the message after the last seen", text)
	}
}
