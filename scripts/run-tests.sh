#!/usr/bin/env bash
# Runs every test of the default suite (the README's test command; .ci/run runs exactly this).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/ensure-deps.sh
npm test --silent
