package e2e

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/keys"
)

// customer is a person who signed up through the gateway.
type customer struct {
	email, password, accountID string
}

// signUpCustomer signs a customer up in the default shop, verifies the
// address with the code from the dev mailbox, and reads their account id.
func (s *suite) signUpCustomer(name string) customer {
	t := s.t
	t.Helper()
	var b [12]byte
	rand.Read(b[:])
	c := customer{email: name + "-" + hex.EncodeToString(b[:4]) + "@example.com", password: "e2e " + hex.EncodeToString(b[:]) + " Kestrel"}
	r := s.post("/v1/accounts:signUp", "", `{"tenant":"default","email":"`+c.email+`","password":"`+c.password+`"}`)
	if r.code != http.StatusOK {
		t.Fatalf("sign-up: %d %s", r.code, r.raw)
	}
	r = s.post("/v1/accounts:verifyEmail", "", `{"code":"`+s.mailboxCode(c.email)+`"}`)
	if r.code != http.StatusOK {
		t.Fatalf("verify e-mail: %d %s", r.code, r.raw)
	}
	tok, _ := s.login(c, false)
	acc := s.get("/v1/account", tok)
	account, _ := acc.body["account"].(map[string]any)
	c.accountID, _ = account["account_id"].(string)
	if acc.code != http.StatusOK || c.accountID == "" || strings.Contains(acc.raw, c.email) {
		t.Fatalf("account: %d %s", acc.code, acc.raw)
	}
	return c
}

// login signs c in (aal1) and returns the access token and session id;
// secondFactor says whether identity should offer a second factor.
func (s *suite) login(c customer, secondFactor bool) (token, sessionID string) {
	s.t.Helper()
	r := s.post("/v1/sessions:login", "", `{"tenant":"default","email":"`+c.email+`","password":"`+c.password+`"}`)
	if r.code != http.StatusOK || (r.body["second_factor_available"] == true) != secondFactor {
		s.t.Fatalf("login: %d %s", r.code, r.raw)
	}
	return tokens(r, "access_token"), tokens(r, "session_id")
}

func tokens(r restResult, field string) string {
	tok, _ := r.body["tokens"].(map[string]any)
	v, _ := tok[field].(string)
	return v
}

// mailboxCode is the newest verification code identity wrote to the dev
// mailbox for email, found by the keyed HMAC of the address the file holds
// instead of the address (the key derives from identity's secrets key in the
// dev keyring, as a person with the state directory could derive it).
func (s *suite) mailboxCode(email string) string { return s.mailboxCodeOf(email, "verify_email") }

// mailboxCodeOf is the newest code of kind (verify_email, set_password,
// reset_password) in the dev mailbox for email.
func (s *suite) mailboxCodeOf(email, kind string) string {
	t := s.t
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
	mac.Write([]byte(strings.ToLower(strings.TrimSpace(email))))
	want := hex.EncodeToString(mac.Sum(nil))
	path := filepath.Join(s.State, "data", "identity-mailbox.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("dev mailbox: %v", err)
	}
	defer f.Close()
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
		if strings.Contains(sc.Text(), email) {
			t.Fatal("the dev mailbox holds an address")
		}
	}
	if code == "" {
		t.Fatalf("no %s code for the address in %s", kind, path)
	}
	return code
}

// totpCode is the code an authenticator app shows for uri at at.
func totpCode(t *testing.T, uri string, at time.Time) string {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(u.Query().Get("secret"), at)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func results(r restResult) []map[string]any {
	var out []map[string]any
	list, _ := r.body["results"].([]any)
	for _, x := range list {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}

func itemReason(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	reason, _ := e["reason"].(string)
	return reason
}

// withToken is a gRPC call context carrying an access token, as the gateway
// forwards it.
func withToken(tok string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
}

func grpcReason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// TestIdentityJourney: customers sign up through the gateway, see their own
// data (masked, in full where policy allows, their card only after a
// second factor) and never someone else's; every reveal is in the audit log
// under the customer's pseudonym; a revoked session is refused by the
// gateway and by the token vault itself within seconds; forged, unsigned
// and expired tokens are refused at the edge and by the services directly.
func TestIdentityJourney(t *testing.T) {
	s := startSuite(t, t.TempDir())
	ctx := context.Background()
	s.waitNotDegraded("audit", "tokenvault")
	op := s.OperatorToken()

	alice := s.signUpCustomer("alice")
	bob := s.signUpCustomer("bob")

	// An administrator stores values for each of them (subject = account id).
	store := func(c customer, items string) []string {
		t.Helper()
		r := s.post("/v1/tokens:tokenize", op, `{"subject":"`+c.accountID+`","items":[`+items+`]}`)
		var toks []string
		for _, res := range results(r) {
			tok, _ := res["token"].(string)
			toks = append(toks, tok)
		}
		if r.code != http.StatusOK || len(toks) == 0 || slicesContainEmpty(toks) {
			t.Fatalf("tokenize: %d %s", r.code, r.raw)
		}
		return toks
	}
	a := store(alice, `{"value":"Alice Example","data_type":"DATA_TYPE_NAME"},
		{"value":"4242 4242 4242 4242","data_type":"DATA_TYPE_CARD_NUMBER","format":"TOKEN_FORMAT_CARD"}`)
	aliceName, aliceCard := a[0], a[1]
	bobName := store(bob, `{"value":"Bob Example","data_type":"DATA_TYPE_NAME"}`)[0]

	// Alice, signed in with her password: her own values masked, her name in
	// full, her card not without a second factor; Bob's tokens are unknown
	// to her.
	aal1, _ := s.login(alice, false)
	r := s.post("/v1/tokens:mask", aal1, `{"tokens":["`+aliceCard+`","`+bobName+`"]}`)
	res := results(r)
	if r.code != http.StatusOK || len(res) != 2 {
		t.Fatalf("mask: %d %s", r.code, r.raw)
	}
	if m, _ := res[0]["masked"].(string); !strings.HasSuffix(m, "4242") || strings.Contains(r.raw, "4242424242424242") {
		t.Fatalf("own card masked: %s", r.raw)
	}
	if itemReason(res[1]) != "UNKNOWN_TOKEN" || res[1]["masked"] != nil || strings.Contains(r.raw, "Bob") {
		t.Fatalf("someone else's name masked: %s", r.raw)
	}
	detok := func(tok, purpose string, toks ...string) restResult {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"tokens": toks, "purpose": purpose})
		return s.post("/v1/tokens:detokenize", tok, string(body))
	}
	r = detok(aal1, "self_service", aliceName, bobName)
	res = results(r)
	if r.code != http.StatusOK || len(res) != 2 || res[0]["value"] != "Alice Example" || res[1]["value"] != nil || itemReason(res[1]) != "UNKNOWN_TOKEN" {
		t.Fatalf("own name and someone else's: %d %s", r.code, r.raw)
	}
	if r = detok(aal1, "self_service", aliceCard); r.code != http.StatusUnauthorized || errorReason(r) != "STEP_UP_REQUIRED" || strings.Contains(r.raw, "4242424242424242") {
		t.Fatalf("own card at aal1: %d %s", r.code, r.raw)
	}

	// She enrols an authenticator app, signs in again and steps up.
	begin := s.post("/v1/account/factors:beginTotp", aal1, `{}`)
	uri, _ := begin.body["otpauth_uri"].(string)
	factor, _ := begin.body["factor_id"].(string)
	if begin.code != http.StatusOK || uri == "" {
		t.Fatalf("begin TOTP: %d %s", begin.code, begin.raw)
	}
	now := time.Now()
	if r = s.post("/v1/account/factors:confirmTotp", aal1, `{"factor_id":"`+factor+`","code":"`+totpCode(t, uri, now)+`"}`); r.code != http.StatusOK {
		t.Fatalf("confirm TOTP: %d %s", r.code, r.raw)
	}
	aal1, _ = s.login(alice, true)
	if r = detok(aal1, "self_service", aliceCard); errorReason(r) != "STEP_UP_REQUIRED" {
		t.Fatalf("own card after a password login: %d %s", r.code, r.raw)
	}
	// The next period's code: the one used to confirm is spent.
	up := s.post("/v1/sessions:stepUp", aal1, `{"totp_code":"`+totpCode(t, uri, now.Add(30*time.Second))+`"}`)
	aal2, sessionID := tokens(up, "access_token"), tokens(up, "session_id")
	if up.code != http.StatusOK || aal2 == "" {
		t.Fatalf("step-up: %d %s", up.code, up.raw)
	}
	r = detok(aal2, "self_service", aliceCard, bobName)
	res = results(r)
	if r.code != http.StatusOK || res[0]["value"] != "4242424242424242" || res[1]["value"] != nil || itemReason(res[1]) != "UNKNOWN_TOKEN" {
		t.Fatalf("own card at aal2 and someone else's name: %d %s", r.code, r.raw)
	}
	// Bob cannot reach Alice's card however he asks.
	bobTok, _ := s.login(bob, false)
	for _, purpose := range []string{"self_service", "order_support"} {
		if r = detok(bobTok, purpose, aliceCard); strings.Contains(r.raw, "4242424242424242") || itemReason(results(r)[0]) != "UNKNOWN_TOKEN" {
			t.Fatalf("bob asks for alice's card (%s): %d %s", purpose, r.code, r.raw)
		}
	}

	// The audit log has each reveal and refusal under Alice's pseudonym (the
	// actor), recorded by the vault for the gateway; no value, no id in clear.
	list := s.get("/v1/audit/events?actor_subject="+alice.accountID+"&action=tokenvault.detokenize", op)
	events, _ := list.body["events"].([]any)
	outcomes := map[string]int{}
	for _, e := range events {
		ev, _ := e.(map[string]any)
		outcomes[ev["outcome"].(string)+"/"+fmtAny(ev["reason"])]++
		if ev["actor_subject_hash"] == nil || ev["actor_subject_hash"] == "" || ev["caller_workload"] != "spiffe://sotto.local/gateway" {
			t.Errorf("audit event without the person or the gateway: %v", ev)
		}
	}
	if list.code != http.StatusOK || outcomes["OUTCOME_SUCCESS/"] != 2 || outcomes["OUTCOME_DENIED/STEP_UP_REQUIRED"] != 2 || outcomes["OUTCOME_DENIED/NOT_DATA_SUBJECT"] != 2 {
		t.Fatalf("alice's reveals in the audit log: %v (%d %s)", outcomes, list.code, list.raw)
	}
	if strings.Contains(list.raw, "Alice Example") || strings.Contains(list.raw, "4242424242424242") || strings.Contains(list.raw, alice.accountID) {
		t.Fatalf("the audit log shows a value or an account id: %s", list.raw)
	}
	bobsTrail := s.get("/v1/audit/events?subject="+bob.accountID+"&actor_subject="+alice.accountID, op)
	if !strings.Contains(bobsTrail.raw, "NOT_DATA_SUBJECT") {
		t.Fatalf("bob's trail does not show alice asking for his name: %s", bobsTrail.raw)
	}

	// Tokens nobody issued, refused by the gateway and by the services
	// over mTLS, which never take the gateway's word for it.
	tv := s.tokenvaultClient("gateway")
	audit := auditv1.NewAuditServiceClient(s.Dial("gateway", "audit", s.Info.Services["audit"].GRPC))
	for _, tc := range []struct{ name, token, reason string }{
		{"tampered", tamperToken(t, aal2), accesstoken.ReasonTokenInvalid},
		{"alg none", algNone(t, aal2), accesstoken.ReasonTokenInvalid},
		{"expired", s.expiredToken(alice), accesstoken.ReasonTokenExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := s.post("/v1/tokens:mask", tc.token, `{"tokens":["`+aliceCard+`"]}`); r.code != http.StatusUnauthorized || strings.Contains(r.raw, "4242424242424242") {
				t.Errorf("gateway: %d %s", r.code, r.raw)
			}
			_, err := tv.Detokenize(withToken(tc.token), &tokenvaultv1.DetokenizeRequest{Tokens: []string{aliceCard}, Purpose: "self_service"})
			if status.Code(err) != codes.Unauthenticated || grpcReason(err) != tc.reason {
				t.Errorf("tokenvault: %v; want Unauthenticated %s", err, tc.reason)
			}
			_, err = audit.ListEvents(withToken(tc.token), &auditv1.ListEventsRequest{})
			if status.Code(err) != codes.Unauthenticated || grpcReason(err) != tc.reason {
				t.Errorf("audit: %v; want Unauthenticated %s", err, tc.reason)
			}
		})
	}
	// The genuine token passes the same way.
	if _, err := tv.RevealMasked(withToken(aal2), &tokenvaultv1.RevealMaskedRequest{Tokens: []string{aliceCard}}); err != nil {
		t.Fatalf("tokenvault, genuine token: %v", err)
	}
	// And the gateway workload gets nothing without a person.
	if _, err := tv.RevealMasked(ctx, &tokenvaultv1.RevealMaskedRequest{Tokens: []string{aliceCard}}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("tokenvault, the gateway without a person: %v", err)
	}

	// Alice revokes the session; the same access token (valid for minutes
	// more) is refused by the gateway and by the vault once identity's
	// revocation feed reaches them.
	revoked := time.Now() // from the request: what the person waits for
	if r = s.post("/v1/sessions/"+sessionID+":revoke", aal2, `{}`); r.code != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.code, r.raw)
	}
	answered := time.Since(revoked)
	var atGateway, atVault time.Duration
	gatewayReason := ""
	for atGateway == 0 || atVault == 0 {
		if atGateway == 0 {
			if r := s.post("/v1/tokens:mask", aal2, `{"tokens":["`+aliceCard+`"]}`); r.code == http.StatusUnauthorized {
				atGateway, gatewayReason = time.Since(revoked), errorReason(r)
			} else if r.code != http.StatusOK {
				t.Fatalf("gateway after the revocation: %d %s", r.code, r.raw)
			}
		}
		if atVault == 0 {
			_, err := tv.RevealMasked(withToken(aal2), &tokenvaultv1.RevealMaskedRequest{Tokens: []string{aliceCard}})
			switch {
			case status.Code(err) == codes.Unauthenticated && grpcReason(err) == accesstoken.ReasonTokenRevoked:
				atVault = time.Since(revoked)
			case err != nil:
				t.Fatalf("tokenvault after the revocation: %v", err)
			}
		}
		if time.Since(revoked) > 30*time.Second {
			t.Fatalf("the revoked session was still accepted after 30 s (gateway %v, tokenvault %v)", atGateway, atVault)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A figure, not an assertion (it depends on the machine): from sending
	// the revocation, including identity's answer to it.
	t.Logf("revocation answered after %v; the same token refused after %v at the gateway (%s) and %v at tokenvault (over mTLS)",
		answered.Round(time.Millisecond), atGateway.Round(time.Millisecond), gatewayReason, atVault.Round(time.Millisecond))
	// Bob's session is untouched.
	if r = detok(bobTok, "self_service", bobName); r.code != http.StatusOK || results(r)[0]["value"] != "Bob Example" {
		t.Fatalf("bob after alice's revocation: %d %s", r.code, r.raw)
	}
}

// waitNotDegraded waits until each service's /readyz says "ready": audit
// and tokenvault start before identity (which calls them), and verify
// people only once identity's keys and revocation feed have reached them
// (until then they refuse people's calls, closed).
func (s *suite) waitNotDegraded(names ...string) {
	t := s.t
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, name := range names {
		for {
			body := ""
			resp, err := http.Get("http://" + s.Info.Services[name].Admin + "/readyz")
			if err == nil {
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				body = strings.TrimSpace(string(raw))
				if resp.StatusCode == http.StatusOK && body == "ready" {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s is not ready: %q (%v)", name, body, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func slicesContainEmpty(xs []string) bool {
	for _, x := range xs {
		if x == "" {
			return true
		}
	}
	return false
}

func fmtAny(v any) string {
	s, _ := v.(string)
	return s
}

// tamperToken changes the token's subject, keeping its signature.
func tamperToken(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	claims["sub"] = "acc_someone_else"
	forged, _ := json.Marshal(claims)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]
}

// algNone is the token's claims under an unsigned header.
func algNone(t *testing.T, tok string) string {
	t.Helper()
	hdr, _ := json.Marshal(map[string]string{"alg": "none", "typ": "at+jwt", "kid": accesstoken.KeyID(accesstoken.KeyName, 1)})
	return base64.RawURLEncoding.EncodeToString(hdr) + "." + strings.Split(tok, ".")[1] + "."
}

// expiredToken is a token for c signed with identity's own key (the dev
// keyring in the state directory) that expired ten minutes ago: only the
// expiry is wrong with it.
func (s *suite) expiredToken(c customer) string {
	t := s.t
	t.Helper()
	km, err := keys.NewLocal(filepath.Join(s.State, "keys", "identity.json"))
	if err != nil {
		t.Fatal(err)
	}
	issued := time.Now().Add(-15 * time.Minute)
	claims := map[string]any{
		"iss": "spiffe://sotto.local/identity", "aud": []string{accesstoken.DefaultAudience}, "sub": c.accountID,
		"kind": "customer", "tenant": "default", "sid": "ses_expired", "aal": 2, "amr": []string{"pwd", "otp"},
		"auth_time": issued.Unix(), "iat": issued.Unix(), "nbf": issued.Unix(), "exp": issued.Add(5 * time.Minute).Unix(), "jti": "expired",
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	for version := 1; version < 10; version++ {
		input := enc(map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": accesstoken.KeyID(accesstoken.KeyName, version)}) + "." + enc(claims)
		sig, err := km.Sign(context.Background(), accesstoken.KeyName, []byte(input))
		if err != nil {
			t.Fatal(err)
		}
		if sig.KeyVersion == version {
			return input + "." + base64.RawURLEncoding.EncodeToString(sig.Sig)
		}
	}
	t.Fatal("identity's key has no version below 10")
	return ""
}
