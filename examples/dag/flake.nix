{
  description = "farm example: a small offline DAG of trivial derivations";
  outputs = { self }: let
    dag = import ./default.nix { system = "x86_64-linux"; };
  in {
    packages.x86_64-linux = { inherit (dag) greeting left right top; default = dag.top; };
    all = dag.all;
  };
}
