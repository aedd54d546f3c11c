# identity: accounts, sessions and the access tokens every service verifies.
# It signs access tokens with identity-token (Ed25519; the private key never
# leaves Transit) and protects second factors with identity-secrets: TOTP
# secrets are wrapped by it, recovery codes are HMACs under it (as are the
# keys of identity's page tokens and of the pseudonyms of client addresses
# in audit events). Passwords are argon2id hashes made in process; e-mail
# addresses and phone numbers live in tokenvault, never in Vault or identity.
#
# Every Transit grant is "update" without "create", so a missing key fails
# closed instead of being created on first use. Rotating identity-token is
# the operator's (operator.hcl); identity only publishes the versions.
# @TRUST_DOMAIN@ is replaced by setup.sh.

# Sign access tokens with the latest version of the token key.
path "transit/sign/identity-token" {
  capabilities = ["update"]
}

# Key description: type, latest version, creation times and each version's
# public key, which identity publishes as the JWK Set (GetJwks). No private
# key material (that would be transit/export, not granted).
path "transit/keys/identity-token" {
  capabilities = ["read"]
}

# Wrap a new TOTP secret at enrolment and unwrap it to check a code.
path "transit/encrypt/identity-secrets" {
  capabilities = ["update"]
}
path "transit/decrypt/identity-secrets" {
  capabilities = ["update"]
}

# Recovery-code HMACs (and the derived page-token and pseudonym keys).
path "transit/hmac/identity-secrets/sha2-256" {
  capabilities = ["update"]
}

# Type and versions of the secrets key. No key material.
path "transit/keys/identity-secrets" {
  capabilities = ["read"]
}

# Workload certificate for mTLS, only for identity's own SPIFFE ID (see
# audit.hcl for why the URI SAN is pinned and parameters are listed).
path "pki/issue/workload" {
  capabilities = ["update"]
  allowed_parameters = {
    "uri_sans"             = ["spiffe://@TRUST_DOMAIN@/identity"]
    "common_name"          = []
    "alt_names"            = []
    "ip_sans"              = []
    "ttl"                  = []
    "format"               = []
    "private_key_format"   = []
    "exclude_cn_from_sans" = []
  }
}
