package vaulttest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestKubernetesTokenReview checks the fake against the TokenReview
// protocol Vault speaks: who may call it, and which tokens it vouches for.
func TestKubernetesTokenReview(t *testing.T) {
	t.Parallel()
	k := StartKubernetes(t)
	audit := k.ServiceAccountToken(t, KubernetesNamespace, "audit")
	gone := k.ServiceAccountToken(t, KubernetesNamespace, "gone")
	k.DeleteServiceAccount(KubernetesNamespace, "gone")

	post := func(bearer string, body any) (int, map[string]any) {
		t.Helper()
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPost, k.URL+tokenReviews, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := k.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, out
	}
	review := func(token string, audiences ...string) map[string]any {
		return map[string]any{"spec": map[string]any{"token": token, "audiences": audiences}}
	}

	for name, bearer := range map[string]string{"no bearer": "", "workload's own token": audit} {
		code, body := post(bearer, review(audit))
		if code != http.StatusUnauthorized || body["kind"] != "Status" || body["reason"] != "Unauthorized" {
			t.Errorf("%s: got %d %v, want 401 and an Unauthorized Status", name, code, body)
		}
	}

	code, body := post(k.ReviewerJWT, review(audit, kubeAudience))
	if code != http.StatusCreated {
		t.Fatalf("review: status %d, %v", code, body)
	}
	status, _ := body["status"].(map[string]any)
	user, _ := status["user"].(map[string]any)
	if status["authenticated"] != true || user["username"] != "system:serviceaccount:sotto:audit" || user["uid"] == "" || user["uid"] == nil {
		t.Errorf("review of a valid token: %v", body)
	}
	if body["kind"] != "TokenReview" || body["apiVersion"] != "authentication.k8s.io/v1" {
		t.Errorf("response is not a TokenReview: %v", body)
	}

	refused := map[string]map[string]any{
		"forged signature":   review(k.ForgedToken(t, KubernetesNamespace, "audit")),
		"deleted account":    review(gone),
		"other audience":     review(audit, "vault"),
		"not a JWT":          review("hvs.notajwt"),
		"tampered signature": review(audit[:len(audit)-4] + "AAAA"),
	}
	for name, req := range refused {
		code, body := post(k.ReviewerJWT, req)
		status, _ := body["status"].(map[string]any)
		if code != http.StatusCreated || status["authenticated"] == true {
			t.Errorf("%s: got %d %v, want 201 and authenticated false", name, code, body)
		}
	}

	want := []Review{
		{Namespace: "sotto", Name: "audit", Authenticated: true},
	}
	if diff := cmp.Diff(want, k.Reviews()[:1]); diff != "" {
		t.Errorf("first review (-want +got):\n%s", diff)
	}
	if n := len(k.Reviews()); n != 1+len(refused) {
		t.Errorf("%d reviews recorded, want %d (unauthorised calls are not reviews)", n, 1+len(refused))
	}
}
