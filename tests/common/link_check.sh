#!/usr/bin/env bash
# link_check.sh <binary> <forbidden ERE>
#
# Fails when <binary> needs a shared library whose name matches <forbidden> (its dynamic section's
# NEEDED entries), or leaves undefined a symbol of hiredis (redis*, freeReplyObject) or gRPC
# (grpc_*, grpc::) when the pattern names that library. Run by CTest (kit_link_check.*) on the
# link probes (tests/common/link_probe.cc, linked with --no-as-needed, so every library on the
# link line shows) and on shidang-gateway.
set -euo pipefail
binary=$1
forbidden=$2
needed=$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if bad=$(grep -E "$forbidden" <<<"$needed"); then
  echo "FAIL: $(basename "$binary") links $(tr '\n' ' ' <<<"$bad")(forbidden: /$forbidden/)"
  exit 1
fi
undefined=$(nm -D --undefined-only "$binary" | awk '{print $NF}')
symbols=()
[[ $forbidden == *hiredis* ]] && symbols+=('^(redis[A-Z]|freeReplyObject)')
[[ $forbidden == *grpc* ]] && symbols+=('^(grpc_|_ZN4grpc)')
for pattern in "${symbols[@]}"; do
  if bad=$(grep -E "$pattern" <<<"$undefined" | head -5); then
    echo "FAIL: $(basename "$binary") uses $(tr '\n' ' ' <<<"$bad")"
    exit 1
  fi
done
echo "ok: $(basename "$binary") needs none of /$forbidden/: $(tr '\n' ' ' <<<"$needed")"
