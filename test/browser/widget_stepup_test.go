package browser

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWidgetStepUpInline: a signed-in customer with an authenticator app
// asks for a refund at aal1; the assistant's reply carries
// REQUIRED_ACTION_STEP_UP and the widget offers the step-up itself (a
// button from the field, no link to another page); the customer types a
// code (computed here) in the widget, which raises its session and sends
// the question again; the answer now is the one an aal2 customer gets.
func TestWidgetStepUpInline(t *testing.T) {
	shop := startShop(t)
	s := startSuite(t, shop)
	gw := s.Info.GatewayURL
	email, _ := canaries(t)
	password := "stepup " + email + " Plover"
	if r := s.Request("POST", "/v1/accounts:signUp", "", `{"tenant":"default","email":"`+email+`","password":"`+password+`"}`); r.Code != 200 {
		t.Fatalf("sign-up: %d %s", r.Code, r.Raw)
	}
	if r := s.Request("POST", "/v1/accounts:verifyEmail", "", `{"code":"`+mailboxCode(t, s, email, "verify_email")+`"}`); r.Code != 200 {
		t.Fatalf("verify: %d %s", r.Code, r.Raw)
	}
	b := Start(t)
	p := &privacyRun{b: b, s: s, t: t, used: map[int64]bool{}}
	// Her authenticator app, enrolled through the API.
	login := s.Request(http.MethodPost, "/v1/sessions:login", "", `{"tenant":"default","email":"`+email+`","password":"`+password+`"}`)
	tok, _ := login.Body["tokens"].(map[string]any)
	aal1, _ := tok["access_token"].(string)
	begin := s.Request(http.MethodPost, "/v1/account/factors:beginTotp", aal1, `{}`)
	uri, _ := begin.Body["otpauth_uri"].(string)
	factor, _ := begin.Body["factor_id"].(string)
	u, err := url.Parse(uri)
	if err != nil || begin.Code != http.StatusOK {
		t.Fatalf("begin TOTP: %d %s", begin.Code, begin.Raw)
	}
	secret := u.Query().Get("secret")
	if r := s.Request(http.MethodPost, "/v1/account/factors:confirmTotp", aal1, `{"factor_id":"`+factor+`","code":"`+p.code(secret)+`"}`); r.Code != http.StatusOK {
		t.Fatalf("confirm TOTP: %d %s", r.Code, r.Raw)
	}

	b.Run(30*time.Second, Viewport(400, 720), chromedp.Navigate(gw+"/widget/?tenant=default&lang=en"), chromedp.WaitVisible(chromedp.CSS("#message")))
	if status := Eval[int](b, `fetch('/v1/sessions:login', {method: 'POST', headers: {'Content-Type': 'application/json', 'X-Sotto-Session': 'cookie'},
		body: JSON.stringify({tenant: 'default', email: `+"`"+email+"`"+`, password: `+"`"+password+"`"+`})}).then((r) => r.status)`); status != 200 {
		t.Fatalf("login in browser mode: %d", status)
	}
	b.Run(30*time.Second, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#message")))

	const question = "I want a refund please"
	b.Run(10*time.Second, chromedp.SendKeys(chromedp.CSS("#message"), question), chromedp.Click(chromedp.CSS(".chat-form button[type=submit]")))
	waitFor(b, `document.querySelector('.msg.assistant .actions button') !== null && document.querySelectorAll('.msg.sending').length === 0`, 60*time.Second)
	last := `[...document.querySelectorAll('.msg.assistant')].at(-1)`
	if got := Eval[string](b, last+`.querySelector('.actions button')?.textContent ?? ''`); got != "Confirm it is you" {
		t.Errorf("the step-up request offers %q, want the widget's own step-up", got)
	}
	if Eval[bool](b, `document.querySelector('a[href*="step-up"]') !== null`) {
		t.Error("a link to a step-up page is still offered")
	}
	b.Run(10*time.Second, chromedp.Click(chromedp.CSS(".msg.assistant .actions button")))
	waitFor(b, `document.querySelector('form.stepup #stepup-code') !== null`, 10*time.Second)
	b.Screenshot("widget-step-up")
	p.fill(`#stepup-code`, p.code(secret))
	b.Run(10*time.Second, chromedp.Click(chromedp.CSS("form.stepup button[type=submit]")))
	// Raised and sent again: a third assistant reply, no longer a request.
	waitFor(b, `document.querySelectorAll('.msg.assistant').length >= 2 && document.querySelectorAll('.msg.sending').length === 0 && document.querySelector('form.stepup') === null`, 60*time.Second)
	reply := Eval[string](b, last+`.querySelector('.text').textContent`)
	if reply != "Please tell me your order number." {
		t.Errorf("the answer after the step-up is %q, want the aal2 answer (the order number asked for)", reply)
	}
	if n := Eval[int](b, `document.querySelectorAll('.msg.customer').length`); n != 2 {
		t.Errorf("%d customer messages, want the question and its resend", n)
	}
	if Eval[bool](b, last+`.querySelector('.actions') !== null`) {
		t.Error("the answer after the step-up still asks for one")
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("script errors: %q", ex)
	}
	b.Screenshot("widget-step-up-done")
}

// TestConsoleTotpEnrolment: a new staff member (password set from the
// mail) signs in to the console without a second factor, is shown the QR
// code and key, confirms with a code computed here, sees the recovery
// codes once, steps up with the new app and reaches their first page at
// aal2.
func TestConsoleTotpEnrolment(t *testing.T) {
	shop := startShop(t)
	s := startSuite(t, shop)
	gw := s.Info.GatewayURL
	var rb [6]byte
	rand.Read(rb[:])
	id := hex.EncodeToString(rb[:])
	email, password := "agent-"+id+"@example.com", "console "+id+" Godwit"
	if r := s.Request(http.MethodPost, "/v1/staff", s.OperatorToken(), `{"email":"`+email+`","roles":["support_agent"],"request_id":"staff-`+id+`"}`); r.Code != http.StatusOK {
		t.Fatalf("create the agent: %d %s", r.Code, r.Raw)
	}
	if r := s.Request(http.MethodPost, "/v1/accounts:resetPassword", "", `{"code":"`+mailboxCodeOf(t, s, email, "set_password")+`","new_password":"`+password+`"}`); r.Code != http.StatusOK {
		t.Fatalf("set the password: %d %s", r.Code, r.Raw)
	}
	b := Start(t)
	p := &privacyRun{b: b, s: s, t: t, used: map[int64]bool{}}
	b.Run(30*time.Second, Viewport(DesktopWidth, 900), chromedp.Navigate(gw+"/console/login"))
	p.waitFor(`document.querySelector('form[aria-label="Sign in"]') !== null`, "the sign-in page")
	p.fill(`input[name=email]`, email)
	p.fill(`input[name=password]`, password)
	p.click(`form[aria-label="Sign in"] button[type=submit]`)
	p.waitFor(`document.querySelector('#title').textContent === 'Set up your authenticator app' && document.querySelector('img.qr')?.src.startsWith('data:image/png;base64,')`, "the enrolment page with its QR code")
	secret := strings.ReplaceAll(Eval[string](b, `document.querySelector('code.secret').textContent`), " ", "")
	if secret == "" {
		t.Fatal("no key shown")
	}
	p.shot("console-totp-enrol")
	p.fill(`form[aria-label="Confirm the authenticator app"] input[name=code]`, p.code(secret))
	p.click(`form[aria-label="Confirm the authenticator app"] button[type=submit]`)
	p.waitFor(`document.querySelectorAll('.recovery-codes li').length > 0`, "the recovery codes")
	if n := Eval[int](b, `document.querySelectorAll('.recovery-codes li').length`); n < 5 {
		t.Errorf("%d recovery codes shown", n)
	}
	p.shot("console-totp-recovery-codes")
	p.clickText("#app button", "I have saved them")
	// Then the step-up every console sign-in ends with, with the new app.
	p.fill(`form[aria-label="Second factor"] input[name=code]`, p.code(secret))
	p.click(`form[aria-label="Second factor"] button[type=submit]`)
	// The inbox needs aal2 at the gateway: reaching it proves the session.
	p.waitFor(`location.pathname === '/console/inbox' && document.querySelector('#title').textContent !== 'Sign in'`, "the inbox at aal2")
	if Eval[bool](b, `document.querySelector('.recovery-codes') !== null`) {
		t.Error("the recovery codes are still shown")
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("script errors: %q", ex)
	}
}
