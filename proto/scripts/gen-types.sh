#!/usr/bin/env bash
# Regenerates proto/src/generated from farm/v1/*.proto with the same options as the runtime
# loader (src/options.ts), then adds the `.js` extensions NodeNext ES modules need.
# Usage: bash proto/scripts/gen-types.sh [outDir]   (default: proto/src/generated)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$here/src/generated}"
root="$(cd "$here/.." && pwd)"
rm -rf "$out"
cd "$here"
"$root/node_modules/.bin/node" "$root/node_modules/.bin/proto-loader-gen-types" \
  --longs=String --enums=String --defaults --oneofs --grpcLib=@grpc/grpc-js --includeComments \
  -I . -O "$out" farm/v1/*.proto >/dev/null
find "$out" -name '*.ts' -print0 | xargs -0 sed -i -E "s#(from '(\.\./|\./)[^']*)';#\1.js';#"
# The per-file aggregates of files without a service only repeat farm/v1/*.ts and do not pass
# noUnusedLocals; coordinator.ts (which has the service) is the one aggregate kept.
rm -f "$out/agent.ts" "$out/common.ts" "$out/store.ts"
