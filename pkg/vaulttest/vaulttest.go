// Package vaulttest starts a real HashiCorp Vault dev server for tests,
// configured by deploy/vault/setup.sh exactly as production is, so code that
// talks to Vault is tested against the real thing rather than a fake.
//
// The Vault binary is named by SOTTO_VAULT_BIN (`make vault` builds it). Without
// it tests skip, except in CI (CI=true), where a skip would hide a gap.
package vaulttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/sottohq/sotto/pkg/loopback"
)

// TrustDomain is the SPIFFE trust domain setup.sh is run with.
const TrustDomain = "sotto.test"

const (
	startTimeout = 30 * time.Second
	setupTimeout = 2 * time.Minute
	logTail      = 4 << 10 // bytes of server log shown on failure
)

// Server is a running Vault dev server with Sotto's mounts, keys, PKI role
// and policies in place.
type Server struct {
	// Addr is the base URL, e.g. "http://127.0.0.1:8201".
	Addr string
	// Token is the root token; use ClientWithPolicies to test least privilege.
	Token string
	// Client is an API client authenticated with the root token.
	Client *api.Client

	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// Stop kills the server (an outage, for tests of what clients do without
// Vault). It is safe to call more than once; cleanup calls it too.
func (s *Server) Stop() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Start starts a Vault dev server for t and stops it when t ends. Each call
// starts its own server (about a second), so tests never share Vault state.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := vaultBin(t)
	dir := t.TempDir()
	s := &Server{Token: randomHex(t, 16), logPath: filepath.Join(dir, "vault.log")}

	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	defer logFile.Close() // the child keeps its own descriptor

	addr := freeAddr(t)
	s.Addr = "http://" + addr
	cmd := exec.Command(bin, "server", "-dev",
		"-dev-root-token-id="+s.Token,
		"-dev-listen-address="+addr,
		"-dev-no-store-token", // do not overwrite ~/.vault-token
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// An isolated HOME keeps the server and CLI from reading or writing the
	// developer's Vault config and token helper.
	cmd.Env = hermeticEnv(dir)
	if err := cmd.Start(); err != nil {
		t.Fatalf("vaulttest: start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("vaulttest: tail of Vault log (%s):\n%s", s.logPath, s.tail())
		}
	})

	if err := waitHealthy(s.Addr, exited); err != nil {
		t.Fatalf("vaulttest: Vault did not become ready: %v\n%s", err, s.tail())
	}

	cfg := api.DefaultConfig()
	cfg.Address = s.Addr
	s.Client, err = api.NewClient(cfg)
	if err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	s.Client.SetToken(s.Token)

	runSetup(t, bin, dir, s)
	return s
}

// ClientWithPolicies returns a client whose token has exactly the named
// policies (plus Vault's built-in default policy, as login tokens have).
func (s *Server) ClientWithPolicies(t testing.TB, policies ...string) *api.Client {
	t.Helper()
	secret, err := s.Client.Auth().Token().Create(&api.TokenCreateRequest{Policies: policies, TTL: "1h"})
	if err != nil {
		t.Fatalf("vaulttest: create token with policies %v: %v", policies, err)
	}
	c, err := s.Client.Clone()
	if err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	c.SetToken(secret.Auth.ClientToken)
	return c
}

func (s *Server) tail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	if len(b) > logTail {
		b = b[len(b)-logTail:]
	}
	return string(b)
}

// vaultBin returns SOTTO_VAULT_BIN, or ends the test when it is unusable.
func vaultBin(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("SOTTO_VAULT_BIN")
	fi, err := os.Stat(bin)
	usable := bin != "" && err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
	if usable {
		if abs, err := filepath.Abs(bin); err == nil {
			return abs // tests run in their package directory
		}
		return bin
	}
	msg := fmt.Sprintf("vaulttest: SOTTO_VAULT_BIN=%q is not an executable Vault binary; `make vault` builds it", bin)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg) // CI must run the Vault tests, never skip them
		return ""
	}
	t.Skip(msg)
	return ""
}

// freeAddr picks a free loopback port. Another process could take it before
// Vault binds; that shows up as a startup failure with the log, which is
// rare enough not to warrant retries.
func freeAddr(t testing.TB) string {
	t.Helper()
	addr, err := loopback.Next()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	return hex.EncodeToString(b)
}

// hermeticEnv is the test process's environment minus anything that would
// point Vault tooling elsewhere, with HOME moved into the test's temp dir.
func hermeticEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "VAULT_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home)
}

// waitHealthy polls /v1/sys/health until Vault reports itself initialised,
// unsealed and active (HTTP 200), the server exits, or startTimeout passes.
func waitHealthy(addr string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(startTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("vault server exited")
		default:
		}
		resp, err := client.Get(addr + "/v1/sys/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("health status %d", resp.StatusCode)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("timed out after %s: %v", startTimeout, last)
}

// runSetup runs deploy/vault/setup.sh against the server, as an operator
// would against production.
func runSetup(t testing.TB, bin, home string, s *Server) {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	script := filepath.Join(root, "deploy", "vault", "setup.sh")
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Env = append(hermeticEnv(home),
		"VAULT_ADDR="+s.Addr,
		"VAULT_TOKEN="+s.Token,
		"SOTTO_TRUST_DOMAIN="+TrustDomain,
	)
	// The script calls `vault`: put the binary under test first on PATH, under
	// that name whatever SOTTO_VAULT_BIN calls it.
	binDir := filepath.Join(home, "bin")
	if err := os.MkdirAll(binDir, 0o700); err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	if err := os.Symlink(bin, filepath.Join(binDir, "vault")); err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	path := binDir
	for i, kv := range cmd.Env {
		if old, ok := strings.CutPrefix(kv, "PATH="); ok {
			path += string(os.PathListSeparator) + old
			cmd.Env = append(cmd.Env[:i], cmd.Env[i+1:]...)
			break
		}
	}
	cmd.Env = append(cmd.Env, "PATH="+path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("vaulttest: %s failed: %v\n%s", script, err, out.String())
	}
}

// repoRoot walks up from the working directory (a package directory under
// `go test`) to the directory holding go.work.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.work not found above the working directory")
		}
		dir = parent
	}
}
