package server_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// TestIdentityNeitherReadsNorDescribes: identity tokenises, finds accounts
// by e-mail token and shows masked views; it never reads a value back or
// describes a token, so the RPC policy refuses it Detokenize and
// GetTokenMetadata whatever policy.yaml says.
func TestIdentityNeitherReadsNorDescribes(t *testing.T) {
	v := newVault(t, storetest.SQLite(t, migrations.FS))
	id := v.client(t, "identity")
	ctx := context.Background()
	resp, err := id.Tokenize(ctx, &tokenvaultv1.TokenizeRequest{Subject: "acc_1", Items: []*tokenvaultv1.TokenizeItem{
		{Value: "alice@example.com", DataType: tokenvaultv1.DataType_DATA_TYPE_EMAIL, Format: tokenvaultv1.TokenFormat_TOKEN_FORMAT_DETERMINISTIC},
	}})
	if err != nil {
		t.Fatalf("identity tokenises: %v", err)
	}
	tok := resp.GetResults()[0].GetToken()
	if _, err := id.LookupToken(ctx, &tokenvaultv1.LookupTokenRequest{DataType: tokenvaultv1.DataType_DATA_TYPE_EMAIL,
		Value: "alice@example.com", Purpose: "authentication"}); err != nil {
		t.Errorf("identity looks an address up: %v", err)
	}
	if _, err := id.RevealMasked(ctx, &tokenvaultv1.RevealMaskedRequest{Tokens: []string{tok}}); err != nil {
		t.Errorf("identity shows a masked view: %v", err)
	}
	if _, err := id.Detokenize(ctx, &tokenvaultv1.DetokenizeRequest{Tokens: []string{tok}, Purpose: "authentication"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("identity detokenises: %v; want PermissionDenied", err)
	}
	if _, err := id.GetTokenMetadata(ctx, &tokenvaultv1.GetTokenMetadataRequest{Token: tok}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("identity reads token metadata: %v; want PermissionDenied", err)
	}
}
