{
  description = "farm example: cross-compiled C with the host's toolchains (aarch64-linux-gnu-gcc, musl-gcc), an aarch64-linux derivation whose builder is one of those programs, and a round trip back to x86_64";
  # No inputs, no nixpkgs: evaluate it as `path:<dir>#all` (a plain `./dir#all` inside a git
  # checkout becomes `git+file:` and sees only committed files; farm's evaluator rewrites it).
  outputs = { self }: let
    cross = import ./default.nix { };
  in {
    inherit (cross) pkgsCross aarch64Native roundTrip all;
    hydraJobs = cross.all;
  };
}
