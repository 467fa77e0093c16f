# A generated DAG of small derivations for the Nix-door benchmark (bench/src/door-bench.ts):
# `layers` layers of `width` (default 5 × 40 = 200). Node i of layer l > 0 reads two nodes of
# layer l - 1 (i and (7i + 3) mod width) and names them in its output, so every output refers to
# its inputs: the builder needs them present, and the client must copy them. Shell built-ins
# only (a farm sandbox has no coreutils). `nonce` makes every derivation new; every derivation
# requires the system feature `feature`, which the benchmark's builders entry offers and the
# client's own `system-features` lacks, so that Nix offloads all of them.
{ nonce ? "0", layers ? 5, width ? 40, feature ? "benchmark", system ? builtins.currentSystem }:
let
  mk = l: i: deps: derivation {
    name = "door-bench-${toString l}-${toString i}";
    inherit system nonce deps;
    builder = "/bin/sh";
    args = [ "-c" "echo \"$name $nonce\" > $out; for d in $deps; do read -r x < $d; echo \"$d $x\" >> $out; done" ];
    requiredSystemFeatures = [ feature ];
  };
  mod = a: b: a - b * (a / b);
  layer = l:
    if l == 0 then builtins.genList (i: mk 0 i [ ]) width
    else
      let prev = layer (l - 1);
      in builtins.genList (i: mk l i [ (builtins.elemAt prev i) (builtins.elemAt prev (mod (7 * i + 3) width)) ]) width;
in {
  all = builtins.concatLists (builtins.genList layer layers);
}
