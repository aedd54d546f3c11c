package vaulttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"testing"

	"github.com/hashicorp/vault/api"
)

// op is one Vault request made with a service's token.
type op struct {
	name string
	read bool // GET instead of PUT
	path string
	data map[string]any
	// want is the HTTP status: 200 when the policy must allow the call,
	// 403 when it must deny it.
	want int
}

var b64 = base64.StdEncoding.EncodeToString

func issue(spiffeID string) map[string]any {
	return map[string]any{"uri_sans": spiffeID, "ttl": "1h"}
}

// TestPoliciesLeastPrivilege proves against a real Vault that each service's
// policy allows what the service needs and nothing next to it. Denials must
// be 403 (the ACL), not 400 (an engine rejecting input), or the test would
// not show that the policy is what stops the call.
func TestPoliciesLeastPrivilege(t *testing.T) {
	t.Parallel()
	s := Start(t)

	// A ciphertext and signature made with root, for decrypt/verify checks.
	root := s.Client.Logical()
	enc, err := root.Write("transit/encrypt/tokenvault-kek", map[string]any{"plaintext": b64([]byte("dek"))})
	if err != nil {
		t.Fatal(err)
	}
	ciphertext := enc.Data["ciphertext"].(string)
	enc, err = root.Write("transit/encrypt/consent-dsr", map[string]any{"plaintext": b64([]byte("c")), "associated_data": b64([]byte("dsr_1"))})
	if err != nil {
		t.Fatal(err)
	}
	dsrCiphertext := enc.Data["ciphertext"].(string)

	const td = "spiffe://" + TrustDomain
	checkWorkloadCert(t, s.ClientWithPolicies(t, "audit"), td+"/audit")

	input := map[string]any{"input": b64([]byte("m"))}
	tests := map[string][]op{
		"audit": {
			{"sign checkpoint", false, "transit/sign/audit-checkpoint", input, 200},
			{"read checkpoint public keys", true, "transit/keys/audit-checkpoint", nil, 200},
			{"wrap hmac key", false, "transit/encrypt/audit-subject", map[string]any{"plaintext": b64([]byte("k"))}, 200},
			{"read subject key", true, "transit/keys/audit-subject", nil, 200},
			{"issue own cert", false, "pki/issue/workload", issue(td + "/audit"), 200},
			{"encrypt with tokenvault kek", false, "transit/encrypt/tokenvault-kek", map[string]any{"plaintext": b64([]byte("x"))}, 403},
			{"decrypt with tokenvault kek", false, "transit/decrypt/tokenvault-kek", map[string]any{"ciphertext": ciphertext}, 403},
			{"create transit key", false, "transit/keys/audit-new", map[string]any{"type": "aes256-gcm96"}, 403},
			// encrypt on a missing key would create it (upsert) if create were granted
			{"encrypt upserting a key", false, "transit/encrypt/audit-checkpoint-2", map[string]any{"plaintext": b64([]byte("x"))}, 403},
			{"rotate checkpoint key", false, "transit/keys/audit-checkpoint/rotate", nil, 403},
			{"export checkpoint key", true, "transit/export/signing-key/audit-checkpoint", nil, 403},
			{"hmac with the wrapping key", false, "transit/hmac/audit-subject/sha2-256", input, 403},
			{"rewrap subject key", false, "transit/rewrap/audit-subject", map[string]any{"ciphertext": ciphertext}, 403},
			{"sign with subject key", false, "transit/sign/audit-subject", input, 403},
			{"issue cert for tokenvault", false, "pki/issue/workload", issue(td + "/tokenvault"), 403},
			{"issue cert smuggling a second id", false, "pki/issue/workload", issue(td + "/audit," + td + "/tokenvault"), 403},
			{"issue cert with unlisted parameter", false, "pki/issue/workload", map[string]any{"uri_sans": td + "/audit", "other_sans": "x"}, 403},
			{"use other pki role", false, "pki/issue/admin", issue(td + "/audit"), 403},
			{"write policy", false, "sys/policies/acl/audit", map[string]any{"policy": `path "*" { capabilities = ["sudo"] }`}, 403},
		},
		"gateway": {
			{"issue own cert", false, "pki/issue/workload", issue(td + "/gateway"), 200},
			{"unseal dsr corrections", false, "transit/decrypt/consent-dsr", map[string]any{"ciphertext": dsrCiphertext, "associated_data": b64([]byte("dsr_1"))}, 403},
			{"issue cert for audit", false, "pki/issue/workload", issue(td + "/audit"), 403},
			{"sign checkpoint", false, "transit/sign/audit-checkpoint", input, 403},
			{"encrypt with tokenvault kek", false, "transit/encrypt/tokenvault-kek", map[string]any{"plaintext": b64([]byte("x"))}, 403},
			{"decrypt with tokenvault kek", false, "transit/decrypt/tokenvault-kek", map[string]any{"ciphertext": ciphertext}, 403},
			{"hmac subject", false, "transit/hmac/audit-subject/sha2-256", input, 403},
			{"read any key", true, "transit/keys/tokenvault-kek", nil, 403},
			{"create transit key", false, "transit/keys/gateway", map[string]any{"type": "aes256-gcm96"}, 403},
		},
		"tokenvault": {
			{"encrypt", false, "transit/encrypt/tokenvault-kek", map[string]any{"plaintext": b64([]byte("x"))}, 200},
			{"decrypt", false, "transit/decrypt/tokenvault-kek", map[string]any{"ciphertext": ciphertext}, 200},
			// Not needed: Rewrap with associated data unwraps and wraps in
			// process, and tokenvault computes its HMACs with its own keys.
			{"rewrap", false, "transit/rewrap/tokenvault-kek", map[string]any{"ciphertext": ciphertext}, 403},
			{"hmac", false, "transit/hmac/tokenvault-kek/sha2-256", input, 403},
			{"read kek", true, "transit/keys/tokenvault-kek", nil, 200},
			{"issue own cert", false, "pki/issue/workload", issue(td + "/tokenvault"), 200},
			{"sign checkpoint", false, "transit/sign/audit-checkpoint", input, 403},
			{"hmac audit subject", false, "transit/hmac/audit-subject/sha2-256", input, 403},
			// KEK epochs (docs/adr/0007): rotate, raise the version floors,
			// trim; in this order, as the kek-epoch job does.
			{"rotate kek", false, "transit/keys/tokenvault-kek/rotate", nil, 200},
			{"raise kek version floors", false, "transit/keys/tokenvault-kek/config", map[string]any{"min_decryption_version": 2, "min_encryption_version": 2}, 200},
			{"trim kek", false, "transit/keys/tokenvault-kek/trim", map[string]any{"min_available_version": 2}, 200},
			// Nothing else about the key may change.
			{"allow deleting the kek", false, "transit/keys/tokenvault-kek/config", map[string]any{"deletion_allowed": true}, 403},
			{"make the kek exportable", false, "transit/keys/tokenvault-kek/config", map[string]any{"exportable": true}, 403},
			{"allow plaintext backup", false, "transit/keys/tokenvault-kek/config", map[string]any{"allow_plaintext_backup": true}, 403},
			{"floor smuggling a deletion", false, "transit/keys/tokenvault-kek/config", map[string]any{"min_decryption_version": 2, "deletion_allowed": true}, 403},
			{"set auto rotation", false, "transit/keys/tokenvault-kek/config", map[string]any{"auto_rotate_period": "1h"}, 403},
			{"backup kek", true, "transit/backup/tokenvault-kek", nil, 403},
			{"export kek", true, "transit/export/encryption-key/tokenvault-kek", nil, 403},
			{"rotate audit key", false, "transit/keys/audit-subject/rotate", nil, 403},
			{"configure audit key", false, "transit/keys/audit-subject/config", map[string]any{"min_decryption_version": 1}, 403},
			{"trim audit key", false, "transit/keys/audit-subject/trim", map[string]any{"min_available_version": 1}, 403},
			{"encrypt upserting a key", false, "transit/encrypt/tokenvault-kek-2", map[string]any{"plaintext": b64([]byte("x"))}, 403},
			{"issue cert for gateway", false, "pki/issue/workload", issue(td + "/gateway"), 403},
		},
		"identity": {
			{"issue own cert", false, "pki/issue/workload", issue(td + "/identity"), 200},
			{"sign access tokens", false, "transit/sign/identity-token", input, 200},
			{"read token key versions", true, "transit/keys/identity-token", nil, 200},
			{"wrap a TOTP secret", false, "transit/encrypt/identity-secrets", map[string]any{"plaintext": b64([]byte("x"))}, 200},
			{"hmac a recovery code", false, "transit/hmac/identity-secrets/sha2-256", input, 200},
			{"rotate token key", false, "transit/keys/identity-token/rotate", nil, 403},
			{"export token key", true, "transit/export/signing-key/identity-token", nil, 403},
			{"weaken token key", false, "transit/keys/identity-token/config", map[string]any{"exportable": true}, 403},
			{"sign with the audit checkpoint key", false, "transit/sign/audit-checkpoint", input, 403},
			{"decrypt with tokenvault kek", false, "transit/decrypt/tokenvault-kek", map[string]any{"ciphertext": ciphertext}, 403},
			{"create transit key", false, "transit/keys/identity-new", map[string]any{"type": "ed25519"}, 403},
			{"issue cert for tokenvault", false, "pki/issue/workload", issue(td + "/tokenvault"), 403},
		},
		"consent": {
			{"issue own cert", false, "pki/issue/workload", issue(td + "/consent"), 200},
			{"sign a receipt", false, "transit/sign/consent-receipt", input, 200},
			{"read receipt key versions", true, "transit/keys/consent-receipt", nil, 200},
			{"hmac a page token", false, "transit/hmac/consent-receipt/sha2-256", input, 200},
			{"seal corrections", false, "transit/encrypt/consent-dsr", map[string]any{"plaintext": b64([]byte("x")), "associated_data": b64([]byte("dsr_1"))}, 200},
			{"unseal corrections", false, "transit/decrypt/consent-dsr", map[string]any{"ciphertext": dsrCiphertext, "associated_data": b64([]byte("dsr_1"))}, 200},
			{"read dsr key", true, "transit/keys/consent-dsr", nil, 200},
			{"rewrap dsr key", false, "transit/rewrap/consent-dsr", map[string]any{"ciphertext": dsrCiphertext}, 403},
			{"hmac with dsr key", false, "transit/hmac/consent-dsr/sha2-256", input, 403},
			{"rotate dsr key", false, "transit/keys/consent-dsr/rotate", nil, 403},
			{"weaken dsr key", false, "transit/keys/consent-dsr/config", map[string]any{"exportable": true}, 403},
			{"export dsr key", true, "transit/export/encryption-key/consent-dsr", nil, 403},
			{"backup dsr key", true, "transit/backup/consent-dsr", nil, 403},
			{"encrypt upserting a key", false, "transit/encrypt/consent-dsr-2", map[string]any{"plaintext": b64([]byte("x"))}, 403},
			{"rotate receipt key", false, "transit/keys/consent-receipt/rotate", nil, 403},
			{"export receipt key", true, "transit/export/signing-key/consent-receipt", nil, 403},
			{"weaken receipt key", false, "transit/keys/consent-receipt/config", map[string]any{"exportable": true}, 403},
			{"backup receipt key", true, "transit/backup/consent-receipt", nil, 403},
			{"sign upserting a key", false, "transit/sign/consent-receipt-2", input, 403},
			{"sign access tokens", false, "transit/sign/identity-token", input, 403},
			{"sign checkpoint", false, "transit/sign/audit-checkpoint", input, 403},
			{"hmac with identity's secrets key", false, "transit/hmac/identity-secrets/sha2-256", input, 403},
			{"decrypt with tokenvault kek", false, "transit/decrypt/tokenvault-kek", map[string]any{"ciphertext": ciphertext}, 403},
			{"read another key", true, "transit/keys/identity-token", nil, 403},
			{"create transit key", false, "transit/keys/consent-new", map[string]any{"type": "ed25519"}, 403},
			{"issue cert for tokenvault", false, "pki/issue/workload", issue(td + "/tokenvault"), 403},
		},
		"conversation": {
			{"issue own cert", false, "pki/issue/workload", issue(td + "/conversation"), 200},
			{"hmac a digest key", false, "transit/hmac/conversation-secrets/sha2-256", input, 200},
			{"read secrets key", true, "transit/keys/conversation-secrets", nil, 200},
			{"decrypt with secrets key", false, "transit/decrypt/conversation-secrets", map[string]any{"ciphertext": ciphertext}, 403},
			{"rotate secrets key", false, "transit/keys/conversation-secrets/rotate", nil, 403},
			{"weaken secrets key", false, "transit/keys/conversation-secrets/config", map[string]any{"exportable": true}, 403},
			{"export secrets key", true, "transit/export/hmac-key/conversation-secrets", nil, 403},
			{"backup secrets key", true, "transit/backup/conversation-secrets", nil, 403},
			{"hmac upserting a key", false, "transit/hmac/conversation-secrets-2/sha2-256", input, 403},
			{"decrypt the kek's data keys", false, "transit/decrypt/tokenvault-kek", map[string]any{"ciphertext": ciphertext}, 403},
			{"hmac with identity's secrets key", false, "transit/hmac/identity-secrets/sha2-256", input, 403},
			{"create transit key", false, "transit/keys/conversation-new", map[string]any{"type": "aes256-gcm96"}, 403},
			{"issue cert for tokenvault", false, "pki/issue/workload", issue(td + "/tokenvault"), 403},
		},
		"operator": {
			{"rotate checkpoint key", false, "transit/keys/audit-checkpoint/rotate", nil, 200},
			{"rotate consent receipt key", false, "transit/keys/consent-receipt/rotate", nil, 200},
			{"weaken consent receipt key", false, "transit/keys/consent-receipt/config", map[string]any{"exportable": true}, 403},
			{"sign a receipt", false, "transit/sign/consent-receipt", input, 403},
			{"rotate kek", false, "transit/keys/tokenvault-kek/rotate", nil, 200},
			{"read kek", true, "transit/keys/tokenvault-kek", nil, 200},
			{"decrypt", false, "transit/decrypt/tokenvault-kek", map[string]any{"ciphertext": ciphertext}, 403},
			{"encrypt", false, "transit/encrypt/tokenvault-kek", map[string]any{"plaintext": b64([]byte("x"))}, 403},
			{"sign checkpoint", false, "transit/sign/audit-checkpoint", input, 403},
			{"create transit key", false, "transit/keys/operator-new", map[string]any{"type": "aes256-gcm96"}, 403},
			{"weaken key config", false, "transit/keys/tokenvault-kek/config", map[string]any{"deletion_allowed": true}, 403},
			{"issue any cert", false, "pki/issue/workload", issue(td + "/operator"), 403},
		},
	}
	// Deleting a key is a DELETE, which op does not cover: no policy may.
	for _, policy := range []string{"tokenvault", "operator"} {
		t.Run(policy+"/delete kek", func(t *testing.T) {
			_, err := s.ClientWithPolicies(t, policy).Logical().Delete("transit/keys/tokenvault-kek")
			if got := status(err); got != http.StatusForbidden {
				t.Errorf("%s DELETE transit/keys/tokenvault-kek: got HTTP %d, want 403 (err: %v)", policy, got, err)
			}
		})
	}
	for policy, ops := range tests {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			c := s.ClientWithPolicies(t, policy)
			for _, o := range ops {
				t.Run(o.name, func(t *testing.T) {
					var err error
					if o.read {
						_, err = c.Logical().Read(o.path)
					} else {
						_, err = c.Logical().Write(o.path, o.data)
					}
					if got := status(err); got != o.want {
						t.Errorf("%s %s: got HTTP %d, want %d (err: %v)", policy, o.path, got, o.want, err)
					}
				})
			}
		})
	}
}

// checkWorkloadCert issues a certificate as a service would and checks it
// carries exactly the SPIFFE ID asked for, on an EC P-256 key.
func checkWorkloadCert(t *testing.T, c *api.Client, spiffeID string) {
	t.Helper()
	sec, err := c.Logical().Write("pki/issue/workload", map[string]any{"uri_sans": spiffeID, "ttl": "1h"})
	if err != nil {
		t.Fatalf("issue %s: %v", spiffeID, err)
	}
	block, _ := pem.Decode([]byte(sec.Data["certificate"].(string)))
	if block == nil {
		t.Fatal("issued certificate is not PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.URIs) != 1 || cert.URIs[0].String() != spiffeID {
		t.Errorf("certificate URI SANs = %v, want [%s]", cert.URIs, spiffeID)
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("certificate key is %T, want ECDSA P-256", cert.PublicKey)
	}
}

// status is the HTTP status of a Vault API call's outcome.
func status(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var re *api.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return -1
}
