package browser

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/sottohq/sotto/test/devsuite"
)

// ChromiumPath is the browser the tests drive: SOTTO_CHROMIUM, else
// Debian's /usr/bin/chromium, else chromium on the PATH. Without one the
// test skips, except in CI (CI=true), where it fails: .ci/run installs it.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("SOTTO_CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium (SOTTO_CHROMIUM or /usr/bin/chromium): CI must run the browser tests (.ci/run installs it)")
	}
	t.Skip("no chromium; apt-get install chromium")
	return ""
}

// Browser is one headless Chromium with a fresh profile, and what it saw:
// the response headers of every document and script it loaded, console
// messages, uncaught exceptions and Content-Security-Policy reports.
type Browser struct {
	T   testing.TB
	Ctx context.Context

	mu        sync.Mutex
	responses map[string]*network.Response // by URL, the last one
	console   []string
	errors    []string
}

// Start launches Chromium for the test (closed at its end). The flags are
// what a root user in a container needs (no sandbox) and what keeps the
// browser from calling home during a test.
func Start(t testing.TB, extra ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("mute-audio", true),
		chromedp.WindowSize(1280, 900),
	}
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &Browser{T: t, responses: map[string]*network.Response{}}
	// From the tab's start, so that the first document's answer is seen
	// (chromedp enables the network and runtime domains itself).
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(b.listen))
	b.Ctx = ctx
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return b
}

func (b *Browser) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventResponseReceived:
		b.responses[ev.Response.URL] = ev.Response
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range ev.Args {
			if a.Value != nil {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		b.console = append(b.console, string(ev.Type)+": "+strings.Join(parts, " "))
	case *log.EventEntryAdded:
		// The browser's own reports: CSP refusals, failed loads.
		b.console = append(b.console, string(ev.Entry.Level)+": "+ev.Entry.Text)
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		b.errors = append(b.errors, msg)
	}
}

// Run runs actions with a deadline, failing the test on error.
func (b *Browser) Run(timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.T.Fatalf("browser: %v\nconsole: %q\nexceptions: %q", err, b.Console(), b.Exceptions())
	}
}

// Eval evaluates a JavaScript expression in the page (awaiting a promise)
// and returns its value, failing the test on error.
func Eval[T any](b *Browser, expr string) T {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.T.Fatalf("evaluate %s: %v\nexceptions: %q", expr, err, b.Exceptions())
	}
	return v
}

// SameProcessFrames keeps cross-site iframes in the page's process (site
// isolation off), so that their network answers reach the page's events.
// chromedp cannot run actions in an out-of-process frame it attaches to
// later (they time out), so tests drive a page's DOM top-level and use
// this to see what a framed copy received.
func SameProcessFrames() []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.Flag("disable-features", "SitePerProcess,IsolateOrigins"),
		chromedp.Flag("disable-site-isolation-trials", true),
	}
}

// URLs are the URLs the browser got responses for.
func (b *Browser) URLs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for u := range b.responses {
		out = append(out, u)
	}
	return out
}

// ResponsePrefix is the last response whose URL starts with prefix.
func (b *Browser) ResponsePrefix(prefix string) (string, *network.Response) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for u, r := range b.responses {
		if strings.HasPrefix(u, prefix) {
			return u, r
		}
	}
	return "", nil
}

// WaitConsole waits up to timeout for a console or browser-log message
// containing text, and reports whether one came.
func (b *Browser) WaitConsole(text string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		for _, m := range b.Console() {
			if strings.Contains(m, text) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Response is the last response the browser received for url (nil if
// none), with its headers as the browser saw them.
func (b *Browser) Response(url string) *network.Response {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.responses[url]
}

// Header is one response header as the browser saw it ("" if absent).
func Header(r *network.Response, name string) string {
	if r == nil {
		return ""
	}
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// Console is every console message so far.
func (b *Browser) Console() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// Exceptions is every uncaught exception so far.
func (b *Browser) Exceptions() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// Screenshot saves the page as <name>.png among the test's artefacts:
// SOTTO_SCREENSHOT_DIR, else bin/screenshots at the repository root. With
// SOTTO_DOCS_SCREENSHOTS=1 it is also copied to docs/screenshots/ (the
// pictures the documentation shows; run on purpose, then commit).
func (b *Browser) Screenshot(name string) string {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.T.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("SOTTO_SCREENSHOT_DIR")
	root, err := devsuite.RepoRoot()

	if dir == "" {
		if err != nil {
			dir = b.T.TempDir()
		} else {
			dir = filepath.Join(root, "bin", "screenshots")
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.T.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.T.Fatal(err)
	}
	b.T.Logf("screenshot %s", path)
	if os.Getenv("SOTTO_DOCS_SCREENSHOTS") == "1" && err == nil {
		docs := filepath.Join(root, "docs", "screenshots")
		if err := os.MkdirAll(docs, 0o755); err != nil {
			b.T.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(docs, name+".png"), png, 0o644); err != nil {
			b.T.Fatal(err)
		}
	}
	return path
}

// PhoneWidth and DesktopWidth are the viewports pages are checked at.
const (
	PhoneWidth   = 375
	DesktopWidth = 1280
)

// Viewport sets the window's size in CSS pixels (a phone: 375 × 740).
func Viewport(width, height int64) chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(width, height)
}

// StatusOK reports whether the browser got a 2xx or 304 for url.
func (b *Browser) StatusOK(url string) bool {
	r := b.Response(url)
	return r != nil && (r.Status/100 == 2 || r.Status == http.StatusNotModified)
}
