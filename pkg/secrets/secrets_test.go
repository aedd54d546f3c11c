package secrets_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/secrets"
)

var ctx = context.Background()

func writeSecrets(t *testing.T, path string, all map[string]map[string]string) {
	t.Helper()
	if err := secrets.WriteFile(path, all); err != nil {
		t.Fatal(err)
	}
}

func TestFileReadsSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "secrets.json")
	wa := secrets.ChannelPath("acme", secrets.WhatsApp)
	writeSecrets(t, path, map[string]map[string]string{
		wa: {secrets.KeyAppSecret: "s3cret-app-secret-0123456789", secrets.KeyVerifyToken: "vt"},
	})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("WriteFile made mode %v, want 0600", fi.Mode().Perm())
	}
	f := secrets.NewFile(path)
	got, err := f.Get(ctx, wa)
	if err != nil {
		t.Fatal(err)
	}
	if got[secrets.KeyAppSecret] != "s3cret-app-secret-0123456789" || got[secrets.KeyVerifyToken] != "vt" || len(got) != 2 {
		t.Fatalf("Get = %v", got)
	}
	// The caller's copy is its own.
	got[secrets.KeyAppSecret] = "changed"
	again, _ := f.Get(ctx, wa)
	if again[secrets.KeyAppSecret] != "s3cret-app-secret-0123456789" {
		t.Fatal("a caller's change reached the store")
	}

	if _, err := f.Get(ctx, secrets.ChannelPath("other", secrets.WhatsApp)); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("unknown path: %v, want not found", err)
	}
	if _, err := secrets.NewFile(filepath.Join(t.TempDir(), "none.json")).Get(ctx, wa); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("missing file: %v, want not found", err)
	}
}

// TestFileRefusesLoosePermissions: a secrets file others can read is not
// trusted, whatever it holds. Fails without the permission check in read.
func TestFileRefusesLoosePermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.json")
	wa := secrets.ChannelPath("acme", secrets.WhatsApp)
	writeSecrets(t, path, map[string]map[string]string{wa: {secrets.KeyAppSecret: "x"}})
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o602} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := secrets.NewFile(path).Get(ctx, wa)
		if errs.ReasonOf(err) != secrets.ReasonFilePermissions || !errs.Is(err, errs.FailedPrecondition) {
			t.Errorf("mode %v: err = %v, want %s", mode, err, secrets.ReasonFilePermissions)
		}
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.NewFile(path).Get(ctx, wa); err != nil {
		t.Fatalf("mode 0400: %v", err)
	}
}

func TestFileRefusesMalformed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.json")
	for _, body := range []string{`not json`, `{"sotto/channels/acme/whatsapp": {"app_secret": 7}}`, `[]`} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := secrets.NewFile(path).Get(ctx, "sotto/channels/acme/whatsapp")
		if errs.ReasonOf(err) != secrets.ReasonMalformed {
			t.Errorf("%s: err = %v, want %s", body, err, secrets.ReasonMalformed)
		}
	}
}

func TestPathsAreChecked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.json")
	writeSecrets(t, path, map[string]map[string]string{"sotto/channels/acme/whatsapp": {"k": "v"}})
	for _, store := range []secrets.Store{secrets.NewFile(path), secrets.NewCache(secrets.NewFile(path), time.Minute)} {
		for _, p := range []string{"", "/sotto/x", "sotto/../x", "sotto//x", "sotto/x/", "Sotto/x", "sotto/ x", "sotto/x\n", "sotto/%2e%2e"} {
			if _, err := store.Get(ctx, p); errs.ReasonOf(err) != secrets.ReasonPathInvalid {
				t.Errorf("%T.Get(%q) = %v, want %s", store, p, err, secrets.ReasonPathInvalid)
			}
		}
	}
	if err := secrets.WriteFile(path, map[string]map[string]string{"../x": {}}); errs.ReasonOf(err) != secrets.ReasonPathInvalid {
		t.Errorf("WriteFile with a bad path: %v", err)
	}
}

// countingStore counts the calls that reach it.
type countingStore struct {
	secrets.Store
	calls atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, path string) (map[string]string, error) {
	c.calls.Add(1)
	return c.Store.Get(ctx, path)
}

func TestCacheRemembersForTTL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.json")
	wa, ms := secrets.ChannelPath("acme", secrets.WhatsApp), secrets.ChannelPath("acme", secrets.Messenger)
	writeSecrets(t, path, map[string]map[string]string{wa: {"k": "v1"}})
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	store := &countingStore{Store: secrets.NewFile(path)}
	c := secrets.NewCache(store, 30*time.Second, secrets.WithClock(func() time.Time { return now }))

	get := func(p string) (string, error) {
		s, err := c.Get(ctx, p)
		return s["k"], err
	}
	if v, err := get(wa); v != "v1" || err != nil {
		t.Fatalf("first Get = %q, %v", v, err)
	}
	if _, err := get(ms); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	writeSecrets(t, path, map[string]map[string]string{wa: {"k": "v2"}, ms: {"k": "m"}})
	now = now.Add(29 * time.Second)
	if v, _ := get(wa); v != "v1" {
		t.Fatalf("within the TTL: %q, want the remembered v1", v)
	}
	if _, err := get(ms); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("within the TTL, not found is remembered too: %v", err)
	}
	if n := store.calls.Load(); n != 2 {
		t.Fatalf("store asked %d times, want 2", n)
	}
	now = now.Add(time.Second)
	if v, _ := get(wa); v != "v2" {
		t.Fatalf("after the TTL: %q, want v2", v)
	}
	if v, _ := get(ms); v != "m" {
		t.Fatalf("after the TTL: %q, want m", v)
	}

	// Errors other than not found are not remembered.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if _, err := get(wa); errs.ReasonOf(err) != secrets.ReasonFilePermissions {
		t.Fatalf("loose file: %v", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := get(wa); v != "v2" || err != nil {
		t.Fatalf("after the fix: %q, %v", v, err)
	}
}

func TestCacheIsBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.json")
	all := map[string]map[string]string{}
	for _, tenant := range []string{"a", "b", "c"} {
		all[secrets.ChannelPath(tenant, secrets.WhatsApp)] = map[string]string{"k": tenant}
	}
	writeSecrets(t, path, all)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	store := &countingStore{Store: secrets.NewFile(path)}
	c := secrets.NewCache(store, time.Minute, secrets.WithClock(func() time.Time { return now }),
		secrets.WithMaxEntries(2), secrets.WithMaxMissing(2))
	for _, tenant := range []string{"a", "b", "c"} {
		c.Get(ctx, secrets.ChannelPath(tenant, secrets.WhatsApp))
	}
	// a and b are remembered, c was not (full of unexpired entries).
	for _, tenant := range []string{"a", "b", "c"} {
		c.Get(ctx, secrets.ChannelPath(tenant, secrets.WhatsApp))
	}
	if n := store.calls.Load(); n != 4 {
		t.Fatalf("store asked %d times, want 4 (3, then c again)", n)
	}
	// Once they expire, room is made.
	now = now.Add(time.Minute)
	c.Get(ctx, secrets.ChannelPath("c", secrets.WhatsApp))
	c.Get(ctx, secrets.ChannelPath("c", secrets.WhatsApp))
	if n := store.calls.Load(); n != 5 {
		t.Fatalf("store asked %d times, want 5", n)
	}

	// Not found: the two most recently asked are remembered.
	for _, tenant := range []string{"x", "y", "z", "y", "z"} {
		c.Get(ctx, secrets.ChannelPath(tenant, secrets.WhatsApp))
	}
	if n := store.calls.Load(); n != 8 {
		t.Fatalf("store asked %d times, want 8 (x, y, z once each)", n)
	}
	c.Get(ctx, secrets.ChannelPath("x", secrets.WhatsApp))
	if n := store.calls.Load(); n != 9 {
		t.Fatalf("store asked %d times, want 9 (x was dropped)", n)
	}
}

// TestMadeUpShopsDoNotCrowdOutRealOnes: a flood of webhooks for made-up
// shops (10,000 names, each not found) neither evicts a real shop's
// secret nor stops the cache from remembering a real shop it meets next,
// and the names asked most recently are still remembered as not found.
// Fails with "not found" kept among the secrets (the flood fills the
// cache, and every new real shop costs a store read on every request).
func TestMadeUpShopsDoNotCrowdOutRealOnes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.json")
	real1, real2 := secrets.ChannelPath("acme", secrets.WhatsApp), secrets.ChannelPath("globex", secrets.WhatsApp)
	writeSecrets(t, path, map[string]map[string]string{real1: {"k": "acme"}, real2: {"k": "globex"}})
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	store := &countingStore{Store: secrets.NewFile(path)}
	c := secrets.NewCache(store, 30*time.Second, secrets.WithClock(func() time.Time { return now }))

	reads := func(p string, n int) int64 {
		before := store.calls.Load()
		for range n {
			c.Get(ctx, p)
		}
		return store.calls.Load() - before
	}
	if r := reads(real1, 3); r != 1 {
		t.Fatalf("a real shop: %d store reads, want 1", r)
	}
	const flood = 10_000
	made := func(i int) string { return secrets.ChannelPath(fmt.Sprintf("shop-%05d", i), secrets.WhatsApp) }
	for i := range flood {
		if _, err := c.Get(ctx, made(i)); !errors.Is(err, secrets.ErrNotFound) {
			t.Fatalf("made-up shop %d: %v", i, err)
		}
	}
	if n := store.calls.Load(); n != 1+flood {
		t.Fatalf("%d store reads for the flood, want one each", n-1)
	}
	if r := reads(real1, 3); r != 0 {
		t.Errorf("the real shop's secret was evicted: %d store reads", r)
	}
	if r := reads(real2, 3); r != 1 {
		t.Errorf("a real shop after the flood: %d store reads, want 1 (remembered)", r)
	}
	if r := reads(made(flood-1), 3); r != 0 {
		t.Errorf("the latest made-up shop: %d store reads, want 0 (not found is remembered)", r)
	}
	if r := reads(made(0), 1); r != 1 {
		t.Errorf("the first made-up shop: %d store reads, want 1 (not found is bounded)", r)
	}
}
