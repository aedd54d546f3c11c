package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/sealclient"
	"github.com/sottohq/sotto/pkg/telemetry"
)

// relayEnv carries the relay process's settings (JSON) from the test to
// the child it starts.
const relayEnv = "SOTTO_TEST_SEALING_RELAY"

type relayConfig struct {
	Addr   string     `json:"addr"`
	Files  mtls.Files `json:"files"`
	OutDir string     `json:"out_dir"`
}

// TestSealingRelayProcess is not a test: it is the relay (a REST gateway)
// that TestGatewayRelaysCiphertextOnly runs in a process of its own, so
// that its memory can be searched apart from the conversation service's.
// It is grpc-gateway's generated handler for the conversation API on a
// runtime.ServeMux, dialling the service over mTLS as the gateway workload
// with pkg/dial (otelgrpc client spans), behind otelhttp, with every span
// kept in memory and a log that records each request's and response's
// whole body: the worst a relay could do with what passes through it.
func TestSealingRelayProcess(t *testing.T) {
	raw := os.Getenv(relayEnv)
	if raw == "" {
		t.Skip("run by TestGatewayRelaysCiphertextOnly")
	}
	var cfg relayConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(cfg.OutDir, "relay.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	logger := slog.New(slog.NewJSONHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	tel := &telemetry.Telemetry{Tracer: tp, Propagator: propagation.TraceContext{}}
	src, err := mtls.NewFileSource(cfg.Files, logger)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := dial.Service(cfg.Addr, src, "conversation", tel)
	if err != nil {
		t.Fatal(err)
	}
	mux := runtime.NewServeMux()
	if err := conversationv1.RegisterConversationServiceHandler(context.Background(), mux, conn); err != nil {
		t.Fatal(err)
	}
	root := http.NewServeMux()
	root.Handle("/v1/", otelhttp.NewHandler(bodyLog(logger, mux), "relay", otelhttp.WithTracerProvider(tp)))
	root.HandleFunc("/dump", func(w http.ResponseWriter, _ *http.Request) {
		b, err := json.Marshal(spans.GetSpans())
		if err == nil {
			err = os.WriteFile(filepath.Join(cfg.OutDir, "spans.json"), b, 0o600)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, strconv.Itoa(len(spans.GetSpans())))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("RELAY %s\n", ln.Addr())
	srv := &http.Server{Handler: root, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	// The parent closes our stdin when it has searched our memory.
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = srv.Close()
}

// bodyLog logs each request and response body whole.
func bodyLog(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		logger.Debug("relayed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.status),
			slog.String("request", string(body)), slog.String("response", rec.body.String()))
	})
}

type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }
func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// relay is a running relay process.
type relay struct {
	url   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   string
}

func startRelay(t *testing.T, h *harness) *relay {
	t.Helper()
	out := t.TempDir()
	cfg, err := json.Marshal(relayConfig{Addr: h.addr, Files: h.pki.Identity(t, "gateway"), OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSealingRelayProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), relayEnv+"="+string(cfg))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &relay{cmd: cmd, stdin: stdin, out: out}
	t.Cleanup(r.stop)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "RELAY "); ok {
			r.url = "http://" + addr
			break
		}
	}
	if r.url == "" {
		t.Fatal("the relay process did not start")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return r
}

func (r *relay) stop() {
	if r.stdin != nil {
		_ = r.stdin.Close()
		r.stdin = nil
		_ = r.cmd.Wait()
	}
}

// call sends one JSON request through the relay.
func (r *relay) call(ctx context.Context, token, method, path string, in, out proto.Message) error {
	var body io.Reader
	if in != nil {
		b, err := protojson.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.url+path, body)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return protojson.Unmarshal(b, out)
}

// restConversations is the conversation API over the relay's REST routes,
// for pkg/sealclient (which takes the gRPC client's interfaces).
type restConversations struct {
	r     *relay
	token string
}

func (c restConversations) GetSealingKeys(ctx context.Context, in *conversationv1.GetSealingKeysRequest, _ ...grpc.CallOption) (*conversationv1.GetSealingKeysResponse, error) {
	out := &conversationv1.GetSealingKeysResponse{}
	return out, c.r.call(ctx, "", http.MethodGet, "/v1/conversation-sealing-keys", nil, out)
}

func (c restConversations) PostMessage(ctx context.Context, in *conversationv1.PostMessageRequest, _ ...grpc.CallOption) (*conversationv1.PostMessageResponse, error) {
	out := &conversationv1.PostMessageResponse{}
	return out, c.r.call(ctx, c.token, http.MethodPost, "/v1/conversations/"+in.GetConversationId()+"/messages", in, out)
}

// memory reads every readable mapping of the process pid (its heap, its
// stacks, freed memory not yet reused), as a debugger would.
func memory(t *testing.T, pid int) []byte {
	t.Helper()
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		unreadable(t, "the relay's memory map", err)
	}
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		unreadable(t, "the relay's memory", err)
	}
	defer mem.Close()
	var all []byte
	for _, line := range strings.Split(string(maps), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[1][0] != 'r' || (len(f) >= 6 && strings.HasPrefix(f[5], "[v")) {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		buf := make([]byte, 1<<20)
		for off := start; off < end; off += uint64(len(buf)) {
			n, err := mem.ReadAt(buf[:min(uint64(len(buf)), end-off)], int64(off))
			all = append(all, buf[:n]...)
			if err != nil && !errors.Is(err, io.EOF) {
				break
			}
		}
	}
	if len(all) < 1<<20 {
		t.Fatalf("read only %d bytes of the relay's memory", len(all))
	}
	return all
}

// relayed is what the relay process held: its log, its spans and its
// memory.
type relayed struct{ logs, spans, mem []byte }

func (r *relay) collect(t *testing.T) relayed {
	t.Helper()
	resp, err := http.Get(r.url + "/dump")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(n) == "0" {
		t.Fatalf("relay spans: %d %s", resp.StatusCode, n)
	}
	var got relayed
	got.mem = memory(t, r.cmd.Process.Pid)
	r.stop()
	if got.logs, err = os.ReadFile(filepath.Join(r.out, "relay.log")); err != nil {
		t.Fatal(err)
	}
	if got.spans, err = os.ReadFile(filepath.Join(r.out, "spans.json")); err != nil {
		t.Fatal(err)
	}
	return got
}

// find lists where (logs, spans, memory) each of values is.
func (g relayed) find(values ...string) []string {
	var hits []string
	for _, v := range values {
		for name, b := range map[string][]byte{"log": g.logs, "spans": g.spans, "memory": g.mem} {
			if bytes.Contains(b, []byte(v)) {
				hits = append(hits, fmt.Sprintf("%s in the relay's %s", v, name))
			}
		}
	}
	return hits
}

// TestGatewayRelaysCiphertextOnly: a sealed message with canary values
// (an e-mail address and a card number, random per run) goes through a
// REST relay in its own process to the conversation service over mTLS.
// The service receives and tokenises the values; the relay's log of whole
// bodies, its spans and its entire memory hold none of them, nor the
// assistant's reply, which the client opens. The same relay passing the
// same kind of message unsealed holds the values in its log and memory,
// so the search does find what is there.
func TestGatewayRelaysCiphertextOnly(t *testing.T) {
	if os.Getenv(relayEnv) != "" {
		t.Skip("inside the relay process")
	}
	h := newHarness(t, sqliteDB(t))
	ctx := context.Background()
	token := func(subject string) string {
		tok, err := h.issuer.Issue(ctx, accesstoken.Claims{Subject: subject, Kind: accesstoken.KindCustomer, Tenant: "shop",
			AAL: accesstoken.AAL1, AMR: []string{"pwd"}, SessionID: "ses_" + subject, AuthTime: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	t.Run("sealed", func(t *testing.T) {
		c := newCanaries(t)
		r := startRelay(t, h)
		alice := token("cus_alice")
		conv := &conversationv1.CreateConversationResponse{}
		if err := r.call(ctx, alice, http.MethodPost, "/v1/conversations",
			&conversationv1.CreateConversationRequest{Channel: conversationv1.ChatChannel_CHAT_CHANNEL_WEB}, conv); err != nil {
			t.Fatal(err)
		}
		id := conv.GetConversation().GetConversationId()
		api := restConversations{r: r, token: alice}
		session, err := sealclient.New(api).NewSession()
		if err != nil {
			t.Fatal(err)
		}
		before := len(h.vault.requests())
		reply, _, err := session.Post(ctx, api, &conversationv1.PostMessageRequest{ConversationId: id}, c.message())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(reply, "[EMAIL_1]") {
			t.Fatalf("reply %q", reply)
		}
		reqs := h.vault.requests()[before:]
		received := map[string]bool{}
		for _, r := range reqs {
			for _, it := range r.GetItems() {
				received[it.GetValue()] = true
			}
		}
		if !received[c.email] || !received[c.cardDigits] && !received[c.card] {
			t.Fatalf("the service did not tokenise the sealed values: %v", reqs)
		}
		got := r.collect(t)
		if !bytes.Contains(got.logs, []byte(`\"ciphertext\"`)) || !bytes.Contains(got.logs, []byte(`\"sealedReply\"`)) {
			t.Fatalf("the relay's log does not show the sealed bodies it passed: %.2000s", got.logs)
		}
		if !bytes.Contains(got.spans, []byte("PostMessage")) {
			t.Fatalf("the relay recorded no span of the call: %.300s", got.spans)
		}
		if hits := got.find(c.email, c.cardDigits, c.card, c.email[:strings.IndexByte(c.email, '@')], reply); len(hits) > 0 {
			t.Errorf("the relay held plaintext: %v", hits)
		}
	})

	t.Run("control: unsealed", func(t *testing.T) {
		c := newCanaries(t)
		r := startRelay(t, h)
		alice := token("cus_alice")
		conv := &conversationv1.CreateConversationResponse{}
		if err := r.call(ctx, alice, http.MethodPost, "/v1/conversations",
			&conversationv1.CreateConversationRequest{Channel: conversationv1.ChatChannel_CHAT_CHANNEL_WEB}, conv); err != nil {
			t.Fatal(err)
		}
		resp := &conversationv1.PostMessageResponse{}
		id := conv.GetConversation().GetConversationId()
		if err := r.call(ctx, alice, http.MethodPost, "/v1/conversations/"+id+"/messages",
			&conversationv1.PostMessageRequest{ConversationId: id, Text: c.message()}, resp); err != nil {
			t.Fatal(err)
		}
		reply := resp.GetReply().GetText()
		if !strings.Contains(reply, "[EMAIL_1]") {
			t.Fatalf("reply %q", reply)
		}
		got := r.collect(t)
		for _, v := range []string{c.email, reply} {
			for _, where := range []string{"log", "memory"} {
				found := false
				for _, hit := range got.find(v) {
					found = found || strings.HasSuffix(hit, where)
				}
				if !found {
					t.Errorf("the search did not find %q, passed unsealed, in the relay's %s", v, where)
				}
			}
		}
	})
}

// unreadable skips where a process's memory cannot be read (no /proc, or
// ptrace restrictions), except in CI, which must run the search.
func unreadable(t *testing.T, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("cannot read %s: %v", what, err)
	}
	t.Skipf("cannot read %s: %v", what, err)
}
