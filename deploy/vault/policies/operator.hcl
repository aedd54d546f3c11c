# operator: a human or job that rotates keys and inspects them. It cannot use
# keys (no encrypt, decrypt, sign or hmac), create or delete them, or change
# their configuration, and it holds no workload identity.

# Rotate: adds a new latest version; old versions keep decrypting, verifying
# and HMACing, so rotation never breaks stored data. Listed per key so a new
# key is rotated by this policy only after a deliberate edit.
path "transit/keys/audit-checkpoint/rotate" {
  capabilities = ["update"]
}

path "transit/keys/audit-subject/rotate" {
  capabilities = ["update"]
}

path "transit/keys/tokenvault-kek/rotate" {
  capabilities = ["update"]
}

# consent's receipt key: receipts signed under older versions keep
# verifying (consent publishes every version; dev up pins them).
path "transit/keys/consent-receipt/rotate" {
  capabilities = ["update"]
}

# List and describe keys (types, versions, public keys): no key material.
path "transit/keys" {
  capabilities = ["list"]
}

path "transit/keys/+" {
  capabilities = ["read"]
}

# Retire old versions of tokenvault's KEK after a rotation and rewrap
# (docs/adr/0004, 0007): raising min_decryption_version, then trimming, makes
# data keys wrapped under older versions (in backups, in dead database pages)
# unopenable, which is what makes crypto-shredding final for old copies.
# tokenvault's kek-epoch job does this on its own schedule; the grant lets an
# operator do it by hand. Only the version floors may be changed (trimming
# needs both set).
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
