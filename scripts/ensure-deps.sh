#!/usr/bin/env bash
# Installs what Flotilla's tests and demo need on a fresh machine, then builds:
#   - npm packages (npm ci when node_modules is missing or older than the lock file)
#   - Nix (Debian's nix-bin) when `nix` is absent and we are root; otherwise says what to install
#   - PostgreSQL server binaries (Debian's postgresql) for the tests, the same way; the tests
#     start a throwaway server of their own (packages/sandbox/src/postgres.ts), never the
#     package's own cluster
#   - nginx (Debian's nginx) for the tests that put a real reverse proxy in front of the
#     controller; its service is never started (the tests run their own on loopback)
#   - sshd (Debian's openssh-server) for the remote-builder test, which runs its own on a
#     loopback port with its own host key; the package's service is never started
#   - Chromium (Debian's chromium) for the browser tests of the web UI, driven headless by
#     playwright-core; no browser is ever downloaded
#   - the TypeScript build (tsc -b, incremental) and the web UI's bundle (vite build)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing npm packages"
  npm ci --no-audit --no-fund
fi

# System packages: what is missing is installed with one `apt-get update` and one install (as
# root on Debian/Ubuntu); otherwise the first missing one is named with what to install.
missing=()       # Debian packages to install
missing_why=()   # what each is for, for the messages
need() { missing+=("$1"); missing_why+=("$2"); }

if ! command -v nix >/dev/null 2>&1; then
  need nix-bin "Nix (Flotilla builds and deploys with it)"
  # What nix-bin recommends: it makes the nixbld group and build users that Nix's default
  # `build-users-group` names (its systemd units are not needed here).
  need nix-setup-systemd "Nix's build users"
fi
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1 ||
  need postgresql "the PostgreSQL server binaries (initdb, postgres) for the tests"
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] ||
  need nginx "nginx (the tests put a real reverse proxy in front of the controller)"
[ -x /usr/sbin/sshd ] || need openssh-server "sshd (a Nix remote builder on loopback in the tests)"
[ -x /usr/bin/chromium ] || need chromium "Chromium at /usr/bin/chromium (the browser tests)"

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing ${missing[*]} (Debian packages; no service of theirs is started)"
    # A policy-rc.d that answers 101 keeps packages from starting their services (nginx on
    # port 80, sshd on 22): the tests run their own on loopback.
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
      made_policy=1
    fi
    apt-get update -qq
    status=0
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      >/dev/null || status=$?
    if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
    if [ "$status" != 0 ]; then
      echo "installing ${missing[*]} failed (apt-get exited $status)" >&2
      exit 1
    fi
  else
    echo "Flotilla's tests and demo need ${missing_why[0]}." >&2
    echo "Install it first, e.g. as root on Debian/Ubuntu: apt-get install ${missing[*]}," >&2
    echo "then run this again (or see https://nixos.org/download for Nix on other systems)." >&2
    exit 1
  fi
fi

echo "==> building"
npm run --silent build
