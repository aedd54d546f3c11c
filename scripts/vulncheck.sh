#!/usr/bin/env bash
# Known-vulnerability check that works offline. vuln.go.dev is unreachable here,
# so govulncheck reads a local copy of the Go vulnerability database, built from
# the golang.org/x/vulndb module (served by the Go module proxy) with that
# module's own cmd/indexdb, once per pinned version and cached.
#
# Every module of the go.work except gen (generated code, whose imports the
# other modules scan anyway) is scanned in source mode with the workspace's
# version selection, the one `make build` and `make test` use. Only
# vulnerabilities the code can reach fail the check (unless allow-listed below),
# each shown with a call path from our code to the vulnerable symbol.
#
# Usage (the Makefile passes the pinned versions): VULN_VERSION=v1.9.0
#   VULNDB_VERSION=v0.0.0-... bash scripts/vulncheck.sh [module-dir...]
set -euo pipefail

: "${VULN_VERSION:?set by the Makefile (make vulncheck)}"
: "${VULNDB_VERSION:?set by the Makefile (make vulncheck)}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$ROOT/bin"
CACHE="${SOTTO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sotto}"
DB="$CACHE/vulndb-$VULNDB_VERSION"

command -v jq >/dev/null || { echo "vulncheck: needs jq (apt-get install jq)" >&2; exit 1; }

# Keyed on the Go version too: a govulncheck built by an older Go cannot
# type-check a newer standard library.
goversion="$(go env GOVERSION)"
govulncheck="$BIN/govulncheck"
stamp="$BIN/.govulncheck-$VULN_VERSION-$goversion"
if [[ ! -f "$stamp" ]]; then
  GOBIN="$BIN" GOWORK=off go install "golang.org/x/vuln/cmd/govulncheck@$VULN_VERSION"
  rm -f "$BIN"/.govulncheck-*
  touch "$stamp"
fi

download_json="$(cd / && GOWORK=off GOFLAGS=-mod=mod go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION")"
field() { sed -n "s/.*\"$1\": \"\(.*\)\",\{0,1\}$/\1/p" <<<"$download_json"; }
src="$(field Dir)"
# The commit time of the pinned snapshot: the module's OSV files carry no
# modified times (upstream derives them from git history, which a module zip
# does not have), so this is the database's date.
snapshot="$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$(field Info)")"
[[ -n "$src" && -n "$snapshot" ]] || { echo "vulncheck: cannot locate golang.org/x/vulndb@$VULNDB_VERSION" >&2; exit 1; }

if [[ ! -f "$DB/index/db.json" ]]; then
  echo "building the vulnerability database from golang.org/x/vulndb@$VULNDB_VERSION (once per version)" >&2
  mkdir -p "$CACHE"
  tmp="$(mktemp -d "$CACHE/vulndb-build.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && GOWORK=off GOFLAGS=-mod=mod go run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" \
    -vulns "$src/data/osv" -out "$tmp/db")
  # indexdb takes the database's modified time from its entries, all zero here;
  # the snapshot time makes govulncheck report the true date.
  printf '{"modified":"%s"}' "$snapshot" >"$tmp/db/index/db.json"
  gzip -c "$tmp/db/index/db.json" >"$tmp/db/index/db.json.gz"
  rm -rf "$DB"
  mv "$tmp/db" "$DB"
fi

entries="$(find "$DB/ID" -name '*.json' | wc -l)"
age_days=$(( ($(date -u +%s) - $(date -u -d "$snapshot" +%s)) / 86400 ))
echo "vulnerability database: golang.org/x/vulndb@$VULNDB_VERSION, $entries entries, dated $snapshot ($age_days days old)"
"$govulncheck" -version -db "file://$DB" | sed -n 's/^Scanner: /scanner: /p'

if (($#)); then
  modules=("$@")
else
  mapfile -t modules < <(cd "$ROOT" && go list -m -f '{{.Dir}}' | grep -vx "$ROOT/gen")
fi

# Reachable standard-library vulnerabilities the pinned Go cannot avoid: each is
# fixed only in a later Go release (go1.26.9, go1.26.10 or go1.27.2+). Listed
# 2026-11-29 against the database dated 2026-11-05. They apply only while
# `go env GOVERSION` is $STDLIB_ALLOW_GO and only to findings in the standard
# library, so moving the toolchain (export GOTOOLCHAIN=go1.27.3, which clears
# every one of them) retires the whole list, and a finding that survives the
# move fails again. Everything else reachable fails the check.
STDLIB_ALLOW_GO=go1.26.8
declare -A STDLIB_ALLOW=(
  [GO-2026-6599]="html/template: context tracking on consecutive template expressions"
  [GO-2026-6600]="html/template: yield as a regexp preceder keyword"
  [GO-2026-6603]="net/http: HTTP/2 server memory exhaustion via trailers"
  [GO-2026-6605]="net/http: HTTP/1 client desynchronization after CONNECT rejection"
  [GO-2026-6607]="crypto/tls: malformed ECH outer extension references"
  [GO-2026-6608]="net/textproto, mime/multipart: MIME header memory limit bypass"
  [GO-2026-6610]="net/http: HTTP/2 transport accepts malformed framing headers"
  [GO-2026-6611]="net/http: HTTP/2 CPU exhaustion from repeated window changes"
  [GO-2026-6612]="net/http: HTTP/2 server double flow-control refund"
  [GO-2026-6613]="net/http: HTTP/1 server desynchronization after 2xx CONNECT"
  [GO-2026-6617]="net/http: HTTP/2 server crash from an HPACK encoder race"
  [GO-2026-6809]="crypto/x509: compromised intermediate certificates not distrusted"
)

allowed() { # id module
  [[ "$2" == stdlib && "$goversion" == "$STDLIB_ALLOW_GO" && -n "${STDLIB_ALLOW[$1]+x}" ]]
}

# How a reachable finding is shown: its advisory, the affected module, the
# fixed version and one call path from our code to the vulnerable symbol.
describe='
  (map(select(.osv)) | map({key: .osv.id, value: .osv.summary}) | from_entries) as $summary
  | map(select(.finding and .finding.trace[0].function) | .finding)
  | map(select(.osv == $id)) | .[0]
  | "  \(.osv): \($summary[.osv])\n"
    + "    found in \(.trace[0].module)@\(.trace[0].version // "?"), fixed in \(.fixed_version // "no release yet")\n"
    + "    example: \(.trace[-1].position.filename // "?"):\(.trace[-1].position.line // "?"): "
    + ([.trace | reverse[] | "\(.package | split("/") | last).\(if .receiver then .receiver + "." else "" end)\(.function)"] | join(" -> "))'

failed=()
declare -A seen_allowed=()
for dir in "${modules[@]}"; do
  name="${dir#"$ROOT"/}"
  out="$(mktemp)"
  # In JSON mode govulncheck exits 0 whatever it finds; non-zero is a scan that
  # did not complete, which fails the check.
  if ! (cd "$dir" && "$govulncheck" -db "file://$DB" -format json ./...) >"$out"; then
    echo "--- $name: scan failed" >&2
    failed+=("$name")
    rm -f "$out"
    continue
  fi
  blocked=0
  allowed_here=()
  while read -r id module; do
    if allowed "$id" "$module"; then
      allowed_here+=("$id")
      seen_allowed[$id]=1
      continue
    fi
    blocked=1
    echo "--- $name: REACHABLE VULNERABILITY" >&2
    jq -rs --arg id "$id" "$describe" "$out" >&2
  done < <(jq -r 'select(.finding and .finding.trace[0].function) | "\(.finding.osv) \(.finding.trace[0].module)"' "$out" | sort -u)
  rm -f "$out"
  note=""
  ((${#allowed_here[@]})) && note=" (allow-listed: ${allowed_here[*]})"
  if ((blocked)); then failed+=("$name"); else echo "--- $name: ok$note"; fi
done

for id in $(printf '%s\n' "${!STDLIB_ALLOW[@]}" | sort); do
  if [[ -n "${seen_allowed[$id]+x}" ]]; then
    echo "allowed, in the standard library of $goversion: $id ${STDLIB_ALLOW[$id]}"
  elif [[ "$goversion" == "$STDLIB_ALLOW_GO" ]]; then
    echo "note: $id is allow-listed but no longer reachable: drop it from scripts/vulncheck.sh"
  fi
done

if ((${#failed[@]})); then
  echo "vulncheck: FAILED in ${failed[*]}: update the affected module to its fixed version" >&2
  exit 1
fi
echo "vulncheck: no reachable known vulnerability outside the allow-list in ${#modules[@]} modules"
