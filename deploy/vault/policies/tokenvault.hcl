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

# KEK type, versions and their creation times (to know when rewrapping and
# the next epoch are due). No key material.
path "transit/keys/tokenvault-kek" {
  capabilities = ["read"]
}

# KEK epochs (docs/adr/0007): tokenvault's kek-epoch job rotates the KEK on
# a schedule (and soon after an erasure), rewraps every live data key, then
# retires the older versions so that wrapped keys copied before an erasure
# (WAL files, replicas, backups) no longer open. Retiring raises the version
# floors and trims; only the two floors may be set on the key's config, so
# this token cannot make the key deletable or exportable, allow plaintext
# backups or change its rotation settings.
path "transit/keys/tokenvault-kek/rotate" {
  capabilities = ["update"]
}
path "transit/keys/tokenvault-kek/config" {
  capabilities = ["update"]
  allowed_parameters = {
    "min_decryption_version" = []
    "min_encryption_version" = []
  }
}
path "transit/keys/tokenvault-kek/trim" {
  capabilities = ["update"]
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
