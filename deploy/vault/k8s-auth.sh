#!/usr/bin/env bash
# Vault's Kubernetes auth method for Sotto on Kubernetes (deploy/k8s): one
# role per service, named after it, that only the service account of the
# same name in Sotto's namespace can log in as, and that yields only the
# policy of the same name (written by setup.sh; run that first). Idempotent.
#
# Needs the `vault` CLI on PATH and VAULT_ADDR / VAULT_TOKEN (a token that may
# enable auth methods and write roles).
#
#   SOTTO_K8S_NAMESPACE    namespace of the services (default sotto)
#   SOTTO_K8S_AUDIENCE     audience the pods' projected tokens carry (default
#                          vault; deploy/k8s mounts them with it), so that a
#                          token minted for another audience cannot log in
#   SOTTO_K8S_HOST         API server Vault asks to review tokens (default
#                          https://kubernetes.default.svc)
#   SOTTO_K8S_CA_CERT      file: the API server's CA, and
#   SOTTO_K8S_REVIEWER_JWT file: a token of a service account allowed to
#                          create TokenReviews (system:auth-delegator); both
#                          only when Vault runs outside the cluster. Inside
#                          it, Vault uses its own pod's CA and token.
#   SOTTO_VAULT_K8S_MOUNT  auth mount path (default kubernetes; the services
#                          read the same variable)
#
# The services come from the manifest (pkg/suite/services.yaml, or
# SOTTO_MANIFEST). `k8s-auth.sh --print-roles` prints "role namespace policy"
# per line without touching Vault.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MANIFEST="${SOTTO_MANIFEST:-$HERE/../../pkg/suite/services.yaml}"
NAMESPACE="${SOTTO_K8S_NAMESPACE:-sotto}"
AUDIENCE="${SOTTO_K8S_AUDIENCE:-vault}"
K8S_HOST="${SOTTO_K8S_HOST:-https://kubernetes.default.svc}"
MOUNT="${SOTTO_VAULT_K8S_MOUNT:-kubernetes}"

# Names end up in Vault paths and role settings: accept only DNS-label-like
# values so that nothing can smuggle in another parameter or path.
for v in "$NAMESPACE" "$MOUNT"; do
  if [[ ! "$v" =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ ]]; then
    echo "k8s-auth.sh: invalid namespace or mount name: $v" >&2
    exit 1
  fi
done
if [[ ! "$AUDIENCE" =~ ^[A-Za-z0-9:/._-]+$ ]]; then
  echo "k8s-auth.sh: invalid SOTTO_K8S_AUDIENCE" >&2
  exit 1
fi

# The manifest's service names (its layout is fixed: see its header).
services="$(awk '/^  - name: / { print $3 }' "$MANIFEST")"
if [[ -z "$services" ]]; then
  echo "k8s-auth.sh: no services found in $MANIFEST" >&2
  exit 1
fi

if [[ "${1:-}" == "--print-roles" ]]; then
  for svc in $services; do echo "$svc $NAMESPACE $svc"; done
  exit 0
fi

: "${VAULT_ADDR:?VAULT_ADDR must be set}"
: "${VAULT_TOKEN:?VAULT_TOKEN must be set}"
log() { echo "k8s-auth.sh: $*"; }

if vault auth list -format=table | awk 'NR>2 {print $1}' | grep -qx "$MOUNT/"; then
  log "auth method at $MOUNT/ already enabled"
else
  vault auth enable -path="$MOUNT" kubernetes >/dev/null
  log "enabled kubernetes auth at $MOUNT/"
fi

config=(kubernetes_host="$K8S_HOST")
if [[ -n "${SOTTO_K8S_CA_CERT:-}" || -n "${SOTTO_K8S_REVIEWER_JWT:-}" ]]; then
  : "${SOTTO_K8S_CA_CERT:?SOTTO_K8S_CA_CERT and SOTTO_K8S_REVIEWER_JWT go together}"
  : "${SOTTO_K8S_REVIEWER_JWT:?SOTTO_K8S_CA_CERT and SOTTO_K8S_REVIEWER_JWT go together}"
  config+=(kubernetes_ca_cert=@"$SOTTO_K8S_CA_CERT" token_reviewer_jwt=@"$SOTTO_K8S_REVIEWER_JWT" disable_local_ca_jwt=true)
fi
vault write "auth/$MOUNT/config" "${config[@]}" >/dev/null
log "auth/$MOUNT/config points at $K8S_HOST"

for svc in $services; do
  if [[ ! -f "$HERE/policies/$svc.hcl" ]]; then
    echo "k8s-auth.sh: no policy file policies/$svc.hcl for service $svc" >&2
    exit 1
  fi
  # Vault's default policy stays on the token: pkg/vaultclient looks its
  # token up (auth/token/lookup-self) before logging in again after a 403.
  vault write "auth/$MOUNT/role/$svc" \
    bound_service_account_names="$svc" \
    bound_service_account_namespaces="$NAMESPACE" \
    audience="$AUDIENCE" \
    token_policies="$svc" \
    token_ttl=1h token_max_ttl=24h >/dev/null
  log "role $svc: service account $NAMESPACE/$svc -> policy $svc"
done
