package e2e

import (
	"context"
	"database/sql"
	"path/filepath"
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
	state := t.TempDir()
	s := startSuite(t, state, vaultEnv(t, v)...)
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
	// Nothing of the refused request exists: no subject row, no token.
	db, err := sql.Open("sqlite", filepath.Join(state, "data", "tokenvault.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, table := range []string{"subjects", "tokens"} {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM ` + table + ` WHERE subject = 'cus_new'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("a refused tokenization left %d rows in %s (%v)", n, table, err)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM subjects WHERE subject = 'cus_known'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the known customer: %d subject rows (%v), want 1", n, err) // the query itself works
	}
}
