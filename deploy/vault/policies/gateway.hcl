# gateway: the REST/JSON edge. It holds no keys and calls no Transit endpoint;
# PII reaches tokenvault through the services behind it, never through Vault.
# @TRUST_DOMAIN@ is replaced by setup.sh.

# Workload certificate for mTLS, only for gateway's own SPIFFE ID (see
# audit.hcl for why the URI SAN is pinned and parameters are listed).
path "pki/issue/workload" {
  capabilities = ["update"]
  allowed_parameters = {
    "uri_sans"             = ["spiffe://@TRUST_DOMAIN@/gateway"]
    "common_name"          = []
    "alt_names"            = []
    "ip_sans"              = []
    "ttl"                  = []
    "format"               = []
    "private_key_format"   = []
    "exclude_cn_from_sans" = []
  }
}

# Channel secrets of every shop (pkg/secrets, KV version 2 at secret/):
# the messaging platforms' app secrets and verify tokens the webhook
# endpoints check deliveries with. Read only the latest version's data: no
# list (shop names), no metadata, no write. The mount is "secret" unless
# SOTTO_VAULT_KV_MOUNT says otherwise; change this path with it.
path "secret/data/sotto/channels/*" {
  capabilities = ["read"]
}
