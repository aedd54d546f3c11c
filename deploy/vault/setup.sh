#!/usr/bin/env bash
# Configures a Vault server for Sotto: Transit keys, the workload PKI and one
# least-privilege policy per service. Idempotent: safe to run on every deploy.
#
# Needs the `vault` CLI on PATH and VAULT_ADDR / VAULT_TOKEN (a token that may
# mount engines and write policies, e.g. root on a dev server).
# SOTTO_TRUST_DOMAIN is the SPIFFE trust domain (default sotto.local).
#
# The Transit keys come from the service manifest (pkg/suite/services.yaml,
# or SOTTO_MANIFEST): each service's transit_keys. `setup.sh --print-transit-keys`
# prints them ("name type" per line) without touching Vault.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MANIFEST="${SOTTO_MANIFEST:-$HERE/../../pkg/suite/services.yaml}"

# manifest_transit_keys prints "name type" for every key under a service's
# transit_keys in the manifest. The manifest's layout is fixed for this
# reading (see its header); pkg/suite's tests check it agrees with the Go parser.
manifest_transit_keys() {
  awk '
    /^  - name: /            { inkeys = 0; next }
    /^    transit_keys:[ ]*$/ { inkeys = 1; next }
    /^    [a-z_]+:/           { inkeys = 0; next }
    inkeys && /^      [a-z0-9._-]+: [a-z0-9-]+[ ]*$/ { sub(":", "", $1); print $1, $2 }
  ' "$MANIFEST"
}

if [[ "${1:-}" == "--print-transit-keys" ]]; then
  manifest_transit_keys
  exit 0
fi

: "${VAULT_ADDR:?VAULT_ADDR must be set}"
: "${VAULT_TOKEN:?VAULT_TOKEN must be set}"
TRUST_DOMAIN="${SOTTO_TRUST_DOMAIN:-sotto.local}"

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

# --- Transit: key-encryption and signing keys (never exportable) -------------
enable_engine transit transit
keys="$(manifest_transit_keys)"
if [[ -z "$keys" ]]; then
  echo "setup.sh: no transit keys found in $MANIFEST" >&2
  exit 1
fi
while read -r name type; do
  ensure_transit_key "$name" "$type"
done <<<"$keys"

# --- KV version 2: integration secrets kept per shop (pkg/secrets) -----------
# Messaging platforms' app secrets and tokens, at secret/sotto/channels/...;
# the policies name this mount. A dev server has it already.
enable_engine kv-v2 secret

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

# The operator CLI's certificate (`sotto audit verify`, `sotto crmsync
# replay`, ...: services admit the workload sotto-cli by SPIFFE ID). A role of
# its own rather than the workload role, so that the role itself, whatever
# token asks, issues only that one identity, for TLS client use only (a
# stolen CLI certificate cannot serve as a service), with no DNS or IP names,
# for an operator's session at most. Only the sotto-cli policy may use it;
# no service policy names pki/issue/cli.
vault write pki/roles/cli \
  allowed_uri_sans="spiffe://$TRUST_DOMAIN/sotto-cli" \
  allowed_uri_sans_template=false \
  allow_any_name=false \
  allow_bare_domains=false \
  allow_subdomains=false \
  allow_glob_domains=false \
  allow_localhost=false \
  allow_ip_sans=false \
  server_flag=false \
  client_flag=true \
  key_type=ec key_bits=256 \
  ttl=8h max_ttl=12h \
  require_cn=false >/dev/null
log "PKI role cli ready (spiffe://$TRUST_DOMAIN/sotto-cli, client only)"

# --- Policies ------------------------------------------------------------------
# @TRUST_DOMAIN@ in the policy files becomes the trust domain; an unrendered
# file still fails closed, since no real SPIFFE ID matches the placeholder.
for file in "$HERE"/policies/*.hcl; do
  name="$(basename "$file" .hcl)"
  sed "s/@TRUST_DOMAIN@/$TRUST_DOMAIN/g" "$file" | vault policy write "$name" - >/dev/null
  log "policy $name written"
done
