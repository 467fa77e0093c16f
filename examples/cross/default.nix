# Cross-compiled C, offline and without nixpkgs: Debian's toolchains under /usr stand in for
# nixpkgs' cross stdenvs. Every builder below is either the host's /bin/sh with PATH=/usr/bin:/bin
# (Nix's sandbox is off on these machines; the farm's sandbox binds /bin /usr /lib /lib64 in) or —
# for the aarch64-linux derivations — an aarch64 program built earlier in the same DAG.
#
#   pkgsCross.aarch64.{hello,libgreet,greeter,stamp}  x86_64-linux, feature cross-aarch64:
#                                                     aarch64-linux-gnu-gcc -static
#   pkgsCross.musl64.{hello,libgreet,greeter}         x86_64-linux, feature musl: musl-gcc -static
#   aarch64Native.stamped                             system aarch64-linux; its builder is
#                                                     ${pkgsCross.aarch64.stamp}/bin/stamp
#   roundTrip                                         x86_64-linux /bin/sh reading stamped's output,
#                                                     so the DAG goes x86_64 → aarch64 → x86_64
#   all                                               all of the above (`farm submit .#all`)
#
# Deterministic on purpose (the farm's NAR hashes must equal local Nix's): -O2 and no -g (debug
# info would embed the build directory, /build in the farm's sandbox but /tmp/nix-build-… for
# Nix), sources copied to fixed names in the build directory, `ar rcsD` (zero timestamps/uids),
# no __DATE__ or __TIME__.
{ }:
let
  # The toolchains run on the build machine; only the aarch64-linux derivations run elsewhere.
  buildSystem = "x86_64-linux";

  # A /bin/sh build step. `attrs` adds derivation attributes (features, inputs, env).
  sh = name: script: attrs: derivation ({
    inherit name;
    system = buildSystem;
    builder = "/bin/sh";
    args = [ "-c" ("set -eu\n" + script) ];
    PATH = "/usr/bin:/bin";
  } // attrs);

  # One toolchain's packages. `cc`/`ar` are the commands, `target` the word the programs print,
  # `feature` what an agent (or Nix's system-features) must offer to build with that toolchain.
  toolchain = { suffix, cc, ar, target, feature }:
    let
      build = name: script: sh "${name}-${suffix}" script {
        inherit cc ar target;
        cflags = "-O2 -pipe -Wall";
        requiredSystemFeatures = [ feature ];
      };
      # Compiles one source file (copied to its plain name, so nothing records a store path) and
      # links it statically as $out/bin/<name>. `extra` goes to the compile and link commands.
      program = name: source: extra: build name ''
        cp ${source} ${name}.c
        $cc $cflags -DTARGET="\"$target\"" ${extra.compile or ""} -c ${name}.c -o ${name}.o
        $cc -static -o ${name} ${name}.o ${extra.link or ""}
        mkdir -p $out/bin
        cp ${name} $out/bin/${name}
      '';
    in rec {
      hello = program "hello" ./src/hello.c { };

      libgreet = build "libgreet" ''
        cp ${./src/greet.c} greet.c
        cp ${./src/greet.h} greet.h
        $cc $cflags -c greet.c -o greet.o
        $ar rcsD libgreet.a greet.o
        mkdir -p $out/lib $out/include
        cp libgreet.a $out/lib/libgreet.a
        cp greet.h $out/include/greet.h
      '';

      greeter = program "greeter" ./src/greeter.c {
        compile = "-I${libgreet}/include";
        link = "-L${libgreet}/lib -lgreet";
      };

      # Only meaningful for aarch64 (below), but harmless to define for every toolchain.
      stamp = program "stamp" ./src/stamp.c { };
    };

  recurse = set: set // { recurseForDerivations = true; };

  aarch64 = toolchain {
    suffix = "aarch64";
    cc = "aarch64-linux-gnu-gcc";
    ar = "aarch64-linux-gnu-ar";
    target = "aarch64";
    feature = "cross-aarch64";
  };
  musl64 = toolchain {
    suffix = "musl";
    cc = "musl-gcc";
    ar = "ar";
    target = "musl";
    feature = "musl";
  };

  pkgsCross = recurse {
    aarch64 = recurse { inherit (aarch64) hello libgreet greeter stamp; };
    musl64 = recurse { inherit (musl64) hello libgreet greeter; };
  };

  # Derivations of the aarch64-linux system: the builder itself is the aarch64 program, run with
  # no shell around it (the farm: an emulated aarch64 agent; Nix: binfmt_misc + qemu).
  aarch64Native = recurse {
    stamped = derivation {
      name = "stamped";
      system = "aarch64-linux";
      builder = "${pkgsCross.aarch64.stamp}/bin/stamp";
      args = [ ];
      message = "stamped on aarch64-linux by a program cross-compiled on x86_64-linux";
    };
  };

  roundTrip = sh "round-trip" ''
    { cat ${aarch64Native.stamped}; echo "read back on x86_64-linux"; } > $out
  '' { };
in {
  inherit pkgsCross aarch64Native roundTrip;
  all = recurse { inherit pkgsCross aarch64Native roundTrip; };
}
