package devsuite

import (
	"net/url"
	"time"

	"github.com/pquerna/otp/totp"
)

// OperatorToken is an access token of the suite's first administrator at
// aal2, obtained the way a person does it: log in through the gateway with
// the password `sotto dev up` printed, enrol an authenticator app (the
// codes computed here from the otpauth URI, as the app would), confirm it.
// The token is kept for the suite and refreshed (RefreshSession) when it
// is about to expire.
func (s *Suite) OperatorToken() string {
	t := s.T
	t.Helper()
	s.opMu.Lock()
	defer s.opMu.Unlock()
	if s.opToken != "" && time.Until(s.opExpires) > time.Minute {
		return s.opToken
	}
	if s.opRefresh != "" {
		r := s.Request("POST", "/v1/sessions:refresh", "", `{"refresh_token":"`+s.opRefresh+`"}`)
		if r.Code != 200 {
			t.Fatalf("refresh the operator's session: %d %s", r.Code, r.Raw)
		}
		s.keepOperatorTokens(r.Body)
		return s.opToken
	}
	if s.Info.Admin.Email == "" {
		t.Fatal("the suite has no first admin (dev.json has no admin: a reused state directory?)")
	}
	login := s.Request("POST", "/v1/sessions:login", "", `{"email":"`+s.Info.Admin.Email+`","password":"`+s.Info.Admin.InitialPassword+`"}`)
	if login.Code != 200 {
		t.Fatalf("admin login: %d %s", login.Code, login.Raw)
	}
	aal1 := tokenField(login.Body, "access_token")
	begin := s.Request("POST", "/v1/account/factors:beginTotp", aal1, `{}`)
	if begin.Code != 200 {
		t.Fatalf("begin TOTP enrolment: %d %s", begin.Code, begin.Raw)
	}
	u, err := url.Parse(begin.Body["otpauth_uri"].(string))
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(u.Query().Get("secret"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	confirm := s.Request("POST", "/v1/account/factors:confirmTotp", aal1,
		`{"factor_id":"`+begin.Body["factor_id"].(string)+`","code":"`+code+`"}`)
	if confirm.Code != 200 {
		t.Fatalf("confirm TOTP enrolment: %d %s", confirm.Code, confirm.Raw)
	}
	s.keepOperatorTokens(confirm.Body)
	return s.opToken
}

func (s *Suite) keepOperatorTokens(body map[string]any) {
	s.opToken = tokenField(body, "access_token")
	s.opRefresh = tokenField(body, "refresh_token")
	exp, _ := time.Parse(time.RFC3339Nano, tokenField(body, "access_token_expires_at"))
	s.opExpires = exp
	if s.opToken == "" {
		s.T.Fatalf("no access token in %v", body)
	}
}

func tokenField(body map[string]any, name string) string {
	tok, _ := body["tokens"].(map[string]any)
	v, _ := tok[name].(string)
	return v
}
