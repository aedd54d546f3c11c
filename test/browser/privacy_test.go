package browser

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pquerna/otp/totp"

	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/test/devsuite"
)

// TestPrivacyCentre: a customer signs up in the privacy centre (with the
// code from the dev mailbox), resets her password (another mailed code),
// enrols an authenticator app from the QR
// code's key (codes computed here), sees a card number from her chat
// masked and reveals it after a step-up, adds a passkey (Chromium's
// virtual authenticator), grants and withdraws consents (marketing, and
// analytics with the notice ListNotices found for it; checked through the
// API),
// signs out another session, signs in again with her TOTP code and with
// the passkey alone, and files an erasure request, which the page shows
// with its deadline. Every page
// is also looked at at phone width, without a script error.
func TestPrivacyCentre(t *testing.T) {
	bin := devsuite.BinDir(t)
	ChromiumPath(t)
	s := devsuite.Start(t, bin, t.TempDir(), "SOTTO_GATEWAY_AUTH_RATE_PER_MINUTE=600", "SOTTO_GATEWAY_AUTH_BURST=100")
	// The WebAuthn relying party of `sotto dev up` is "localhost": the
	// page is opened there (the same gateway).
	gw := strings.Replace(s.Info.GatewayURL, "127.0.0.1", "localhost", 1)
	b := Start(t)
	p := &privacyRun{b: b, s: s, t: t}

	var rb [8]byte
	rand.Read(rb[:])
	email := "ada-" + hex.EncodeToString(rb[:4]) + "@example.com"
	password := "privacy centre " + hex.EncodeToString(rb[:]) + " Lovelace"

	// Sign up and confirm the address.
	b.Run(30*time.Second, Viewport(DesktopWidth, 900), chromedp.Navigate(gw+"/privacy/signup"), chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Create an account"]`)))
	p.fill(`input[name=email]`, email)
	p.fill(`input[name=password]`, password)
	p.shot("privacy-signup")
	p.click(`form[aria-label="Create an account"] button[type=submit]`)
	p.waitFor(`document.querySelector('form[aria-label="Confirm your e-mail address"]') !== null`, "the e-mail code form")
	p.fill(`input[name=code]`, mailboxCode(t, s, email, "verify_email"))
	p.click(`form[aria-label="Confirm your e-mail address"] button[type=submit]`)

	// The sign-in page, with the address carried over in memory (not in
	// the URL).
	p.waitFor(`location.pathname === '/privacy/login' && document.querySelector('input[name=email]')?.value === `+strconv.Quote(email), "the sign-in page with the address")
	if strings.Contains(Eval[string](b, `location.href`), "example.com") {
		t.Fatal("the e-mail address is in the URL")
	}

	// She forgot the password already: a reset with the mailed code.
	p.clickText(`#app a`, "Forgot your password?")
	p.fill(`form[aria-label="Reset your password"] input[name=email]`, email)
	p.click(`form[aria-label="Reset your password"] button[type=submit]`)
	p.waitFor(`document.querySelector('form[aria-label="Choose a new password"]') !== null`, "the new-password form")
	password += " again"
	p.fill(`form[aria-label="Choose a new password"] input[name=code]`, mailboxCode(t, s, email, "reset_password"))
	p.fill(`form[aria-label="Choose a new password"] input[name=password]`, password)
	p.click(`form[aria-label="Choose a new password"] button[type=submit]`)
	p.waitFor(`location.pathname === '/privacy/login' && document.querySelector('#status').textContent.includes('password is changed')`, "the sign-in page after the reset")
	p.fill(`input[name=email]`, email)
	p.fill(`input[name=password]`, password)
	p.shot("privacy-login")
	p.click(`form[aria-label="Sign in"] button[type=submit]`)
	p.waitFor(`location.pathname === '/privacy/data' && document.querySelector('#title').textContent === 'Your data'`, "the data page")

	// The customer's chat (another session of hers, through the API):
	// the card number is stored as a placeholder.
	apiTok := p.apiLogin(email, password)
	conv := s.Request("POST", "/v1/conversations", apiTok, `{"channel":"CHAT_CHANNEL_WEB"}`)
	convID, _ := conv.Body["conversation"].(map[string]any)["conversation_id"].(string)
	if conv.Code != 200 || convID == "" {
		t.Fatalf("create conversation: %d %s", conv.Code, conv.Raw)
	}
	const card = "4111 1111 1111 1111"
	if r := s.Request("POST", "/v1/conversations/"+convID+"/messages", apiTok, `{"text":"Please refund my order, I paid with card `+card+`."}`); r.Code != 200 {
		t.Fatalf("post message: %d %s", r.Code, r.Raw)
	}

	// Enrol an authenticator app: the key under the QR code is what the
	// app would read; the QR image itself must have loaded under the CSP.
	p.nav("security")
	p.clickText("#app button", "Add an authenticator app")
	p.waitFor(`document.querySelector('img.qr')?.complete && document.querySelector('img.qr').naturalWidth > 0`, "the QR code image")
	secret := strings.ReplaceAll(p.text(`code.secret`), " ", "")
	if secret == "" {
		t.Fatal("no TOTP key shown")
	}
	p.shot("privacy-security-totp")
	p.fill(`form[aria-label="Confirm the authenticator app"] input[name=code]`, p.code(secret))
	p.click(`form[aria-label="Confirm the authenticator app"] button[type=submit]`)
	p.waitFor(`document.querySelectorAll('.recovery-codes li').length >= 5`, "the recovery codes")
	p.shot("privacy-security-recovery-codes")
	p.clickText("#enrol button", "I have saved them")
	p.waitFor(`document.querySelectorAll('.recovery-codes li').length === 0 && document.querySelectorAll('.factor').length === 1`, "the codes hidden, one factor listed")

	// Your data: the card masked at aal1; shown in full after a step-up
	// with a fresh TOTP code in the dialog.
	p.nav("data")
	p.waitFor(`document.querySelectorAll('.value-row').length > 0`, "the values from the chat")
	shown := p.text(`.value-row .value`)
	if !strings.Contains(shown, "•") || strings.Contains(shown, "4111 1111") {
		t.Fatalf("the card is shown as %q, want it masked", shown)
	}
	p.shot("privacy-data-masked")
	// Escape cancels the step-up: nothing is revealed, the row says why.
	p.click(`.value-row button`)
	p.waitFor(`document.activeElement === document.querySelector('dialog[open] input[name=code]')`, "the step-up dialog, focused on the code")
	b.Run(10*time.Second, chromedp.KeyEvent(kb.Escape))
	p.waitFor(`!document.querySelector('dialog') && document.querySelector('.value-row [role=alert]').textContent.includes('Cancelled')`, "the cancelled step-up")
	if got := p.text(`.value-row .value`); !strings.Contains(got, "•") {
		t.Fatalf("after a cancelled step-up the card is shown as %q", got)
	}
	p.click(`.value-row button`)
	p.waitFor(`document.querySelector('dialog[open] input[name=code]') !== null`, "the step-up dialog")
	p.shot("privacy-step-up")
	p.fill(`dialog[open] input[name=code]`, p.code(secret))
	p.click(`dialog[open] button[type=submit]`)
	p.waitFor(`!document.querySelector('dialog[open]') && !document.querySelector('.value-row .value').textContent.includes('•')`, "the revealed value")
	if got := p.text(`.value-row .value`); strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(card, " ", "") {
		t.Fatalf("revealed %q, want the card number", got)
	}
	p.shot("privacy-data-revealed")

	// A passkey, on Chromium's virtual authenticator (the session is at
	// aal2 now, so no second step-up).
	b.Run(10*time.Second, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
		return err
	}))
	p.nav("security")
	p.clickText("#app button", "Add a passkey")
	p.fill(`form[aria-label="Add a passkey"] input[name=name]`, "test laptop")
	p.click(`form[aria-label="Add a passkey"] button[type=submit]`)
	p.waitFor(`document.querySelectorAll('.factor').length === 2`, "the passkey listed")
	p.shot("privacy-security")

	// Consents: grant marketing with its notice, then withdraw it; the
	// API agrees, and the receipt downloads.
	dl := t.TempDir()
	b.Run(10*time.Second, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dl})
		return err
	}))
	p.nav("consents")
	mk := `section[data-purpose=marketing]`
	p.waitFor(`document.querySelector('`+mk+` blockquote.notice-text')?.textContent.includes('offers')`, "the marketing notice text")
	p.clickText(mk+" button", "Give consent")
	p.waitFor(`[...document.querySelectorAll('`+mk+` button')].some((b) => b.textContent === 'Withdraw consent')`, "marketing granted")
	p.shot("privacy-consents")
	p.clickText(mk+" button", "Withdraw consent")
	p.waitFor(`[...document.querySelectorAll('`+mk+` button')].some((b) => b.textContent === 'Give consent')`, "marketing withdrawn")
	var consents struct {
		Consents []struct {
			Purpose struct {
				PurposeID string `json:"purpose_id"`
			} `json:"purpose"`
			Decision string `json:"decision"`
			Check    struct {
				Allowed bool `json:"allowed"`
			} `json:"check"`
			LatestRecord struct {
				ReceiptID string `json:"receipt_id"`
			} `json:"latest_record"`
		} `json:"consents"`
	}
	r := s.Request("GET", "/v1/consent/consents", apiTok, "")
	if err := json.Unmarshal([]byte(r.Raw), &consents); err != nil || r.Code != 200 {
		t.Fatalf("consents: %d %s", r.Code, r.Raw)
	}
	receiptID := ""
	for _, c := range consents.Consents {
		if c.Purpose.PurposeID == "marketing" {
			if c.Decision != "DECISION_WITHDRAWN" || c.Check.Allowed {
				t.Fatalf("marketing after the withdrawal: %+v", c)
			}
			receiptID = c.LatestRecord.ReceiptID
		}
	}
	if receiptID == "" {
		t.Fatalf("no marketing consent with a receipt: %s", r.Raw)
	}
	p.clickText(mk+" button", "Download receipt")
	p.waitFor(`document.querySelector('#status').textContent === 'Receipt downloaded.'`, "the receipt download")
	receipt := waitFile(t, filepath.Join(dl, "consent-receipt-"+receiptID+".jws"))
	if parts := strings.Split(string(receipt), "."); len(parts) != 3 {
		t.Fatalf("the receipt is not a compact JWS: %.200q", receipt)
	}

	// Every consent purpose of the catalogue can be granted from the page:
	// each card shows the latest version of a notice asking for it
	// (ListNotices), including the purposes whose notice has another id
	// (analytics, model_improvement, crm_sync), which could only be
	// withdrawn before. Analytics is granted with the version and text on
	// the screen, which the API then holds, and withdrawn again.
	for _, purpose := range []string{"personalisation", "marketing", "crm_sync", "analytics", "model_improvement"} {
		sel := `section[data-purpose=` + purpose + `]`
		p.waitFor(`document.querySelector('`+sel+`')?.dataset.notice?.includes('/') && document.querySelector('`+sel+` blockquote.notice-text')?.textContent.length > 20 && [...document.querySelectorAll('`+sel+` button')].some((b) => b.textContent === 'Give consent')`, purpose+"'s notice and grant button")
	}
	an := `section[data-purpose=analytics]`
	shownNotice := Eval[string](b, `document.querySelector('`+an+`').dataset.notice`)
	shownText := Eval[string](b, `document.querySelector('`+an+` blockquote.notice-text').textContent`)
	p.clickText(an+" button", "Give consent")
	p.waitFor(`[...document.querySelectorAll('`+an+` button')].some((b) => b.textContent === 'Withdraw consent')`, "analytics granted")
	type analyticsState struct {
		Decision     string `json:"decision"`
		LatestRecord struct {
			Notice struct {
				NoticeID   string `json:"notice_id"`
				Version    string `json:"version"`
				TextSHA256 string `json:"text_sha256"`
			} `json:"notice"`
		} `json:"latest_record"`
	}
	analytics := func() analyticsState {
		t.Helper()
		var all struct {
			Consents []struct {
				Purpose struct {
					PurposeID string `json:"purpose_id"`
				} `json:"purpose"`
				analyticsState
			} `json:"consents"`
		}
		r := s.Request("GET", "/v1/consent/consents", apiTok, "")
		if err := json.Unmarshal([]byte(r.Raw), &all); err != nil || r.Code != 200 {
			t.Fatalf("consents: %d %s", r.Code, r.Raw)
		}
		for _, c := range all.Consents {
			if c.Purpose.PurposeID == "analytics" {
				return c.analyticsState
			}
		}
		t.Fatalf("no analytics purpose: %s", r.Raw)
		return analyticsState{}
	}
	got := analytics()
	sum := sha256.Sum256([]byte(shownText))
	if n := got.LatestRecord.Notice; got.Decision != "DECISION_GRANTED" || n.NoticeID+"/"+n.Version != shownNotice || n.TextSHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("analytics after the grant: %+v, the page showed %s with text hash %x", got, shownNotice, sum)
	}
	p.clickText(an+" button", "Withdraw consent")
	p.waitFor(`[...document.querySelectorAll('`+an+` button')].some((b) => b.textContent === 'Give consent')`, "analytics withdrawn")
	if got := analytics(); got.Decision != "DECISION_WITHDRAWN" {
		t.Fatalf("analytics after the withdrawal: %+v", got)
	}

	// Sessions: the API's session is signed out from the page, and its
	// token stops working.
	p.nav("sessions")
	p.waitFor(`document.querySelectorAll('.session').length === 2`, "both sessions")
	p.shot("privacy-sessions")
	p.click(`.session button.danger`)
	p.waitFor(`document.querySelectorAll('.session').length === 1`, "one session left")
	p.waitAPI(func() bool { return s.Request("GET", "/v1/account", apiTok, "").Code == 401 }, "the revoked session's token refused")

	// Sign out, sign in with the password and a TOTP code.
	p.clickText("#nav button", "Sign out")
	p.waitFor(`location.pathname === '/privacy/login'`, "the sign-in page")
	p.fill(`input[name=email]`, email)
	p.fill(`input[name=password]`, password)
	p.click(`form[aria-label="Sign in"] button[type=submit]`)
	p.waitFor(`document.querySelector('form.step-up input[name=code]') !== null`, "the second-factor form")
	p.fill(`form.step-up input[name=code]`, p.code(secret))
	p.click(`form.step-up button[type=submit]`)
	p.waitFor(`location.pathname === '/privacy/data'`, "the data page after sign-in with TOTP")

	// And once more with the passkey alone (no password: a discoverable
	// credential on the virtual authenticator).
	p.clickText("#nav button", "Sign out")
	p.waitFor(`location.pathname === '/privacy/login'`, "the sign-in page")
	p.clickText(`form[aria-label="Sign in"] button`, "Sign in with a passkey")
	p.waitFor(`location.pathname === '/privacy/data' && document.querySelector('#title').textContent === 'Your data'`, "the data page after sign-in with the passkey")
	// A reload keeps her signed in: the page starts from the HttpOnly
	// refresh cookie (the access token was in memory only).
	b.Run(30*time.Second, chromedp.Reload())
	p.waitFor(`location.pathname === '/privacy/data' && document.querySelector('#title').textContent === 'Your data' && document.querySelector('#nav button') !== null`, "the data page after a reload")
	if Eval[bool](b, `document.cookie.includes('sotto_refresh') || Object.keys(localStorage).length > 0 || Object.keys(sessionStorage).length > 0`) {
		t.Fatal("a token is readable by scripts (document.cookie or web storage)")
	}

	// Requests (aal2 from the sign-in, so no dialog): access, whose
	// export downloads once and holds her data; then an erasure, shown
	// with its state and deadline.
	p.nav("requests")
	p.waitFor(`document.querySelector('form[aria-label="File a request"]') !== null`, "the request form")
	b.Run(10*time.Second, chromedp.SetValue(chromedp.CSS(`select[name=type]`), "REQUEST_TYPE_ACCESS"), chromedp.SetValue(chromedp.CSS(`select[name=jurisdiction]`), "FR"))
	p.click(`form[aria-label="File a request"] button[type=submit]`)
	p.waitFor(`document.querySelectorAll('.request').length === 1`, "the access request listed")
	accessID := Eval[string](b, `document.querySelector('.request').dataset.request`)
	deadline := time.Now().Add(60 * time.Second)
	for !Eval[bool](b, `[...document.querySelectorAll('.request button')].some((b) => b.textContent === 'Download export (JSON)')`) {
		if time.Now().After(deadline) {
			t.Fatalf("the access request did not complete: %q", p.text(`.request`))
		}
		time.Sleep(500 * time.Millisecond)
		p.clickText("#app button", "Refresh")
		p.waitFor(`document.querySelector('#status').textContent === 'Requests updated.'`, "the refreshed list")
	}
	p.shot("privacy-requests-export")
	p.clickText(".request button", "Download export (JSON)")
	p.waitFor(`document.querySelector('.request')?.textContent.includes('Export downloaded')`, "the export marked downloaded")
	export := string(waitFile(t, filepath.Join(dl, "privacy-export-"+accessID+".json")))
	if !strings.Contains(export, email) || !strings.Contains(export, strings.ReplaceAll(card, " ", "")) && !strings.Contains(export, card) {
		t.Fatalf("the export lacks her address or card: %.1000s", export)
	}
	b.Run(10*time.Second, chromedp.SetValue(chromedp.CSS(`select[name=type]`), "REQUEST_TYPE_ERASURE"), chromedp.SetValue(chromedp.CSS(`select[name=jurisdiction]`), "DE"))
	// Without the box ticked the page refuses, in its alert region.
	p.click(`form[aria-label="File a request"] button[type=submit]`)
	p.waitFor(`document.querySelector('form[aria-label="File a request"] [role=alert]').textContent.includes('tick the box')`, "the refusal without the box ticked")
	p.click(`#erasure-understood`)
	p.click(`form[aria-label="File a request"] button[type=submit]`)
	p.waitFor(`document.querySelector('#title').textContent === 'Request filed' && document.querySelectorAll('.request').length === 1`, "the request shown")
	due := p.text(`.request .due`)
	state := p.text(`.request .state`)
	if due == "" || due == "—" || state == "" {
		t.Fatalf("request shown with state %q, due %q", state, due)
	}
	if !strings.Contains(p.text(`#status`), "due by") {
		t.Errorf("status after filing: %q", p.text(`#status`))
	}
	p.shot("privacy-requests")

	if strings.Contains(Eval[string](b, `location.href`), "@") {
		t.Error("personal data in the URL")
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("script errors: %q", ex)
	}
}

// privacyRun drives the privacy centre for one test.
type privacyRun struct {
	b    *Browser
	s    *devsuite.Suite
	t    *testing.T
	used map[int64]bool // TOTP periods spent (identity refuses a code twice)
}

func (p *privacyRun) fill(sel, v string) {
	p.t.Helper()
	p.b.Run(10*time.Second, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), v))
}

func (p *privacyRun) click(sel string) {
	p.t.Helper()
	p.b.Run(10*time.Second, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// clickText clicks the first element matching sel whose text is text.
func (p *privacyRun) clickText(sel, text string) {
	p.t.Helper()
	expr := `[...document.querySelectorAll(` + strconv.Quote(sel) + `)].find((e) => e.textContent.trim() === ` + strconv.Quote(text) + `)`
	p.waitFor(expr+` !== undefined && !(`+expr+`).disabled`, "a button "+text)
	Eval[bool](p.b, `(`+expr+`).click(), true`)
}

func (p *privacyRun) text(sel string) string {
	p.t.Helper()
	return Eval[string](p.b, `document.querySelector(`+strconv.Quote(sel)+`)?.textContent.trim() ?? ''`)
}

// nav follows the page's own navigation link, and checks the page fits a
// phone's width.
func (p *privacyRun) nav(page string) {
	p.t.Helper()
	p.click(`#nav a[data-nav=` + page + `]`)
	p.waitFor(`location.pathname === '/privacy/`+page+`' && document.activeElement?.id === 'title'`, "the "+page+" page")
	p.b.Run(10*time.Second, Viewport(PhoneWidth, 740))
	if Eval[bool](p.b, `document.documentElement.scrollWidth > document.documentElement.clientWidth`) {
		p.t.Errorf("/privacy/%s scrolls sideways at phone width", page)
	}
	p.shot("privacy-" + page + "-phone")
	p.b.Run(10*time.Second, Viewport(DesktopWidth, 900))
}

func (p *privacyRun) shot(name string) {
	p.t.Helper()
	p.b.Screenshot(name)
}

// waitFor polls a JavaScript condition until it holds.
func (p *privacyRun) waitFor(cond, what string) {
	p.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for !Eval[bool](p.b, `(() => { try { return Boolean(`+cond+`) } catch { return false } })()`) {
		if time.Now().After(deadline) {
			p.t.Fatalf("waiting for %s: page says %q (status %q, error %q)\nconsole: %q\nexceptions: %q", what,
				Eval[string](p.b, `document.querySelector('#app')?.innerText ?? ''`), p.text(`#status`), p.text(`#error`), p.b.Console(), p.b.Exceptions())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *privacyRun) waitAPI(cond func() bool, what string) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			p.t.Fatalf("waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// code is a TOTP code of a period not used yet: identity accepts the
// current period and the next (clock skew) and each once, so after two
// codes the test waits for the next period.
func (p *privacyRun) code(secret string) string {
	p.t.Helper()
	if p.used == nil {
		p.used = map[int64]bool{}
	}
	for {
		now := time.Now()
		for _, c := range []int64{now.Unix() / 30, now.Unix()/30 + 1} {
			if !p.used[c] {
				p.used[c] = true
				code, err := totp.GenerateCode(secret, time.Unix(c*30, 0))
				if err != nil {
					p.t.Fatal(err)
				}
				return code
			}
		}
		time.Sleep(time.Until(time.Unix((now.Unix()/30+1)*30, 0)) + 100*time.Millisecond)
	}
}

// apiLogin signs the customer in through the API (another session).
func (p *privacyRun) apiLogin(email, password string) string {
	p.t.Helper()
	r := p.s.Request("POST", "/v1/sessions:login", "", `{"tenant":"default","email":"`+email+`","password":"`+password+`"}`)
	tok, _ := r.Body["tokens"].(map[string]any)
	access, _ := tok["access_token"].(string)
	if r.Code != 200 || access == "" {
		p.t.Fatalf("API login: %d %s", r.Code, r.Raw)
	}
	return access
}

// mailboxCode is the newest code of kind (verify_email, reset_password)
// for email in the dev mailbox, found by the keyed HMAC of the address (identity's mailbox key,
// from its dev keyring), as a person holding the state directory would.
func mailboxCode(t *testing.T, s *devsuite.Suite, email, kind string) string {
	t.Helper()
	km, err := keys.NewLocal(filepath.Join(s.State, "keys", "identity.json"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := km.HMAC(context.Background(), "identity-secrets", 1, []byte("sotto/identity/mailbox-recipient"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(strings.ToLower(email)))
	want := hex.EncodeToString(mac.Sum(nil))
	deadline := time.Now().Add(20 * time.Second)
	for {
		if f, err := os.Open(filepath.Join(s.State, "data", "identity-mailbox.jsonl")); err == nil {
			code := ""
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var e struct {
					Kind, Code    string
					RecipientHMAC string `json:"recipient_hmac"`
				}
				if json.Unmarshal(sc.Bytes(), &e) == nil && e.Kind == kind && e.RecipientHMAC == want {
					code = e.Code
				}
			}
			f.Close()
			if code != "" {
				return code
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s code in the dev mailbox", kind)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitFile waits for a download to land.
func waitFile(t *testing.T, path string) []byte {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return b
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(filepath.Dir(path))
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Fatalf("no download %s (have %q)", filepath.Base(path), names)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
