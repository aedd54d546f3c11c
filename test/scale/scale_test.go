// Package scale runs several replicas of every service with the real
// binaries against one PostgreSQL and a real Vault (issue 15, ADR 0017):
// load through the gateways spreads over the replicas (pkg/dial's round
// robin), kill -9 of a replica of each service under load loses no
// acknowledged write and the clients recover, the audit log's sequencer
// fails over to its standby and the log verifies, two crmsync replicas
// deliver each change to the HubSpot emulator once and lose none to a kill
// -9, a consent withdrawal through one consent replica is refused through
// the other and by crmsync, and an erasure made through one tokenvault
// replica is honoured by the other.
//
// `sotto dev up` prepares the suite (certificates, Vault keys, databases,
// the first administrator); the test then stops it and runs the replicas
// itself, each with the environment dev up gave that service, its own
// ports, and the list of every replica of each service it calls.
package scale

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/loopback"
	"github.com/sottohq/sotto/pkg/secrets"
	"github.com/sottohq/sotto/pkg/store/storetest"
	sottosuite "github.com/sottohq/sotto/pkg/suite"
	"github.com/sottohq/sotto/pkg/vaulttest"
	"github.com/sottohq/sotto/pkg/wait"
	"github.com/sottohq/sotto/test/devsuite"
)

// proc is one running replica.
type proc struct {
	name  string
	cmd   *exec.Cmd
	grpc  string // gRPC address (the gateway: its HTTP address is httpURL)
	admin string
	http  string
	done  chan struct{}
	log   *devsuite.SyncBuffer
}

func (p *proc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %s: %v", p.name, err)
	}
	<-p.done
}

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// envAddrs lists every host:port value in env.
func envAddrs(env []string) []string {
	var out []string
	for _, kv := range env {
		_, v, _ := strings.Cut(kv, "=")
		for _, addr := range strings.Split(v, ",") {
			if _, port, err := net.SplitHostPort(addr); err == nil && port != "" {
				out = append(out, addr)
			}
		}
	}
	return out
}

// childEnvs reads the environment dev up gave each service it runs (the
// children of pid), by binary name.
func childEnvs(t *testing.T, pid int) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		rest := string(stat[bytes.LastIndexByte(stat, ')')+1:])
		fields := strings.Fields(rest)
		if len(fields) < 2 || fields[1] != strconv.Itoa(pid) {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(child), "environ"))
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(exe)] = strings.Split(strings.TrimRight(string(env), "\x00"), "\x00")
	}
	return out
}

func setEnv(env []string, key, value string) []string {
	env = slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
	return append(env, key+"="+value)
}

func envOf(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// cluster is every replica of every service.
type cluster struct {
	t        *testing.T
	bin      string
	replicas map[string][]*proc
}

// addrs is the list a caller gets for service: every replica's address.
func (c *cluster) addrs(service string) string {
	var out []string
	for _, p := range c.replicas[service] {
		out = append(out, p.grpc)
	}
	return strings.Join(out, ",")
}

func (c *cluster) start(name string, env []string) *proc {
	t := c.t
	p := &proc{name: name, done: make(chan struct{}), log: &devsuite.SyncBuffer{}}
	p.cmd = exec.Command(filepath.Join(c.bin, name))
	p.cmd.Env = env
	// A process's relative paths (identity's dev mailbox without SQLite)
	// land in a directory of the test's, not in the repository.
	p.cmd.Dir = t.TempDir()
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.admin = envOf(env, "SOTTO_ADMIN_ADDR")
	p.grpc = envOf(env, "SOTTO_GRPC_ADDR")
	if name == "gateway" {
		p.http = "http://" + envOf(env, "SOTTO_HTTP_ADDR")
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		if p.alive() {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(20 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
		if t.Failed() {
			t.Logf("--- %s %s log tail:\n%s", name, p.grpc, tail(p.log.String(), 1500))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// waitUp waits until p's /healthz answers (and, unless standbyOK, /readyz).
func waitUp(t *testing.T, p *proc, readyPath string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if !p.alive() {
			t.Fatalf("%s exited:\n%s", p.name, tail(p.log.String(), 1500))
		}
		resp, err := http.Get("http://" + p.admin + readyPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered %s:\n%s", p.name, readyPath, tail(p.log.String(), 1500))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// served counts the gRPC calls of method the replica answered, from its
// OpenTelemetry server metrics on /metrics.
func served(t *testing.T, p *proc, method string) int {
	t.Helper()
	resp, err := http.Get("http://" + p.admin + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	total := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		// The method label is "Tokenize" or, in newer semantic conventions,
		// "<package>.<Service>/Tokenize".
		if !strings.HasPrefix(line, "rpc_server_") || !strings.Contains(line, "_count{") ||
			!(strings.Contains(line, `"`+method+`"`) || strings.Contains(line, `/`+method+`"`)) {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			total += v
		}
	}
	return int(total)
}

// order is the manifest's start order (callees first).
var order = []string{"audit", "tokenvault", "identity", "consent", "conversation", "crmsync", "gateway"}

// clusterOptions adds settings to every service's environment (dev up
// passes each service its own) and per-shop secrets (pkg/secrets paths),
// written to Vault KV or, with local keys, to the secrets file.
type clusterOptions struct {
	env     []string
	secrets map[string]map[string]string
}

// startCluster prepares a suite with dev up and runs n replicas of each
// service from it. Keys are in a real Vault; SOTTO_SCALE_LOCAL_KEYS=1 uses
// the local keyrings instead (a benchmark's choice, never CI's).
func startCluster(t *testing.T, n int, opts clusterOptions) (*devsuite.Suite, *cluster) {
	bin := devsuite.BinDir(t)
	env := slices.Clone(opts.env)
	var v *vaulttest.Server
	if os.Getenv("SOTTO_SCALE_LOCAL_KEYS") == "" {
		v = vaulttest.Start(t)
		env = append(env, "SOTTO_VAULT_ADDR="+v.Addr, "SOTTO_VAULT_TOKEN=")
		for path, secret := range opts.secrets {
			data := map[string]any{}
			for k, val := range secret {
				data[k] = val
			}
			if _, err := v.Client.KVv2("secret").Put(context.Background(), path, data); err != nil {
				t.Fatalf("vault kv put %s: %v", path, err)
			}
		}
	}
	for _, svc := range sottosuite.MustLoad().Services {
		if v != nil {
			// Each service with a token holding only its own deploy/vault policy.
			env = append(env, svc.EnvPrefix()+"VAULT_TOKEN="+v.ClientWithPolicies(t, svc.Name).Token())
		}
		// A database of its own per service, all on the one server.
		env = append(env, svc.EnvPrefix()+"DB_DSN="+storetest.PostgresDSN(t))
	}
	state := t.TempDir()
	s := devsuite.Start(t, bin, state, env...)
	envs := childEnvs(t, s.PID())
	for _, name := range order {
		if envs[name] == nil {
			t.Fatalf("dev up runs no %s (found %d services)", name, len(envs))
		}
	}
	s.Stop()
	if v == nil && len(opts.secrets) > 0 {
		file := envOf(envs["crmsync"], "SOTTO_SECRETS_FILE")
		all := map[string]map[string]string{}
		if b, err := os.ReadFile(file); err == nil {
			if err := json.Unmarshal(b, &all); err != nil {
				t.Fatal(err)
			}
		}
		maps.Copy(all, opts.secrets)
		if err := secrets.WriteFile(file, all); err != nil {
			t.Fatal(err)
		}
	}

	c := &cluster{t: t, bin: bin, replicas: map[string][]*proc{}}
	// Every replica's ports first: callers get the full lists.
	type plan struct{ env []string }
	plans := map[string][]plan{}
	// A port the kernel reports free is free only until it is given out:
	// dev up's addresses (the first replicas') were released when it
	// stopped and may be offered again, so they are never handed out.
	var taken []string
	for _, e := range envs {
		taken = append(taken, envAddrs(e)...)
	}
	pick := loopback.Distinct(loopback.FreeAddr, taken...)
	free := func() string {
		a, err := pick()
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, name := range order {
		for i := range n {
			e := slices.Clone(envs[name])
			if i > 0 {
				e = setEnv(e, "SOTTO_ADMIN_ADDR", free())
				if envOf(e, "SOTTO_GRPC_ADDR") != "" {
					e = setEnv(e, "SOTTO_GRPC_ADDR", free())
				}
				if name == "gateway" {
					e = setEnv(e, "SOTTO_HTTP_ADDR", free())
					e = setEnv(e, "SOTTO_GATEWAY_GRPC_ADDR", free())
				}
				if envOf(e, "SOTTO_PPROF_ADDR") != "" {
					e = setEnv(e, "SOTTO_PPROF_ADDR", free())
				}
			}
			plans[name] = append(plans[name], plan{env: e})
		}
	}
	lists := map[string]string{}
	for _, name := range order {
		var as []string
		for _, p := range plans[name] {
			if a := envOf(p.env, "SOTTO_GRPC_ADDR"); a != "" {
				as = append(as, a)
			}
		}
		lists[name] = strings.Join(as, ",")
	}
	for _, name := range order {
		for i, p := range plans[name] {
			e := p.env
			for callee, list := range lists {
				key := sottosuite.EnvPrefix(callee) + "ADDR"
				if envOf(e, key) != "" {
					e = setEnv(e, key, list)
				}
			}
			r := c.start(name, e)
			c.replicas[name] = append(c.replicas[name], r)
			// Replicas after the first of audit are standbys: not ready.
			if name == "audit" && i > 0 {
				waitUp(t, r, "/healthz")
			} else {
				waitUp(t, r, "/readyz")
			}
		}
	}
	return s, c
}

// tokenize tokenises one value for subject through gw; it returns the token
// when the gateway acknowledged it.
func tokenize(gw, token, subject, value string) (string, bool) {
	tok, why := tokenizeWhy(gw, token, subject, value)
	return tok, why == ""
}

// tokenizeWhy is tokenize that says why it failed (status and reason).
func tokenizeWhy(gw, token, subject, value string) (string, string) {
	body := fmt.Sprintf(`{"subject":%q,"scope":"conv_scale","items":[{"value":%q,"data_type":"DATA_TYPE_NAME"}]}`, subject, value)
	req, _ := http.NewRequest(http.MethodPost, gw+"/v1/tokens:tokenize", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return "", "transport"
	}
	defer resp.Body.Close()
	var out struct {
		Results []struct {
			Token string `json:"token"`
		} `json:"results"`
		Error struct {
			Reason string `json:"reason"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || len(out.Results) != 1 || out.Results[0].Token == "" {
		return "", fmt.Sprintf("%d %s", resp.StatusCode, out.Error.Reason)
	}
	return out.Results[0].Token, ""
}

type acked struct {
	mu     sync.Mutex
	tokens map[string]string // token → value
	audit  []string          // event IDs
	fails  int
}

func TestScaleOut(t *testing.T) {
	hub, crmOpts := hubSpotOptions(t)
	s, c := startCluster(t, 2, crmOpts)
	op := s.OperatorToken()
	gws := c.replicas["gateway"]

	// Load: workers tokenise through both gateways, and append audit
	// events straight to the audit replicas (as identity does), until stop.
	var a = &acked{tokens: map[string]string{}}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				value := fmt.Sprintf("Person %d-%d", w, i)
				tok, ok := tokenize(gws[(w+i)%len(gws)].http, op, fmt.Sprintf("cus_scale_%d", w), value)
				a.mu.Lock()
				if ok {
					a.tokens[tok] = value
				} else {
					a.fails++
				}
				a.mu.Unlock()
			}
		})
	}
	auditConn := s.Dial("identity", "audit", c.addrs("audit"))
	audit := auditclient.NewClient(auditConn)
	wg.Go(func() {
		for ctx.Err() == nil {
			e := auditclient.New(ctx, "identity.login", auditclient.Success)
			e.Subject = "cus_scale_audit"
			rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			err := audit.Record(rctx, e)
			cancel()
			a.mu.Lock()
			if err == nil {
				a.audit = append(a.audit, e.ID)
			}
			a.mu.Unlock()
		}
	})
	count := func() (int, int) {
		a.mu.Lock()
		defer a.mu.Unlock()
		return len(a.tokens), len(a.audit)
	}

	// The load spreads: both tokenvault replicas serve tokenisations.
	tv := c.replicas["tokenvault"]
	wait.For(t, "both tokenvault replicas serve Tokenize", func() bool {
		return served(t, tv[0], "Tokenize") > 0 && served(t, tv[1], "Tokenize") > 0
	})
	t.Logf("Tokenize per tokenvault replica: %d, %d", served(t, tv[0], "Tokenize"), served(t, tv[1], "Tokenize"))

	// kill -9 one replica of each service the load goes through, and the
	// audit log's sequencer; the clients recover on the survivors.
	leader := -1
	for i, p := range c.replicas["audit"] {
		if resp, err := http.Get("http://" + p.admin + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				leader = i
			}
		}
	}
	if leader < 0 {
		t.Fatal("no audit replica is ready (sequencing)")
	}
	for _, name := range []string{"tokenvault", "identity", "consent", "conversation"} {
		c.replicas[name][0].kill9(t)
	}
	c.replicas["audit"][leader].kill9(t)
	standby := c.replicas["audit"][1-leader]
	tokens0, audit0 := count()
	wait.For(t, "the standby sequences (ready)", func() bool {
		resp, err := http.Get("http://" + standby.admin + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	wait.For(t, "tokenisations and audit appends go on after the kills", func() bool {
		tk, au := count()
		return tk >= tokens0+20 && au >= audit0+20
	})
	stop()
	wg.Wait()

	// No acknowledged write is lost: every acknowledged tokenisation
	// detokenises, through the surviving tokenvault replica; every
	// acknowledged audit append is in the log.
	tvConn := s.Dial("conversation", "tokenvault", c.addrs("tokenvault"))
	tvc := tokenvaultv1.NewTokenVaultServiceClient(tvConn)
	var toks []string
	for tok := range a.tokens {
		toks = append(toks, tok)
	}
	for chunk := range slices.Chunk(toks, 100) {
		det, err := tvc.Detokenize(context.Background(), &tokenvaultv1.DetokenizeRequest{Tokens: chunk, Purpose: "order_support"})
		if err != nil {
			t.Fatalf("detokenize: %v", err)
		}
		for i, r := range det.Results {
			if r.Value != a.tokens[chunk[i]] {
				t.Fatalf("acknowledged token %s detokenises to %q (%v)", chunk[i], r.Value, r.Error)
			}
		}
	}
	db, err := sql.Open("pgx", envOf(c.replicas["audit"][0].cmd.Env, "SOTTO_DB_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logged int
	if err := db.QueryRow(`SELECT count(*) FROM entries WHERE event_id = ANY($1)`, a.audit).Scan(&logged); err != nil || logged != len(a.audit) {
		t.Fatalf("%d of %d acknowledged audit appends are in the log (%v)", logged, len(a.audit), err)
	}
	t.Logf("acknowledged: %d tokenisations, %d audit appends; %d tokenisations refused or cut during the kills", len(a.tokens), len(a.audit), a.fails)

	// The log is consistent across the failover: sotto audit verify, against
	// the replicas' list.
	wait.For(t, "a checkpoint covers the whole log", func() bool {
		var size, checkpointed int64
		err := db.QueryRow(`SELECT (SELECT size FROM tree_head WHERE id = 1), (SELECT coalesce(max(tree_size), 0) FROM checkpoints)`).Scan(&size, &checkpointed)
		return err == nil && size == checkpointed
	})
	// (dev up removed its dev.json on stopping: name what it held.)
	args := []string{"audit", "verify", "--addr", c.addrs("audit"), "--cert", s.Info.CLI.Cert, "--key", s.Info.CLI.Key, "--bundle", s.Info.CLI.Bundle,
		"--witness", filepath.Join(t.TempDir(), "witness.note")}
	for _, k := range s.Info.AuditVerifierKeys {
		args = append(args, "--verifier-key", k)
	}
	// Bounded: a verify that hangs fails here with its output, not at the
	// package's timeout with none.
	vctx, vcancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer vcancel()
	out, err := exec.CommandContext(vctx, filepath.Join(c.bin, "sotto"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("sotto audit verify after the failover: %v\n%s", err, out)
	}

	// A session revoked through one gateway is refused by the other (its
	// access-token checks follow identity's revocation feed).
	login := call(t, gws[0].http, http.MethodPost, "/v1/sessions:login", "", `{"email":"`+s.Info.Admin.Email+`","password":"`+s.Info.Admin.InitialPassword+`"}`)
	tokens, _ := login.body["tokens"].(map[string]any)
	session, _ := tokens["access_token"].(string)
	if login.code != http.StatusOK || session == "" {
		t.Fatalf("login: %d %v", login.code, login.body)
	}
	if r := call(t, gws[1].http, http.MethodGet, "/v1/sessions", session, ""); r.code != http.StatusOK {
		t.Fatalf("the session before logout, on the other gateway: %d %v", r.code, r.body)
	}
	if r := call(t, gws[0].http, http.MethodPost, "/v1/sessions:logout", session, `{}`); r.code != http.StatusOK {
		t.Fatalf("logout: %d", r.code)
	}
	wait.For(t, "the other gateway refuses the revoked session", func() bool {
		return call(t, gws[1].http, http.MethodGet, "/v1/sessions", session, "").code == http.StatusUnauthorized
	})

	// Consent and crmsync across replicas (crm_test.go): two crmsync
	// replicas deliver each change to HubSpot once, a kill -9 of one loses
	// none, and a withdrawal through one consent replica is refused through
	// the other and by crmsync.
	consentAndCRMAcrossReplicas(t, s, c, hub)

	// An erasure through one tokenvault replica is honoured by the other:
	// the killed one restarts, the erasure goes through it, and the other
	// refuses the subject's tokens within seconds. Last, because with
	// SOTTO_SCALE_LOCAL_KEYS the erasure rotates the KEK (ADR 0007) in the
	// keyring file of one replica only, which the others have not re-read;
	// Vault Transit's key is one for all.
	restarted := c.start("tokenvault", tv[0].cmd.Env)
	waitUp(t, restarted, "/readyz")
	eraser := tokenvaultv1.NewTokenVaultServiceClient(s.Dial("consent", "tokenvault", restarted.grpc))
	if _, err := eraser.EraseSubject(context.Background(), &tokenvaultv1.EraseSubjectRequest{Subject: "cus_scale_0", RequestId: "dsr_scale"}); err != nil {
		t.Fatalf("erase through the restarted replica: %v", err)
	}
	var erased string
	for tok, v := range a.tokens {
		if strings.HasPrefix(v, "Person 0-") {
			erased = tok
			break
		}
	}
	other := tokenvaultv1.NewTokenVaultServiceClient(s.Dial("conversation", "tokenvault", tv[1].grpc))
	wait.For(t, "the other replica refuses the erased subject's token", func() bool {
		det, err := other.Detokenize(context.Background(), &tokenvaultv1.DetokenizeRequest{Tokens: []string{erased}, Purpose: "order_support"})
		return err == nil && det.Results[0].Value == "" && det.Results[0].Error.GetReason() == "SUBJECT_ERASED"
	})
}

type answer struct {
	code int
	body map[string]any
}

// call sends one request to the gateway at base.
func call(t *testing.T, base, method, path, token, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	a := answer{code: resp.StatusCode}
	_ = json.NewDecoder(resp.Body).Decode(&a.body)
	return a
}

// TestScaleThroughput (SOTTO_BENCH=1) measures acknowledged tokenisations
// per second through the gateways with 1, 2 and 3 replicas of every
// service. On this 2-core machine every replica, PostgreSQL, Vault and the
// load generator share the same cores, so the figure shows the overhead of
// replicas more than their gain; docs/capacity.md says how to read it.
func TestScaleThroughput(t *testing.T) {
	if os.Getenv("SOTTO_BENCH") != "1" {
		t.Skip("a benchmark: SOTTO_BENCH=1")
	}
	const workers, duration = 16, 15 * time.Second
	var rows []string
	for _, n := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("replicas=%d", n), func(t *testing.T) {
			s, c := startCluster(t, n, clusterOptions{})
			op := s.OperatorToken()
			gws := c.replicas["gateway"]
			// Warm up every replica's caches and connections first.
			for i := range 50 {
				tokenize(gws[i%len(gws)].http, op, "cus_bench_warm", fmt.Sprintf("Warm %d", i))
			}
			var ok sync.WaitGroup
			var mu sync.Mutex
			acks, fails := 0, map[string]int{}
			before := dbStats(t, c)
			deadline := time.Now().Add(duration)
			start := time.Now()
			for w := range workers {
				ok.Go(func() {
					for i := 0; time.Now().Before(deadline); i++ {
						_, why := tokenizeWhy(gws[(w+i)%len(gws)].http, op, fmt.Sprintf("cus_bench_%d", w), fmt.Sprintf("Person %d-%d", w, i))
						mu.Lock()
						if why == "" {
							acks++
						} else {
							fails[why]++
						}
						mu.Unlock()
					}
				})
			}
			ok.Wait()
			elapsed := time.Since(start).Seconds()
			// PostgreSQL's cumulative statistics reach pg_stat_database
			// within a second of the transactions.
			time.Sleep(2 * time.Second)
			after := dbStats(t, c)
			var costs []string
			for _, name := range order {
				d := after[name].minus(before[name])
				if d.commits > 0 {
					costs = append(costs, fmt.Sprintf("%s %.2f commits, %.1f rows", name, float64(d.commits)/float64(acks), float64(d.rows)/float64(acks)))
				}
			}
			t.Logf("per acknowledged tokenisation (every process's own work included): %s", strings.Join(costs, "; "))
			var per []string
			for _, p := range c.replicas["tokenvault"] {
				per = append(per, strconv.Itoa(served(t, p, "Tokenize")))
			}
			row := fmt.Sprintf("| %d | %.0f | %v | %s |", n, float64(acks)/elapsed, fails, strings.Join(per, " / "))
			t.Log(row)
			rows = append(rows, row)
		})
	}
	t.Logf("\n| replicas of each service | tokenisations/s through the gateways | failed | Tokenize calls per tokenvault replica |\n|---|---|---|---|\n%s", strings.Join(rows, "\n"))
}

type pgStat struct{ commits, rows int64 }

func (a pgStat) minus(b pgStat) pgStat { return pgStat{a.commits - b.commits, a.rows - b.rows} }

// dbStats reads each service database's committed transactions and rows
// written (inserted, updated, deleted) from pg_stat_database.
func dbStats(t *testing.T, c *cluster) map[string]pgStat {
	t.Helper()
	out := map[string]pgStat{}
	for _, name := range order {
		dsn := envOf(c.replicas[name][0].cmd.Env, "SOTTO_DB_DSN")
		if dsn == "" {
			continue
		}
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		var st pgStat
		err = db.QueryRow(`SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = current_database()`).Scan(&st.commits, &st.rows)
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[name] = st
	}
	return out
}
