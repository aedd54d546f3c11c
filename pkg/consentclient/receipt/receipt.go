// Package receipt is the consent receipt format (after the Kantara
// Initiative's Consent Receipt Specification v1.1) and its offline
// verification: a receipt is a compact JWS (EdDSA) whose payload is the
// receipt's JSON, checked against pinned public keys with no call to any
// service (`sotto consent verify-receipt`). The consent service signs
// receipts through its KeyManager.
package receipt

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/sottohq/sotto/pkg/errs"
)

// ReceiptVersion is the Kantara Consent Receipt Specification version the
// receipts follow.
const ReceiptVersion = "KI-CR-v1.1.0"

// ReceiptType is the typ header of a signed receipt (the specification
// signs receipts as JWTs).
const ReceiptType = "JWT"

// Reasons of receipt verification errors (InvalidArgument).
const (
	ReasonReceiptMalformed  = "RECEIPT_MALFORMED"
	ReasonReceiptKeyUnknown = "RECEIPT_KEY_UNKNOWN"
	ReasonReceiptSignature  = "RECEIPT_SIGNATURE_INVALID"
)

// Receipt is a consent receipt after the Kantara Initiative's Consent
// Receipt Specification v1.1, with Sotto's own fields under "sotto". The
// consent service signs its JSON as the payload of a JWS (EdDSA); the
// same type decodes it on the verifying side.
type Receipt struct {
	Version          string `json:"version"`
	Jurisdiction     string `json:"jurisdiction"`
	ConsentTimestamp int64  `json:"consentTimestamp"`
	CollectionMethod string `json:"collectionMethod"`
	ConsentReceiptID string `json:"consentReceiptID"`
	Language         string `json:"language,omitempty"`
	// PIIPrincipalID is the data subject: the account id.
	PIIPrincipalID string              `json:"piiPrincipalId"`
	PIIControllers []ReceiptController `json:"piiControllers"`
	PolicyURL      string              `json:"policyUrl"`
	Services       []ReceiptService    `json:"services"`
	Sensitive      bool                `json:"sensitive"`
	SPICat         []string            `json:"spiCat"`
	// Sotto is what the specification has no field for: the decision's
	// method, channel and notice.
	Sotto ReceiptExtension `json:"sotto"`
}

// ReceiptController is the data controller (the shop).
type ReceiptController struct {
	PIIController    string `json:"piiController"`
	OnBehalf         bool   `json:"onBehalf"`
	Contact          string `json:"contact"`
	Address          string `json:"address"`
	Email            string `json:"email"`
	Phone            string `json:"phone"`
	PIIControllerURL string `json:"piiControllerUrl,omitempty"`
}

// ReceiptService is the service the purposes belong to.
type ReceiptService struct {
	Service  string           `json:"service"`
	Purposes []ReceiptPurpose `json:"purposes"`
}

// ReceiptPurpose is one purpose the receipt records a decision about.
type ReceiptPurpose struct {
	Purpose              string   `json:"purpose"`
	PurposeCategory      []string `json:"purposeCategory"`
	ConsentType          string   `json:"consentType"`
	PIICategory          []string `json:"piiCategory"`
	PrimaryPurpose       bool     `json:"primaryPurpose"`
	Termination          string   `json:"termination"`
	ThirdPartyDisclosure bool     `json:"thirdPartyDisclosure"`
	ThirdPartyName       string   `json:"thirdPartyName,omitempty"`
	// Sotto's fields: the purpose's id, legal basis and revision, the
	// decision and the record that holds it.
	PurposeID       string `json:"sottoPurposeId"`
	LegalBasis      string `json:"sottoLegalBasis"`
	PurposeRevision int64  `json:"sottoPurposeRevision"`
	Decision        string `json:"sottoDecision"`
	RecordID        string `json:"sottoRecordId"`
}

// ReceiptExtension is Sotto's part of a receipt.
type ReceiptExtension struct {
	// Method: explicit_opt_in, opt_out, gpc or staff_on_behalf.
	Method string `json:"method"`
	// Channel: web, mobile_app, whatsapp, ...
	Channel string `json:"channel"`
	// Notice is the notice shown (grants).
	Notice *ReceiptNotice `json:"notice,omitempty"`
	// RecordedByStaff: a privacy officer recorded it for the subject.
	RecordedByStaff bool `json:"recordedByStaff"`
	// AuditEventID is the audit event that anchors the receipt: its
	// resource id is "sha256:" + the hash of this receipt as signed.
	AuditEventID string `json:"auditEventId"`
}

// ReceiptNotice names the notice text shown.
type ReceiptNotice struct {
	NoticeID   string `json:"noticeId"`
	Version    int64  `json:"version"`
	Language   string `json:"language"`
	TextSHA256 string `json:"textSha256"`
}

// ReceiptKeys are the pinned public keys of the receipt signing key, by
// JWS kid ("consent-receipt.v1").
type ReceiptKeys map[string]ed25519.PublicKey

// ParseReceiptKey reads a pinned key written "<kid>=<base64url public
// key>" (what FormatReceiptKey writes, and what `sotto dev up` keeps in
// dev.json).
func ParseReceiptKey(s string) (kid string, pub ed25519.PublicKey, err error) {
	kid, b64, ok := strings.Cut(s, "=")
	if !ok || kid == "" {
		return "", nil, fmt.Errorf("receipt key %q: want <kid>=<base64url Ed25519 public key>", s)
	}
	raw, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return "", nil, fmt.Errorf("receipt key %s: not a base64url Ed25519 public key", kid)
	}
	return kid, ed25519.PublicKey(raw), nil
}

// FormatReceiptKey writes a pinned key as ParseReceiptKey reads it.
func FormatReceiptKey(kid string, pub ed25519.PublicKey) string {
	return kid + "=" + base64.RawURLEncoding.EncodeToString(pub)
}

// ReceiptKeyID is the kid of a version of the receipt key.
func ReceiptKeyID(keyName string, version int) string { return keyName + ".v" + strconv.Itoa(version) }

// ReceiptHash is the SHA-256 (lower-case hex) of a signed receipt as
// issued, the value the audit log anchors (resource id "sha256:<hex>").
func ReceiptHash(jws string) string {
	sum := sha256.Sum256([]byte(jws))
	return hex.EncodeToString(sum[:])
}

// VerifiedReceipt is a receipt whose signature checked out.
type VerifiedReceipt struct {
	Receipt Receipt
	// KeyID is the key version that signed it.
	KeyID string
	// SHA256 is ReceiptHash of the JWS.
	SHA256 string
}

// VerifyReceipt checks a signed receipt against pinned keys, offline: one
// EdDSA signature (no other algorithm is accepted), by a key version keys
// holds, over a payload that is a receipt of this specification version.
// Errors are InvalidArgument with RECEIPT_MALFORMED, RECEIPT_KEY_UNKNOWN or
// RECEIPT_SIGNATURE_INVALID.
func VerifyReceipt(jws string, keys ReceiptKeys) (VerifiedReceipt, error) {
	jws = strings.TrimSpace(jws)
	malformed := func(msg string) (VerifiedReceipt, error) {
		return VerifiedReceipt{}, errs.E(errs.InvalidArgument, ReasonReceiptMalformed, "receipt: %s", msg)
	}
	if strings.Count(jws, ".") != 2 {
		return malformed("not a compact JWS")
	}
	sig, err := jose.ParseSigned(jws, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return malformed("not an EdDSA JWS")
	}
	if len(sig.Signatures) != 1 {
		return malformed("want exactly one signature")
	}
	h := sig.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != ReceiptType {
		return malformed("not a receipt (typ)")
	}
	pub, ok := keys[h.KeyID]
	if !ok || len(pub) != ed25519.PublicKeySize {
		return VerifiedReceipt{}, errs.E(errs.InvalidArgument, ReasonReceiptKeyUnknown, "receipt: signed by a key that is not pinned")
	}
	payload, err := sig.Verify(pub)
	if err != nil {
		return VerifiedReceipt{}, errs.E(errs.InvalidArgument, ReasonReceiptSignature, "receipt: the signature does not verify")
	}
	var r Receipt
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil || dec.More() {
		return malformed("payload is not a receipt")
	}
	if r.Version != ReceiptVersion || r.ConsentReceiptID == "" || r.PIIPrincipalID == "" || len(r.Services) == 0 {
		return malformed("payload is not a " + ReceiptVersion + " receipt")
	}
	return VerifiedReceipt{Receipt: r, KeyID: h.KeyID, SHA256: ReceiptHash(jws)}, nil
}
