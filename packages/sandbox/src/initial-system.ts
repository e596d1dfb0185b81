import { mkdir, rm, symlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { sandboxHostPaths } from './fleet.js';
import { run } from './nix.js';

/**
 * Makes a sandboxed host "already run" a system, as a real host does before Flotilla
 * arrives: its profile gets a first generation and its current and booted links point there.
 */
export async function installInitialSystem(root: string, storePath: string): Promise<void> {
  const paths = sandboxHostPaths(root);
  await mkdir(dirname(paths.profile), { recursive: true });
  await mkdir(dirname(paths.currentSystemLink), { recursive: true });
  const set = await run('nix-env', ['-p', paths.profile, '--set', storePath]);
  if (set.code !== 0) throw new Error(`nix-env --set failed: ${set.stderr}`);
  for (const link of [paths.currentSystemLink, paths.bootedSystemLink]) {
    await rm(link, { force: true });
    await symlink(storePath, link);
  }
}
