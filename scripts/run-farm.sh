#!/usr/bin/env bash
# The farm's main job on the embedded default: everything on one machine, building examples/.
# Starts `farm up` (nats-server with JetStream, the coordinator, two local agents and,
# with qemu-user, an aarch64-linux one) on a state
# directory, submits the example DAGs with `farm submit` (evaluated by the local Nix, uploaded,
# built in bubblewrap sandboxes, followed live), copies the small DAG's outputs back into the
# local Nix store and has `nix-store --verify-path` check them, builds examples/cross (aarch64 and
# musl cross-compilation, an aarch64 builder on the emulated agent), then stops the farm.
#   FARM_STATE_DIR   state directory (default: a fresh temporary one, removed at the end)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/ensure-deps.sh
farm="$root/cli/bin/farm"

tmp="$(mktemp -d)"
state="${FARM_STATE_DIR:-$tmp/state}"
export FARM_STATE_DIR="$state" FARM_COORDINATOR=""
up_pid=""
cleanup() {
  if [ -n "$up_pid" ] && kill -0 "$up_pid" 2>/dev/null; then
    kill -INT "$up_pid"
    wait "$up_pid" || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== farm $("$farm" --version): farm up --state-dir $state"
"$farm" up --state-dir "$state" &
up_pid=$!
for _ in $(seq 1 600); do
  [ -f "$state/address.json" ] && break
  kill -0 "$up_pid" 2>/dev/null || { echo "farm up failed" >&2; exit 1; }
  sleep 0.1
done
[ -f "$state/address.json" ] || { echo "farm up was not ready within 60 s" >&2; exit 1; }
"$farm" agents

echo "== farm submit path:examples/dag#all --copy-back"
"$farm" submit "path:$root/examples/dag#all" --copy-back | tee "$tmp/dag-outputs"
awk '{print $3}' "$tmp/dag-outputs" | xargs -r nix-store --verify-path
echo "== nix-store --verify-path accepts the $(wc -l < "$tmp/dag-outputs") copied-back outputs"

echo "== farm submit path:examples/big-dag#all"
"$farm" submit "path:$root/examples/big-dag#all"

echo "== cd examples/cross && farm submit .#all   (cross-compiled aarch64 and musl C; an aarch64 builder on the emulated agent)"
(cd "$root/examples/cross" && "$farm" submit .#all)
echo "== farm status"
"$farm" status
echo "== done; stopping the farm (run \`farm up\` yourself to keep one running)"
