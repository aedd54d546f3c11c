package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"golang.org/x/mod/sumdb/note"

	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/vaultclient"
)

// devService is one process of the local suite.
type devService struct {
	name  string
	env   []string
	ready string // URL that answers 200 when the service is ready
	cmd   *exec.Cmd
}

// devUp runs every service as its own process on loopback with mTLS from a
// generated dev CA, SQLite and a local keyring, until ctx is done.
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
	dir, err := filepath.Abs(*state)
	if err != nil {
		return err
	}
	for _, sub := range []string{"certs", "keys", "data", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
	}

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

	addrs, err := freeAddrs(5)
	if err != nil {
		return err
	}
	auditAddr, auditAdmin, gwAdmin, tvAddr, tvAdmin := addrs[0], addrs[1], addrs[2], addrs[3], addrs[4]
	gwAddr := *httpAddr
	if gwAddr == "auto" {
		if gwAddr, err = freeAddr(); err != nil {
			return err
		}
	}
	adminToken, err := randomToken()
	if err != nil {
		return err
	}

	common := func(name string, f mtls.Files) []string {
		env := []string{
			"SOTTO_TRUST_DOMAIN=" + *trustDomain,
			"SOTTO_TLS_CERT=" + f.Cert, "SOTTO_TLS_KEY=" + f.Key, "SOTTO_TLS_BUNDLE=" + f.Bundle,
			"SOTTO_KEYRING_FILE=" + filepath.Join(dir, "keys", name+".json"),
		}
		prefix := "SOTTO_" + strings.ToUpper(name) + "_"
		dsn := os.Getenv(prefix + "DB_DSN")
		if dsn == "" {
			dsn = "sqlite://" + filepath.Join(dir, "data", name+".db")
		}
		env = append(env, "SOTTO_DB_DSN="+dsn)
		// Each service should use its own least-privilege Vault token.
		if tok := os.Getenv(prefix + "VAULT_TOKEN"); tok != "" {
			env = append(env, "SOTTO_VAULT_TOKEN="+tok)
		}
		return env
	}

	auditID, err := identity("audit")
	if err != nil {
		return err
	}
	gwID, err := identity("gateway")
	if err != nil {
		return err
	}
	tvID, err := identity("tokenvault")
	if err != nil {
		return err
	}
	cliID, err := identity("sotto-cli")
	if err != nil {
		return err
	}
	services := []*devService{
		{
			name:  "audit",
			env:   append(common("audit", auditID), "SOTTO_GRPC_ADDR="+auditAddr, "SOTTO_ADMIN_ADDR="+auditAdmin, "SOTTO_AUDIT_ORIGIN="+*trustDomain+"/audit"),
			ready: "http://" + auditAdmin + "/readyz",
		},
		{
			name:  "tokenvault",
			env:   append(common("tokenvault", tvID), "SOTTO_GRPC_ADDR="+tvAddr, "SOTTO_ADMIN_ADDR="+tvAdmin, "SOTTO_AUDIT_ADDR="+auditAddr),
			ready: "http://" + tvAdmin + "/readyz",
		},
		{
			name: "gateway",
			env: append(common("gateway", gwID), "SOTTO_HTTP_ADDR="+gwAddr, "SOTTO_ADMIN_ADDR="+gwAdmin,
				"SOTTO_AUDIT_ADDR="+auditAddr, "SOTTO_TOKENVAULT_ADDR="+tvAddr, "SOTTO_GATEWAY_ADMIN_TOKEN="+adminToken),
			ready: "http://" + gwAddr + "/healthz",
		},
	}

	var logMu sync.Mutex
	var wg sync.WaitGroup
	exited := make(chan string, len(services))
	stopAll := func() {
		for i := len(services) - 1; i >= 0; i-- {
			if s := services[i]; s.cmd != nil && s.cmd.Process != nil {
				s.cmd.Process.Signal(syscall.SIGTERM)
			}
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			for _, s := range services {
				if s.cmd != nil && s.cmd.Process != nil {
					s.cmd.Process.Kill()
				}
			}
			<-done
		}
	}

	for _, s := range services {
		logFile, err := os.OpenFile(filepath.Join(dir, "logs", s.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			stopAll()
			return err
		}
		defer logFile.Close()
		s.cmd = exec.Command(filepath.Join(*binDir, s.name))
		// Only what the service needs, plus the operator's SOTTO_/OTEL_ settings
		// (Vault address and token, collector endpoint, log level).
		s.cmd.Env = append(passThroughEnv(), s.env...)
		pr, pw := io.Pipe()
		s.cmd.Stdout, s.cmd.Stderr = pw, pw
		if err := s.cmd.Start(); err != nil {
			stopAll()
			return fmt.Errorf("start %s: %w", s.name, err)
		}
		wg.Add(1)
		go func(s *devService, pr *io.PipeReader, pw *io.PipeWriter) {
			defer wg.Done()
			err := s.cmd.Wait()
			pw.CloseWithError(err)
			exited <- s.name
		}(s, pr, pw)
		go copyLog(pr, logFile, s.name, stderr, *quiet, &logMu)
		if err := waitReady(ctx, s.ready, 60*time.Second, exited); err != nil {
			stopAll()
			return fmt.Errorf("%s did not become ready (see %s): %w", s.name, filepath.Join(dir, "logs", s.name+".log"), err)
		}
	}

	vkeys, err := auditVerifierKeys(ctx, filepath.Join(dir, "keys", "audit.json"), *trustDomain+"/audit")
	if err != nil {
		stopAll()
		return fmt.Errorf("audit verifier keys: %w", err)
	}
	st := devState{TrustDomain: *trustDomain, AuditAddr: auditAddr, TokenvaultAddr: tvAddr, GatewayURL: "http://" + gwAddr, AdminToken: adminToken, CLI: cliID,
		AuditVerifierKeys: vkeys}
	if err := writeState(dir, st); err != nil {
		stopAll()
		return err
	}
	fmt.Fprintf(stdout, `Sotto is running.
  gateway (REST):  http://%s   (OpenAPI at /openapi.json)
  audit (gRPC):    %s  (mTLS; CA at %s)
  tokenvault:      %s  (mTLS)
  operator token:  %s  (Authorization: Bearer ... on every /v1 route)
  state:           %s
Press Ctrl-C to stop.
`, gwAddr, auditAddr, filepath.Join(dir, "ca", "ca.pem"), tvAddr, adminToken, dir)

	select {
	case <-ctx.Done():
		fmt.Fprintln(stdout, "stopping...")
		stopAll()
		os.Remove(filepath.Join(dir, "dev.json"))
		return nil
	case name := <-exited:
		stopAll()
		os.Remove(filepath.Join(dir, "dev.json"))
		return fmt.Errorf("%s exited unexpectedly (see %s)", name, filepath.Join(dir, "logs", name+".log"))
	}
}

// passThroughEnv keeps the basics a process needs and the operator's Sotto
// and OpenTelemetry settings; per-service settings are added after it.
func passThroughEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "PATH" || k == "HOME" || k == "TMPDIR" || k == "TZ":
		case strings.HasPrefix(k, "SOTTO_VAULT_") || k == "SOTTO_LOG_LEVEL":
		case strings.HasPrefix(k, "OTEL_"):
			kv = "SOTTO_" + kv // services read SOTTO_OTEL_EXPORTER_OTLP_ENDPOINT
		default:
			continue
		}
		env = append(env, kv)
	}
	return env
}

func copyLog(r io.Reader, file io.Writer, name string, term io.Writer, quiet bool, mu *sync.Mutex) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		mu.Lock()
		fmt.Fprintln(file, line)
		if !quiet {
			fmt.Fprintf(term, "[%s] %s\n", name, line)
		}
		mu.Unlock()
	}
}

func waitReady(ctx context.Context, url string, timeout time.Duration, exited <-chan string) error {
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
		case name := <-exited:
			return fmt.Errorf("%s exited", name)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func freeAddrs(n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		a, err := freeAddr()
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// auditVerifierKeys reads the public halves of the audit log's checkpoint
// key, every version, from the key store itself (the local keyring or Vault
// Transit), so that `sotto audit verify` does not have to believe the audit
// service about which key signs its checkpoints.
func auditVerifierKeys(ctx context.Context, keyring, origin string) ([]string, error) {
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
		name = "audit-checkpoint"
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
