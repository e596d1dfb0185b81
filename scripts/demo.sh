#!/usr/bin/env bash
# `npm run demo [-- --fresh]`: installs what is missing (npm packages, Nix), builds, runs the
# demo fleet. It resumes the demo saved in .demo; --fresh deletes that and starts over.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node scripts/dist/demo.js "$@"
