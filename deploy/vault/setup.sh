#!/usr/bin/env bash
# Configures a Vault server for Sotto: Transit keys, the workload PKI and one
# least-privilege policy per service. Idempotent: safe to run on every deploy.
#
# Needs the `vault` CLI on PATH and VAULT_ADDR / VAULT_TOKEN (a token that may
# mount engines and write policies, e.g. root on a dev server).
# SOTTO_TRUST_DOMAIN is the SPIFFE trust domain (default sotto.local).
set -euo pipefail

: "${VAULT_ADDR:?VAULT_ADDR must be set}"
: "${VAULT_TOKEN:?VAULT_TOKEN must be set}"
TRUST_DOMAIN="${SOTTO_TRUST_DOMAIN:-sotto.local}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The trust domain is substituted into policies and the PKI role; accept only
# SPIFFE trust-domain characters so it cannot inject HCL or sed syntax.
if [[ ! "$TRUST_DOMAIN" =~ ^[a-z0-9._-]+$ ]]; then
  echo "setup.sh: invalid SOTTO_TRUST_DOMAIN (allowed: a-z 0-9 . _ -)" >&2
  exit 1
fi

log() { echo "setup.sh: $*"; }

# enable_engine TYPE PATH: mount a secrets engine unless something is mounted there.
enable_engine() {
  local type="$1" path="$2"
  if vault secrets list -format=table | awk 'NR>2 {print $1}' | grep -qx "$path/"; then
    log "$path/ already mounted"
  else
    vault secrets enable -path="$path" "$type" >/dev/null
    log "mounted $type at $path/"
  fi
}

# ensure_transit_key NAME TYPE: create the key if missing; fail if an existing
# key has another type (Transit's create is a silent no-op in that case).
ensure_transit_key() {
  local name="$1" type="$2" have
  vault write -f "transit/keys/$name" type="$type" >/dev/null
  have="$(vault read -field=type "transit/keys/$name")"
  if [[ "$have" != "$type" ]]; then
    echo "setup.sh: transit key $name has type $have, want $type" >&2
    exit 1
  fi
  log "transit key $name ($type) ready"
}

# --- Transit: key-encryption, signing and HMAC keys (never exportable) -------
enable_engine transit transit
ensure_transit_key audit-checkpoint ed25519     # signs audit log checkpoints
ensure_transit_key audit-subject aes256-gcm96   # wraps audit's subject-HMAC data keys
ensure_transit_key tokenvault-kek aes256-gcm96  # wraps tokenvault's per-subject data keys

# --- PKI: the CA that issues workload (SPIFFE) certificates -----------------
enable_engine pki pki
vault secrets tune -max-lease-ttl=87600h pki >/dev/null

# Generate the root only once: a new root would invalidate every issued
# certificate and every trust bundle.
if [[ -n "$(vault read -field=default pki/config/issuers 2>/dev/null || true)" ]]; then
  log "PKI root CA already exists"
else
  vault write pki/root/generate/internal \
    common_name="Sotto workload CA ($TRUST_DOMAIN)" \
    issuer_name=sotto-root \
    key_type=ec key_bits=256 \
    ttl=87600h >/dev/null
  log "generated PKI root CA for $TRUST_DOMAIN"
fi

# Certificates carry the workload's SPIFFE ID as URI SAN; DNS names are limited
# to localhost (the embedded default and sidecar-less loopback use). The
# policies further pin each service to its own SPIFFE ID.
vault write pki/roles/workload \
  allowed_uri_sans="spiffe://$TRUST_DOMAIN/*" \
  allow_any_name=false \
  allowed_domains=localhost \
  allow_bare_domains=true \
  allow_subdomains=false \
  allow_glob_domains=false \
  allow_ip_sans=true \
  key_type=ec key_bits=256 \
  max_ttl=72h \
  require_cn=false >/dev/null
log "PKI role workload ready (spiffe://$TRUST_DOMAIN/*)"

# --- Policies ------------------------------------------------------------------
# @TRUST_DOMAIN@ in the policy files becomes the trust domain; an unrendered
# file still fails closed, since no real SPIFFE ID matches the placeholder.
for file in "$HERE"/policies/*.hcl; do
  name="$(basename "$file" .hcl)"
  sed "s/@TRUST_DOMAIN@/$TRUST_DOMAIN/g" "$file" | vault policy write "$name" - >/dev/null
  log "policy $name written"
done
