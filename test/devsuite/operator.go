package devsuite

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
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
	s.opRefresh = tokenField(login.Body, "refresh_token")
	if login.Body["second_factor_available"] == true {
		// An earlier suite on this state directory enrolled the app; step
		// up with one of the recovery codes it kept (each works once).
		code := s.takeRecoveryCode()
		up := s.Request("POST", "/v1/sessions:stepUp", aal1, `{"recovery_code":"`+code+`"}`)
		if up.Code != 200 {
			t.Fatalf("admin step-up with a recovery code: %d %s", up.Code, up.Raw)
		}
		s.keepOperatorTokens(up.Body)
		return s.opToken
	}
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
	var codes []string
	for _, c := range confirm.Body["recovery_codes"].([]any) {
		codes = append(codes, c.(string))
	}
	// Enrolling proves nothing beyond the password; the session reaches
	// aal2 by stepping up with the new factor. The confirming code is spent,
	// so a recovery code does it at once (no wait for the next period).
	s.saveRecoveryCodes(codes[1:])
	up := s.Request("POST", "/v1/sessions:stepUp", aal1, `{"recovery_code":"`+codes[0]+`"}`)
	if up.Code != 200 {
		t.Fatalf("admin step-up after enrolment: %d %s", up.Code, up.Raw)
	}
	s.keepOperatorTokens(up.Body)
	return s.opToken
}

// The admin's recovery codes, kept in the state directory for the next
// suite started on it.
func (s *Suite) recoveryFile() string { return filepath.Join(s.State, "test-admin-recovery.json") }

func (s *Suite) saveRecoveryCodes(codes []string) {
	raw, _ := json.Marshal(codes)
	if err := os.WriteFile(s.recoveryFile(), raw, 0o600); err != nil {
		s.T.Fatal(err)
	}
}

func (s *Suite) takeRecoveryCode() string {
	var codes []string
	raw, err := os.ReadFile(s.recoveryFile())
	if err != nil || json.Unmarshal(raw, &codes) != nil || len(codes) == 0 {
		s.T.Fatalf("the admin has a second factor but no recovery code is left (%v)", err)
	}
	s.saveRecoveryCodes(codes[1:])
	return codes[0]
}

func (s *Suite) keepOperatorTokens(body map[string]any) {
	s.opToken = tokenField(body, "access_token")
	// A step-up does not rotate the refresh token; the login's stays.
	if rt := tokenField(body, "refresh_token"); rt != "" {
		s.opRefresh = rt
	}
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
