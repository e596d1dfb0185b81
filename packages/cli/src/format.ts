/** Text formatting for human output: times, durations, sizes, store paths and aligned tables. */

/**
 * How far `iso` lies from `now`, in the style of {@link formatDuration}: "12 s ago",
 * "5 m 12 s ago", "in 3 m 10 s". Null reads as "never"; less than a second either way (clock
 * skew between controller and CLI) as "just now".
 */
export function relativeTime(iso: string | null, now: Date): string {
  if (iso === null) return 'never';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const ms = now.getTime() - then;
  if (Math.abs(ms) < 1000) return 'just now';
  return ms > 0 ? `${formatDuration(ms / 1000)} ago` : `in ${formatDuration(-ms / 1000)}`;
}

/**
 * A duration in seconds, as precise as it is short: "740 ms", "1.2 s", "42 s", then the two
 * largest units, "5 m 12 s", "2 h 5 m", "3 d 4 h". Digits are cut, never rounded up, so a
 * timeout of 59.9 s never reads as a minute. Zero and negative input read "0 s".
 */
export function formatDuration(totalSeconds: number): string {
  // Whole milliseconds first: 0.57 s is 569.99… ms in floating point.
  const ms = Number.isFinite(totalSeconds) ? Math.round(totalSeconds * 1000) : 0;
  if (ms <= 0) return '0 s';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 10_000) {
    const tenths = Math.floor(ms / 100);
    return tenths % 10 === 0 ? `${tenths / 10} s` : `${Math.floor(tenths / 10)}.${tenths % 10} s`;
  }
  const s = Math.floor(ms / 1000);
  const units: [number, string][] = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ];
  const first = units.findIndex(([value]) => value > 0);
  return units
    .slice(first, first + 2)
    .filter(([value], index) => index === 0 || value > 0)
    .map(([value, unit]) => `${value} ${unit}`)
    .join(' ');
}

/** Wall-clock readers per zone; building one is far slower than using it. */
const WALL_CLOCKS = new Map<string, Intl.DateTimeFormat>();

function wallClock(zone: string): Intl.DateTimeFormat {
  let format = WALL_CLOCKS.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    WALL_CLOCKS.set(zone, format);
  }
  return format;
}

/** An instant as the clocks in `zone` show it, with that zone's offset from UTC in minutes. */
interface WallTime {
  date: string;
  time: string;
  offsetMinutes: number;
}

function toWallTime(instant: number, zone: string): WallTime {
  const parts: Record<string, number> = {};
  for (const part of wallClock(zone).formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const [year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0] = [
    parts.year,
    parts.month,
    parts.day,
    parts.hour,
    parts.minute,
    parts.second,
  ];
  // The offset is what the wall clock reads minus the instant (both cut to whole seconds).
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  const offsetMinutes = Math.round((asUtc - Math.floor(instant / 1000) * 1000) / 60_000);
  const two = (n: number): string => String(n).padStart(2, '0');
  return {
    date: `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}`,
    time: `${two(hour)}:${two(minute)}:${two(second)}`,
    offsetMinutes,
  };
}

function offsetLabel(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * An ISO timestamp as the one absolute format the CLI shows, in `zone` (an IANA name) with
 * its offset: `2026-03-01 14:05:09+01:00`, or `2026-03-01 13:05:09Z` when `zone` is UTC.
 * The offset is part of every time because it changes across daylight saving. Fractions of
 * a second are cut. What does not parse as a time is returned unchanged.
 */
export function formatDateTime(iso: string, zone: string): string {
  const instant = Date.parse(iso);
  if (Number.isNaN(instant)) return iso;
  const wall = toWallTime(instant, zone);
  const offset = zone === 'UTC' ? 'Z' : offsetLabel(wall.offsetMinutes);
  return `${wall.date} ${wall.time}${offset}`;
}

/** The time of day of an ISO timestamp in `zone`, `HH:MM:SS`; stamps log lines under a heading that names the zone. */
export function formatTimeOfDay(iso: string, zone: string): string {
  const instant = Date.parse(iso);
  return Number.isNaN(instant) ? iso : toWallTime(instant, zone).time;
}

/** ISO-8601 UTC timestamps as the controller writes them into free text (hold reasons, notes). */
const ISO_IN_TEXT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\b/g;

/**
 * How a command shows times: the zone absolute times are given in and the moment relative
 * times are measured from. Views take one so that every time they print looks the same.
 */
export class TimeFormat {
  /**
   * @param zone An IANA zone name Intl accepts (`Europe/Vienna`, `UTC`).
   * @param now The moment relative times are measured from.
   */
  constructor(
    readonly zone: string,
    readonly now: Date,
  ) {}

  /** `2026-03-01 14:05:09+01:00`; see {@link formatDateTime}. */
  dateTime(iso: string): string {
    return formatDateTime(iso, this.zone);
  }

  /** `14:05:09` in this zone, for log lines. */
  timeOfDay(iso: string): string {
    return formatTimeOfDay(iso, this.zone);
  }

  /** "5 m 12 s ago", "in 42 s", "never"; see {@link relativeTime}. */
  relative(iso: string | null): string {
    return relativeTime(iso, this.now);
  }

  /** The absolute time followed by the relative one, `2026-03-01 14:05:09+01:00 (5 m ago)`; `none` for null. */
  stamp(iso: string | null, none = '-'): string {
    if (iso === null) return none;
    return Number.isNaN(Date.parse(iso)) ? iso : `${this.dateTime(iso)} (${this.relative(iso)})`;
  }

  /** How long since `iso`, as a duration ("5 m 12 s"); "-" when it is not a time. */
  since(iso: string): string {
    const then = Date.parse(iso);
    return Number.isNaN(then) ? '-' : formatDuration((this.now.getTime() - then) / 1000);
  }

  /** `text` with every ISO UTC timestamp in it rewritten to this format. */
  localize(text: string): string {
    return text.replace(ISO_IN_TEXT, (iso) => this.dateTime(iso));
  }
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

/** The heading above a log, naming the zone its time-of-day stamps are in. */
export function logHeading(time: TimeFormat): string {
  return `Log (times in ${time.zone}):`;
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
