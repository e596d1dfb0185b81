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

if ! command -v nix >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Nix (Debian package nix-bin)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nix-bin >/dev/null
  else
    echo "Flotilla needs Nix. Install it first, e.g. as root on Debian/Ubuntu: apt-get install nix-bin" >&2
    echo "(or see https://nixos.org/download for other systems), then run this again." >&2
    exit 1
  fi
fi

postgres_installed() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1
}
if ! postgres_installed; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing PostgreSQL (Debian package postgresql)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "Flotilla's tests need the PostgreSQL server binaries (initdb, postgres). Install them" >&2
    echo "first, e.g. as root on Debian/Ubuntu: apt-get install postgresql, then run this again." >&2
    exit 1
  fi
fi

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing nginx (Debian package nginx; its service is not started)"
    # A policy-rc.d that answers 101 keeps the package from starting its service on port 80.
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
      made_policy=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
    if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  else
    echo "Flotilla's tests need nginx (a reverse proxy in front of the controller). Install it" >&2
    echo "first, e.g. as root on Debian/Ubuntu: apt-get install nginx, then run this again." >&2
    exit 1
  fi
fi

if [ ! -x /usr/sbin/sshd ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing sshd (Debian package openssh-server; its service is not started)"
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
      made_policy=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
    if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  else
    echo "Flotilla's tests need sshd (a Nix remote builder on loopback). Install it first," >&2
    echo "e.g. as root on Debian/Ubuntu: apt-get install openssh-server, then run this again." >&2
    exit 1
  fi
fi

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Chromium (Debian package chromium) for the browser tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "Flotilla's browser tests need Chromium at /usr/bin/chromium. Install it first, e.g." >&2
    echo "as root on Debian/Ubuntu: apt-get install chromium, then run this again." >&2
    exit 1
  fi
fi

echo "==> building"
npm run --silent build
