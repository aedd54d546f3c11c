package browser

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sottohq/sotto/test/devsuite"
)

// rawPlaceholder matches a placeholder as the service stores it.
const rawPlaceholder = `/\[(PERSON|EMAIL|PHONE|CARD|IBAN|ADDRESS|IP|NATIONAL_ID|DATE_OF_BIRTH|SECRET|LITERAL)_\d+\]/`

// watchPlaceholders records, from now on, any moment the page's text holds
// a raw placeholder (window.__placeholderSeen), so that a placeholder shown
// and replaced a moment later is caught too; and any change to a reply's
// text after it was shown opened (window.__openedRewritten): the stream's
// copy must never take its place.
func watchPlaceholders(b *Browser) {
	b.T.Helper()
	Eval[bool](b, `(() => {
		window.__placeholderSeen = '';
		window.__openedRewritten = '';
		const check = (recs) => {
			const t = document.body.textContent;
			if (!window.__placeholderSeen && `+rawPlaceholder+`.test(t)) window.__placeholderSeen = t;
			// The batch that marks a bubble opened also fills it.
			if (!recs || recs.some((r) => r.type === 'attributes' && r.oldValue === null)) return;
			for (const r of recs) {
				const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
				if (el?.closest('[data-opened]')) window.__openedRewritten ||= el.closest('[data-opened]').textContent;
			}
		};
		new MutationObserver(check).observe(document.body,
			{ subtree: true, childList: true, characterData: true, attributes: true, attributeOldValue: true, attributeFilter: ['data-opened'] });
		check();
		return true;
	})()`)
}

// widgetSend types text into the widget and sends it, then waits until
// the message is no longer "sending" and cond holds.
func widgetSend(b *Browser, text, cond string) {
	b.T.Helper()
	b.Run(10*time.Second, chromedp.SendKeys(chromedp.CSS("#message"), text), chromedp.Click(chromedp.CSS(".chat-form button[type=submit]")))
	waitFor(b, `document.querySelectorAll('.msg.sending').length === 0 && (`+cond+`)`, 90*time.Second)
}

// TestWidgetSealedChat: the real widget, served by the real gateway, seals
// a signed-in customer's message end to end (lib/seal-transport.js): the
// message carries an e-mail address and a card number no other test uses,
// and the re-identified reply naming the address is opened in the page
// (the bubble is marked opened; the event stream was asked for the
// placeholder view only). Her message shows as typed and no raw
// placeholder is on screen at any moment. The gateway's log file, the
// spans it exported over OTLP and its whole memory hold neither canary nor
// the reply. The control: the same widget opened with sealing off
// (seal=off, what a shop's data-seal="off" passes) says so, and the canary
// of a message it sends IS found in the gateway's memory. And a browser
// without WebCrypto (what @hpke needs) sends nothing: the message fails
// closed with the widget's notice. A first message sealed to a key the
// service does not know is sealed to fresh keys and sent again, once.
func TestWidgetSealedChat(t *testing.T) {
	ChromiumPath(t)
	traces, otlp := startSealCollector(t)
	s := devsuite.Start(t, devsuite.BinDir(t), t.TempDir(), "OTEL_EXPORTER_OTLP_ENDPOINT="+otlp, "OTEL_EXPORTER_OTLP_INSECURE=true")
	gw := s.Info.GatewayURL

	// Her account's address is not a canary: signing up and logging in
	// pass it through the gateway in the clear.
	var r [6]byte
	rand.Read(r[:])
	account := "sealed-widget-" + hex.EncodeToString(r[:]) + "@example.com"
	password := "widget " + hex.EncodeToString(r[:]) + " Kestrel"
	if res := s.Request("POST", "/v1/accounts:signUp", "", `{"tenant":"default","email":"`+account+`","password":"`+password+`"}`); res.Code != 200 {
		t.Fatalf("sign-up: %d %s", res.Code, res.Raw)
	}
	if res := s.Request("POST", "/v1/accounts:verifyEmail", "", `{"code":"`+mailboxCode(t, s, account, "verify_email")+`"}`); res.Code != 200 {
		t.Fatalf("verify: %d %s", res.Code, res.Raw)
	}

	b := Start(t)
	b.Run(30*time.Second, Viewport(400, 640), chromedp.Navigate(gw+"/widget/?tenant=default&lang=en"), chromedp.WaitVisible(chromedp.CSS("#message")))
	status := Eval[int](b, `fetch('/v1/sessions:login', {method: 'POST', headers: {'Content-Type': 'application/json', 'X-Sotto-Session': 'cookie'},
		body: JSON.stringify({tenant: 'default', email: '`+account+`', password: '`+password+`'})}).then((r) => r.status)`)
	if status != 200 {
		t.Fatalf("login in browser mode: %d", status)
	}
	b.Run(30*time.Second, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#message")))
	if Eval[bool](b, `document.querySelector('.chat-unsealed') !== null`) {
		t.Error("the sealing widget says its chat is not encrypted")
	}
	watchPlaceholders(b)
	release := holdStreams(b)

	email, card := sealCanaries(t)
	typed := "Hello, where is my order? My e-mail is " + email + " and I paid with card " + card + "."
	widgetSend(b, typed, `document.querySelector('.msg.assistant[data-opened]') !== null`)
	if who := Eval[string](b, `document.querySelector('.chat-head').textContent`); !strings.Contains(who, "Signed in") {
		t.Fatalf("the widget did not take up the session: %q", who)
	}
	reply := Eval[string](b, `document.querySelector('.msg.assistant[data-opened] .text').textContent`)
	if !strings.Contains(reply, email) {
		t.Errorf("the opened reply %q does not name the customer's address", reply)
	}
	if mine := Eval[string](b, `document.querySelector('.msg.customer .text').textContent`); mine != typed {
		t.Errorf("the customer's message shows %q, want what they typed", mine)
	}
	if n := Eval[int](b, `document.querySelectorAll('.msg').length`); n != 2 {
		t.Errorf("%d bubbles, want the message and its reply once each: %q", n, Eval[string](b, `document.querySelector('.chat-log').textContent`))
	}
	// The stream, held until now, sends the conversation from its start:
	// its placeholder copies come after the opened reply, and must not take
	// its place.
	release()
	time.Sleep(time.Second) // for the page to handle what the stream sent
	if got := Eval[string](b, `document.querySelector('.msg.assistant .text').textContent`); got != reply {
		t.Errorf("the reply changed from %q to %q", reply, got)
	}
	if seen := Eval[string](b, `window.__placeholderSeen`); seen != "" {
		t.Errorf("a raw placeholder was on screen: %q", seen)
	}
	if w := Eval[string](b, `window.__openedRewritten`); w != "" {
		t.Errorf("the opened reply was rewritten after it was shown: %q", w)
	}
	streams := 0
	for _, u := range b.URLs() {
		if strings.Contains(u, "/events") {
			streams++
			if !strings.HasSuffix(u, "/events?view=MESSAGE_VIEW_PLACEHOLDERS") {
				t.Errorf("the sealing widget asked the (unsealed) event stream for another view: %s", u)
			}
		}
	}
	if streams == 0 {
		t.Errorf("no event stream opened; got %q", b.URLs())
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("script errors in the widget: %q", ex)
	}
	b.Screenshot("widget-sealed")

	// The gateway's batch exporter sends every 5 s.
	deadline := time.Now().Add(30 * time.Second)
	for !bytes.Contains(traces.of("gateway"), []byte("/messages")) && !bytes.Contains(traces.of("gateway"), []byte("PostMessage")) {
		if time.Now().After(deadline) {
			t.Fatalf("the gateway exported no span of the post: %.500s", traces.of("gateway"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	logs, err := os.ReadFile(filepath.Join(s.State, "logs", "gateway.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("gateway log: %d bytes, %v", len(logs), err)
	}
	spans := traces.of("gateway")
	gwPID := devsuite.ChildNamed(t, s.PID(), "gateway")
	mem := devsuite.ProcessMemory(t, gwPID)
	for _, v := range []string{email, email[:strings.IndexByte(email, '@')], card, reply} {
		for where, b := range map[string][]byte{"log": logs, "spans": spans, "memory": mem} {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("the gateway's %s holds %q", where, v)
			}
		}
	}

	// The control: sealing off in the page, the same search finds the
	// canary the widget sent.
	b.Run(30*time.Second, chromedp.Navigate(gw+"/widget/?tenant=default&lang=en&seal=off"), chromedp.WaitVisible(chromedp.CSS("#message")))
	if note := Eval[string](b, `document.querySelector('.chat-unsealed')?.textContent ?? ''`); !strings.Contains(note, "not end-to-end encrypted") {
		t.Errorf("the widget with sealing off does not say so: %q", note)
	}
	clearEmail, _ := sealCanaries(t)
	widgetSend(b, "Where is my order? My e-mail is "+clearEmail, `document.querySelectorAll('.msg.assistant').length >= 1`)
	if !bytes.Contains(devsuite.ProcessMemory(t, gwPID), []byte(clearEmail)) {
		t.Error("the search did not find a value the widget sent with sealing off")
	}

	// A browser without WebCrypto cannot seal: nothing is posted.
	nb := Start(t)
	nb.Run(10*time.Second, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `Object.defineProperty(Crypto.prototype, 'subtle', { get() { return undefined; }, configurable: true });`,
		})
		return err
	}))
	nb.Run(30*time.Second, Viewport(400, 640), chromedp.Navigate(gw+"/widget/?tenant=default&lang=en"), chromedp.WaitVisible(chromedp.CSS("#message")))
	lost, _ := sealCanaries(t)
	nb.Run(10*time.Second, chromedp.SendKeys(chromedp.CSS("#message"), "Write to "+lost), chromedp.Click(chromedp.CSS(".chat-form button[type=submit]")))
	waitFor(nb, `document.querySelector('.msg.failed') !== null`, 60*time.Second)
	if e := Eval[string](nb, `document.querySelector('#error').textContent`); !strings.Contains(e, "could not encrypt it end to end") {
		t.Errorf("the notice %q, want the widget's own words on sealing", e)
	}
	for _, u := range nb.URLs() {
		if strings.HasSuffix(u, "/messages") {
			t.Errorf("a message was posted by a browser that cannot seal: %s", u)
		}
	}
	if bytes.Contains(devsuite.ProcessMemory(t, gwPID), []byte(lost)) {
		t.Error("the gateway holds the message a browser that cannot seal was asked to send")
	}

	// A key the service no longer takes: the first key list the page gets
	// names a key id the service does not publish (rewritten through
	// DevTools), so the post is refused SEALING_KEY_UNKNOWN; the widget
	// fetches the keys again, seals to them and sends once more by itself.
	kb := Start(t)
	lists := retireFirstKeyList(kb)
	kb.Run(30*time.Second, Viewport(400, 640), chromedp.Navigate(gw+"/widget/?tenant=default&lang=en"), chromedp.WaitVisible(chromedp.CSS("#message")))
	kb.Run(10*time.Second, chromedp.SendKeys(chromedp.CSS("#message"), "Are you open on Sunday?"), chromedp.Click(chromedp.CSS(".chat-form button[type=submit]")))
	waitFor(kb, `document.querySelector('.msg.assistant[data-opened], .msg.failed') !== null`, 60*time.Second)
	if Eval[bool](kb, `document.querySelector('.msg.failed') !== null`) {
		t.Errorf("the message sealed to a retired key was not sent again: %q", Eval[string](kb, `document.querySelector('#error').textContent`))
	}
	if n := lists(); n != 2 {
		t.Errorf("the key list was fetched %d times, want again after the refusal (2)", n)
	}
}

// retireFirstKeyList rewrites the key ids in the first answer the page
// gets to GET /v1/conversation-sealing-keys (DevTools' Fetch domain), so
// that the page seals its first message to a key the service does not
// know. It returns how many key lists the page got.
func retireFirstKeyList(b *Browser) (count func() int) {
	b.T.Helper()
	var mu sync.Mutex
	n, rewritten := 0, false
	paused := make(chan *fetch.EventRequestPaused, 16)
	if err := chromedp.Listen(b.Ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			select {
			case paused <- e:
			default:
			}
		}
	}); err != nil {
		b.T.Fatal(err)
	}
	b.Run(10*time.Second, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
			{URLPattern: "*/v1/conversation-sealing-keys*", RequestStage: fetch.RequestStageResponse}}})
		return err
	}))
	go func() {
		for {
			var e *fetch.EventRequestPaused
			select {
			case e = <-paused:
			case <-b.Ctx.Done():
				return
			}
			_ = chromedp.Do(b.Ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				body, err := cdp.Call(ctx, tg, fetch.GetResponseBody, fetch.GetResponseBodyParams{RequestID: e.RequestID})
				if err != nil {
					return err
				}
				out := body.Body
				mu.Lock()
				n++
				if n == 1 {
					out = bytes.ReplaceAll(out, []byte(`"key_id":"`), []byte(`"key_id":"retired-`))
					rewritten = !bytes.Equal(out, body.Body)
				}
				mu.Unlock()
				var headers []*fetch.HeaderEntry
				for _, h := range e.ResponseHeaders {
					if k := strings.ToLower(h.Name); k != "content-length" && k != "content-encoding" {
						headers = append(headers, h)
					}
				}
				_, err = cdp.Call(ctx, tg, fetch.FulfillRequest, fetch.FulfillRequestParams{
					RequestID: e.RequestID, ResponseCode: e.ResponseStatusCode, ResponseHeaders: headers, Body: out})
				return err
			}))
		}
	}()
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		if n > 0 && !rewritten {
			b.T.Fatal("the first key list had no key_id to rewrite")
		}
		return n
	}
}

// holdStreams pauses the page's event streams (through DevTools' Fetch
// domain) until release is called, so that their copies of the messages
// come after the POST's answer. release returns once a stream's first
// bytes arrived (the service sends a conversation's messages first).
func holdStreams(b *Browser) (release func()) {
	b.T.Helper()
	var mu sync.Mutex
	var held []fetch.RequestID
	streams := map[network.RequestID]bool{}
	received := 0
	if err := chromedp.Listen(b.Ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *fetch.EventRequestPaused:
			held = append(held, e.RequestID)
			streams[e.NetworkID] = true
		case *network.EventDataReceived:
			if streams[e.RequestID] {
				received++
			}
		}
	}); err != nil {
		b.T.Fatal(err)
	}
	b.Run(10*time.Second, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/events?*"}}})
		return err
	}))
	return func() {
		b.T.Helper()
		mu.Lock()
		ids := slices.Clone(held)
		mu.Unlock()
		if len(ids) == 0 {
			b.T.Fatal("no event stream was opened to hold")
		}
		b.Run(10*time.Second, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			for _, id := range ids {
				if _, err := cdp.Call(ctx, tg, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id}); err != nil {
					return err
				}
			}
			_, err := cdp.Call(ctx, tg, fetch.Disable, cdp.Empty{})
			return err
		}))
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			mu.Lock()
			n := received
			mu.Unlock()
			if n > 0 {
				return
			}
			if time.Now().After(deadline) {
				b.T.Fatal("the released event stream sent nothing")
			}
		}
	}
}
