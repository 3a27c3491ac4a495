#!/usr/bin/env bash
# Code hygiene: clang-format 14 (the root .clang-format) and clang-tidy (the root .clang-tidy).
#   deploy/lint.sh format-check   lists every C++ file that differs from clang-format; fails if any
#                                 (deploy/test.sh runs this before it builds)
#   deploy/lint.sh format         rewrites those files in place
#   deploy/lint.sh functions      lists every function in services/, gateway/, tests/ and bench/
#                                 over 80 lines (deploy/long_functions.py); fails if any
#                                 (deploy/test.sh runs it)
#   deploy/lint.sh tidy [files]   clang-tidy over the tree's own sources (or the files named):
#                                 every .cc file in services/, gateway/, tests/ and bench/, and the
#                                 headers .clang-tidy's HeaderFilterRegex names, using
#                                 build-asan/compile_commands.json (deploy/test.sh makes it); fails
#                                 on any finding. tests/fuzz/ is in no compile_commands.json (clang
#                                 only): clang-tidy takes the flags of the nearest file it knows.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

clang_format=clang-format-14
clang_tidy=clang-tidy-14
command -v "$clang_tidy" >/dev/null 2>&1 || clang_tidy=clang-tidy

# Our C++ sources: tracked files, and new ones not yet committed (generated code lives in build dirs).
cxx_files() {
  git ls-files --cached --others --exclude-standard -- '*.cc' '*.h' | while read -r f; do
    [[ -f "$f" ]] && printf '%s\n' "$f"
  done
}

case "${1:-}" in
  format-check)
    unformatted=()
    while read -r f; do
      "$clang_format" --style=file "$f" | cmp -s - "$f" || unformatted+=("$f")
    done < <(cxx_files)
    if ((${#unformatted[@]} > 0)); then
      echo "lint: ${#unformatted[@]} file(s) differ from clang-format 14 (fix: deploy/lint.sh format):" >&2
      printf '  %s\n' "${unformatted[@]}" >&2
      exit 1
    fi
    echo "lint: formatting ok"
    ;;
  format)
    cxx_files | xargs -r "$clang_format" --style=file -i
    ;;
  functions)
    python3 deploy/long_functions.py --max 80 services gateway tests bench
    ;;
  tidy)
    shift
    db=build-asan
    [[ -f "$db/compile_commands.json" ]] || { echo "lint: run deploy/test.sh first ($db/compile_commands.json)" >&2; exit 1; }
    if (($# > 0)); then files=("$@"); else mapfile -t files < <(cxx_files | grep '\.cc$'); fi
    # One process per core; clang-tidy prints nothing for a clean file.
    printf '%s\n' "${files[@]}" | xargs -r -P "$(nproc)" -n 4 "$clang_tidy" -p "$db" --quiet \
      --warnings-as-errors='*' 2>/dev/null
    echo "lint: clang-tidy clean over ${#files[@]} file(s)"
    ;;
  *)
    echo "usage: deploy/lint.sh format-check | format | functions | tidy [files...]" >&2
    exit 2
    ;;
esac
