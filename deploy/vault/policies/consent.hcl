# consent: purposes, notices, consent records and their signed receipts. It
# signs receipts with consent-receipt (Ed25519; the private key never leaves
# Transit) and keys its page tokens with that key's HMAC secret (a separate
# secret Transit keeps per key version, not the signing key). Consent
# records hold account ids and decisions, no personal values. The one
# thing encrypted with Transit is the corrections of an open rectification
# request (the new values a customer asks for), sealed under consent-dsr
# with the request id as associated data and dropped when the request
# closes.
#
# Every Transit grant is "update" without "create", so a missing key fails
# closed instead of being created on first use. Rotating consent-receipt is
# the operator's; consent only publishes the versions (GetReceiptKeys).
# @TRUST_DOMAIN@ is replaced by setup.sh.

# Sign receipts with the latest version of the receipt key.
path "transit/sign/consent-receipt" {
  capabilities = ["update"]
}

# Key description: type, latest version, creation times and each version's
# public key, which consent publishes to verify receipts. No private key
# material (that would be transit/export, not granted).
path "transit/keys/consent-receipt" {
  capabilities = ["read"]
}

# The page-token key and the request-id digest key: HMACs under the receipt
# key's first version.
path "transit/hmac/consent-receipt/sha2-256" {
  capabilities = ["update"]
}

# Seal and unseal a rectification's corrections. Encrypt and decrypt only:
# no rewrap, no HMAC, no key changes.
path "transit/encrypt/consent-dsr" {
  capabilities = ["update"]
}
path "transit/decrypt/consent-dsr" {
  capabilities = ["update"]
}

# Type and versions of the sealing key (EnsureKey checks it at start). No
# key material.
path "transit/keys/consent-dsr" {
  capabilities = ["read"]
}

# Workload certificate for mTLS, only for consent's own SPIFFE ID (see
# audit.hcl for why the URI SAN is pinned and parameters are listed).
path "pki/issue/workload" {
  capabilities = ["update"]
  allowed_parameters = {
    "uri_sans"             = ["spiffe://@TRUST_DOMAIN@/consent"]
    "common_name"          = []
    "alt_names"            = []
    "ip_sans"              = []
    "ttl"                  = []
    "format"               = []
    "private_key_format"   = []
    "exclude_cn_from_sans" = []
  }
}
