# audit: the append-only audit log. It signs Merkle-tree checkpoints and
# pseudonymises subject IDs with HMAC keys of its own that are stored wrapped
# by audit-subject (envelope encryption, docs/adr/0002): the only data it
# encrypts or decrypts with Transit are those 32-byte HMAC keys.
#
# Every Transit grant is "update" without "create": Transit creates a missing
# key on first use only for tokens that may create, so a wrong or missing key
# name fails closed here instead of silently minting a new key.
# @TRUST_DOMAIN@ is replaced by setup.sh.

# Sign checkpoints with the latest version of the checkpoint key.
path "transit/sign/audit-checkpoint" {
  capabilities = ["update"]
}

# Verify earlier checkpoints (a public-key operation; it reveals nothing).
path "transit/verify/audit-checkpoint" {
  capabilities = ["update"]
}

# Key description: type, latest version and each version's public key, which
# audit publishes so anyone can verify checkpoints offline. Private keys are
# not part of it (that would be transit/export, not granted; keys are not
# exportable anyway).
path "transit/keys/audit-checkpoint" {
  capabilities = ["read"]
}

# Wrap a new subject-HMAC key (at first start and on rotation) and unwrap the
# stored ones at start. HMACs are then computed in process, with no Vault
# round trip per audit event.
path "transit/encrypt/audit-subject" {
  capabilities = ["update"]
}
path "transit/decrypt/audit-subject" {
  capabilities = ["update"]
}

# Type and versions of the wrapping key (pkg/keys checks the type before
# use). No key material.
path "transit/keys/audit-subject" {
  capabilities = ["read"]
}

# Workload certificate for mTLS, only for audit's own SPIFFE ID: the PKI role
# alone would let any workload ask for any spiffe://<trust domain>/* name.
# Exact values (no globs) also reject comma-separated lists that smuggle in a
# second identity. Listed parameters are the only ones accepted.
path "pki/issue/workload" {
  capabilities = ["update"]
  allowed_parameters = {
    "uri_sans"             = ["spiffe://@TRUST_DOMAIN@/audit"]
    "common_name"          = []
    "alt_names"            = []
    "ip_sans"              = []
    "ttl"                  = []
    "format"               = []
    "private_key_format"   = []
    "exclude_cn_from_sans" = []
  }
}
