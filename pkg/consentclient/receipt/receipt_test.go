package receipt_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/sottohq/sotto/pkg/consentclient/receipt"
	"github.com/sottohq/sotto/pkg/errs"
)

func sample() receipt.Receipt {
	return receipt.Receipt{
		Version: receipt.ReceiptVersion, Jurisdiction: "DE", ConsentTimestamp: 1764400000, CollectionMethod: "explicit opt-in via web",
		ConsentReceiptID: "0193c0de-0000-7000-8000-000000000001", PIIPrincipalID: "cus_1",
		PIIControllers: []receipt.ReceiptController{{PIIController: "Shop", Contact: "Privacy", Address: "1 Street", Email: "p@example.com", Phone: "+1"}},
		PolicyURL:      "https://example.com/privacy",
		Services: []receipt.ReceiptService{{Service: "Shop", Purposes: []receipt.ReceiptPurpose{{Purpose: "Marketing",
			PurposeCategory: []string{"marketing"}, ConsentType: "EXPLICIT", PIICategory: []string{}, Termination: "any time",
			PurposeID: "marketing", LegalBasis: "consent", PurposeRevision: 1, Decision: "granted", RecordID: "r1"}}}},
		SPICat: []string{}, Sotto: receipt.ReceiptExtension{Method: "explicit_opt_in", Channel: "web"},
	}
}

func sign(t *testing.T, key ed25519.PrivateKey, kid, typ string, payload []byte) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, &jose.SignerOptions{
		ExtraHeaders: map[jose.HeaderKey]any{jose.HeaderType: typ, "kid": kid}})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVerifyReceipt: a receipt signed by a pinned key verifies; a changed
// payload, a changed signature, an unpinned key, another algorithm or
// type, or a payload that is not a receipt do not.
func TestVerifyReceipt(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	const kid = "consent-receipt.v1"
	keys := receipt.ReceiptKeys{kid: pub}
	body, _ := json.Marshal(sample())
	good := sign(t, priv, kid, receipt.ReceiptType, body)
	v, err := receipt.VerifyReceipt(good, keys)
	if err != nil {
		t.Fatal(err)
	}
	if v.KeyID != kid || v.SHA256 != receipt.ReceiptHash(good) || v.Receipt.PIIPrincipalID != "cus_1" {
		t.Fatalf("verified %+v", v)
	}

	parts := strings.Split(good, ".")
	tampered := sample()
	tampered.Services[0].Purposes[0].Decision = "withdrawn"
	tb, _ := json.Marshal(tampered)
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[0] ^= 1
	hs256 := func() string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(pub)}, &jose.SignerOptions{
			ExtraHeaders: map[jose.HeaderKey]any{jose.HeaderType: receipt.ReceiptType, "kid": kid}})
		obj, _ := s.Sign(body)
		out, _ := obj.CompactSerialize()
		return out
	}()
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"`+kid+`"}`)) + "." + parts[1] + "."
	extra := func() []byte {
		var m map[string]any
		json.Unmarshal(body, &m)
		m["injected"] = true
		b, _ := json.Marshal(m)
		return b
	}()
	tests := map[string]struct {
		jws    string
		reason string
	}{
		"changed payload":           {parts[0] + "." + base64.RawURLEncoding.EncodeToString(tb) + "." + parts[2], receipt.ReasonReceiptSignature},
		"changed signature":         {parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig), receipt.ReasonReceiptSignature},
		"another key":               {sign(t, otherPriv, kid, receipt.ReceiptType, body), receipt.ReasonReceiptSignature},
		"unpinned kid":              {sign(t, priv, "consent-receipt.v2", receipt.ReceiptType, body), receipt.ReasonReceiptKeyUnknown},
		"HS256 with the public key": {hs256, receipt.ReasonReceiptMalformed},
		"alg none":                  {none, receipt.ReasonReceiptMalformed},
		"another type":              {sign(t, priv, kid, "at+jwt", body), receipt.ReasonReceiptMalformed},
		"unknown field":             {sign(t, priv, kid, receipt.ReceiptType, extra), receipt.ReasonReceiptMalformed},
		"not a receipt":             {sign(t, priv, kid, receipt.ReceiptType, []byte(`{"version":"other"}`)), receipt.ReasonReceiptMalformed},
		"not a JWS":                 {"garbage", receipt.ReasonReceiptMalformed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := receipt.VerifyReceipt(tc.jws, keys)
			if errs.KindOf(err) != errs.InvalidArgument || errs.ReasonOf(err) != tc.reason {
				t.Fatalf("%v, want InvalidArgument %s", err, tc.reason)
			}
		})
	}
}

// TestReceiptKeyFormat: pinned keys round-trip, and malformed ones are
// refused.
func TestReceiptKeyFormat(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	s := receipt.FormatReceiptKey("consent-receipt.v3", pub)
	kid, got, err := receipt.ParseReceiptKey(s)
	if err != nil || kid != "consent-receipt.v3" || !got.Equal(pub) {
		t.Fatalf("round trip: %q %v %v", kid, got, err)
	}
	for _, bad := range []string{"", "nokey", "=abc", "k=not-base64!", "k=" + base64.RawURLEncoding.EncodeToString([]byte("short"))} {
		if _, _, err := receipt.ParseReceiptKey(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
