# sotto-cli: the operator CLI's mTLS client certificate, for a person running
# `sotto audit verify`, `sotto crmsync replay` and the like against the
# services (which admit the workload spiffe://<trust domain>/sotto-cli, each
# for the methods its authorization policy lists). Give it to operators'
# Vault logins (an OIDC group, or `vault token create -policy=sotto-cli
# -ttl=1h`), never to a service's Kubernetes role: k8s-auth.sh binds each
# service account to its own policy only. It grants nothing else: no Transit,
# no KV, and no workload certificate (pki/issue/workload is not listed).
# @TRUST_DOMAIN@ is replaced by setup.sh.

# Issue from the cli role (client use only, at most 12h; setup.sh), only for
# the CLI's own SPIFFE ID: exact value, so a comma-separated list cannot
# smuggle in a service's identity. Listed parameters are the only ones
# accepted.
path "pki/issue/cli" {
  capabilities = ["update"]
  allowed_parameters = {
    "uri_sans"             = ["spiffe://@TRUST_DOMAIN@/sotto-cli"]
    "ttl"                  = []
    "format"               = []
    "private_key_format"   = []
    "exclude_cn_from_sans" = []
  }
}
