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
