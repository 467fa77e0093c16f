{
  description = "farm example: an offline DAG of 47 trivial derivations (chains, diamonds, multiple outputs, fixed outputs, system features, a 100,000-line log), plus a failing set and an aarch64 set";
  # No inputs, no nixpkgs: evaluate it as `path:<dir>#all` (a plain `./dir#all` inside a git
  # checkout becomes `git+file:` and sees only committed files; farm's evaluator rewrites it).
  outputs = { self }: let
    dag = import ./default.nix { system = "x86_64-linux"; };
  in {
    all = dag.all;
    hydraJobs = dag.all;
    failing = dag.failing;
    aarch64 = dag.aarch64;
    packages.x86_64-linux = {
      inherit (dag.all) summary;
      default = dag.all.summary;
    };
  };
}
