import { MAX_PLAN_PACKAGES, type ClosureDiff, type PackageChange } from '@flotilla/protocol';

/** The package lists of a closure difference, before the total size is known. */
export type PackageLists = Omit<ClosureDiff, 'sizeDelta' | 'closureSize'>;

/** ANSI escape sequences: Nix colours size changes even when writing to a pipe. */
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** `+20.0 KiB`, `-40.3 KiB` (what Nix prints; other units accepted for later versions). */
const SIZE = /^([+-]\d+(?:\.\d+)?) (B|KiB|MiB|GiB)$/;
const UNIT_BYTES: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** Nix prints an empty version set as ∅ and an empty version as ε. */
const NONE = '∅';
const EMPTY_VERSION = 'ε';
const ARROW = ' → ';

/**
 * Parses `nix store diff-closures BEFORE AFTER` output: one line per package name,
 * `name: <versions before> → <versions after>, <size change>`, where either part may be
 * missing (`etc: +29.0 KiB`, `tzdata: 2024a → 2024b`) and version lists are separated by
 * ", ". Nix prints a size change only from 8 KiB on. Lines that do not read as such are
 * returned in `unparsed` rather than guessed at.
 */
export function parseDiffClosures(
  text: string,
  max = MAX_PLAN_PACKAGES,
): PackageLists & { unparsed: string[] } {
  const lists: PackageLists = {
    added: [],
    removed: [],
    changed: [],
    resized: [],
    truncated: false,
  };
  const unparsed: string[] = [];
  let count = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(ANSI, '').trim();
    if (line === '') continue;
    const change = parseLine(line);
    if (change === null) {
      unparsed.push(line);
      continue;
    }
    if (count >= max) {
      lists.truncated = true;
      continue;
    }
    count += 1;
    if (change.from.length === 0 && change.to.length === 0) lists.resized.push(change);
    else if (change.from.length === 0) lists.added.push(change);
    else if (change.to.length === 0) lists.removed.push(change);
    else lists.changed.push(change);
  }
  return { ...lists, unparsed };
}

function parseLine(line: string): PackageChange | null {
  const colon = line.indexOf(': ');
  if (colon <= 0) return null;
  const name = line.slice(0, colon);
  const items = line.slice(colon + 2);
  let from: string[] = [];
  let rest = items;
  const arrow = items.indexOf(ARROW);
  if (arrow >= 0) {
    from = versions(items.slice(0, arrow));
    rest = items.slice(arrow + ARROW.length);
  }
  const parts = rest.split(', ');
  const last = parts.at(-1) ?? '';
  const size = SIZE.exec(last);
  const sizeDelta =
    size?.[1] !== undefined && size[2] !== undefined
      ? Math.round(Number(size[1]) * (UNIT_BYTES[size[2]] ?? 1))
      : null;
  if (arrow < 0) {
    // Without an arrow only a size may follow the name.
    return sizeDelta === null || parts.length !== 1 ? null : { name, from, to: [], sizeDelta };
  }
  const to = versions((sizeDelta === null ? parts : parts.slice(0, -1)).join(', '));
  if (from.length === 0 && to.length === 0) return null;
  return { name, from, to, sizeDelta };
}

function versions(text: string): string[] {
  if (text === NONE) return [];
  return text.split(', ').map((version) => (version === EMPTY_VERSION ? '' : version));
}
