#!/usr/bin/env bash
# Plain RelWithDebInfo build of the whole tree into build/ (used by deploy/run.sh).
# SHIDANG_BUILD_DIR overrides the build directory (relative to the repo root or absolute).
# Usage: deploy/build.sh [cmake --build args, e.g. --target shidang-mint]
# Without arguments it also builds the web page into <build dir>/web (deploy/build-web.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir="${SHIDANG_BUILD_DIR:-build}"
if command -v ccache >/dev/null 2>&1; then
  # Lets build dirs of the same tree share cache hits.
  export CCACHE_BASEDIR="$PWD"
fi
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHIDANG_SANITIZE=OFF >/dev/null
cmake --build "$build_dir" -j2 "$@"
if (($# == 0)); then
  deploy/build-web.sh "$build_dir/web"
fi
