import { basename, dirname, isAbsolute, join } from 'node:path';
import type { Generation } from '@flotilla/protocol';
import type { HostSources } from './host-sources.js';

/** The protocol carries at most this many generations. */
export const MAX_GENERATIONS = 100;

/** A `<profile>-<n>-link` symlink as read from the profile's directory. */
export interface GenerationLink {
  number: number;
  /** The link's file name, e.g. `system-42-link`. */
  name: string;
  /** What it points at (a store path). */
  target: string;
  /** The link's own mtime: when the generation was made. */
  mtimeMs: number;
}

/**
 * The generation numbers among a directory's entries, newest first: names of the form
 * `<profileName>-<n>-link`, as `nix-env` creates them next to the profile.
 */
export function generationNumbers(
  profileName: string,
  entries: readonly string[],
): Map<number, string> {
  const pattern = new RegExp(`^${escapeRegExp(profileName)}-(\\d+)-link$`);
  const numbers = new Map<number, string>();
  for (const entry of entries) {
    const match = pattern.exec(entry);
    if (match?.[1] !== undefined) numbers.set(Number(match[1]), entry);
  }
  return new Map([...numbers.entries()].sort(([a], [b]) => b - a));
}

/**
 * Generations newest first (at most {@link MAX_GENERATIONS}); `current` marks the one
 * the profile link points at (`profileTarget` is that link's target, e.g. `system-42-link`).
 */
export function toGenerations(
  links: readonly GenerationLink[],
  profileTarget: string | null,
): Generation[] {
  const currentName = profileTarget === null ? null : basename(profileTarget);
  return [...links]
    .sort((a, b) => b.number - a.number)
    .slice(0, MAX_GENERATIONS)
    .map((link) => ({
      number: link.number,
      path: link.target,
      date: new Date(link.mtimeMs).toISOString(),
      current: link.name === currentName,
    }));
}

/** Reads the generations of `profile` (e.g. /nix/var/nix/profiles/system) from the host. */
export async function readGenerations(
  sources: HostSources,
  profile: string,
): Promise<Generation[]> {
  const dir = dirname(profile);
  const entries = await sources.listDir(dir);
  if (entries === null) return [];
  const numbers = [...generationNumbers(basename(profile), entries)].slice(0, MAX_GENERATIONS);
  const [profileLink, ...infos] = await Promise.all([
    sources.linkInfo(profile),
    ...numbers.map(([, name]) => sources.linkInfo(join(dir, name))),
  ]);
  const links: GenerationLink[] = [];
  numbers.forEach(([number, name], index) => {
    const info = infos[index];
    if (info === null || info === undefined) return;
    const target = isAbsolute(info.target) ? info.target : join(dir, info.target);
    links.push({ number, name, target, mtimeMs: info.mtimeMs });
  });
  return toGenerations(links, profileLink?.target ?? null);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
