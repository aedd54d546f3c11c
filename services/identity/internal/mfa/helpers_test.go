package mfa

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
)

const testKey = "identity-mfa"

// newKeys returns a real local keyring (as `make run` uses) with testKey.
func newKeys(t testing.TB) *countingKeys {
	t.Helper()
	l, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	if err := l.EnsureKey(context.Background(), testKey, keys.TypeAES256GCM); err != nil {
		t.Fatalf("EnsureKey: %v", err)
	}
	return &countingKeys{KeyManager: l}
}

// countingKeys counts the calls that touch secrets, so tests can check that
// malformed input is refused before the key service is asked.
type countingKeys struct {
	keys.KeyManager
	calls atomic.Int64
}

func (c *countingKeys) UnwrapKey(ctx context.Context, name string, wrapped, aad []byte) ([]byte, error) {
	c.calls.Add(1)
	return c.KeyManager.UnwrapKey(ctx, name, wrapped, aad)
}

func (c *countingKeys) HMAC(ctx context.Context, name string, version int, msg []byte) ([]byte, error) {
	c.calls.Add(1)
	return c.KeyManager.HMAC(ctx, name, version, msg)
}

// wantErr fails unless err is an *errs.Error of kind and reason.
func wantErr(t *testing.T, err error, kind errs.Kind, reason string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want %s %s", err, err, kind, reason)
	}
	if e.Kind != kind || e.Reason != reason {
		t.Fatalf("error = %s %s (%v), want %s %s", e.Kind, e.Reason, errs.Detailed(err), kind, reason)
	}
}

// fakeClock is a settable clock for ceremony deadlines.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
