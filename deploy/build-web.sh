#!/usr/bin/env bash
# Builds the web page (web/: TypeScript + Preact, bundled by esbuild) into a folder the gateway
# serves with --web_root. Installs the page's npm packages with `npm ci` (from the committed
# package-lock.json) when they are missing or older than the lock file.
# Usage: deploy/build-web.sh [OUT_DIR]   (default: <build dir>/web; SHIDANG_BUILD_DIR as build.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out="${1:-${SHIDANG_BUILD_DIR:-build}/web}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
command -v npm >/dev/null 2>&1 || {
  echo "build-web: npm is missing (deploy/install-deps.sh installs nodejs and npm)" >&2
  exit 1
}
cd web
stamp=node_modules/.package-lock.json
if [[ ! -f "$stamp" || package-lock.json -nt "$stamp" ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
node scripts/build.mjs --outdir="$out"
