package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
)

// tokenvaultClient connects to the suite's tokenvault as workload name.
func (s *suite) tokenvaultClient(name string) tokenvaultv1.TokenVaultServiceClient {
	return tokenvaultv1.NewTokenVaultServiceClient(s.Dial(name, "tokenvault", s.Info.Services["tokenvault"].GRPC))
}

func (s *suite) post(path, token, body string) restResult {
	s.t.Helper()
	r := s.Request(http.MethodPost, path, token, body)
	return restResult{code: r.Code, body: r.Body, raw: r.Raw}
}

func TestTokenvaultEndToEnd(t *testing.T) {
	s := startSuite(t, t.TempDir(), "SOTTO_TOKENVAULT_TENANTS=default,othershop")
	ctx := context.Background()

	// A frontend tokenizes through the gateway's REST API.
	r := s.post("/v1/tokens:tokenize", s.OperatorToken(), `{"subject":"cus_77","scope":"conv_9","items":[
		{"value":"Jane Doe","data_type":"DATA_TYPE_NAME"},
		{"value":"4242 4242 4242 4242","data_type":"DATA_TYPE_CARD_NUMBER","format":"TOKEN_FORMAT_CARD"},
		{"value":"4242424242424241","data_type":"DATA_TYPE_CARD_NUMBER"}]}`)
	if r.code != http.StatusOK {
		t.Fatalf("tokenize: %d %s", r.code, r.raw)
	}
	results, _ := r.body["results"].([]any)
	if len(results) != 3 {
		t.Fatalf("tokenize results: %s", r.raw)
	}
	name, _ := results[0].(map[string]any)["token"].(string)
	card, _ := results[1].(map[string]any)["token"].(string)
	if !strings.HasPrefix(name, "tok_nm_") || len(card) != 16 || !strings.HasPrefix(card, "424242") {
		t.Fatalf("tokens: %s", r.raw)
	}
	if !strings.Contains(r.raw, "INVALID_VALUE") || strings.Contains(r.raw, "4242424242424241") {
		t.Fatalf("the Luhn-invalid card must fail alone, without echoing it: %s", r.raw)
	}

	// Masked views without detokenizing.
	r = s.post("/v1/tokens:mask", s.OperatorToken(), `{"tokens":["`+card+`"]}`)
	if r.code != http.StatusOK || !strings.Contains(r.raw, "4242") || strings.Contains(r.raw, "4242424242424242") {
		t.Fatalf("mask: %d %s", r.code, r.raw)
	}

	// The gateway may not detokenize (no end-user authentication yet): a
	// per-token, explained denial, and no value.
	r = s.post("/v1/tokens:detokenize", s.OperatorToken(), `{"tokens":["`+name+`"],"purpose":"order_support"}`)
	if r.code != http.StatusOK || !strings.Contains(r.raw, "CALLER_NOT_ALLOWED") || strings.Contains(r.raw, "Jane") {
		t.Fatalf("gateway detokenize: %d %s", r.code, r.raw)
	}

	// Bad input at the edge: 400 with a reason, never a 500.
	for _, tc := range []struct{ name, body, reason string }{
		{"not json", `{"subject":`, "MALFORMED_REQUEST"},
		{"unknown field", `{"subject":"cus_1","items":[{"value":"x","data_type":"DATA_TYPE_NAME"}],"colour":"red"}`, "MALFORMED_REQUEST"},
		{"no items", `{"subject":"cus_1","items":[]}`, "INVALID_ARGUMENT"},
		{"bad subject", `{"subject":"jane doe@example.com","items":[{"value":"x","data_type":"DATA_TYPE_NAME"}]}`, "INVALID_ARGUMENT"},
		{"unknown data type", `{"subject":"cus_1","items":[{"value":"x","data_type":"DATA_TYPE_SHOE_SIZE"}]}`, "MALFORMED_REQUEST"},
		{"too many items", `{"subject":"cus_1","items":[` + strings.Repeat(`{"value":"x","data_type":"DATA_TYPE_NAME"},`, 1000) + `{"value":"x","data_type":"DATA_TYPE_NAME"}]}`, "INVALID_ARGUMENT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.post("/v1/tokens:tokenize", s.OperatorToken(), tc.body)
			if r.code != http.StatusBadRequest || errorReason(r) != tc.reason {
				t.Fatalf("got %d %s, want 400 %s", r.code, r.raw, tc.reason)
			}
		})
	}

	// A service allowed by policy detokenizes over mTLS; the access is in the
	// audit log, naming the caller, before the value came back.
	conv := s.tokenvaultClient("conversation")
	det, err := conv.Detokenize(ctx, &tokenvaultv1.DetokenizeRequest{Tokens: []string{name, card}, Purpose: "order_support"})
	if err != nil {
		t.Fatal(err)
	}
	if det.Results[0].Value != "Jane Doe" || det.Results[0].Decision.GetRule() != "conversation-order-support" {
		t.Fatalf("conversation detokenize: %v", det.Results[0])
	}
	if det.Results[1].Value != "" || det.Results[1].Decision.GetReason() != "DATA_TYPE_NOT_ALLOWED" {
		t.Fatalf("card must stay hidden from conversation: %v", det.Results[1])
	}
	list := s.get("/v1/audit/events?subject=cus_77&action=tokenvault.detokenize", s.OperatorToken())
	if !strings.Contains(list.raw, `"caller_workload":"spiffe://sotto.local/conversation"`) ||
		!strings.Contains(list.raw, `"actor_workload":"spiffe://sotto.local/tokenvault"`) ||
		!strings.Contains(list.raw, "OUTCOME_DENIED") || strings.Contains(list.raw, "Jane") {
		t.Fatalf("audit trail of the detokenize: %s", list.raw)
	}
	// A reveal is for one shop: another shop's token is, to it, exactly an
	// unknown one, and the refusal is in the audit log under the token's
	// owner (ADR 0004, tenant binding).
	consentVault := s.tokenvaultClient("consent")
	other, err := consentVault.Tokenize(ctx, &tokenvaultv1.TokenizeRequest{Tenant: "othershop", Subject: "cus_88",
		Items: []*tokenvaultv1.TokenizeItem{{Value: "Other Shopper", DataType: tokenvaultv1.DataType_DATA_TYPE_NAME}}})
	if err != nil {
		t.Fatal(err)
	}
	det, err = conv.Detokenize(ctx, &tokenvaultv1.DetokenizeRequest{Tenant: "othershop", Purpose: "order_support",
		Tokens: []string{name, other.GetResults()[0].GetToken(), "tok_nm_doesnotexist"}})
	if err != nil || det.Results[1].Value != "Other Shopper" {
		t.Fatalf("detokenize for the other shop: %v %v", det, err)
	}
	if r := det.Results[0]; r.Value != "" || r.Error.GetReason() != "UNKNOWN_TOKEN" || r.DataType != det.Results[2].DataType || r.Decision != nil {
		t.Fatalf("another shop's token must answer as an unknown one: %v (unknown: %v)", r, det.Results[2])
	}
	if list := s.get("/v1/audit/events?subject=cus_77&action=tokenvault.detokenize", s.OperatorToken()); !strings.Contains(list.raw, "TENANT_MISMATCH") || strings.Contains(list.raw, "Jane") {
		t.Fatalf("the refused reveal for another shop is not in the audit trail: %s", list.raw)
	}

	// Tokenize was recorded through tokenvault's outbox.
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.get("/v1/audit/events?subject=cus_77&action=tokenvault.tokenize", s.OperatorToken()).raw, "tokenvault.tokenize") {
		if time.Now().After(deadline) {
			t.Fatal("tokenize never reached the audit log through the outbox")
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Only the consent service may erase; erasure crypto-shreds.
	if _, err := conv.EraseSubject(ctx, &tokenvaultv1.EraseSubjectRequest{Subject: "cus_77", RequestId: "dsr_1"}); err == nil {
		t.Fatal("conversation erased a subject")
	}
	er, err := consentVault.EraseSubject(ctx, &tokenvaultv1.EraseSubjectRequest{Subject: "cus_77", RequestId: "dsr_1"})
	if err != nil || er.Evidence.TokensAffected != 2 || len(er.Evidence.DestroyedKeyVersions) != 1 {
		t.Fatalf("erase: %v %v", er, err)
	}
	det, err = conv.Detokenize(ctx, &tokenvaultv1.DetokenizeRequest{Tokens: []string{name}, Purpose: "order_support"})
	if err != nil || det.Results[0].Value != "" || det.Results[0].Error.GetReason() != "SUBJECT_ERASED" {
		t.Fatalf("detokenize after erasure: %v %v", det, err)
	}
}
