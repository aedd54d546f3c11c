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
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/transparency-dev/merkle/rfc6962"
	_ "modernc.org/sqlite"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store/storetest"
	sottosuite "github.com/sottohq/sotto/pkg/suite"
	"github.com/sottohq/sotto/pkg/vaulttest"
	"github.com/sottohq/sotto/test/devsuite"
)

// suite is a running `sotto dev up` (see test/devsuite) with the shorthands
// these tests use.
type suite struct {
	*devsuite.Suite
	t *testing.T
}

type syncBuffer = devsuite.SyncBuffer

func binDir(t *testing.T) string { return devsuite.BinDir(t) }

func startSuite(t *testing.T, state string, env ...string) *suite {
	t.Helper()
	ds := devsuite.Start(t, binDir(t), state, env...)
	return &suite{Suite: ds, t: t}
}

func (s *suite) stop() { s.Suite.Stop() }

// auditClient connects to the suite's audit service as a workload of the
// suite's trust domain (a certificate from the dev CA the suite created).
func (s *suite) auditClient(name string) *auditclient.Client {
	return auditclient.NewClient(s.Dial(name, "audit", s.Info.Services["audit"].GRPC))
}

type restResult struct {
	code int
	body map[string]any
	raw  string
}

func (s *suite) get(path string, token string) restResult {
	s.t.Helper()
	r := s.Request(http.MethodGet, path, token, "")
	return restResult{code: r.Code, body: r.Body, raw: r.Raw}
}

func (s *suite) verify() (string, error) {
	out, err := exec.Command(filepath.Join(s.Bin, "sotto"), "audit", "verify", "--state", s.State).CombinedOutput()
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
	// The operator signs in first (identity audits the login and the MFA
	// enrolment, so the log holds more than this test's events).
	operator := s.OperatorToken()

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
	r := s.get("/v1/audit/events?subject=cus_1", s.OperatorToken())
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
	if r := s.get("/v1/audit/events/"+ids[0], s.OperatorToken()); r.code != http.StatusOK || !strings.Contains(r.raw, "spiffe://sotto.local/tokenvault") {
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
		{"bad uuid", "/v1/audit/events/not-a-uuid", s.OperatorToken(), http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"bad page size", "/v1/audit/events?page_size=abc", s.OperatorToken(), http.StatusBadRequest, "MALFORMED_REQUEST"},
		{"page size too big", "/v1/audit/events?page_size=5000", s.OperatorToken(), http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"bad page token", "/v1/audit/events?page_token=zzz", s.OperatorToken(), http.StatusBadRequest, "INVALID_PAGE_TOKEN"},
		{"unknown event", "/v1/audit/events/" + "0193a5b0-0000-7000-8000-000000000000", s.OperatorToken(), http.StatusNotFound, "EVENT_NOT_FOUND"},
		{"no route", "/v1/nothing", s.OperatorToken(), http.StatusNotFound, "ROUTE_NOT_FOUND"},
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

	// The gateway audits the two refused authentications asynchronously;
	// once they are in, verify the whole log.
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := s.get("/v1/audit/events?action=gateway.authenticate", operator)
		if r.code == http.StatusOK && strings.Count(r.raw, "OUTCOME_DENIED") == 2 {
			if strings.Contains(r.raw, "nope") {
				t.Fatalf("the refused token is in the audit log: %s", r.raw)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("refused authentications in the audit log: %d %s", r.code, r.raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
	verified := waitVerified(t, s, 7)
	// Without a pinned verifier key, verify refuses rather than trust the
	// key the log itself advertises.
	raw, err := os.ReadFile(filepath.Join(state, "dev.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dev map[string]any
	if err := json.Unmarshal(raw, &dev); err != nil {
		t.Fatal(err)
	}
	delete(dev, "audit_verifier_keys")
	unpinned := t.TempDir()
	if raw, err = json.Marshal(dev); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(unpinned, "dev.json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	refused, err := exec.Command(filepath.Join(s.Bin, "sotto"), "audit", "verify", "--state", unpinned).CombinedOutput()
	if err == nil || !strings.Contains(string(refused), "no verifier key") {
		t.Fatalf("verify without a pinned key: %v\n%s", err, refused)
	}

	// Tamper with stored entries while the suite is down; verify must name them.
	s.stop()
	// The entries of this test's events, wherever identity's landed.
	var at [5]int
	tamper(t, state, func(db *sql.DB) {
		for i, id := range ids {
			at[i] = leafIndex(t, db, id)
		}
		// ids[3]: its bytes change, its stored leaf hash does not.
		leaf := leafData(t, db, at[3])
		forged := bytes.Replace(leaf, []byte("order_support"), []byte("marketing_xyz"), 1)
		if bytes.Equal(forged, leaf) {
			t.Fatal("nothing to tamper with")
		}
		execOne(t, db, `UPDATE entries SET leaf_data = $1 WHERE leaf_index = $2`, forged, at[3])
		// ids[1] (cus_1): only its search column, moved to cus_0's hash, to
		// hide it from cus_1's searches and plant it in cus_0's.
		execOne(t, db, `UPDATE entries SET subject_hash = (SELECT subject_hash FROM entries WHERE leaf_index = $1) WHERE leaf_index = $2`, at[0], at[1])
		// ids[2]: its bytes and its stored leaf hash, consistently.
		forged2 := bytes.Replace(leafData(t, db, at[2]), []byte("tok_2"), []byte("tok_9"), 1)
		execOne(t, db, `UPDATE entries SET leaf_data = $1 WHERE leaf_index = $2`, forged2, at[2])
		execOne(t, db, `UPDATE tree_nodes SET hash = $1 WHERE level = 0 AND idx = $2`, rfc6962.DefaultHasher.HashLeaf(forged2), at[2])
	})
	s2 := startSuite(t, state)
	// One more event and a checkpoint after it: a signed range with no
	// altered entry follows the altered ones, and verify must not blame it
	// (its root differs only because it covers them).
	ctx2 := context.Background()
	if err := s2.auditClient("tokenvault").Record(ctx2, auditclient.New(ctx2, "tokenvault.detokenize", auditclient.Success)); err != nil {
		t.Fatal(err)
	}
	waitCheckpointAbove(t, s2, verified)
	out, err := s2.verify()
	t.Logf("sotto audit verify on the tampered log:\n%s", out)
	if err == nil {
		t.Fatalf("verify passed on a tampered log:\n%s", out)
	}
	for _, want := range []string{
		fmt.Sprintf("entry %d (event %s): tampered", at[3], ids[3]),
		fmt.Sprintf("entry %d (event %s): its search columns were altered", at[1], ids[1]),
		fmt.Sprintf("entry %d (event %s): altered together with its stored hash", at[2], ids[2]),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verify did not report %q:\n%s", want, out)
		}
	}
	// Only the altered entries are named: not the intact ones, and no
	// checkpoint (every later root differs only because of entry 2).
	for _, intact := range []string{ids[0], ids[4]} {
		if strings.Contains(out, intact) {
			t.Errorf("verify names intact event %s:\n%s", intact, out)
		}
	}
	if strings.Contains(out, "FAIL: checkpoint") {
		t.Errorf("verify blames a checkpoint for an entry's alteration:\n%s", out)
	}
	// Where the altered column would put the event into another subject's
	// results, the service refuses to answer from it (hiding it from cus_1
	// is what verify reported above).
	if r := s2.get("/v1/audit/events?subject=cus_0", s2.OperatorToken()); r.code != http.StatusInternalServerError || strings.Contains(r.raw, ids[1]) {
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
	// The regrown log is smaller than the one the witness remembers (the
	// new suite's own events from identity may have joined it too).
	deadline = time.Now().Add(30 * time.Second)
	for {
		out, err := s3.verify()
		if err != nil && strings.Contains(out, fmt.Sprintf("the log shrank from %d to", verified)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("verify of a replaced log (witness at %d entries): %v\n%s", verified, err, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// waitVerified waits until `sotto audit verify` passes on a log of at least
// min entries and returns how many it verified (identity's outbox may still
// be adding its events when the test asks).
func waitVerified(t *testing.T, s *suite, min int) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	re := regexp.MustCompile(`OK: (\d+) entries`)
	for {
		out, err := s.verify()
		if m := re.FindStringSubmatch(out); err == nil && m != nil {
			if n, _ := strconv.Atoi(m[1]); n >= min {
				return n
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("verify did not pass on %d+ entries: %v\n%s", min, err, out)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// waitCheckpointAbove waits for a signed checkpoint of more than n entries.
func waitCheckpointAbove(t *testing.T, s *suite, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := s.get("/v1/audit/checkpoint", s.OperatorToken())
		cp, _ := r.body["checkpoint"].(map[string]any)
		size, _ := strconv.Atoi(fmt.Sprint(cp["tree_size"]))
		if size > n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint above %d entries: %s", n, r.raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func leafIndex(t *testing.T, db *sql.DB, eventID string) int {
	t.Helper()
	var i int
	if err := db.QueryRow(`SELECT leaf_index FROM entries WHERE event_id = $1`, eventID).Scan(&i); err != nil {
		t.Fatal(err)
	}
	return i
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

// vaultEnv points every service of the manifest at Vault, each with a
// token holding only its own deploy/vault policy (no shared token).
func vaultEnv(t *testing.T, v *vaulttest.Server) []string {
	env := []string{"SOTTO_VAULT_ADDR=" + v.Addr, "SOTTO_VAULT_TOKEN="}
	for _, svc := range sottosuite.MustLoad().Services {
		env = append(env, svc.EnvPrefix()+"VAULT_TOKEN="+v.ClientWithPolicies(t, svc.Name).Token())
	}
	return env
}

// TestProductionBackends runs the same binaries against a real Vault (Transit
// for keys) and PostgreSQL, switched by configuration alone.
func TestProductionBackends(t *testing.T) {
	v := vaulttest.Start(t)
	dsn := storetest.PostgresDSN(t)
	// Each service gets a token with only its own deploy/vault policy.
	s := startSuite(t, t.TempDir(), append(vaultEnv(t, v), "SOTTO_AUDIT_DB_DSN="+dsn)...)
	ctx := context.Background()
	e := auditclient.New(ctx, "identity.login", auditclient.Denied)
	e.Subject, e.Reason = "cus_9", "MFA_REQUIRED"
	if err := s.auditClient("identity").Record(ctx, e); err != nil {
		t.Fatal(err)
	}
	r := s.get("/v1/audit/events/"+e.ID, s.OperatorToken())
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
	if err := db.QueryRow(`SELECT COUNT(*) FROM entries WHERE event_id = $1`, e.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the event's entries in PostgreSQL: %d, %v", n, err)
	}
	// And the checkpoint key lives in Vault Transit.
	sec, err := v.Client.Logical().Read("transit/keys/audit-checkpoint")
	if err != nil || sec == nil {
		t.Fatalf("checkpoint key not in Vault: %v", err)
	}
}
