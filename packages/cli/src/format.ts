/** Text formatting for human output: times, sizes, store paths and aligned tables. */

/**
 * How long ago `iso` was, relative to `now`: "just now", "12s ago", "5m ago", "3h ago", "2d ago".
 * Null reads as "never"; a time slightly in the future (clock skew) reads as "just now".
 */
export function relativeTime(iso: string | null, now: Date): string {
  if (iso === null) return 'never';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const seconds = Math.floor((now.getTime() - then) / 1000);
  if (seconds < 1) return seconds < -60 ? `in ${formatDuration(-seconds)}` : 'just now';
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

/**
 * A duration in seconds with its two largest units: "42s", "5m 12s", "2h 5m", "3d 4h".
 * Fractions are dropped; negative input counts as zero.
 */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = s % 60;
  if (days > 0) return hours > 0 ? `${days}d ${hours}h` : `${days}d`;
  if (hours > 0) return minutes > 0 ? `${hours}h ${minutes}m` : `${hours}h`;
  if (minutes > 0) return seconds > 0 ? `${minutes}m ${seconds}s` : `${minutes}m`;
  return `${seconds}s`;
}

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** A byte count in binary units with one decimal: "512 B", "1.5 KiB", "7.6 GiB". */
export function formatBytes(bytes: number): string {
  if (Math.abs(bytes) < 1024) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit: string = 'B';
  for (const next of BYTE_UNITS) {
    if (Math.abs(value) < 1024) break;
    value /= 1024;
    unit = next;
  }
  return `${value.toFixed(1)} ${unit}`;
}

/** `part` as a whole percentage of `whole` ("16%"); "-" when `whole` is zero. */
export function formatPercent(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((part / whole) * 100)}%` : '-';
}

const STORE_PATH = /^\/nix\/store\/([0-9a-z]{32})-(.+)$/;

/**
 * A store path shortened for tables: the first 8 characters of the hash and the name,
 * `/nix/store/1a2b…-nixos-system-web1-25.05` → `1a2b3c4d…-nixos-system-web1-25.05`.
 * Anything else is returned unchanged; null reads as "-".
 */
export function shortStorePath(path: string | null): string {
  if (path === null) return '-';
  const match = STORE_PATH.exec(path);
  if (match === null) return path;
  return `${(match[1] ?? '').slice(0, 8)}…-${match[2] ?? ''}`;
}

/** The time of day of an ISO timestamp in UTC, `HH:MM:SS`; used to stamp log lines. */
export function timeOfDay(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().slice(11, 19);
}

/** An ISO timestamp as a UTC date and time, `YYYY-MM-DD HH:MM:SS`; for logs kept for the record. */
export function dateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().slice(0, 19).replace('T', ' ');
}

/** The first line of `text`, cut to `max` characters with an ellipsis. */
export function firstLine(text: string, max: number): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Column alignment for {@link table}; numbers read best right-aligned. */
export type Align = 'left' | 'right';

/**
 * Lays out rows under headers with columns padded to the widest cell and separated by two
 * spaces. Trailing spaces are trimmed so the output diffs cleanly.
 */
export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string {
  return columns([headers, ...rows], align);
}

/** Rows with aligned columns and no header, as {@link table} lays them out. */
export function columns(
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string {
  const count = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: count }, (_, column) =>
    Math.max(0, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const render = (cells: readonly string[]): string =>
    widths
      .map((width, column) => {
        const cell = cells[column] ?? '';
        return align[column] === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return rows.map(render).join('\n');
}

/**
 * Label-value lines with the values aligned, e.g. for a detail view:
 * `Name:    web1` / `Status:  online`. `indent` prefixes every line.
 */
export function keyValues(pairs: readonly (readonly [string, string])[], indent = ''): string {
  const width = Math.max(0, ...pairs.map(([label]) => label.length + 1));
  return pairs
    .map(([label, value]) => `${indent}${`${label}:`.padEnd(width)}  ${value}`.trimEnd())
    .join('\n');
}

/** How long something ran, from two ISO times; "-" until it has both started and finished. */
export function spanLabel(startedAt: string | null, finishedAt: string | null): string {
  if (startedAt === null || finishedAt === null) return '-';
  const seconds = (Date.parse(finishedAt) - Date.parse(startedAt)) / 1000;
  return Number.isNaN(seconds) ? '-' : formatDuration(seconds);
}
