package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	creceipt "github.com/sottohq/sotto/pkg/consentclient/receipt"
	"github.com/sottohq/sotto/pkg/keys"
)

// signedReceipt makes a receipt as the consent service does: the JWS's
// signature from the KeyManager's consent-receipt key in the keyring at
// path (the dev state's keys/consent.json).
func signedReceipt(t *testing.T, path string) string {
	t.Helper()
	ctx := context.Background()
	km, err := keys.NewLocal(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := km.EnsureKey(ctx, "consent-receipt", keys.TypeEd25519); err != nil {
		t.Fatal(err)
	}
	r := creceipt.Receipt{Version: creceipt.ReceiptVersion, Jurisdiction: "DE", ConsentTimestamp: 1764400000,
		CollectionMethod: "explicit opt-in via web", ConsentReceiptID: "0193c0de-0000-7000-8000-000000000001", PIIPrincipalID: "cus_1",
		PIIControllers: []creceipt.ReceiptController{{PIIController: "Shop"}}, PolicyURL: "https://example.com",
		Services: []creceipt.ReceiptService{{Service: "Shop", Purposes: []creceipt.ReceiptPurpose{{Purpose: "Marketing",
			PurposeID: "marketing", Decision: "granted", LegalBasis: "consent", RecordID: "r1", PurposeRevision: 1}}}},
		SPICat: []string{}, Sotto: creceipt.ReceiptExtension{Method: "explicit_opt_in", Channel: "web", AuditEventID: "0193c0de-0000-7000-8000-000000000002"}}
	body, _ := json.Marshal(r)
	enc := base64.RawURLEncoding.EncodeToString
	input := enc([]byte(`{"alg":"EdDSA","kid":"consent-receipt.v1","typ":"JWT"}`)) + "." + enc(body)
	sig, err := km.Sign(ctx, "consent-receipt", []byte(input))
	if err != nil || sig.KeyVersion != 1 {
		t.Fatalf("sign: %v", err)
	}
	return input + "." + enc(sig.Sig)
}

func verifyReceipt(t *testing.T, input string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := consentVerifyReceipt(context.Background(), args, strings.NewReader(input), &out, &errOut)
	return out.String(), err
}

// TestConsentVerifyReceipt: a receipt verifies against the dev state's
// keys (read from the key store, not the service) or keys pinned with
// --receipt-key, from a JWS or a GrantConsent answer; a tampered one and one
// signed by a key that is not pinned fail.
func TestConsentVerifyReceipt(t *testing.T) {
	t.Setenv("SOTTO_VAULT_ADDR", "")
	state := t.TempDir()
	jws := signedReceipt(t, filepath.Join(state, "keys", "consent.json"))
	out, err := verifyReceipt(t, jws, "--state", state)
	if err != nil || !strings.Contains(out, "OK: receipt 0193c0de-0000-7000-8000-000000000001 for subject cus_1, signed by consent-receipt.v1, sha256 "+creceipt.ReceiptHash(jws)) ||
		!strings.Contains(out, "marketing: granted (consent, revision 1, record r1)") {
		t.Fatalf("%v\n%s", err, out)
	}
	pinned, err := consentReceiptKeys(context.Background(), filepath.Join(state, "keys", "consent.json"))
	if err != nil || len(pinned) != 1 {
		t.Fatalf("keys from the key store: %v %v", pinned, err)
	}
	wrapped, _ := json.Marshal(map[string]any{"record": map[string]string{"record_id": "r1"}, "receipt": map[string]string{"jws": jws}})
	if out, err := verifyReceipt(t, string(wrapped), "--state", t.TempDir(), "--receipt-key", pinned[0]); err != nil {
		t.Fatalf("GrantConsent answer with --receipt-key: %v\n%s", err, out)
	}

	parts := strings.Split(jws, ".")
	body, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(body, []byte(`"granted"`), []byte(`"withdrawn"`), 1)) + "." + parts[2]
	out, err = verifyReceipt(t, forged, "--state", state)
	if err == nil || !strings.Contains(out, "FAIL: "+creceipt.ReasonReceiptSignature) {
		t.Fatalf("tampered receipt: %v\n%s", err, out)
	}
	other := signedReceipt(t, filepath.Join(t.TempDir(), "other.json"))
	out, err = verifyReceipt(t, other, "--state", state)
	if err == nil || !strings.Contains(out, "FAIL: "+creceipt.ReasonReceiptSignature) {
		t.Fatalf("receipt of another key with the same kid: %v\n%s", err, out)
	}
	if _, err := verifyReceipt(t, jws, "--state", t.TempDir()); err == nil || !strings.Contains(err.Error(), "--receipt-key") {
		t.Fatalf("no keys anywhere: %v", err)
	}
	if err := os.WriteFile(filepath.Join(state, "r.jws"), []byte(jws+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := verifyReceipt(t, "", "--state", state, filepath.Join(state, "r.jws")); err != nil {
		t.Fatalf("from a file: %v\n%s", err, out)
	}
}
