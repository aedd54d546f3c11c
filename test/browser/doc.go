// Package browser drives Sotto's pages in headless Chromium (Debian's
// chromium, through github.com/chromedp/chromedp) against the real
// binaries started by test/devsuite. See docs/adr/0016-web-front.md.
package browser
