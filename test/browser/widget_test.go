package browser

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// canaries are an e-mail address and a Luhn-valid card number no other
// test uses.
func canaries(t *testing.T) (email, card string) {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	digits := []byte("4")
	r := make([]byte, 14)
	if _, err := rand.Read(r); err != nil {
		t.Fatal(err)
	}
	for _, x := range r {
		digits = append(digits, '0'+x%10)
	}
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return "odile." + hex.EncodeToString(b) + "@example.com", string(digits) + string(rune('0'+(10-sum%10)%10))
}

// waitFor evaluates a JavaScript condition in the page until it is true
// or timeout passes (then the test fails). chromedp.Poll cannot be used:
// it builds its predicate with new Function, which the pages' CSP refuses.
func waitFor(b *Browser, expr string, timeout time.Duration) {
	b.T.Helper()
	deadline := time.Now().Add(timeout)
	for !Eval[bool](b, "Boolean("+expr+")") {
		if time.Now().After(deadline) {
			b.T.Fatalf("still false after %v: %s\nconsole: %q\nexceptions: %q", timeout, expr, b.Console(), b.Exceptions())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestWidgetAnonymousChat: a customer on a shop's page (another site than
// the gateway) opens the widget the shop embeds with one script tag; the
// framed widget loads with its headers and the consent notice the shop
// requires. Then, in the widget page itself (chromedp cannot act inside an
// out-of-process frame), nothing can be sent before the notice is
// accepted, and the customer chats anonymously through the real binaries:
// their messages with an e-mail address and a card number show as they
// typed them (the stored text and the stream carry placeholders only), no
// raw placeholder is ever on screen, and the assistant's request to sign
// in comes with a button. A message carrying markup shows as text and runs
// nothing.
func TestWidgetAnonymousChat(t *testing.T) {
	shop := startShop(t)
	s := startSuite(t, shop)
	gw := s.Info.GatewayURL
	shop.serve(gw, map[string]string{"tenant": "default", "notice": "personalisation"})
	b := Start(t, SameProcessFrames()...)

	b.Run(30*time.Second, Viewport(DesktopWidth, 900), chromedp.Navigate(shop.URL), chromedp.WaitVisible(chromedp.CSS("button.sotto-chat-launcher")))
	loader := b.Response(gw + "/widget/embed.js")
	if loader == nil || loader.Status != 200 || Header(loader, "Cross-Origin-Resource-Policy") != "cross-origin" ||
		!strings.HasPrefix(Header(loader, "Content-Type"), "text/javascript") || Header(loader, "X-Content-Type-Options") != "nosniff" {
		t.Fatalf("loader: %+v", loader)
	}
	if Eval[bool](b, `document.querySelector('iframe') !== null`) {
		t.Error("the widget's frame was opened before the customer asked for it")
	}
	b.Run(10*time.Second, chromedp.Click(chromedp.CSS("button.sotto-chat-launcher")))
	// The widget ran in the frame: it asked for the shop's notice.
	noticeURL := gw + "/v1/consent/notices/personalisation"
	deadline := time.Now().Add(30 * time.Second)
	for !b.StatusOK(noticeURL) {
		if time.Now().After(deadline) {
			t.Fatalf("the framed widget did not load its notice; console: %q", b.Console())
		}
		time.Sleep(100 * time.Millisecond)
	}
	frameURL, doc := b.ResponsePrefix(gw + "/widget/?")
	if doc == nil || doc.Status != 200 {
		t.Fatalf("the framed widget: %+v", doc)
	}
	d := csp(Header(doc, "Content-Security-Policy"))
	if !slices.Equal(d["frame-ancestors"], []string{shop.Origin}) || !slices.Equal(d["script-src"], []string{"'self'"}) ||
		!slices.Equal(d["require-trusted-types-for"], []string{"'script'"}) || Header(doc, "Referrer-Policy") != "no-referrer" ||
		Header(doc, "X-Frame-Options") != "" {
		t.Errorf("the framed widget's headers: %v", doc.Headers)
	}
	for _, m := range b.Console() {
		if strings.Contains(m, "frame-ancestors") {
			t.Errorf("the listed shop's frame was refused: %s", m)
		}
	}
	b.Screenshot("widget-in-shop")

	// The widget page itself, at a widget's size.
	b.Run(30*time.Second, Viewport(400, 640), chromedp.Navigate(frameURL), chromedp.WaitVisible(chromedp.CSS("#notice-title")))
	waitFor(b, `document.querySelector('.notice-text') !== null`, 30*time.Second)
	notice := Eval[string](b, `document.querySelector('.notice-text').textContent`)
	if !strings.Contains(notice, "recommend products") {
		t.Errorf("notice text %q", notice)
	}
	if !Eval[bool](b, `document.querySelector('#message').disabled && document.querySelector('.chat-form button[type=submit]').disabled`) {
		t.Error("the message form is usable before the notice was accepted")
	}
	b.Screenshot("widget-notice")
	b.Run(10*time.Second, chromedp.Click(chromedp.CSS(".notice button")))

	email, card := canaries(t)
	typed := "Where is my order? Write to " + email
	b.Run(10*time.Second, chromedp.SendKeys(chromedp.CSS("#message"), typed), chromedp.Click(chromedp.CSS(".chat-form button[type=submit]")))
	// A visitor's messages are sealed too: the reply is the one opened in
	// the page.
	waitFor(b, `document.querySelector('.msg.assistant[data-opened]') !== null && document.querySelectorAll('.msg.sending').length === 0`, 60*time.Second)

	// A visitor is asked to sign in for anything about an order (ADR
	// 0014), and the widget offers the way to.
	if reply := Eval[string](b, `document.querySelector('.msg.assistant .text').textContent`); !strings.Contains(reply, "sign in") {
		t.Errorf("the assistant's reply to a visitor %q, want the sign-in request", reply)
	}
	if href := Eval[string](b, `document.querySelector('.msg.assistant a.button')?.getAttribute('href') ?? ''`); href != "/privacy/" {
		t.Errorf("the sign-in button links to %q, want the privacy centre", href)
	}
	if mine := Eval[string](b, `document.querySelector('.msg.customer .text').textContent`); mine != typed {
		t.Errorf("the customer's message shows %q, want what they typed", mine)
	}
	if Eval[bool](b, `/\[(EMAIL|CARD|PERSON|PHONE|ADDRESS|LITERAL)_\d+\]/.test(document.body.textContent)`) {
		t.Errorf("a raw placeholder is on screen: %q", Eval[string](b, `document.body.textContent`))
	}

	// Markup in a message is text: no element is made from it, nothing
	// runs, and the customer sees exactly what they wrote.
	// (Sent with the keyboard: Enter sends.)
	xss := `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`
	b.Run(10*time.Second, chromedp.SendKeys(chromedp.CSS("#message"), xss+kb.Enter))
	waitFor(b, `document.querySelectorAll('.msg.customer').length === 2 && document.querySelectorAll('.msg.sending').length === 0`, 60*time.Second)
	if got := Eval[string](b, `document.querySelectorAll('.msg.customer .text')[1].textContent`); got != xss {
		t.Errorf("the message with markup shows %q, want it as typed", got)
	}
	if n := Eval[int](b, `document.querySelectorAll('.chat-log img, .chat-log script, .chat-log [onerror]').length`); n != 0 {
		t.Errorf("%d elements made from a message's markup", n)
	}
	if Eval[bool](b, `window.__xss !== undefined`) {
		t.Error("script from a chat message ran")
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("script errors in the widget: %q", ex)
	}
	if Eval[bool](b, `document.documentElement.scrollWidth > document.documentElement.clientWidth`) {
		t.Error("the widget scrolls sideways at 400px")
	}
	if unnamed := Eval[[]string](b, unnamedControls); len(unnamed) > 0 {
		t.Errorf("controls without an accessible name: %q", unnamed)
	}
	b.Screenshot("widget-chat")
	// A second message, with a card number: shown as typed too.
	paid := "I paid with " + card + " yesterday"
	b.Run(10*time.Second, chromedp.SendKeys(chromedp.CSS("#message"), paid), chromedp.Click(chromedp.CSS(".chat-form button[type=submit]")))
	waitFor(b, `document.querySelectorAll('.msg.customer').length === 3 && document.querySelectorAll('.msg.sending').length === 0`, 60*time.Second)
	if got := Eval[string](b, `document.querySelectorAll('.msg.customer .text')[2].textContent`); got != paid {
		t.Errorf("the message with a card shows %q, want it as typed", got)
	}
	if Eval[bool](b, `/\[(EMAIL|CARD|PERSON|PHONE|ADDRESS|LITERAL)_\d+\]/.test(document.body.textContent)`) {
		t.Errorf("a raw placeholder is on screen: %q", Eval[string](b, `document.body.textContent`))
	}
	if strings.Contains(frameURL, email) || strings.Contains(frameURL, card) {
		t.Errorf("personal data in the widget's URL %s", frameURL)
	}
}

// TestWidgetRefusedToOtherSites: a page on a site the gateway does not
// list for the widget gets a refused frame (CSP frame-ancestors), reported
// by the browser.
func TestWidgetRefusedToOtherSites(t *testing.T) {
	listed := startShop(t)
	s := startSuite(t, listed)
	other := startShop(t) // another port: another origin, not listed
	other.serve(s.Info.GatewayURL, map[string]string{"tenant": "default"})
	b := Start(t)
	b.Run(30*time.Second, chromedp.Navigate(other.URL), chromedp.WaitVisible(chromedp.CSS("button.sotto-chat-launcher")),
		chromedp.Click(chromedp.CSS("button.sotto-chat-launcher")))
	if !b.WaitConsole("frame-ancestors", 30*time.Second) {
		t.Errorf("no frame-ancestors refusal reported; console: %q", b.Console())
	}
}

// TestWidgetSignedInChat: a customer signed in to the gateway (the
// HttpOnly refresh cookie, set by a login in browser mode) opens the widget
// first-party; the widget takes up the session, posts (sealed) for the
// re-identified view and follows the unsealed event stream in placeholder
// view only; the assistant's reply that names the customer's e-mail
// address, opened in the page, shows the address, not its placeholder.
// When the assistant asks for a step-up, the widget offers the privacy
// centre's step-up page.
func TestWidgetSignedInChat(t *testing.T) {
	shop := startShop(t)
	s := startSuite(t, shop)
	gw := s.Info.GatewayURL
	email, _ := canaries(t)
	password := "widget " + email + " Kestrel"
	if r := s.Request("POST", "/v1/accounts:signUp", "", `{"tenant":"default","email":"`+email+`","password":"`+password+`"}`); r.Code != 200 {
		t.Fatalf("sign-up: %d %s", r.Code, r.Raw)
	}
	if r := s.Request("POST", "/v1/accounts:verifyEmail", "", `{"code":"`+mailboxCode(t, s, email, "verify_email")+`"}`); r.Code != 200 {
		t.Fatalf("verify: %d %s", r.Code, r.Raw)
	}

	b := Start(t)
	b.Run(30*time.Second, Viewport(400, 640), chromedp.Navigate(gw+"/widget/?tenant=default&lang=en"), chromedp.WaitVisible(chromedp.CSS("#message")))
	// A login in browser mode, as the privacy centre signs in: the refresh
	// token goes into the HttpOnly cookie, which the page cannot read.
	status := Eval[int](b, `fetch('/v1/sessions:login', {method: 'POST', headers: {'Content-Type': 'application/json', 'X-Sotto-Session': 'cookie'},
		body: JSON.stringify({tenant: 'default', email: `+"`"+email+"`"+`, password: `+"`"+password+"`"+`})}).then((r) => r.status)`)
	if status != 200 {
		t.Fatalf("login in browser mode: %d", status)
	}
	if Eval[bool](b, `document.cookie.includes('sotto_refresh')`) {
		t.Error("the refresh cookie is readable by the page")
	}
	b.Run(30*time.Second, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#message")))

	typed := "Where is my order? Write to " + email
	b.Run(10*time.Second, chromedp.SendKeys(chromedp.CSS("#message"), typed), chromedp.Click(chromedp.CSS(".chat-form button[type=submit]")))
	waitFor(b, `document.querySelector('.msg.assistant[data-opened]') !== null && document.querySelectorAll('.msg.sending').length === 0`, 60*time.Second)
	if who := Eval[string](b, `document.querySelector('.chat-head').textContent`); !strings.Contains(who, "Signed in") {
		t.Errorf("the widget did not take up the session: %q", who)
	}
	reply := Eval[string](b, `document.querySelector('.msg.assistant .text').textContent`)
	if !strings.Contains(reply, "tracking details to") || !strings.Contains(reply, "@example.com") {
		t.Errorf("the assistant's reply %q does not show the customer's e-mail address", reply)
	}
	if Eval[bool](b, `/\[(EMAIL|CARD|PERSON|PHONE|ADDRESS|LITERAL)_\d+\]/.test(document.body.textContent)`) {
		t.Errorf("a raw placeholder is on screen: %q", Eval[string](b, `document.body.textContent`))
	}
	if mine := Eval[string](b, `document.querySelector('.msg.customer .text').textContent`); mine != typed {
		t.Errorf("the customer's message shows %q, want what they typed", mine)
	}
	// The reply is re-identified in the POST's sealed answer only: the
	// event stream, which is not sealed, is asked for placeholders.
	// (The stream's answer may come after the POST's: wait for it.)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if slices.ContainsFunc(b.URLs(), func(u string) bool { return strings.Contains(u, "/events") }) {
			break
		}
	}
	streams := 0
	for _, u := range b.URLs() {
		if strings.Contains(u, "/events") {
			streams++
			if !strings.HasSuffix(u, "/events?view=MESSAGE_VIEW_PLACEHOLDERS") {
				t.Errorf("the (unsealed) event stream was asked for another view than placeholders: %s", u)
			}
		}
	}
	if streams == 0 {
		t.Errorf("no event stream opened; got %q", b.URLs())
	}
	b.Screenshot("widget-signed-in")

	// A refund needs a recent second factor: the reply's required_action
	// asks for a step-up, and the widget offers its own (completed in
	// TestWidgetStepUpInline).
	b.Run(10*time.Second, chromedp.SendKeys(chromedp.CSS("#message"), "I want a refund please"), chromedp.Click(chromedp.CSS(".chat-form button[type=submit]")))
	waitFor(b, `document.querySelectorAll('.msg.assistant[data-opened]').length >= 2 && document.querySelectorAll('.msg.sending').length === 0`, 60*time.Second)
	last := `[...document.querySelectorAll('.msg.assistant')].at(-1)`
	if got := Eval[string](b, last+`.querySelector('.actions button')?.textContent ?? ''`); got != "Confirm it is you" {
		t.Errorf("step-up request %q offers %q, want the widget's own step-up", Eval[string](b, last+`.textContent`), got)
	}
}

// unnamedControls lists the visible form controls without a label and the
// buttons and links without text or aria-label (a screen reader would
// announce them as nothing).
const unnamedControls = `[...document.querySelectorAll('input, textarea, select, button, a[href]')]
	.filter((e) => e.getClientRects().length > 0)
	.filter((e) => ['INPUT', 'TEXTAREA', 'SELECT'].includes(e.tagName)
		? !(e.labels?.length || e.getAttribute('aria-label'))
		: !(e.textContent.trim() || e.getAttribute('aria-label')))
	.map((e) => e.outerHTML.slice(0, 80))`
