# crmsync: minimised, consented, tokenised customer changes for the shops'
# CRMs (HubSpot, Salesforce). Its one Transit key, crmsync-queue, wraps the
# data key of each queued delivery's payload (encrypt at queueing, decrypt
# at delivery) and gives the HMAC its page tokens are keyed with.
#
# Every Transit grant is "update" without "create", so a missing key fails
# closed instead of being created on first use. @TRUST_DOMAIN@ is replaced
# by setup.sh.

path "transit/encrypt/crmsync-queue" {
  capabilities = ["update"]
}
path "transit/decrypt/crmsync-queue" {
  capabilities = ["update"]
}
path "transit/hmac/crmsync-queue/sha2-256" {
  capabilities = ["update"]
}

# Type and versions of the key (EnsureKey checks it at start). No key
# material.
path "transit/keys/crmsync-queue" {
  capabilities = ["read"]
}

# The shops' CRM credentials (pkg/secrets, KV v2): a HubSpot private app's
# token, a Salesforce connected app's client id and secret, at
# sotto/crm/<tenant>/<connector>. Read only, that subtree only.
path "secret/data/sotto/crm/*" {
  capabilities = ["read"]
}

# Workload certificate for mTLS, only for crmsync's own SPIFFE ID (see
# audit.hcl for why the URI SAN is pinned and parameters are listed).
path "pki/issue/workload" {
  capabilities = ["update"]
  allowed_parameters = {
    "uri_sans"             = ["spiffe://@TRUST_DOMAIN@/crmsync"]
    "common_name"          = []
    "alt_names"            = []
    "ip_sans"              = []
    "ttl"                  = []
    "format"               = []
    "private_key_format"   = []
    "exclude_cn_from_sans" = []
  }
}
