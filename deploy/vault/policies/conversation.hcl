# conversation: chat conversations whose messages are stored as placeholder
# text; the values are in tokenvault (which conversation reaches over mTLS,
# not through Vault). Its one Transit key, conversation-secrets, gives
# HMACs: the keys of its page tokens, of the digests of channels' message
# ids (a WhatsApp wamid embeds the sender's number) and of the digests that
# give a value seen again its placeholder, all under the key's first
# version.
#
# Every Transit grant is "update" without "create", so a missing key fails
# closed instead of being created on first use. @TRUST_DOMAIN@ is replaced
# by setup.sh.

path "transit/hmac/conversation-secrets/sha2-256" {
  capabilities = ["update"]
}

# Encrypt only, no decrypt: pkg/vaulttest's manifest check proves a
# service can use its own aes256-gcm96 key by encrypting with it. The HPKE
# keys of end-to-end sealed messages are derived from this key's HMAC
# (ADR 0014, "End-to-end sealing"), so they need no decrypt either.
path "transit/encrypt/conversation-secrets" {
  capabilities = ["update"]
}

# Type and versions of the key (EnsureKey checks it at start). No key
# material.
path "transit/keys/conversation-secrets" {
  capabilities = ["read"]
}

# The shops' messaging-channel credentials (pkg/secrets, KV v2): the
# access tokens replies to WhatsApp and Messenger are sent with (ADR 0014,
# "Channel identities and delivery"). Read only, that subtree only.
path "secret/data/sotto/channels/*" {
  capabilities = ["read"]
}

# Workload certificate for mTLS, only for conversation's own SPIFFE ID (see
# audit.hcl for why the URI SAN is pinned and parameters are listed).
path "pki/issue/workload" {
  capabilities = ["update"]
  allowed_parameters = {
    "uri_sans"             = ["spiffe://@TRUST_DOMAIN@/conversation"]
    "common_name"          = []
    "alt_names"            = []
    "ip_sans"              = []
    "ttl"                  = []
    "format"               = []
    "private_key_format"   = []
    "exclude_cn_from_sans" = []
  }
}
