package vaultclient

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
)

// writeAtomic replaces path the way a Vault Agent sink does: a new file
// renamed over the old one.
func writeAtomic(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// rewriteInPlace changes the file's content keeping its inode, size and
// modification time: a change no stat can see.
func rewriteInPlace(t *testing.T, path, content string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(content)) != fi.Size() {
		t.Fatalf("rewriteInPlace needs the same size: %d bytes, file has %d", len(content), fi.Size())
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(content), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
}

func TestFileTokenFollowsTheFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "token")
	writeAtomic(t, path, "hvs.first\n")
	f := &fileToken{path: path}
	get := func(want string) {
		t.Helper()
		got, err := f.token(ctx)
		if err != nil || got != want {
			t.Fatalf("token() = %q, %v; want %q", got, err, want)
		}
	}
	get("hvs.first")

	writeAtomic(t, path, "hvs.second")
	get("hvs.second")

	// Unseen by stat: served from the cache until a 403 makes the client
	// look again.
	rewriteInPlace(t, path, "hvs.thirdd")
	get("hvs.second")
	next, err := f.refresh(ctx, "hvs.second")
	if err != nil || next != "hvs.thirdd" {
		t.Fatalf("refresh() = %q, %v; want the rewritten token", next, err)
	}
	get("hvs.thirdd")

	// A refresh that finds the same token says the denial stands.
	if next, err := f.refresh(ctx, "hvs.thirdd"); err != nil || next != "" {
		t.Fatalf("refresh() with an unchanged file = %q, %v; want \"\", nil", next, err)
	}
}

func TestFileTokenFailsClosed(t *testing.T) {
	t.Parallel()
	const secret = "hvs.must-not-leak"
	tests := []struct {
		name      string
		breakFile func(t *testing.T, path string)
		reason    string
	}{
		{"emptied", func(t *testing.T, path string) { writeAtomic(t, path, "  \n") }, "VAULT_TOKEN_FILE_EMPTY"},
		{"removed", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, "VAULT_TOKEN_FILE_UNREADABLE"},
		{"unreadable", func(t *testing.T, path string) {
			if os.Geteuid() == 0 {
				// root reads any file; a directory in its place is unreadable as a token
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err := os.Chmod(path, 0); err != nil {
				t.Fatal(err)
			}
		}, "VAULT_TOKEN_FILE_UNREADABLE"},
		{"two lines", func(t *testing.T, path string) { writeAtomic(t, path, secret+"\n"+secret+"\n") }, "VAULT_TOKEN_FILE_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "token")
			writeAtomic(t, path, secret)
			f := &fileToken{path: path}
			if tok, err := f.token(ctx); err != nil || tok != secret {
				t.Fatalf("token() = %q, %v", tok, err)
			}
			// Let the change show in the modification time on file systems
			// with coarse timestamps; the content is what the test is about.
			future := time.Now().Add(time.Hour)
			tt.breakFile(t, path)
			_ = os.Chtimes(path, future, future)

			tok, err := f.token(ctx)
			if err == nil {
				t.Fatalf("token() = %q after the file was %s; want an error, not the previous token", tok, tt.name)
			}
			checkAuthErr(t, err, errs.FailedPrecondition, tt.reason, path, secret)
			// refresh (after a 403) must not resurrect the old token either.
			if next, err := f.refresh(ctx, secret); err == nil && next != "" {
				t.Fatalf("refresh() = %q after the file was %s", next, tt.name)
			}
		})
	}
}

// checkAuthErr checks err's kind and reason, that the operator's view of it
// names name (a path or a role), and that no rendering of it shows secret.
func checkAuthErr(t *testing.T, err error, kind errs.Kind, reason, name, secret string) {
	t.Helper()
	if !errs.Is(err, kind) || errs.ReasonOf(err) != reason {
		t.Errorf("error = %v (%s, %s); want %s %s", err, errs.KindOf(err), errs.ReasonOf(err), kind, reason)
	}
	if name != "" && !strings.Contains(errs.Detailed(err), name) {
		t.Errorf("error %q does not name %s", errs.Detailed(err), name)
	}
	checkNoSecret(t, err, secret)
}

func checkNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		for _, text := range []string{err.Error(), errs.Detailed(err)} {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("error text contains a secret: %q", text)
			}
		}
	}
}
