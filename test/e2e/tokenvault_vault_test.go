package e2e

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/vaulttest"
)

// TestTokenvaultDuringVaultOutage runs tokenvault on a real Vault (Transit,
// with tokenvault's least-privilege policy), then stops Vault: customers
// whose data keys are cached keep working, a new customer gets a clear
// Unavailable, and nothing is half-written (once Vault is back is covered
// by the engine tests; here Vault stays down).
func TestTokenvaultDuringVaultOutage(t *testing.T) {
	v := vaulttest.Start(t)
	s := startSuite(t, t.TempDir(),
		"SOTTO_VAULT_ADDR="+v.Addr, "SOTTO_VAULT_TOKEN=",
		"SOTTO_AUDIT_VAULT_TOKEN="+v.ClientWithPolicies(t, "audit").Token(),
		"SOTTO_GATEWAY_VAULT_TOKEN="+v.ClientWithPolicies(t, "gateway").Token(),
		"SOTTO_TOKENVAULT_VAULT_TOKEN="+v.ClientWithPolicies(t, "tokenvault").Token())
	ctx := context.Background()
	conv := s.tokenvaultClient("conversation")
	item := func(v string) []*tokenvaultv1.TokenizeItem {
		return []*tokenvaultv1.TokenizeItem{{Value: v, DataType: tokenvaultv1.DataType_DATA_TYPE_NAME}}
	}
	first, err := conv.Tokenize(ctx, &tokenvaultv1.TokenizeRequest{Subject: "cus_known", Items: item("Jane Doe")})
	if err != nil {
		t.Fatal(err)
	}

	v.Stop()

	more, err := conv.Tokenize(ctx, &tokenvaultv1.TokenizeRequest{Subject: "cus_known", Items: item("Jane Q. Doe")})
	if err != nil {
		t.Fatalf("tokenize for a cached customer during the outage: %v", err)
	}
	det, err := conv.Detokenize(ctx, &tokenvaultv1.DetokenizeRequest{Purpose: "order_support",
		Tokens: []string{first.Results[0].GetToken(), more.Results[0].GetToken()}})
	if err != nil || det.Results[0].Value != "Jane Doe" || det.Results[1].Value != "Jane Q. Doe" {
		t.Fatalf("detokenize for a cached customer during the outage: %v %v", det, err)
	}
	_, err = conv.Tokenize(ctx, &tokenvaultv1.TokenizeRequest{Subject: "cus_new", Items: item("New Person")})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("tokenize for a new customer during the outage: %v, want Unavailable", err)
	}
	// Nothing of the refused request exists: the customer is unknown.
	meta, err := conv.LookupToken(ctx, &tokenvaultv1.LookupTokenRequest{DataType: tokenvaultv1.DataType_DATA_TYPE_NAME, Value: "New Person"})
	if err == nil && len(meta.Matches) != 0 {
		t.Fatalf("a refused tokenization left lookup entries: %v", meta.Matches)
	}
}
