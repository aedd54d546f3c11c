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

# List and describe keys (types, versions, public keys): no key material.
path "transit/keys" {
  capabilities = ["list"]
}

path "transit/keys/+" {
  capabilities = ["read"]
}
