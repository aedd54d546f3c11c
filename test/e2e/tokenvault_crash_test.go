package e2e

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/loopback"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/store/storetest"
)

// TestTokenvaultKill9LosesNothingAcknowledged is the crash test of the
// tokenisation vault: tokenvault is killed with SIGKILL in the middle of a
// concurrent tokenize load; after a restart on the same database and keyring,
// every token whose Tokenize call was acknowledged detokenizes to exactly its
// value. Calls that failed (because of the kill) make no promise and are not
// checked. Runs on both databases.
func TestTokenvaultKill9LosesNothingAcknowledged(t *testing.T) {
	bin := binDir(t)
	t.Run("sqlite", func(t *testing.T) {
		tvKill9Scenario(t, bin, "sqlite://"+filepath.Join(t.TempDir(), "tokenvault.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		// Created before any process starts, so it is dropped after they stop.
		tvKill9Scenario(t, bin, storetest.PostgresDSN(t))
	})
}

const (
	tvKill9Workers  = 8
	tvKill9Subjects = 50
	// tvKill9MinAcked is how many acknowledged tokens must exist before the kill.
	tvKill9MinAcked = 200
	tvKill9Purpose  = "order_support"
)

func tvKill9Scenario(t *testing.T, bin, dsn string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	dir := t.TempDir()
	ca, err := mtls.LoadOrCreateDevCA(filepath.Join(dir, "ca"), "sotto.local")
	if err != nil {
		t.Fatal(err)
	}
	workload := func(name string) mtls.Files {
		f, err := mtls.WriteWorkload(filepath.Join(dir, "certs", name), ca, spiffeid.RequireFromString("spiffe://sotto.local/"+name), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	tlsEnv := func(f mtls.Files) []string {
		return []string{"SOTTO_TRUST_DOMAIN=sotto.local", "SOTTO_TLS_CERT=" + f.Cert, "SOTTO_TLS_KEY=" + f.Key, "SOTTO_TLS_BUNDLE=" + f.Bundle}
	}

	// The audit service (detokenize is audited synchronously).
	auditAddr, auditAdmin := tvKill9FreeAddr(t), tvKill9FreeAddr(t)
	// No identity runs here: the services verify no person (the callers
	// are workloads), and an identity that is not there only degrades them.
	identityAddr := tvKill9FreeAddr(t)
	tvKill9Start(ctx, t, filepath.Join(bin, "audit"), "audit", "http://"+auditAdmin+"/readyz", append(tlsEnv(workload("audit")),
		"SOTTO_GRPC_ADDR="+auditAddr, "SOTTO_ADMIN_ADDR="+auditAdmin,
		"SOTTO_KEYRING_FILE="+filepath.Join(dir, "audit-keyring.json"),
		"SOTTO_DB_DSN=sqlite://"+filepath.Join(dir, "audit.db"),
		"SOTTO_AUDIT_ORIGIN=sotto.local/audit", "SOTTO_IDENTITY_ADDR="+identityAddr))

	// tokenvault: the same database and keyring across the restart; fresh
	// ports each time so the restart never waits for the old ones.
	tvFiles := workload("tokenvault")
	startTokenvault := func(name string) (*tvKill9Proc, string) {
		addr, admin := tvKill9FreeAddr(t), tvKill9FreeAddr(t)
		p := tvKill9Start(ctx, t, filepath.Join(bin, "tokenvault"), name, "http://"+admin+"/readyz", append(tlsEnv(tvFiles),
			"SOTTO_GRPC_ADDR="+addr, "SOTTO_ADMIN_ADDR="+admin,
			"SOTTO_KEYRING_FILE="+filepath.Join(dir, "tokenvault-keyring.json"),
			"SOTTO_DB_DSN="+dsn,
			"SOTTO_AUDIT_ADDR="+auditAddr, "SOTTO_IDENTITY_ADDR="+identityAddr))
		return p, addr
	}

	// The caller: conversation may tokenize, and detokenize names for order support.
	src, err := mtls.NewFileSource(workload("conversation"), nil)
	if err != nil {
		t.Fatal(err)
	}
	client := func(addr string) tokenvaultv1.TokenVaultServiceClient {
		conn, err := dial.Service(addr, src, "tokenvault", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return tokenvaultv1.NewTokenVaultServiceClient(conn)
	}

	tv1, addr1 := startTokenvault("tokenvault")
	acked, loadErrs := tvKill9Load(ctx, t, client(addr1), tv1)
	if len(acked) == 0 {
		t.Fatal("no Tokenize call was acknowledged before the kill; the test would pass vacuously")
	}
	t.Logf("%d tokens acknowledged before SIGKILL; %d Tokenize calls failed before the kill, %d after it",
		len(acked), loadErrs.before, loadErrs.after)
	if loadErrs.before > 0 {
		// Before the kill the service is healthy: any failure is a bug.
		t.Errorf("%d Tokenize calls failed before the kill; first: %v", loadErrs.before, loadErrs.firstBefore)
	}

	tv2, addr2 := startTokenvault("tokenvault (restarted)")
	tvKill9CheckAll(ctx, t, client(addr2), acked, tv2)
}

type tvKill9Errors struct {
	before, after int
	firstBefore   error
}

// tvKill9Load runs the tokenize load against tv, kills tv with SIGKILL once
// at least tvKill9MinAcked tokens are acknowledged (with the load still
// running), and returns every acknowledged token with its value.
func tvKill9Load(ctx context.Context, t *testing.T, tv tokenvaultv1.TokenVaultServiceClient, p *tvKill9Proc) (map[string]string, tvKill9Errors) {
	t.Helper()
	var (
		mu        sync.Mutex
		acked     = map[string]string{}
		conflicts []string // a token acknowledged twice with different values
		errsSeen  tvKill9Errors
		killed    atomic.Bool
		enough    = make(chan struct{})
		enoughOne sync.Once
	)
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	for w := 0; w < tvKill9Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for loadCtx.Err() == nil {
				req := &tokenvaultv1.TokenizeRequest{Subject: fmt.Sprintf("cus_%d", rand.IntN(tvKill9Subjects))}
				for n := 1 + rand.IntN(5); n > 0; n-- {
					req.Items = append(req.Items, &tokenvaultv1.TokenizeItem{
						Value:    "Name " + tvKill9RandomHex(),
						DataType: tokenvaultv1.DataType_DATA_TYPE_NAME,
					})
				}
				callCtx, cancel := context.WithTimeout(loadCtx, 10*time.Second)
				resp, err := tv.Tokenize(callCtx, req)
				cancel()
				mu.Lock()
				switch {
				case err != nil && killed.Load():
					errsSeen.after++
				case err != nil:
					errsSeen.before++
					if errsSeen.firstBefore == nil {
						errsSeen.firstBefore = err
					}
				case len(resp.GetResults()) != len(req.Items):
					conflicts = append(conflicts, fmt.Sprintf("Tokenize returned %d results for %d items", len(resp.GetResults()), len(req.Items)))
				default:
					// Acknowledged: each token must now survive anything.
					for i, r := range resp.GetResults() {
						tok := r.GetToken()
						if tok == "" {
							conflicts = append(conflicts, fmt.Sprintf("item %d of an acknowledged call failed: %v", i, r.GetError()))
							continue
						}
						if prev, ok := acked[tok]; ok && prev != req.Items[i].Value {
							conflicts = append(conflicts, fmt.Sprintf("token %s issued for two values", tok))
						}
						acked[tok] = req.Items[i].Value
					}
					if len(acked) >= tvKill9MinAcked {
						enoughOne.Do(func() { close(enough) })
					}
				}
				mu.Unlock()
				if err != nil && killed.Load() {
					return // the vault is gone; the load is over
				}
			}
		}()
	}

	select {
	case <-enough:
	case <-p.done:
		stopLoad()
		wg.Wait()
		t.Fatalf("tokenvault exited during the load (%v):\n%s", p.err, p.out.String())
	case <-ctx.Done():
		stopLoad()
		wg.Wait()
		mu.Lock()
		n, first := len(acked), errsSeen.firstBefore
		mu.Unlock()
		t.Fatalf("only %d tokens acknowledged before the deadline (first error: %v):\n%s", n, first, p.out.String())
	}
	// The workers are still issuing calls: kill the vault under them.
	killed.Store(true)
	p.kill9(t)
	stopLoad()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(conflicts) > 0 {
		t.Fatalf("the load saw %d inconsistent acknowledged responses, e.g. %s", len(conflicts), conflicts[0])
	}
	out := make(map[string]string, len(acked))
	for k, v := range acked {
		out[k] = v
	}
	return out, errsSeen
}

// tvKill9CheckAll detokenizes every acknowledged token and requires exactly
// its value, allowed by policy, with no error.
func tvKill9CheckAll(ctx context.Context, t *testing.T, tv tokenvaultv1.TokenVaultServiceClient, acked map[string]string, p *tvKill9Proc) {
	t.Helper()
	toks := make([]string, 0, len(acked))
	for tok := range acked {
		toks = append(toks, tok)
	}
	sort.Strings(toks)
	var lost []string
	checked := 0
	for start := 0; start < len(toks); start += 1000 {
		batch := toks[start:min(start+1000, len(toks))]
		resp, err := tv.Detokenize(ctx, &tokenvaultv1.DetokenizeRequest{Tokens: batch, Purpose: tvKill9Purpose})
		if err != nil {
			t.Fatalf("detokenize after restart: %v\n%s", err, p.out.String())
		}
		if len(resp.GetResults()) != len(batch) {
			t.Fatalf("detokenize returned %d results for %d tokens", len(resp.GetResults()), len(batch))
		}
		for i, r := range resp.GetResults() {
			tok, want := batch[i], acked[batch[i]]
			switch {
			case r.GetToken() != tok:
				lost = append(lost, fmt.Sprintf("result %d names token %q, want %q", i, r.GetToken(), tok))
			case r.GetError() != nil:
				lost = append(lost, fmt.Sprintf("%s: %s (%s)", tok, r.GetError().GetReason(), r.GetError().GetMessage()))
			case !r.GetDecision().GetAllowed():
				lost = append(lost, fmt.Sprintf("%s: not allowed (rule %q, reason %q)", tok, r.GetDecision().GetRule(), r.GetDecision().GetReason()))
			case r.GetValue() != want:
				lost = append(lost, fmt.Sprintf("%s: value %q, want %q", tok, r.GetValue(), want))
			case r.GetDataType() != tokenvaultv1.DataType_DATA_TYPE_NAME:
				lost = append(lost, fmt.Sprintf("%s: data type %v, want NAME", tok, r.GetDataType()))
			default:
				checked++
			}
		}
	}
	if len(lost) > 0 {
		show := lost[:min(len(lost), 20)]
		t.Fatalf("%d of %d acknowledged tokens did not survive SIGKILL and restart:\n%s", len(lost), len(toks), tvKill9Lines(show))
	}
	if checked != len(acked) || checked == 0 {
		t.Fatalf("checked %d of %d acknowledged tokens", checked, len(acked))
	}
	t.Logf("all %d acknowledged tokens detokenize to their values after SIGKILL and restart", checked)
}

func tvKill9Lines(lines []string) string {
	s := ""
	for _, l := range lines {
		s += "  " + l + "\n"
	}
	return s
}

// tvKill9Proc is one service binary started by the test.
type tvKill9Proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, valid after done
}

// tvKill9Start starts a service binary with only the given SOTTO_ settings
// (nothing inherited that could switch it to Vault or another database) and
// waits until readyURL answers 200. The process is stopped when the test ends.
func tvKill9Start(ctx context.Context, t *testing.T, path, name, readyURL string, env []string) *tvKill9Proc {
	t.Helper()
	p := &tvKill9Proc{name: name, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(path)
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.stop(t) })

	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if resp, err := client.Get(readyURL); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before it was ready (%v):\n%s", name, p.err, p.out.String())
		case <-ctx.Done():
			t.Fatalf("%s not ready before the deadline:\n%s", name, p.out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// kill9 sends SIGKILL and waits for the process to be gone.
func (p *tvKill9Proc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill %s: %v", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s still running 10s after SIGKILL", p.name)
	}
	var ee *exec.ExitError
	if !errors.As(p.err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("%s exited with %v before the SIGKILL landed:\n%s", p.name, p.err, p.out.String())
	}
}

// stop ends the process at cleanup: SIGTERM, then SIGKILL if it lingers.
func (p *tvKill9Proc) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop on SIGTERM; killed", p.name)
	}
	if t.Failed() {
		t.Logf("%s output:\n%s", p.name, p.out.String())
	}
}

func tvKill9FreeAddr(t *testing.T) string {
	t.Helper()
	addr, err := loopback.Next()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func tvKill9RandomHex() string {
	b := make([]byte, 8)
	crand.Read(b)
	return hex.EncodeToString(b)
}
