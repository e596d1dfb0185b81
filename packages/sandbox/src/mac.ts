import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './nix.js';

/**
 * Sandboxed Macs: an agent on Linux that reports as macOS (its `--darwin-commands-dir`, a
 * test and demo facility) runs these scripts instead of macOS's programs. Each prints
 * published output of a real Mac, the agent's own parser fixtures (see their README), so
 * the agent's darwin collector runs end to end on what Macs really print.
 */
const FIXTURES = fileURLToPath(new URL('../../agent/src/facts/fixtures/', import.meta.url));

/** Quotes a value for a POSIX shell script. */
function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const fixture = (name: string) => quote(join(FIXTURES, name));

/** What each sysctl name prints: the fixture holding that name's line. */
const SYSCTL_FIXTURES: Record<string, string> = {
  'hw.memsize': 'sysctl-hw.memsize.txt',
  'hw.ncpu': 'sysctl-hw.ncpu.txt',
  'kern.boottime': 'sysctl-kern.boottime.txt',
  'kern.memorystatus_vm_pressure_level': 'sysctl-pressure-normal.txt',
};

const SCRIPTS: Record<string, string> = {
  sw_vers: `exec /bin/cat ${fixture('sw_vers-10.15.txt')}\n`,
  vm_stat: `exec /bin/cat ${fixture('vm_stat-intel.txt')}\n`,
  nix: `[ "\${1:-}" = --version ] || { echo "sandboxed Mac: only nix --version" >&2; exit 1; }\nexec /bin/cat ${fixture('nix-version-2.8.txt')}\n`,
  // One line per name asked for, in order, as sysctl prints them; a name without a
  // published capture (hw.model) prints nothing here.
  sysctl: `for name in "$@"; do\n  case "$name" in\n${Object.entries(SYSCTL_FIXTURES)
    .map(([name, file]) => `    ${name}) /bin/cat ${fixture(file)} ;;\n`)
    .join('')}  esac\ndone\n`,
};

/** Writes the sandboxed Mac's programs into `dir`. */
export async function writeMacCommands(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, body] of Object.entries(SCRIPTS)) {
    const file = join(dir, name);
    await writeFile(
      file,
      `#!/bin/sh\n# A sandboxed Mac's ${name}: published output of a real Mac.\n${body}`,
    );
    await chmod(file, 0o755);
  }
}

/**
 * Puts an output on a sandboxed Mac, as `darwin-rebuild switch` or `home-manager switch`
 * would: a nix-darwin system becomes its current system (and a generation of its system
 * profile), a home-manager generation a new generation of its home-manager profile.
 * `paths` are the host's `sandboxHostPaths`.
 */
export async function switchMac(
  paths: { profile: string; homeManagerProfile: string; currentSystemLink: string },
  kind: 'darwin' | 'home-manager',
  storePath: string,
): Promise<void> {
  const profile = kind === 'darwin' ? paths.profile : paths.homeManagerProfile;
  await mkdir(dirname(profile), { recursive: true });
  const set = await run('nix-env', ['-p', profile, '--set', storePath]);
  if (set.code !== 0) throw new Error(`nix-env --set failed: ${set.stderr}`);
  if (kind === 'darwin') {
    await mkdir(dirname(paths.currentSystemLink), { recursive: true });
    const link = await run('ln', ['-sfn', storePath, paths.currentSystemLink]);
    if (link.code !== 0) throw new Error(`ln failed: ${link.stderr}`);
  }
}
