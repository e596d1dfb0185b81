#!/usr/bin/env bash
# `npm run demo`: installs what is missing (npm packages, Nix), builds, runs the demo fleet.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node scripts/dist/demo.js
