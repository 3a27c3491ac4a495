#!/usr/bin/env bash
# Installs the Debian 12 packages Shidang builds, runs and tests with.
# Idempotent: asks apt-get only for what dpkg says is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache git clang-format-14 clang-tidy-14
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libhiredis-dev libgtest-dev libgmock-dev libbenchmark-dev
  libssl-dev libjwt-dev libboost1.81-dev prometheus-cpp-dev libcsv-dev libicu-dev libnghttp2-dev
  libsodium-dev
  libjemalloc2
  redis-server redis-tools nghttp2-client wrk
  python3-grpcio python3-protobuf
  # The web page: tested in headless Chromium (tests/web/), with CJK fonts so its screenshots
  # show the Chinese labels, and Chromium's Chinese UI (chromium-l10n) so that its own controls
  # (a date field's 年/月/日) speak Chinese too.
  chromium chromium-l10n fonts-noto-cjk
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# The web page is built with node and npm (web/). Asked for by command, not package: a machine
# whose node comes from elsewhere (nodesource's nodejs carries its own npm) keeps it.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]} == 0)); then
  echo "install-deps: nothing missing"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [[ $EUID -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || {
    echo "install-deps: missing ${missing[*]}; run as root or install sudo" >&2
    exit 1
  }
  sudo=sudo
else
  sudo=
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# --no-install-recommends keeps the machine lean.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
# A freshly installed redis-server package starts a system instance on 6379 that someone might
# mistake for ours (deploy/run.sh starts its own): stop it, but only when we just installed it.
if [[ " ${missing[*]} " == *" redis-server "* ]] && command -v systemctl >/dev/null 2>&1; then
  $sudo systemctl disable --now redis-server >/dev/null 2>&1 || true
fi
