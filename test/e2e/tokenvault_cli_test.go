package e2e

import (
	"context"
	"database/sql"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
)

// TestCLIRotatesTokenvaultKeys: `sotto tokenvault rotate-keys` reaches
// RotateKeys as the CLI workload (the only one the policy allows): it
// reports the backlog, rotates a subject's data key (values are then
// re-encrypted and still open) and the key-encryption key, each rotation
// audited as the CLI's; bad requests fail with the service's reason.
func TestCLIRotatesTokenvaultKeys(t *testing.T) {
	s := startSuite(t, t.TempDir())
	ctx := context.Background()
	sotto := func(args ...string) (string, error) {
		t.Helper()
		args = append([]string{"tokenvault", "rotate-keys", "--state", s.State}, args...)
		out, err := exec.Command(filepath.Join(s.Bin, "sotto"), args...).CombinedOutput()
		return string(out), err
	}
	mustSotto := func(args ...string) string {
		t.Helper()
		out, err := sotto(args...)
		if err != nil {
			t.Fatalf("sotto tokenvault rotate-keys %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	// waitBacklog polls the status until the background job has no work left.
	waitBacklog := func(kek string) {
		t.Helper()
		want := "key-encryption key version: " + kek + "\ndata keys to rewrap: 0\nvalues to re-encrypt: 0\n"
		deadline := time.Now().Add(30 * time.Second)
		for {
			out := mustSotto()
			if out == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("backlog never cleared: %q, want %q", out, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	r := s.post("/v1/tokens:tokenize", s.OperatorToken(), `{"subject":"cus_rot","scope":"conv_1","items":[
		{"value":"Jane Doe","data_type":"DATA_TYPE_NAME"},
		{"value":"+447700900123","data_type":"DATA_TYPE_PHONE"}]}`)
	if r.code != http.StatusOK {
		t.Fatalf("tokenize: %d %s", r.code, r.raw)
	}
	var toks []string
	results, _ := r.body["results"].([]any)
	for _, res := range results {
		tok, _ := res.(map[string]any)["token"].(string)
		toks = append(toks, tok)
	}
	if len(toks) != 2 || toks[0] == "" || toks[1] == "" {
		t.Fatalf("tokenize results: %s", r.raw)
	}

	// Status only: nothing rotates.
	waitBacklog("1")

	// A subject's data key.
	if out := mustSotto("--subject", "cus_rot"); !strings.HasPrefix(out, "rotated the subject's data key\n") || strings.Contains(out, "cus_rot") {
		t.Fatalf("subject rotation output: %q", out)
	}
	db, err := sql.Open("sqlite", filepath.Join(s.State, "data", "tokenvault.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int
	if err := db.QueryRow(`SELECT current_version FROM subjects WHERE tenant = 'default' AND subject = 'cus_rot'`).Scan(&version); err != nil || version != 2 {
		t.Fatalf("subject key version after rotation: %d, %v; want 2", version, err)
	}
	waitBacklog("1")
	var onOld int
	if err := db.QueryRow(`SELECT COUNT(*) FROM tokens WHERE subject = 'cus_rot' AND dek_version <> 2`).Scan(&onOld); err != nil || onOld != 0 {
		t.Fatalf("values not re-encrypted under v2: %d, %v", onOld, err)
	}
	det, err := s.tokenvaultClient("conversation").Detokenize(ctx, &tokenvaultv1.DetokenizeRequest{Tokens: toks, Purpose: "order_support"})
	if err != nil || det.Results[0].GetValue() != "Jane Doe" || det.Results[1].GetValue() != "+447700900123" {
		t.Fatalf("detokenize after the subject's rotation: %v, %v", det, err)
	}

	// The key-encryption key: a KEK epoch started early (ADR 0007).
	if out := mustSotto("--kek"); !strings.HasPrefix(out, "rotated the key-encryption key to version 2\n") {
		t.Fatalf("KEK rotation output: %q", out)
	}
	waitBacklog("2")

	// Both rotations are in the audit log as the CLI's.
	for _, action := range []string{"tokenvault.rotate_subject_key", "tokenvault.rotate_keys"} {
		list := s.get("/v1/audit/events?action="+action, s.OperatorToken())
		if list.code != http.StatusOK || !strings.Contains(list.raw, `"caller_workload":"spiffe://sotto.local/sotto-cli"`) {
			t.Fatalf("audit events %s: %d %s", action, list.code, list.raw)
		}
	}

	// Refused requests.
	if out, err := sotto("--kek", "--subject", "cus_rot"); err == nil || !strings.Contains(out, "not both") {
		t.Fatalf("--kek with --subject: %v %q", err, out)
	}
	if out, err := sotto("--subject", "jane doe@example.com"); err == nil || !strings.Contains(out, "InvalidArgument") || strings.Contains(out, "jane") {
		t.Fatalf("a malformed subject: %v %q, want InvalidArgument without the input", err, out)
	}
	if out, err := sotto("--subject", "cus_nobody"); err == nil || !strings.Contains(out, "NotFound") {
		t.Fatalf("an unknown subject: %v %q, want NotFound", err, out)
	}
	// Only the CLI workload may rotate.
	if _, err := s.tokenvaultClient("conversation").RotateKeys(ctx, &tokenvaultv1.RotateKeysRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("RotateKeys by conversation: %v, want PermissionDenied", err)
	}
}
