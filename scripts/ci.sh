#!/usr/bin/env bash
# `npm run ci`: exactly what CI runs: typecheck, lint, format check, then every test tier.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "==> lint"
npx eslint .
echo "==> format check"
npx prettier --check .
npm test
