#!/usr/bin/env bash
# Builds the HashiCorp Vault server binary from the Go module proxy (Vault is not
# packaged for Debian and release downloads are unreachable here) and caches it by
# version. Tests start it as `vault server -dev`; the product itself only talks to
# Vault over its HTTP API (github.com/hashicorp/vault/api).
#
# Vault 1.21.4 pins an sdk pseudo-version that the proxy does not serve, so we
# build against sdk v0.21.0 patched to match 1.21.4's own sdk in the two places
# vault uses: ActivationFunc takes (ctx, req) rather than v0.21.0's (ctx, req, string), and keysutil's lock manager comes
# from sdk v0.24.0 (RestorePolicy returns (string, error)).
#
# Prints the path of the binary on stdout.
set -euo pipefail

VAULT_VERSION="${VAULT_VERSION:-v1.21.4}"
SDK_BASE="v0.21.0"
SDK_LOCKMGR="v0.24.0"
CACHE="${SOTTO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sotto}"
OUT="$CACHE/vault-$VAULT_VERSION/vault"

if [[ -x "$OUT" ]]; then
  echo "$OUT"
  exit 0
fi

work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export GOFLAGS=-mod=mod GOWORK=off

sdk_dir() { go mod download -json "github.com/hashicorp/vault/sdk@$1" | sed -n 's/.*"Dir": "\(.*\)",/\1/p'; }

base="$(sdk_dir "$SDK_BASE")"
lockmgr="$(sdk_dir "$SDK_LOCKMGR")"
cp -r "$base" sdk && chmod -R u+w sdk
sed -i 's/ActivationFunc func(context.Context, \*logical.Request, string) error/ActivationFunc func(context.Context, *logical.Request) error/' sdk/framework/backend.go
grep -q 'ActivationFunc func(context.Context, \*logical.Request) error' sdk/framework/backend.go
cp "$lockmgr/helper/keysutil/lock_manager.go" sdk/helper/keysutil/lock_manager.go

mkdir bin && cd bin
cat > go.mod <<MOD
module vaultbin

go 1.25
MOD
go get "github.com/hashicorp/vault@$VAULT_VERSION" >&2
go mod edit -replace "github.com/hashicorp/vault/sdk=../sdk"
go build -ldflags='-s -w' -o vault.tmp github.com/hashicorp/vault >&2
mkdir -p "$(dirname "$OUT")"
mv vault.tmp "$OUT"
echo "$OUT"
