# A small DAG of trivial derivations that builds offline with no nixpkgs: every builder is the
# host's /bin/sh (Nix's sandbox is off on these machines; the farm's sandbox binds it in).
# `all` is an attribute set, so `farm submit` walks it like Hydra walks hydraJobs.
{ system ? builtins.currentSystem }:
let
  mk = name: deps: script: derivation {
    inherit name system;
    builder = "/bin/sh";
    args = [ "-c" script ];
    PATH = "/usr/bin:/bin";
    deps = deps;
  };
  greeting = mk "greeting" [ ] ''echo "hello from the farm" > $out'';
  left = mk "left" [ greeting ] ''{ cat ${greeting}; echo left; } > $out'';
  right = mk "right" [ greeting ] ''{ cat ${greeting}; echo right; } > $out'';
  top = mk "top" [ left right ] ''mkdir -p $out/share; cat ${left} ${right} > $out/share/both; ln -s share/both $out/link'';
in {
  inherit greeting left right top;
  all = { inherit greeting left right top; };
}
