import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One sandboxed host of a test or demo flake. */
export interface SandboxHostSpec {
  name: string;
  /**
   * `nixos` hosts get a buildable system; Macs (monitor-only) get a tiny output of the kind
   * they are declared with: `darwin` as `darwinConfigurations.<name>.system` (with the
   * `darwin-version.json` nix-darwin writes), `home-manager` as
   * `homeConfigurations."<homeUser>@<name>".activationPackage`. Both are real derivations
   * the controller evaluates (and never builds); a test builds them to put them on a "Mac".
   */
  kind?: 'nixos' | 'darwin' | 'home-manager';
  /** The user of a home-manager host's `homeConfigurations` attribute ("user" by default). */
  homeUser?: string;
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
  /**
   * Packages in the system's closure, by name: each a tiny store path
   * `<name>-<version>` of `kib` KiB (16 by default), so `nix store diff-closures` between
   * two releases shows packages added, removed and changed in version and size.
   */
  packages?: Record<string, SandboxPackage>;
  /**
   * systemd units of the system (`etc/systemd/system/<unit>`), by name. Its
   * `switch-to-configuration dry-activate` compares them with the running system's and says
   * what NixOS would: units gone are stopped, new ones started, changed ones stopped and
   * started (or restarted, reloaded or left running, as `onChange` says).
   */
  units?: Record<string, SandboxUnit>;
  /**
   * The kernel version: the system gets `kernel` and `initrd` links into a kernel and an
   * initrd of their own (a change of version needs a reboot). None by default.
   */
  kernel?: string;
  /** `switch-to-configuration dry-activate` fails (exit 1) instead of saying what it would do. */
  dryActivateFails?: boolean;
  /**
   * A file the activation (`switch`/`test`) signals through after switching, as NixOS then
   * restarts changed services: it writes `restarting` to this file and waits (up to 120 s)
   * until `<file>.done` exists — the way `systemctl restart` waits for a service such as
   * the controller on its own host. The test does the restart meanwhile.
   */
  activationSignal?: string;
}

/** A package of a sandboxed system. */
export interface SandboxPackage {
  version: string;
  /** Size of its one file, in KiB (16 by default). */
  kib?: number;
}

/** A systemd unit of a sandboxed system; a new `revision` changes its file. */
export interface SandboxUnit {
  revision: string;
  /**
   * What NixOS does when the unit changed: `stop-start` (the default, `stopIfChanged`),
   * `restart` (`stopIfChanged = false`), `reload` (`reloadIfChanged`) or `keep`
   * (`restartIfChanged = false`: left running, "would NOT stop").
   */
  onChange?: 'stop-start' | 'restart' | 'reload' | 'keep';
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
# References to the packages make them the system's closure, as a NixOS system's sw does.
if [ -n "\${packages:-}" ]; then
  mkdir -p "$out/sw"
  for p in $packages; do echo "$p"; done > "$out/sw/packages"
fi
# Unit files as NixOS puts them in etc/systemd/system, with the keys switch-to-configuration reads.
if [ -n "\${units:-}" ]; then
  mkdir -p "$out/etc/systemd/system"
  for spec in $units; do
    unit=\${spec%%:*}; rest=\${spec#*:}; revision=\${rest%%:*}; mode=\${rest#*:}
    {
      echo "[Unit]"
      echo "Description=$unit of $hostName (revision $revision)"
      echo "[Service]"
      echo "ExecStart=/bin/true $revision"
      case "$mode" in
        restart) echo "X-StopIfChanged=false" ;;
        reload) echo "X-ReloadIfChanged=true" ;;
        keep) echo "X-RestartIfChanged=false" ;;
      esac
    } > "$out/etc/systemd/system/$unit"
  done
fi
if [ -n "\${kernelPackage:-}" ]; then
  ln -s "$kernelPackage/bzImage" "$out/kernel"
  ln -s "$initrdPackage/initrd" "$out/initrd"
  ln -s "$kernelPackage/lib/modules" "$out/kernel-modules"
fi
sed -e "s|@out@|$out|g" -e "s|@exitCode@|$exitCode|g" -e "s|@host@|$hostName|g" \\
  -e "s|@activationSeconds@|$activationSeconds|g" -e "s|@dryActivateFails@|\${dryActivateFails:-}|g" \\
  -e "s|@activationSignal@|\${activationSignal:-}|g" \\
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
    signal="@activationSignal@"
    if [ -n "$signal" ]; then
      echo "restarting services of @host@"
      echo restarting > "$signal"
      i=0
      until [ -e "$signal.done" ]; do
        i=$((i + 1))
        if [ "$i" -gt 1200 ]; then echo "no restart of @host@'s services within 120 s" >&2; exit 1; fi
        sleep 0.1
      done
      echo "services of @host@ restarted"
    fi
    ;;
  boot)
    # A sandbox has no bootloader; the agent has already set the profile (the boot default).
    echo "boot entry of @host@ now points at @out@"
    ;;
  dry-activate)
    # What NixOS's switch-to-configuration prints (on stderr, in this order), worked out
    # the same way: the running system's units against this one's.
    if [ -n "@dryActivateFails@" ]; then
      echo "error: the dry activation of @host@ failed (a deliberate failure)" >&2
      exit 1
    fi
    old="$link/etc/systemd/system"
    new="@out@/etc/systemd/system"
    stop=""; start=""; restart=""; reload=""; keep=""
    for file in "$old"/*; do
      [ -e "$file" ] || continue
      unit=$(basename "$file")
      [ -e "$new/$unit" ] || stop="$stop $unit"
    done
    for file in "$new"/*; do
      [ -e "$file" ] || continue
      unit=$(basename "$file")
      if [ ! -e "$old/$unit" ]; then
        start="$start $unit"
      elif ! cmp -s "$old/$unit" "$file"; then
        if grep -q '^X-ReloadIfChanged=true' "$file"; then reload="$reload $unit"
        elif grep -q '^X-RestartIfChanged=false' "$file"; then keep="$keep $unit"
        elif grep -q '^X-StopIfChanged=false' "$file"; then restart="$restart $unit"
        else stop="$stop $unit"; start="$start $unit"
        fi
      fi
    done
    say() {
      if [ -n "$2" ]; then
        echo "$1: $(echo $2 | tr ' ' '\\n' | sort | paste -s -d, - | sed 's/,/, /g')" >&2
      fi
    }
    say "would stop the following units" "$stop"
    say "would NOT stop the following changed units" "$keep"
    echo "would activate the configuration..." >&2
    echo "setting up /etc of @host@ (dry run)"
    say "would reload the following units" "$reload"
    say "would restart the following units" "$restart"
    say "would start the following units" "$start"
    exit 0
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

/** A home-manager host's attribute in `homeConfigurations`: `user@host`. */
export function homeAttribute(host: Pick<SandboxHostSpec, 'name' | 'homeUser'>): string {
  return `${host.homeUser ?? 'user'}@${host.name}`;
}

function flakeNix(hosts: readonly SandboxHostSpec[]): string {
  const nixos = hosts.filter((h) => (h.kind ?? 'nixos') === 'nixos');
  const darwin = hosts.filter((h) => h.kind === 'darwin');
  const home = hosts.filter((h) => h.kind === 'home-manager');
  return `{
  description = "Sandboxed Flotilla fleet: tiny systems that build offline, no nixpkgs";
  outputs = { self }:
    let
      system = "${nixSystem()}";
      # A package: one file of \`kib\` KiB, named and versioned as nixpkgs names them.
      mkPackage = name: spec: derivation {
        name = "\${name}-\${spec.version}";
        inherit system;
        builder = "/bin/sh";
        args = [ ./package.sh ];
        kib = spec.kib or 16;
        file = name;
      };
      mkKernel = version: derivation {
        name = "linux-\${version}";
        inherit system;
        builder = "/bin/sh";
        args = [ ./kernel.sh ];
        inherit version;
      };
      mkInitrd = version: derivation {
        name = "initrd-linux-\${version}";
        inherit system;
        builder = "/bin/sh";
        args = [ ./initrd.sh ];
        inherit version;
      };
      # A Mac's output: built here only by tests, to stand for what the Mac built itself.
      mkMac = kind: name: hostName: settings: derivation {
        inherit name system hostName kind;
        builder = "/bin/sh";
        args = [ ./mac.sh ];
        inherit (settings) version;
      };
      unitSpec = name: unit: "\${name}:\${unit.revision}:\${unit.onChange or "stop-start"}";
      mkHost = hostName: settings: {
        config.system.build.toplevel = derivation ({
          name = "nixos-system-\${hostName}-\${settings.version}";
          inherit system;
          builder = "/bin/sh";
          args = [ ./build.sh ];
          switchScript = ./switch-to-configuration.sh;
          inherit hostName;
          inherit (settings) version exitCode;
          buildSeconds = settings.buildSeconds or 0;
          buildFails = settings.buildFails or false;
          buildLogLines = settings.buildLogLines or 0;
          activationSeconds = settings.activationSeconds or 0;
        }
        # Only what a host sets, so a host without them keeps its derivation.
        // (if settings ? packages then { packages = builtins.attrValues (builtins.mapAttrs mkPackage settings.packages); } else { })
        // (if settings ? units then { units = builtins.attrValues (builtins.mapAttrs unitSpec settings.units); } else { })
        // (if settings ? kernel then { kernelPackage = mkKernel settings.kernel; initrdPackage = mkInitrd settings.kernel; } else { })
        // (if settings.dryActivateFails or false then { dryActivateFails = "1"; } else { })
        // (if settings ? activationSignal then { inherit (settings) activationSignal; } else { }));
      };
    in {
      nixosConfigurations = {
${nixos.map((h) => `        ${h.name} = mkHost "${h.name}" (import ./hosts/${h.name}.nix);`).join('\n')}
      };
      darwinConfigurations = {
${darwin.map((h) => `        ${h.name}.system = mkMac "darwin" "darwin-system-${h.name}" "${h.name}" (import ./hosts/${h.name}.nix);`).join('\n')}
      };
      homeConfigurations = {
${home.map((h) => `        "${homeAttribute(h)}".activationPackage = mkMac "home-manager" "home-manager-generation" "${h.name}" (import ./hosts/${h.name}.nix);`).join('\n')}
      };
    };
}
`;
}

const PACKAGE_SH = `# Builder of a package of a sandboxed system: one file of $kib KiB.
export PATH=/usr/bin:/bin
mkdir -p "$out/bin"
{ echo "$name"; head -c $((kib * 1024)) /dev/zero; } > "$out/bin/$file"
`;

const MAC_SH = `# Builder of a sandboxed Mac's output: a nix-darwin system with its darwin-version.json,
# or a home-manager generation with its activate script.
export PATH=/usr/bin:/bin
mkdir -p "$out"
if [ "$kind" = darwin ]; then
  printf '{"darwinLabel":"%s","darwinRevision":null,"nixpkgsRevision":null,"configurationRevision":null}\\n' \\
    "sandbox-$version" > "$out/darwin-version.json"
else
  printf '#!/bin/sh\\necho "activating the home of %s (version %s)"\\n' "$hostName" "$version" > "$out/activate"
  chmod +x "$out/activate"
fi
`;

const KERNEL_SH = `# Builder of a sandboxed system's kernel (a stand-in file) and its modules folder.
export PATH=/usr/bin:/bin
mkdir -p "$out/lib/modules/$version"
echo "linux $version (a sandbox stand-in)" > "$out/bzImage"
`;

const INITRD_SH = `# Builder of a sandboxed system's initrd (a stand-in file).
export PATH=/usr/bin:/bin
mkdir -p "$out"
echo "initrd for linux $version (a sandbox stand-in)" > "$out/initrd"
`;

/** A Nix string literal. */
function nixString(value: string): string {
  return JSON.stringify(value).replace(/\$\{/g, '\\${');
}

/** The content of `hosts/<name>.nix`: the only file that differs between hosts. */
export function hostNix(host: SandboxHostSpec): string {
  if ((host.kind ?? 'nixos') !== 'nixos') return `{ version = "${host.version ?? '1'}"; }\n`;
  const packages = Object.entries(host.packages ?? {}).map(
    ([name, p]) =>
      ` ${nixString(name)} = { version = ${nixString(p.version)};${p.kib === undefined ? '' : ` kib = ${p.kib};`} };`,
  );
  const units = Object.entries(host.units ?? {}).map(
    ([name, u]) =>
      ` ${nixString(name)} = { revision = ${nixString(u.revision)};${u.onChange ? ` onChange = ${nixString(u.onChange)};` : ''} };`,
  );
  const extra = [
    host.buildSeconds ? ` buildSeconds = ${host.buildSeconds};` : '',
    host.buildFails ? ' buildFails = true;' : '',
    host.buildLogLines ? ` buildLogLines = ${host.buildLogLines};` : '',
    host.activationSeconds ? ` activationSeconds = ${host.activationSeconds};` : '',
    host.packages ? ` packages = {${packages.join('')} };` : '',
    host.units ? ` units = {${units.join('')} };` : '',
    host.kernel ? ` kernel = ${nixString(host.kernel)};` : '',
    host.dryActivateFails ? ' dryActivateFails = true;' : '',
    host.activationSignal ? ` activationSignal = ${nixString(host.activationSignal)};` : '',
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
  await writeFile(join(dir, 'package.sh'), PACKAGE_SH);
  await writeFile(join(dir, 'kernel.sh'), KERNEL_SH);
  await writeFile(join(dir, 'initrd.sh'), INITRD_SH);
  await writeFile(join(dir, 'mac.sh'), MAC_SH);
  for (const host of hosts) await writeHost(dir, host);
}

/** Rewrites one host's settings (a change that affects only that host's derivation). */
export async function writeHost(dir: string, host: SandboxHostSpec): Promise<void> {
  await writeFile(join(dir, 'hosts', `${host.name}.nix`), hostNix(host));
}
