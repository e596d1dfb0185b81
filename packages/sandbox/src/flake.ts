import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One sandboxed host of a test or demo flake. */
export interface SandboxHostSpec {
  name: string;
  /** `nixos` hosts get a buildable system; `darwin` hosts are listed only (monitor-only). */
  kind?: 'nixos' | 'darwin';
  /** Any string; changing it changes the host's derivation (a new "release"). */
  version?: string;
  /**
   * Exit code of the system's `switch-to-configuration` (0 = success). 100 behaves like
   * NixOS's "reboot required": nothing is activated.
   */
  exitCode?: number;
  /** `switch-to-configuration switch|test` takes this long, printing a line per second. */
  activationSeconds?: number;
  /** The build sleeps this long first (to test what happens during a build). */
  buildSeconds?: number;
  /** The build fails with a Nix-style error message. */
  buildFails?: boolean;
  /** The build prints this many numbered lines (to test log streaming and caps). */
  buildLogLines?: number;
}

/** Nix's name for this machine's platform, e.g. `x86_64-linux`. */
export function nixSystem(): string {
  const arch = { x64: 'x86_64', arm64: 'aarch64' }[process.arch as 'x64' | 'arm64'] ?? process.arch;
  return `${arch}-linux`;
}

const BUILD_SH = `# Builder of a sandboxed host system. Runs with sandbox = false, so it may use the
# machine's /bin and /usr/bin; the result only depends on the derivation's attributes.
export PATH=/usr/bin:/bin
i=0
while [ "$i" -lt "$buildLogLines" ]; do
  i=$((i + 1))
  echo "build output line $i of $buildLogLines for $hostName"
done
if [ "$buildSeconds" -gt 0 ]; then
  echo "building $hostName slowly ($buildSeconds s)"
  sleep "$buildSeconds"
fi
if [ -n "$buildFails" ]; then
  echo "error: the system of $hostName does not build (a deliberate failure)" >&2
  exit 1
fi
mkdir -p "$out/bin"
echo "$version" > "$out/nixos-version"
sed -e "s|@out@|$out|g" -e "s|@exitCode@|$exitCode|g" -e "s|@host@|$hostName|g" \\
  -e "s|@activationSeconds@|$activationSeconds|g" \\
  "$switchScript" > "$out/bin/switch-to-configuration"
chmod +x "$out/bin/switch-to-configuration"
`;

const SWITCH_SH = `#!/bin/sh
# Activation of a sandboxed host (@host@). It switches the host's own current-system
# link, named by the agent in FLOTILLA_CURRENT_SYSTEM_LINK, and never the machine's.
# Re-activating an older system (a rollback) is the same: that system's own script
# points the link back at it.
set -eu
export PATH="/usr/bin:/bin:\${PATH:-}"
action="\${1:-}"
link="\${FLOTILLA_CURRENT_SYSTEM_LINK:?refusing to run: not a sandboxed host (FLOTILLA_CURRENT_SYSTEM_LINK unset)}"
code=@exitCode@
case "$action" in
  switch|test)
    if [ "$code" -eq 100 ]; then
      # What NixOS does when the init interface changed: nothing is activated.
      echo "warning: the new configuration of @host@ needs a reboot to take effect" >&2
      exit 100
    fi
    echo "activating @out@ on @host@ ($action)"
    i=0
    while [ "$i" -lt @activationSeconds@ ]; do
      i=$((i + 1))
      sleep 1
      echo "activating @host@: $i of @activationSeconds@ s"
    done
    mkdir -p "$(dirname "$link")"
    ln -sfn "@out@" "$link.new"
    mv -T "$link.new" "$link"
    echo "switched @host@ to @out@"
    ;;
  boot)
    # A sandbox has no bootloader; the agent has already set the profile (the boot default).
    echo "boot entry of @host@ now points at @out@"
    ;;
  dry-activate)
    echo "would activate @out@ on @host@"
    ;;
  *)
    echo "usage: switch-to-configuration switch|boot|test|dry-activate" >&2
    exit 1
    ;;
esac
if [ "$code" -ne 0 ]; then
  echo "activation of @host@ failed (exit $code)" >&2
fi
exit "$code"
`;

function flakeNix(hosts: readonly SandboxHostSpec[]): string {
  const nixos = hosts.filter((h) => (h.kind ?? 'nixos') === 'nixos');
  const darwin = hosts.filter((h) => h.kind === 'darwin');
  return `{
  description = "Sandboxed Flotilla fleet: tiny systems that build offline, no nixpkgs";
  outputs = { self }:
    let
      mkHost = hostName: settings: {
        config.system.build.toplevel = derivation {
          name = "nixos-system-\${hostName}-\${settings.version}";
          system = "${nixSystem()}";
          builder = "/bin/sh";
          args = [ ./build.sh ];
          switchScript = ./switch-to-configuration.sh;
          inherit hostName;
          inherit (settings) version exitCode;
          buildSeconds = settings.buildSeconds or 0;
          buildFails = settings.buildFails or false;
          buildLogLines = settings.buildLogLines or 0;
          activationSeconds = settings.activationSeconds or 0;
        };
      };
    in {
      nixosConfigurations = {
${nixos.map((h) => `        ${h.name} = mkHost "${h.name}" (import ./hosts/${h.name}.nix);`).join('\n')}
      };
      darwinConfigurations = {
${darwin.map((h) => `        ${h.name} = { };`).join('\n')}
      };
    };
}
`;
}

/** The content of `hosts/<name>.nix`: the only file that differs between hosts. */
export function hostNix(host: SandboxHostSpec): string {
  const extra = [
    host.buildSeconds ? ` buildSeconds = ${host.buildSeconds};` : '',
    host.buildFails ? ' buildFails = true;' : '',
    host.buildLogLines ? ` buildLogLines = ${host.buildLogLines};` : '',
    host.activationSeconds ? ` activationSeconds = ${host.activationSeconds};` : '',
  ].join('');
  return `{ version = "${host.version ?? '1'}"; exitCode = ${host.exitCode ?? 0};${extra} }\n`;
}

/**
 * Writes a flake whose `nixosConfigurations.<host>.config.system.build.toplevel` are
 * real derivations built with `/bin/sh` (no nixpkgs, no network). Each output holds a
 * `nixos-version` file and a `bin/switch-to-configuration` that switches the sandboxed
 * host's own current-system link and exits with the chosen code.
 */
export async function writeSandboxFlake(
  dir: string,
  hosts: readonly SandboxHostSpec[],
): Promise<void> {
  await mkdir(join(dir, 'hosts'), { recursive: true });
  await writeFile(join(dir, 'flake.nix'), flakeNix(hosts));
  await writeFile(join(dir, 'build.sh'), BUILD_SH);
  await writeFile(join(dir, 'switch-to-configuration.sh'), SWITCH_SH);
  for (const host of hosts) {
    if ((host.kind ?? 'nixos') === 'nixos') await writeHost(dir, host);
  }
}

/** Rewrites one host's settings (a change that affects only that host's derivation). */
export async function writeHost(dir: string, host: SandboxHostSpec): Promise<void> {
  await writeFile(join(dir, 'hosts', `${host.name}.nix`), hostNix(host));
}
