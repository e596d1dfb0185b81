#!/usr/bin/env bash
# Builds one demo host's system from .demo/flake and prints its store path.
#   bash scripts/demo-build.sh hsb1
set -euo pipefail
cd "$(dirname "$0")/.."
host="${1:?usage: scripts/demo-build.sh HOST}"
[ -d .demo/flake ] || { echo "no demo flake: start the demo first (npm run demo)" >&2; exit 1; }
export NIX_CONFIG=$'experimental-features = nix-command flakes\nsandbox = false\nsubstituters ='
nix build --no-link --json "path:$PWD/.demo/flake#nixosConfigurations.$host.config.system.build.toplevel" \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[0].outputs.out))'
