package gateway

import (
	"net/http"
	"testing"
)

// TestNoticeListIsPublic: GET /v1/consent/notices is public like the
// notice versions (a consent banner and the privacy centre read it; the
// consent service decides what it holds): no token and a visitor's reach
// the service (down here: 503); a malformed token is
// refused at the edge (a public route still checks the token it is sent).
func TestNoticeListIsPublic(t *testing.T) {
	h := newDownGateway(t)
	for name, tok := range map[string]string{"no token": "", "visitor": visitorToken(t)} {
		if code, body := do(h, http.MethodGet, "/v1/consent/notices?purpose_id=analytics", tok, ""); code != http.StatusServiceUnavailable {
			t.Errorf("%s: %d %v, want it to reach the (down) consent service", name, code, body)
		}
	}
	if code, body := do(h, http.MethodGet, "/v1/consent/notices", "not-a-jwt", ""); code != http.StatusUnauthorized || reason(body) != reasonUnauthenticated {
		t.Errorf("malformed token: %d %v, want 401 %s", code, body, reasonUnauthenticated)
	}
	if code, _ := do(h, http.MethodPost, "/v1/consent/notices", "", "{}"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST to the list: %d, want 405", code)
	}
}
