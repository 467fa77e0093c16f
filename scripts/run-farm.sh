#!/usr/bin/env bash
# The farm's main job on the embedded default: everything on one machine, building examples/.
# Until the coordinator and agents exist (issue 3), this runs what exists: it evaluates the
# example DAG with the local Nix, has the farm verify every derivation (recomputing drv and
# output paths), builds it with Nix, and checks the farm's NAR hash of each output against Nix's.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/ensure-deps.sh
farm="$root/cli/bin/farm"
nixopts=(--option substituters '')

echo "== farm $("$farm" --version)"
gcroots="$(mktemp -d)"
trap 'rm -rf "$gcroots"' EXIT
# --add-root keeps the .drv files from the garbage collector; it prints the roots, so resolve them.
mapfile -t drvs < <(nix-instantiate examples/dag/default.nix -A all --add-root "$gcroots/drv" --indirect | xargs -r readlink -f)
echo "== evaluated ${#drvs[@]} derivations from examples/dag"
"$farm" drv show "${drvs[@]}" | node_modules/node/bin/node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const all = JSON.parse(s); let bad = 0;
    for (const [p, d] of Object.entries(all)) {
      const f = d.farm;
      const ok = f.drvPath.matches && Object.values(f.outputs).every((o) => o.matches);
      if (!ok) bad++;
      console.log(`${ok ? "ok " : "BAD"} ${p}`);
    }
    if (bad) { console.error(`${bad} derivation(s) did not verify`); process.exit(1); }
  });'
echo "== building with Nix"
mapfile -t outs < <(nix-store --realise "${drvs[@]}" "${nixopts[@]}" --add-root "$gcroots/out" --indirect | xargs -r readlink -f)
for out in "${outs[@]}"; do
  ours="$("$farm" nar hash "$out" | awk '{print $1}')"
  theirs="$(nix-store -q --hash "$out")"
  [ "$ours" = "$theirs" ] || { echo "NAR hash mismatch for $out: farm $ours, nix $theirs" >&2; exit 1; }
  echo "ok  $out $ours"
done
echo "== done: ${#drvs[@]} derivations verified, ${#outs[@]} outputs hashed identically by farm and Nix"
