#!/usr/bin/env bash
# Builds the project's one native program, cli/bin/farm-nix-stdio (from cli/native/farm-nix-stdio.c):
# Nix starts a remote-program once per offloaded derivation, one after another, so it must start in
# milliseconds, which Node cannot (docs/benchmarks.md, "The Nix door"). A no-op when up to date.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/cli/native/farm-nix-stdio.c"
out="$root/cli/bin/farm-nix-stdio"
if [ -x "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "${BASH_SOURCE[0]}" ]; then exit 0; fi
cc="${CC:-cc}"
if ! command -v "$cc" >/dev/null; then
  echo "farm: no C compiler ($cc) to build cli/bin/farm-nix-stdio; install gcc (scripts/apt-packages.txt), or use cli/bin/farm-nix-stdio-node as the remote-program" >&2
  exit 1
fi
"$cc" -std=c11 -O2 -Wall -Wextra -Werror -pthread -o "$out.tmp" "$src"
mv -f "$out.tmp" "$out"
