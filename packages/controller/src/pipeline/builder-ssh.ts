import type { BuildsConfig } from '../config.js';

/**
 * The environment of the controller's Nix processes with the builders' ssh settings as
 * `NIX_SSHOPTS` (read by Nix's ssh store for every connection to a builder). Ours come
 * first, so ssh keeps them over any later `-o` of the same name; an inherited
 * `NIX_SSHOPTS` follows. Nix splits the value at whitespace: the config refuses paths with
 * spaces.
 */
export function nixBuildEnv(
  childEnv: Record<string, string>,
  builds: Pick<BuildsConfig, 'sshKeyFile' | 'sshKnownHostsFile' | 'sshConfigFile'>,
): Record<string, string> {
  const options: string[] = [];
  if (builds.sshConfigFile) options.push('-F', builds.sshConfigFile);
  if (builds.sshKeyFile) options.push('-i', builds.sshKeyFile, '-o', 'IdentitiesOnly=yes');
  if (builds.sshKnownHostsFile) {
    options.push(
      '-o',
      `UserKnownHostsFile=${builds.sshKnownHostsFile}`,
      '-o',
      'StrictHostKeyChecking=yes',
    );
  }
  if (options.length === 0) return childEnv;
  // A builder that does not answer fails the connection instead of waiting for TCP's timeout.
  options.push('-o', 'ConnectTimeout=10', '-o', 'BatchMode=yes');
  const inherited = childEnv.NIX_SSHOPTS;
  return {
    ...childEnv,
    NIX_SSHOPTS: [...options, ...(inherited ? [inherited] : [])].join(' '),
  };
}

/**
 * What Nix said about builders it could not use (`cannot build on 'URI': …`), for a
 * failed build's summary: without it the summary is Nix's last words, "unable to start any
 * build; remote machines may not have all required system features", which hides that the
 * builder was simply down.
 */
export function unreachableBuilders(output: string): string[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('cannot build on '));
}
