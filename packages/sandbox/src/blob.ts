import { nixSystem } from './flake.js';
import { run } from './nix.js';

/**
 * Builds a store path holding `bytes` random bytes (one file), for cache tests and
 * benchmarks that need large NARs. Random data does not compress, so NAR sizes equal
 * `bytes` plus a little framing. `name` distinguishes paths; the same name and size give
 * the same store path (already built: not rebuilt).
 */
export async function buildRandomBlob(name: string, bytes: number): Promise<string> {
  if (!/^[A-Za-z0-9._+-]+$/.test(name)) throw new Error(`"${name}" is not a store path name`);
  const expression = `derivation {
    name = ${JSON.stringify(name)};
    system = ${JSON.stringify(nixSystem())};
    builder = "/bin/sh";
    args = [ "-c" "export PATH=/usr/bin:/bin; head -c ${Math.floor(bytes)} /dev/urandom > $out" ];
  }`;
  const result = await run('nix', ['build', '--no-link', '--json', '--expr', expression]);
  if (result.code !== 0) {
    throw new Error(`building ${name} failed (exit ${result.code}):\n${result.stderr}`);
  }
  const out = (JSON.parse(result.stdout) as { outputs: { out: string } }[])[0]?.outputs.out;
  if (!out) throw new Error(`building ${name} printed no output path: ${result.stdout}`);
  return out;
}
