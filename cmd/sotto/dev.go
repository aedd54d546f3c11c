package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/loopback"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/suite"
	"github.com/sottohq/sotto/pkg/vaultclient"
)

// devUp runs every service of the manifest (pkg/suite/services.yaml) as its
// own process on loopback, in dependency order, with mTLS from a generated
// dev CA, SQLite and a local keyring, until ctx is done. A service that
// crashes is restarted with backoff; only Ctrl-C stops the suite.
//
// Production backends are one setting away: SOTTO_VAULT_ADDR (+ token) in the
// environment switches every service's keys to Vault Transit, and
// SOTTO_<SERVICE>_DB_DSN (e.g. SOTTO_AUDIT_DB_DSN=postgres://...) switches a
// service's store to PostgreSQL. SOTTO_<SERVICE>_VAULT_TOKEN gives a service
// its own token (with its deploy/vault policy) instead of SOTTO_VAULT_TOKEN.
func devUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sotto dev up", flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", ".sotto", "state directory: dev CA, certificates, keyrings, databases, logs")
	binDir := fs.String("bin", "bin", "directory holding the service binaries")
	httpAddr := fs.String("http-addr", "127.0.0.1:8080", "gateway listen address (\"auto\" picks a free port)")
	trustDomain := fs.String("trust-domain", "sotto.local", "SPIFFE trust domain")
	quiet := fs.Bool("quiet", false, "do not copy service logs to the terminal")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkPprofPort(os.Getenv("SOTTO_PPROF_ADDR")); err != nil {
		return err
	}
	m, err := suite.Load()
	if err != nil {
		return err
	}
	order, err := m.StartOrder()
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(*state)
	if err != nil {
		return err
	}
	for _, sub := range []string{"certs", "keys", "data", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
	}
	release, err := lockState(dir)
	if err != nil {
		return err
	}
	defer release() // after the services have stopped (defers run last first)
	td, err := spiffeid.TrustDomainFromString(*trustDomain)
	if err != nil {
		return fmt.Errorf("trust domain: %w", err)
	}
	ca, err := mtls.LoadOrCreateDevCA(filepath.Join(dir, "ca"), *trustDomain)
	if err != nil {
		return fmt.Errorf("dev CA: %w", err)
	}
	identity := func(name string) (mtls.Files, error) {
		id, err := spiffeid.FromSegments(td, name)
		if err != nil {
			return mtls.Files{}, err
		}
		// Fresh short-lived certificates on every start; the CA persists.
		return mtls.WriteWorkload(filepath.Join(dir, "certs", name), ca, id, 24*time.Hour)
	}
	st := suite.State{TrustDomain: *trustDomain, Services: map[string]suite.Endpoints{}}
	pick := loopback.Distinct(loopback.FreeAddr)
	sup := newSupervisor(stderr, *quiet)
	defer sup.stopAll()
	l := &launcher{
		sup: sup, st: &st, dir: dir, bin: *binDir, certs: map[string]mtls.Files{},
		addrs: func(svc suite.Service) (suite.Endpoints, error) { return endpoints(svc, *httpAddr, pick) },
	}
	for _, svc := range order {
		if err := l.assign(svc); err != nil {
			return err
		}
		if l.certs[svc.Name], err = identity(svc.Name); err != nil {
			return err
		}
	}
	for _, c := range m.Clients {
		if c == "sotto-cli" {
			if st.CLI, err = identity(c); err != nil {
				return err
			}
		}
	}

	procs, err := l.startAll(ctx, order)
	if err != nil {
		return err
	}
	// Services that verify people start before identity (which calls
	// them) and refuse people until identity's keys and revocation feed
	// reach them: wait for that, so the suite works when it says it runs.
	for i, svc := range order {
		if svc.EndUsers {
			if err := waitUndegraded(ctx, procs[i].ready, 30*time.Second); err != nil {
				fmt.Fprintf(stderr, "sotto: %s still degraded: %v\n", svc.Name, err)
			}
		}
	}

	if _, ok := m.Service("audit"); ok {
		if st.AuditVerifierKeys, err = auditVerifierKeys(ctx, m, filepath.Join(dir, "keys", "audit.json"), *trustDomain+"/audit"); err != nil {
			return fmt.Errorf("audit verifier keys: %w", err)
		}
	}
	// Receipts verify offline (`sotto consent verify-receipt`) against the
	// receipt key as the key store has it, pinned here, not as the consent
	// service would say.
	if _, ok := m.Service("consent"); ok {
		if st.ConsentReceiptKeys, err = consentReceiptKeys(ctx, filepath.Join(dir, "keys", "consent.json")); err != nil {
			return fmt.Errorf("consent receipt keys: %w", err)
		}
	}
	adminNote := ""
	if _, ok := m.Service("identity"); ok {
		if adminNote, err = bootstrapAdmin(ctx, dir, &st, stderr); err != nil {
			return fmt.Errorf("first admin: %w", err)
		}
	}
	if err := suite.WriteState(dir, st); err != nil {
		return err
	}
	defer os.Remove(filepath.Join(dir, suite.StateFile))

	fmt.Fprintln(stdout, "Sotto is running.")
	if st.GatewayURL != "" {
		fmt.Fprintf(stdout, "  %-14s %s   (REST; OpenAPI at /openapi.json)\n", "gateway", st.GatewayURL)
	}
	for _, svc := range order {
		switch ep := st.Services[svc.Name]; {
		case ep.GRPC == "":
		case svc.API == suite.HTTP:
			fmt.Fprintf(stdout, "  %-14s %s   (gRPC for integrators: TLS, client tokens)\n", svc.Name, ep.GRPC)
		default:
			fmt.Fprintf(stdout, "  %-14s %s   (gRPC, mTLS)\n", svc.Name, ep.GRPC)
		}
	}
	fmt.Fprintf(stdout, `  dev CA:        %s
  state:          %s  (addresses in %s)
%sPress Ctrl-C to stop (or run: sotto dev down --state %s).
`, filepath.Join(dir, "ca", "ca.pem"), dir, suite.StateFile, adminNote, dir)

	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping...")
	return nil
}

// devEnv is one service's environment: its identity, keyring, database and
// listen addresses, the address of every service it calls, and the
// operator's SOTTO_VAULT_*, SOTTO_LOG_LEVEL and OTEL_* settings.
func devEnv(dir string, st suite.State, svc suite.Service, f mtls.Files) []string {
	ep := st.Services[svc.Name]
	env := append(passThroughEnv(svc.Name),
		"SOTTO_TRUST_DOMAIN="+st.TrustDomain,
		"SOTTO_TLS_CERT="+f.Cert, "SOTTO_TLS_KEY="+f.Key, "SOTTO_TLS_BUNDLE="+f.Bundle,
		"SOTTO_KEYRING_FILE="+filepath.Join(dir, "keys", svc.Name+".json"),
		// One file for the suite, as Vault KV is one store (pkg/secrets).
		"SOTTO_SECRETS_FILE="+filepath.Join(dir, "secrets.json"),
		"SOTTO_ADMIN_ADDR="+ep.Admin,
	)
	switch svc.API {
	case suite.GRPC:
		env = append(env, "SOTTO_GRPC_ADDR="+ep.GRPC)
	case suite.HTTP:
		env = append(env, "SOTTO_HTTP_ADDR="+strings.TrimPrefix(ep.HTTP, "http://"),
			"SOTTO_GATEWAY_GRPC_ADDR="+ep.GRPC)
	}
	if svc.Name == "identity" && st.GatewayURL != "" {
		// WebAuthn ceremonies come from pages the gateway serves; the
		// relying party is "localhost", so the origin is spelled with it.
		_, port, _ := strings.Cut(strings.TrimPrefix(st.GatewayURL, "http://"), ":")
		env = append(env, "SOTTO_IDENTITY_WEBAUTHN_ORIGINS=http://localhost:"+port)
	}
	for _, callee := range svc.Calls {
		env = append(env, suite.EnvPrefix(callee)+"ADDR="+st.Services[callee].GRPC)
	}
	if svc.EndUsers && !slices.Contains(svc.Calls, "identity") {
		env = append(env, suite.EnvPrefix("identity")+"ADDR="+st.Services["identity"].GRPC)
	}
	for _, followed := range svc.Follows {
		// Its address is allocated before anything starts, so a service
		// that starts first can dial it (lazily) all the same.
		env = append(env, suite.EnvPrefix(followed)+"ADDR="+st.Services[followed].GRPC)
	}
	prefix := svc.EnvPrefix()
	dsn := os.Getenv(prefix + "DB_DSN")
	if dsn == "" {
		dsn = "sqlite://" + filepath.Join(dir, "data", svc.Name+".db")
	}
	env = append(env, "SOTTO_DB_DSN="+dsn)
	// Each service should use its own least-privilege Vault token. A token
	// file (which vaultclient prefers) would override it, so a service given
	// its own token gets no file.
	if tok := os.Getenv(prefix + "VAULT_TOKEN"); tok != "" {
		env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "SOTTO_VAULT_TOKEN_FILE=") })
		env = append(env, "SOTTO_VAULT_TOKEN="+tok)
	}
	return env
}

// checkPprofPort refuses a fixed SOTTO_PPROF_ADDR port: every service
// would try to listen on it and all but the first fail to start. Port 0
// gives each its own.
func checkPprofPort(addr string) error {
	if addr == "" {
		return nil
	}
	if _, port, err := net.SplitHostPort(addr); err != nil || port != "0" {
		return fmt.Errorf("SOTTO_PPROF_ADDR %q: dev up starts several services, so give port 0 (each picks its own and logs it), e.g. 127.0.0.1:0", addr)
	}
	return nil
}

// passThroughEnv keeps the basics a process needs and the operator's Sotto
// and OpenTelemetry settings: Vault, log level, the job runner's
// (SOTTO_JOBS_*), and the service's own tuning (SOTTO_<NAME>_*, e.g.
// SOTTO_GATEWAY_AUTH_BURST), the Go runtime's GOGC, GOMEMLIMIT and
// GOMAXPROCS, and SOTTO_PPROF_ADDR for profiling a local
// run (give it port 0: every service then picks its own port and logs it).
// The settings dev up computes are added after
// it, and the last value of a key wins (os/exec), so the operator cannot
// move an address or a certificate by accident.
func passThroughEnv(name string) []string {
	own := suite.EnvPrefix(name)
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "PATH" || k == "HOME" || k == "TMPDIR" || k == "TZ":
		case k == "GOGC" || k == "GOMEMLIMIT" || k == "GOMAXPROCS": // the Go runtime's tuning (not GODEBUG: it can turn off TLS defaults or log headers)
		case strings.HasPrefix(k, "SOTTO_VAULT_") || k == "SOTTO_LOG_LEVEL" || strings.HasPrefix(k, "SOTTO_JOBS_") || k == "SOTTO_PPROF_ADDR":
		case strings.HasPrefix(k, own):
		case strings.HasPrefix(k, "OTEL_"):
			kv = "SOTTO_" + kv // services read SOTTO_OTEL_EXPORTER_OTLP_ENDPOINT
		default:
			continue
		}
		env = append(env, kv)
	}
	return env
}

// devProc is one service process of the local suite.
type devProc struct {
	name, bin, ready, log string

	mu   sync.Mutex
	env  []string // what the next start gets
	cmd  *exec.Cmd
	done chan struct{} // closed when the current process has exited and its output is logged
	// taken is the current process's line that says an address it was to
	// listen on is in use.
	taken string
}

// bindInUse ends what Go's net.Listen says when the port is taken.
var bindInUse = "bind: " + syscall.EADDRINUSE.Error()

func (p *devProc) environ() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.env
}

// addrTaken is the line in which the current process said that an address
// it was to listen on is in use, or "".
func (p *devProc) addrTaken() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.taken
}

// supervisor starts the suite's processes, restarts one that crashes (with
// backoff, announced on the terminal) and stops them all in reverse order.
type supervisor struct {
	term  io.Writer
	quiet bool

	logMu sync.Mutex
	mu    sync.Mutex
	procs []*devProc
	// stopping ends when stopAll begins: no process is started after it.
	stopping context.Context
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

func newSupervisor(term io.Writer, quiet bool) *supervisor {
	ctx, cancel := context.WithCancel(context.Background())
	return &supervisor{term: term, quiet: quiet, stopping: ctx, stop: cancel}
}

// Restart backoff: doubling from restartMin up to restartMax; a process
// that stayed up for restartReset starts again from restartMin.
const (
	restartMin   = 500 * time.Millisecond
	restartMax   = 30 * time.Second
	restartReset = time.Minute
)

// start runs p, waits until it is ready, and keeps it running: a crash
// after that restarts it.
func (s *supervisor) start(ctx context.Context, p *devProc) error {
	s.mu.Lock()
	if !slices.Contains(s.procs, p) { // started again after its address was taken
		s.procs = append(s.procs, p)
	}
	s.mu.Unlock()
	if err := s.spawn(p); err != nil {
		return err
	}
	if err := waitReady(ctx, p.ready, 60*time.Second, p.done); err != nil {
		return err
	}
	s.wg.Add(1)
	go s.keepAlive(ctx, p)
	return nil
}

func (s *supervisor) spawn(p *devProc) error {
	s.mu.Lock()
	defer s.mu.Unlock() // stopAll waits for a spawn under way, then sees its process
	if s.stopping.Err() != nil {
		return errors.New("the suite is stopping")
	}
	logFile, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.bin)
	// Only what the service needs, plus the operator's SOTTO_/OTEL_ settings.
	cmd.Env = p.environ()
	// A process group of its own: Ctrl-C reaches `sotto dev up` only, which
	// then stops the services one by one in reverse order (so a service's
	// last outbox flush finds the audit service still up).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done, logged := make(chan struct{}), make(chan struct{})
	p.mu.Lock()
	p.cmd, p.done, p.taken = cmd, done, ""
	p.mu.Unlock()
	go func() {
		s.copyLog(pr, logFile, p)
		logFile.Close()
		close(logged)
	}()
	go func() {
		err := cmd.Wait()
		pw.CloseWithError(err)
		// Whoever sees the exit can then read why in p.taken.
		<-logged
		close(done)
	}()
	return nil
}

// keepAlive restarts p whenever it exits, until the suite stops. The suite's
// addresses, certificates and dev.json stay as they are, so clients
// reconnect to the same place.
func (s *supervisor) keepAlive(ctx context.Context, p *devProc) {
	defer s.wg.Done()
	delay := restartMin
	for {
		p.mu.Lock()
		done, started := p.done, time.Now()
		cmd := p.cmd
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-s.stopping.Done():
			return
		case <-done:
		}
		if s.stopping.Err() != nil {
			return
		}
		if time.Since(started) > restartReset {
			delay = restartMin
		}
		s.say("%s exited (%v); restarting in %s (log: %s)", p.name, cmd.ProcessState, delay, p.log)
		select {
		case <-ctx.Done():
			return
		case <-s.stopping.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, restartMax)
		if err := s.spawn(p); err != nil {
			if s.stopping.Err() != nil {
				return
			}
			s.say("%s: %v", p.name, err)
			continue
		}
		if err := waitReady(ctx, p.ready, 60*time.Second, p.done); err == nil {
			s.say("%s is back", p.name)
		}
	}
}

func (s *supervisor) say(format string, args ...any) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	fmt.Fprintf(s.term, "[sotto] "+format+"\n", args...)
}

// stopAll sends SIGTERM to every process, last started first, waits for
// each (SIGKILL after 20 s), and waits for the restart loops to end.
func (s *supervisor) stopAll() {
	s.mu.Lock()
	s.stop()
	procs := s.procs
	s.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		p.mu.Lock()
		cmd, done := p.cmd, p.done
		p.mu.Unlock()
		if cmd == nil || cmd.Process == nil {
			continue
		}
		stopProc(cmd, done)
	}
	s.wg.Wait()
}

// stopProc sends SIGTERM to cmd and waits until it has exited (done),
// sending SIGKILL after stopGrace.
func stopProc(cmd *exec.Cmd, done <-chan struct{}) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(stopGrace):
		cmd.Process.Kill()
		<-done
	}
}

// restart stops the running p, which keepAlive then starts again with env,
// and waits until it is ready.
func (s *supervisor) restart(ctx context.Context, p *devProc, env []string) error {
	p.mu.Lock()
	p.env = env
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	stopProc(cmd, done)
	return waitReady(ctx, p.ready, 60*time.Second, nil)
}

func (s *supervisor) copyLog(r io.Reader, file io.Writer, p *devProc) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, bindInUse) {
			p.mu.Lock()
			p.taken = line
			p.mu.Unlock()
		}
		s.logMu.Lock()
		fmt.Fprintln(file, line)
		if !s.quiet {
			fmt.Fprintf(s.term, "[%s] %s\n", p.name, line)
		}
		s.logMu.Unlock()
	}
}

func waitReady(ctx context.Context, url string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return errors.New("the process exited")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitUndegraded waits until url (a /readyz) says "ready": no dependency
// failing.
func waitUndegraded(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == "ready" {
				return nil
			}
			err = fmt.Errorf("%s", strings.TrimSpace(string(body)))
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// adminFile keeps the first admin's login in the state directory, so that
// a later `sotto dev up` on it can say (and tests can use) what it is.
const adminFile = "admin.json"

// bootstrapAdmin creates the suite's first administrator through identity's
// BootstrapAdmin (allowed to the CLI workload only, and only while no admin
// exists) and returns what to print: the address and the generated
// password. The admin must enrol a second factor at first login before any
// operator route opens (they need aal2). A state directory from an earlier
// run already has its admin.
func bootstrapAdmin(ctx context.Context, dir string, st *suite.State, stderr io.Writer) (string, error) {
	addr, err := st.Addr("identity")
	if err != nil {
		return "", err
	}
	src, err := mtls.NewFileSource(st.CLI, logging.New(stderr, "sotto-cli", 8))
	if err != nil {
		return "", err
	}
	conn, err := dial.Service(addr, src, "identity", nil)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	email := "admin@" + st.TrustDomain
	saved := filepath.Join(dir, adminFile)
	resp, err := identityv1.NewIdentityServiceClient(conn).BootstrapAdmin(ctx, &identityv1.BootstrapAdminRequest{Email: email})
	if status.Code(err) == codes.FailedPrecondition {
		// An earlier run created the admin; its login is where that run
		// left it (the password stays valid until the admin changes it).
		if raw, rerr := os.ReadFile(saved); rerr == nil && json.Unmarshal(raw, &st.Admin) == nil {
			return fmt.Sprintf("  admin:          %s (created by an earlier run; login in %s)\n", st.Admin.Email, saved), nil
		}
		return fmt.Sprintf("  admin:          %s (created by an earlier run in this state directory)\n", email), nil
	}
	if err != nil {
		return "", err
	}
	st.Admin = suite.Admin{Email: email, InitialPassword: resp.GetInitialPassword()}
	raw, err := json.Marshal(st.Admin)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(saved, raw, 0o600); err != nil {
		return "", err
	}
	return fmt.Sprintf(`  admin:          %s  password: %s
                  (kept in %s for later runs; log in through the gateway and
                  enrol a second factor: the operator routes need aal2)
`, email, resp.GetInitialPassword(), saved), nil
}

// auditVerifierKeys reads the public halves of the audit log's checkpoint
// key, every version, from the key store itself (the local keyring or Vault
// Transit), so that `sotto audit verify` does not have to believe the audit
// service about which key signs its checkpoints. The key is the audit
// service's Ed25519 key in the manifest, unless SOTTO_AUDIT_CHECKPOINT_KEY
// names another.
func auditVerifierKeys(ctx context.Context, m suite.Manifest, keyring, origin string) ([]string, error) {
	token := os.Getenv("SOTTO_AUDIT_VAULT_TOKEN")
	if token == "" {
		token = os.Getenv("SOTTO_VAULT_TOKEN")
	}
	mount := os.Getenv("SOTTO_VAULT_TRANSIT_MOUNT")
	if mount == "" {
		mount = "transit"
	}
	name := os.Getenv("SOTTO_AUDIT_CHECKPOINT_KEY")
	if name == "" {
		audit, _ := m.Service("audit")
		for k, typ := range audit.TransitKeys {
			if typ == "ed25519" {
				name = k
			}
		}
	}
	km, err := keys.Open(keys.Config{
		Vault:        vaultclient.Config{Addr: os.Getenv("SOTTO_VAULT_ADDR"), Token: token, TokenFile: os.Getenv("SOTTO_VAULT_TOKEN_FILE")},
		TransitMount: mount, KeyringFile: keyring,
	})
	if err != nil {
		return nil, err
	}
	latest, err := km.LatestVersion(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []string
	for v := 1; v <= latest; v++ {
		pub, err := km.PublicKey(ctx, name, v)
		if err != nil {
			return nil, err
		}
		vk, err := note.NewEd25519VerifierKey(origin, pub)
		if err != nil {
			return nil, err
		}
		out = append(out, vk)
	}
	return out, nil
}
