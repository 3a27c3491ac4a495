#!/usr/bin/env bash
# The web page's browser test (CTest: web.browser): builds the page, starts the real platform with
# deploy/run.sh (Redis, every built service, the gateway serving the page) in a temporary data
# dir on free ports, and drives headless Chromium through it (browser_test.mjs). Screenshots,
# the downloaded CSV and figures.json land in <build dir>/test-output/web/.
# Usage: tests/web/run.sh BUILD_DIR        Exit 77 (CTest: skipped) when chromium is absent.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="$(cd "${1:?usage: tests/web/run.sh BUILD_DIR}" && pwd)"
chromium="${SHIDANG_CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
  echo "SKIPPED: no Chromium at $chromium (deploy/install-deps.sh installs Debian's chromium)"
  exit 77
fi
# The page must show no English, Chromium's own controls included: Debian's Chromium draws them in
# Chinese only with its zh-CN language pack.
if [[ "$chromium" == /usr/bin/chromium && ! -f /usr/lib/chromium/locales/zh-CN.pak ]]; then
  echo "web test: Chromium has no Chinese UI (/usr/lib/chromium/locales/zh-CN.pak); install chromium-l10n (deploy/install-deps.sh)" >&2
  exit 1
fi
command -v node >/dev/null 2>&1 || { echo "web test: node is missing (deploy/install-deps.sh)" >&2; exit 1; }
out="$build_dir/test-output/web"
rm -rf "$out"
mkdir -p "$out"
"$repo/deploy/build-web.sh" "$build_dir/web-test" >"$out/build.log" 2>&1 || {
  cat "$out/build.log" >&2
  exit 1
}
cat "$out/build.log"
data_dir="$(mktemp -d "${TMPDIR:-/tmp}/shidang-web-test.XXXXXX")"
cleanup() {
  if [[ -n "${platform_pid:-}" ]] && kill -0 "$platform_pid" 2>/dev/null; then
    kill -TERM "$platform_pid" 2>/dev/null || true
    wait "$platform_pid" 2>/dev/null || true
  fi
  if [[ "${keep:-0}" == 1 ]]; then echo "web test: data kept in $data_dir"; else rm -rf "$data_dir"; fi
}
trap cleanup EXIT
SHIDANG_BUILD_DIR="$build_dir" SHIDANG_WEB_ROOT="$build_dir/web-test" \
  "$repo/deploy/run.sh" --no_build --data_dir="$data_dir" --base_port=0 --redis_port=0 \
  >"$out/platform.log" 2>&1 &
platform_pid=$!
if ! node "$repo/tests/web/browser_test.mjs" --platform_log="$out/platform.log" --out="$out" \
  --chromium="$chromium" --web="$repo/web" --build_summary="$build_dir/web-test/build-summary.json"; then
  keep=1
  echo "--- platform log ---" >&2
  tail -50 "$out/platform.log" >&2
  exit 1
fi
