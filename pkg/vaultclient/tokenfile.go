package vaultclient

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/sottohq/sotto/pkg/errs"
)

// fileToken reads the token from a file that someone else rotates (a Vault
// Agent sink writes a new file and renames it over the old one; a
// Kubernetes secret volume swaps a symlink). A stat per request is cheap
// next to the HTTP round trip it precedes, so there is no polling interval
// and no watcher goroutine: the file is re-read whenever its identity, size
// or modification time differ from the last read.
type fileToken struct {
	path string

	mu   sync.Mutex
	seen os.FileInfo // the file as it was when tok was read; nil: read next time
	tok  string
}

func (f *fileToken) token(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fi, err := os.Stat(f.path)
	if err != nil {
		f.seen = nil
		return "", f.unreadable(err)
	}
	if f.seen != nil && os.SameFile(f.seen, fi) && fi.Size() == f.seen.Size() && fi.ModTime().Equal(f.seen.ModTime()) {
		return f.tok, nil
	}
	// Stat before read: a write between the two leaves a newer file than
	// seen says, which the next request reads again.
	if err := f.read(); err != nil {
		return "", err
	}
	f.seen = fi
	return f.tok, nil
}

// refresh re-reads the file whatever its stat says: the same size and an
// unchanged modification time (coarse timestamps, a writer that keeps them)
// can hide a new token.
func (f *fileToken) refresh(_ context.Context, used string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fi, err := os.Stat(f.path)
	if err != nil {
		f.seen = nil
		return "", f.unreadable(err)
	}
	if err := f.read(); err != nil {
		return "", err
	}
	f.seen = fi
	if f.tok == used {
		return "", nil
	}
	return f.tok, nil
}

// read loads the token; on failure it forgets the old one, so that a
// broken file is reported rather than papered over with a stale token.
func (f *fileToken) read() error {
	f.seen, f.tok = nil, ""
	b, err := os.ReadFile(f.path)
	if err != nil {
		return f.unreadable(err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return errs.Wrap(fmt.Errorf("vault token file %s is empty", f.path),
			errs.FailedPrecondition, "VAULT_TOKEN_FILE_EMPTY", "the Vault token file is empty")
	}
	if !validToken(tok) {
		return errs.Wrap(fmt.Errorf("vault token file %s holds more than one line or control characters", f.path),
			errs.FailedPrecondition, "VAULT_TOKEN_FILE_INVALID", "the Vault token file does not hold a token")
	}
	f.tok = tok
	return nil
}

// unreadable wraps a stat or read error. Its text names the path and the
// reason (not found, permission), never file content.
func (f *fileToken) unreadable(err error) error {
	return errs.Wrap(fmt.Errorf("vault token file: %w", err),
		errs.FailedPrecondition, "VAULT_TOKEN_FILE_UNREADABLE", "cannot read the Vault token file")
}
