# tokenvault: the only service that holds PII. It wraps each subject's data
# key with the key-encryption key (KEK) in Transit; the KEK never leaves Vault.
#
# Transit grants are "update" without "create", so a missing KEK fails closed
# instead of being created on first encrypt. @TRUST_DOMAIN@ is replaced by
# setup.sh.

# Wrap a new data key with the latest KEK version.
path "transit/encrypt/tokenvault-kek" {
  capabilities = ["update"]
}

# Unwrap a data key to use it (tokenise / detokenise).
path "transit/decrypt/tokenvault-kek" {
  capabilities = ["update"]
}

# KEK type and latest version (to know when rewrapping is due). No key material.
path "transit/keys/tokenvault-kek" {
  capabilities = ["read"]
}

# Workload certificate for mTLS, only for tokenvault's own SPIFFE ID (see
# audit.hcl for why the URI SAN is pinned and parameters are listed).
path "pki/issue/workload" {
  capabilities = ["update"]
  allowed_parameters = {
    "uri_sans"             = ["spiffe://@TRUST_DOMAIN@/tokenvault"]
    "common_name"          = []
    "alt_names"            = []
    "ip_sans"              = []
    "ttl"                  = []
    "format"               = []
    "private_key_format"   = []
    "exclude_cn_from_sans" = []
  }
}
