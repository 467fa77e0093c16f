# A DAG of 47 trivial (53 with `failing` and `aarch64`) derivations that builds offline with no nixpkgs: every builder is the host's
# /bin/sh with PATH=/usr/bin:/bin (Nix's sandbox is off on these machines; the farm's sandbox binds
# them in). Everything is deterministic: no timestamps, no randomness, so the farm's outputs and
# NAR hashes must equal what `nix-store --realise` produces here.
#
# Shapes (all reachable from `all`, which `farm submit .#all` walks like Hydra walks hydraJobs):
#   all.chains.{a,b,c}      three chains of 8 links, each link reads the previous one
#   all.diamonds.{d1,d2,d3} three diamonds (root → left, right → bottom); d3 reuses chain a's tip
#   all.outputs             `lib` has outputs out and dev; `useDev` reads ${lib.dev}, `useOut` ${lib}
#   all.fixed               fixed-output derivations (flat and recursive) writing their own content,
#                           and a normal derivation that reads both
#   all.features            `requiredSystemFeatures = [ "big-parallel" ]`: Nix's conventional
#                           feature name, offered by local Nix and by the farm's local agents
#   all.logs.chatty         prints 100,000 numbered lines to its build log
#   all.sources.seeded      uses ./seed.txt, so the closure has an input source
#   all.summary             depends on one leaf of every group (a wide fan-in)
# Nested sets carry `recurseForDerivations = true` so `nix-build -A all` builds them too; the farm
# does not need it (non-derivation values such as that boolean are skipped).
#
# Not in `all`:
#   failing.{broken,dependent,dependent2,siblingA,siblingB}  broken exits 1; its dependents fail,
#                                                            the siblings build
#   aarch64.hello                                            system = "aarch64-linux"
{ system ? builtins.currentSystem }:
let
  mk = name: script: attrs: derivation ({
    inherit name system;
    builder = "/bin/sh";
    args = [ "-c" script ];
    PATH = "/usr/bin:/bin";
  } // attrs);

  # A chain: link 0 writes its name; link i appends its own line to link i-1.
  chain = prefix: n:
    let
      link = i:
        if i == 0 then mk "${prefix}-0" ''echo "${prefix} starts" > $out'' { }
        else
          let prev = link (i - 1);
          in mk "${prefix}-${toString i}" ''{ cat ${prev}; echo "${prefix} link ${toString i}"; } > $out'' { };
    in link (n - 1);

  # A diamond: root → left, right → bottom (bottom reads both sides, so root is reached twice).
  diamond = prefix: base:
    let
      root = mk "${prefix}-root" ''{ ${if base == null then "" else "cat ${base};"} echo "${prefix} root"; } > $out'' { };
      left = mk "${prefix}-left" ''{ cat ${root}; echo left; } > $out'' { };
      right = mk "${prefix}-right" ''{ cat ${root}; echo right; } > $out'' { };
    in mk "${prefix}-bottom" ''mkdir -p $out/share; cat ${left} ${right} > $out/share/both; ln -s share/both $out/link'' { };

  chains = {
    a = chain "chain-a" 8;
    b = chain "chain-b" 8;
    c = chain "chain-c" 8;
  };

  diamonds = {
    d1 = diamond "diamond-1" null;
    d2 = diamond "diamond-2" null;
    d3 = diamond "diamond-3" chains.a;
  };

  lib = mk "multi-lib" ''
    mkdir -p $out/lib $dev/include
    echo "library body" > $out/lib/libfarm.txt
    echo "#define FARM 1" > $dev/include/farm.h
    echo "$out" > $dev/lib-path
  '' { outputs = [ "out" "dev" ]; };
  outputs = {
    inherit lib;
    useDev = mk "multi-use-dev" ''{ cat ${lib.dev}/include/farm.h; cat ${lib.dev}/lib-path; } > $out'' { };
    useOut = mk "multi-use-out" ''cat ${lib}/lib/libfarm.txt > $out'' { };
  };

  fixedFlat = mk "fixed-flat" ''printf 'fixed output of the farm: flat\n' > $out'' {
    outputHashMode = "flat";
    outputHashAlgo = "sha256";
    outputHash = "0i933ibww94h7l5cn649awal9rsai357h79cx65zl1gij44rzhb7";
  };
  fixedRecursive = mk "fixed-recursive" ''
    mkdir -p $out/sub
    printf 'fixed output of the farm: recursive\n' > $out/hello.txt
    printf 'deep\n' > $out/sub/deep.txt
  '' {
    outputHashMode = "recursive";
    outputHashAlgo = "sha256";
    outputHash = "1c6hrz2a6kx41kywga9carsvb66imw8khsgfgpsrkmhd0kpgs7pg";
  };
  fixed = {
    flat = fixedFlat;
    recursive = fixedRecursive;
    reader = mk "fixed-reader" ''cat ${fixedFlat} ${fixedRecursive}/hello.txt ${fixedRecursive}/sub/deep.txt > $out'' { };
  };

  bigParallel = name: deps: mk name ''{ ${builtins.concatStringsSep " " (map (d: "cat ${d};") deps)} echo "${name} needed big-parallel"; } > $out''
    { requiredSystemFeatures = [ "big-parallel" ]; };
  featuresHeavy = bigParallel "features-heavy" [ chains.b ];
  features = {
    heavy = featuresHeavy;
    heavier = bigParallel "features-heavier" [ featuresHeavy ];
  };

  logs = {
    # 100,000 lines on stdout (the build log), numbered so that order and completeness are checkable.
    chatty = mk "logs-chatty" ''seq 1 100000 | sed 's/^/log line /'; echo 100000 > $out'' { };
  };

  sources = {
    seeded = mk "sources-seeded" ''{ cat ${./seed.txt}; cat ${chains.c}; } > $out'' { };
  };

  summary = mk "summary" ''
    for f in ${chains.a} ${chains.b} ${chains.c} ${diamonds.d1}/link ${diamonds.d2}/link ${diamonds.d3}/link \
             ${outputs.useDev} ${outputs.useOut} ${fixed.reader} ${features.heavier} ${logs.chatty} ${sources.seeded}; do
      wc -l < "$f"
    done > $out
  '' { };

  recurse = set: set // { recurseForDerivations = true; };

  failing = rec {
    broken = mk "failing-broken" ''echo "this builder fails on purpose" >&2; exit 1'' { };
    dependent = mk "failing-dependent" ''cat ${broken} > $out'' { };
    dependent2 = mk "failing-dependent2" ''cat ${dependent} > $out'' { };
    siblingA = mk "failing-sibling-a" ''echo "sibling a builds" > $out'' { };
    siblingB = mk "failing-sibling-b" ''{ cat ${siblingA}; echo "sibling b builds"; } > $out'' { };
  };
in {
  all = {
    description = "every buildable shape of the example (a string: walkers skip it)";
    chains = recurse chains;
    diamonds = recurse diamonds;
    outputs = recurse outputs;
    fixed = recurse fixed;
    features = recurse features;
    logs = recurse logs;
    sources = recurse sources;
    inherit summary;
  };
  inherit failing;
  # Only an aarch64-linux agent can build this (the farm reports it as waiting for capacity).
  aarch64 = {
    hello = mk "aarch64-hello" ''echo "hello from aarch64" > $out'' { system = "aarch64-linux"; };
  };
}
