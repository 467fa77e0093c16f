# A generated DAG of trivial derivations for the throughput benchmark (bench/src/farm-bench.ts):
# `layers` layers of `width` derivations (default 25 × 40 = 1,000): wide (40 independent jobs
# per layer) and deep (a 25-long critical path). Node i of layer l > 0 reads two nodes of layer
# l - 1 (i and (7i + 3) mod width), so every layer waits for the one before it. `salt` changes
# every derivation, so each benchmark run builds from scratch. Builders are the host's /bin/sh.
{ salt ? "0", layers ? 25, width ? 40, system ? builtins.currentSystem }:
let
  mk = l: i: deps: derivation {
    name = "bench-${toString l}-${toString i}";
    inherit system salt;
    builder = "/bin/sh";
    args = [ "-c" "{ echo $name $salt; for d in $deps; do cat $d; done; } | tail -n 4 > $out" ];
    PATH = "/usr/bin:/bin";
    inherit deps;
  };
  layer = l:
    if l == 0 then builtins.genList (i: mk 0 i [ ]) width
    else
      let prev = layer (l - 1);
      in builtins.genList (i: mk l i [ (builtins.elemAt prev i) (builtins.elemAt prev (builtins.div (7 * i + 3 - width * (builtins.div (7 * i + 3) width)) 1)) ]) width;
  all = builtins.concatLists (builtins.genList layer layers);
in {
  inherit all;
  # The last layer: its closure is the whole DAG.
  top = layer (layers - 1);
}
