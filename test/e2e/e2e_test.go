// Package e2e starts the real binaries through `sotto dev up` and drives them
// the way users do: services append through the client library over mTLS,
// operators read through the gateway's REST API and verify with the CLI.
package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/transparency-dev/merkle/rfc6962"
	_ "modernc.org/sqlite"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/pkg/vaulttest"
)

// suite is a running `sotto dev up`.
type suite struct {
	t     *testing.T
	bin   string
	state string
	cmd   *exec.Cmd
	out   *syncBuffer
	done  chan struct{} // closed when the process has exited
	err   error         // its exit status, valid after done
	info  struct {
		AuditAddr  string `json:"audit_addr"`
		GatewayURL string `json:"gateway_url"`
		AdminToken string `json:"admin_token"`
	}
}

func binDir(t *testing.T) string {
	dir := os.Getenv("SOTTO_BIN_DIR")
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("SOTTO_BIN_DIR is not set: CI must run the end-to-end tests (make test sets it)")
		}
		t.Skip("SOTTO_BIN_DIR is not set; run through `make test`, which builds the binaries")
	}
	return dir
}

func startSuite(t *testing.T, state string, env ...string) *suite {
	t.Helper()
	s := &suite{t: t, bin: binDir(t), state: state, out: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(filepath.Join(s.bin, "sotto"), "dev", "up", "--state", state, "--bin", s.bin, "--http-addr", "auto", "--quiet")
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(s.stop)
	deadline := time.Now().Add(90 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(state, "dev.json"))
		if err == nil && json.Unmarshal(b, &s.info) == nil && strings.Contains(s.out.String(), "Sotto is running") {
			return s
		}
		select {
		case <-s.done:
			t.Fatalf("sotto dev up exited (%v):\n%s", s.err, s.out.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("sotto dev up did not come up:\n%s", s.out.String())
		}
	}
}

// stop sends Ctrl-C and waits for a clean exit.
func (s *suite) stop() {
	select {
	case <-s.done:
		return // already stopped
	default:
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
		if s.err != nil {
			s.t.Errorf("sotto dev up exited with %v:\n%s", s.err, s.out.String())
		}
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		s.t.Errorf("sotto dev up did not stop on SIGINT")
	}
	if _, err := os.Stat(filepath.Join(s.state, "dev.json")); err == nil {
		s.t.Errorf("dev.json left behind after stop")
	}
}

// auditClient connects to the suite's audit service as a workload of the
// suite's trust domain (a certificate from the dev CA the suite created).
func (s *suite) auditClient(name string) *auditclient.Client {
	t := s.t
	ca, err := mtls.LoadOrCreateDevCA(filepath.Join(s.state, "ca"), "sotto.local")
	if err != nil {
		t.Fatal(err)
	}
	id := spiffeid.RequireFromString("spiffe://sotto.local/" + name)
	files, err := mtls.WriteWorkload(filepath.Join(t.TempDir(), name), ca, id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	src, err := mtls.NewFileSource(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := dial.Service(s.info.AuditAddr, src, "audit", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return auditclient.NewClient(conn)
}

type restResult struct {
	code int
	body map[string]any
	raw  string
}

func (s *suite) get(path string, token string) restResult {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.info.GatewayURL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := restResult{code: resp.StatusCode, raw: string(raw)}
	json.Unmarshal(raw, &r.body)
	return r
}

func (s *suite) verify() (string, error) {
	out, err := exec.Command(filepath.Join(s.bin, "sotto"), "audit", "verify", "--state", s.state).CombinedOutput()
	return string(out), err
}

func errorReason(r restResult) string {
	e, _ := r.body["error"].(map[string]any)
	reason, _ := e["reason"].(string)
	return reason
}

func TestDevUpAppendReadVerifyTamper(t *testing.T) {
	state := t.TempDir()
	s := startSuite(t, state)
	ctx := context.Background()

	// A service records events through the client library (synchronous mode).
	client := s.auditClient("tokenvault")
	var ids []string
	for i := 0; i < 5; i++ {
		e := auditclient.New(ctx, "tokenvault.detokenize", auditclient.Success)
		e.Subject = fmt.Sprintf("cus_%d", i%2)
		e.ResourceType, e.ResourceID, e.Purpose = "token", fmt.Sprintf("tok_%d", i), "order_support"
		if err := client.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}

	// An operator reads them back through the gateway's REST API.
	r := s.get("/v1/audit/events?subject=cus_1", s.info.AdminToken)
	if r.code != http.StatusOK {
		t.Fatalf("list: %d %s", r.code, r.raw)
	}
	events, _ := r.body["events"].([]any)
	if len(events) != 2 || !strings.Contains(r.raw, ids[1]) || !strings.Contains(r.raw, ids[3]) {
		t.Fatalf("list by subject returned %s", r.raw)
	}
	if strings.Contains(r.raw, `"cus_1"`) {
		t.Fatal("raw subject identifier in the REST response")
	}
	if r := s.get("/v1/audit/events/"+ids[0], s.info.AdminToken); r.code != http.StatusOK || !strings.Contains(r.raw, "spiffe://sotto.local/tokenvault") {
		t.Fatalf("get: %d %s", r.code, r.raw)
	}

	// The edge fails closed and answers bad input with 400 and a reason.
	for _, tc := range []struct {
		name, path, token string
		code              int
		reason            string
	}{
		{"no token", "/v1/audit/events", "", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"wrong token", "/v1/audit/events", "nope", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"bad uuid", "/v1/audit/events/not-a-uuid", s.info.AdminToken, http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"bad page size", "/v1/audit/events?page_size=abc", s.info.AdminToken, http.StatusBadRequest, "MALFORMED_REQUEST"},
		{"page size too big", "/v1/audit/events?page_size=5000", s.info.AdminToken, http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"bad page token", "/v1/audit/events?page_token=zzz", s.info.AdminToken, http.StatusBadRequest, "INVALID_PAGE_TOKEN"},
		{"unknown event", "/v1/audit/events/" + "0193a5b0-0000-7000-8000-000000000000", s.info.AdminToken, http.StatusNotFound, "EVENT_NOT_FOUND"},
		{"no route", "/v1/nothing", s.info.AdminToken, http.StatusNotFound, "ROUTE_NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.get(tc.path, tc.token)
			if r.code != tc.code || errorReason(r) != tc.reason {
				t.Fatalf("got %d %s, want %d with reason %s", r.code, r.raw, tc.code, tc.reason)
			}
		})
	}
	if r := s.get("/openapi.json", ""); r.code != http.StatusOK || !strings.Contains(r.raw, "/v1/audit/events") {
		t.Fatalf("openapi: %d", r.code)
	}

	// Wait for a checkpoint that covers everything, then verify.
	waitCheckpoint(t, s, "5")
	if out, err := s.verify(); err != nil || !strings.Contains(out, "OK: 5 entries") {
		t.Fatalf("verify on an intact log: %v\n%s", err, out)
	}

	// Tamper with stored entries while the suite is down; verify must name them.
	s.stop()
	tamper(t, state, func(db *sql.DB) {
		// Entry 3: its bytes change, its stored leaf hash does not.
		leaf := leafData(t, db, 3)
		forged := bytes.Replace(leaf, []byte("order_support"), []byte("marketing_xyz"), 1)
		if bytes.Equal(forged, leaf) {
			t.Fatal("nothing to tamper with")
		}
		execOne(t, db, `UPDATE entries SET leaf_data = $1 WHERE leaf_index = 3`, forged)
		// Entry 1 (cus_1): only its search column, moved to cus_0's hash, to
		// hide it from cus_1's searches and plant it in cus_0's.
		execOne(t, db, `UPDATE entries SET subject_hash = (SELECT subject_hash FROM entries WHERE leaf_index = 0) WHERE leaf_index = 1`)
		// Entry 2: its bytes and its stored leaf hash, consistently.
		forged2 := bytes.Replace(leafData(t, db, 2), []byte("tok_2"), []byte("tok_9"), 1)
		execOne(t, db, `UPDATE entries SET leaf_data = $1 WHERE leaf_index = 2`, forged2)
		execOne(t, db, `UPDATE tree_nodes SET hash = $1 WHERE level = 0 AND idx = 2`, rfc6962.DefaultHasher.HashLeaf(forged2))
	})
	s2 := startSuite(t, state)
	out, err := s2.verify()
	t.Logf("sotto audit verify on the tampered log:\n%s", out)
	if err == nil {
		t.Fatalf("verify passed on a tampered log:\n%s", out)
	}
	for _, want := range []string{
		"entry 3 (event " + ids[3] + "): tampered",
		"entry 1 (event " + ids[1] + "): its search columns were altered",
		"2 (event " + ids[2] + ")",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verify did not report %q:\n%s", want, out)
		}
	}
	// Where the altered column would put the event into another subject's
	// results, the service refuses to answer from it (hiding it from cus_1
	// is what verify reported above).
	if r := s2.get("/v1/audit/events?subject=cus_0", s2.info.AdminToken); r.code != http.StatusInternalServerError || strings.Contains(r.raw, ids[1]) {
		t.Errorf("search over an altered index: %d %s", r.code, r.raw)
	}

	// The whole log replaced (deleted and regrown, re-signed with the same
	// key): the witness from the first verification catches it.
	s2.stop()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(filepath.Join(state, "data", "audit.db"+suffix))
	}
	s3 := startSuite(t, state)
	ctx3 := context.Background()
	if err := s3.auditClient("tokenvault").Record(ctx3, auditclient.New(ctx3, "tokenvault.detokenize", auditclient.Success)); err != nil {
		t.Fatal(err)
	}
	waitCheckpoint(t, s3, "1")
	if out, err := s3.verify(); err == nil || !strings.Contains(out, "the log shrank from 5 to 1") {
		t.Fatalf("verify of a replaced log: %v\n%s", err, out)
	}
}

func waitCheckpoint(t *testing.T, s *suite, size string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := s.get("/v1/audit/checkpoint", s.info.AdminToken)
		cp, _ := r.body["checkpoint"].(map[string]any)
		if cp["tree_size"] == size {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of size %s: %s", size, r.raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func tamper(t *testing.T, state string, f func(db *sql.DB)) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(state, "data", "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f(db)
}

func leafData(t *testing.T, db *sql.DB, index int) []byte {
	t.Helper()
	var leaf []byte
	if err := db.QueryRow(`SELECT leaf_data FROM entries WHERE leaf_index = $1`, index).Scan(&leaf); err != nil {
		t.Fatal(err)
	}
	return leaf
}

func execOne(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	res, err := db.Exec(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%s changed %d rows", q, n)
	}
}

// TestSyncRecordFailsClosed: with the audit service gone, Record returns
// Unavailable, so a caller that must audit refuses the operation.
func TestSyncRecordFailsClosed(t *testing.T) {
	s := startSuite(t, t.TempDir())
	client := s.auditClient("tokenvault")
	ctx := context.Background()
	if err := client.Record(ctx, auditclient.New(ctx, "tokenvault.detokenize", auditclient.Success)); err != nil {
		t.Fatal(err)
	}
	s.stop()
	err := client.Record(ctx, auditclient.New(ctx, "tokenvault.detokenize", auditclient.Success))
	if !errs.Is(err, errs.Unavailable) {
		t.Fatalf("Record with audit down = %v, want Unavailable", err)
	}
}

// TestProductionBackends runs the same binaries against a real Vault (Transit
// for keys) and PostgreSQL, switched by configuration alone.
func TestProductionBackends(t *testing.T) {
	v := vaulttest.Start(t)
	dsn := storetest.PostgresDSN(t)
	// Each service gets a token with only its own deploy/vault policy.
	s := startSuite(t, t.TempDir(),
		"SOTTO_VAULT_ADDR="+v.Addr, "SOTTO_VAULT_TOKEN=",
		"SOTTO_AUDIT_VAULT_TOKEN="+v.ClientWithPolicies(t, "audit").Token(),
		"SOTTO_GATEWAY_VAULT_TOKEN="+v.ClientWithPolicies(t, "gateway").Token(),
		"SOTTO_TOKENVAULT_VAULT_TOKEN="+v.ClientWithPolicies(t, "tokenvault").Token(),
		"SOTTO_AUDIT_DB_DSN="+dsn)
	ctx := context.Background()
	e := auditclient.New(ctx, "identity.login", auditclient.Denied)
	e.Subject, e.Reason = "cus_9", "MFA_REQUIRED"
	if err := s.auditClient("identity").Record(ctx, e); err != nil {
		t.Fatal(err)
	}
	r := s.get("/v1/audit/events/"+e.ID, s.info.AdminToken)
	if r.code != http.StatusOK || !strings.Contains(r.raw, "MFA_REQUIRED") {
		t.Fatalf("get: %d %s", r.code, r.raw)
	}
	// The rows are in PostgreSQL, not in a SQLite file.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM entries`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("entries in PostgreSQL: %d, %v", n, err)
	}
	// And the checkpoint key lives in Vault Transit.
	sec, err := v.Client.Logical().Read("transit/keys/audit-checkpoint")
	if err != nil || sec == nil {
		t.Fatalf("checkpoint key not in Vault: %v", err)
	}
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
