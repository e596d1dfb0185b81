/** Durations and sizes for people. */

/** `4.2 s`, `3 min 5 s`, `2 h 10 min`; `—` for null or negative. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  if (h > 0) return `${h} h ${m} min`;
  return s === 0 ? `${m} min` : `${m} min ${s} s`;
}

/** The time from `from` to `to` (or now), in milliseconds; null when `from` is unknown. */
export function elapsed(
  from: string | null,
  to: string | null,
  now: number = Date.now(),
): number | null {
  if (from === null) return null;
  const start = new Date(from).getTime();
  const end = to === null ? now : new Date(to).getTime();
  return Number.isNaN(start) || Number.isNaN(end) ? null : end - start;
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** `12.0 MB` (powers of 1000, as Nix prints sizes); a sign when `signed`. */
export function formatBytes(bytes: number | null, signed = false): string {
  if (bytes === null) return '—';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const sign = signed ? (bytes > 0 ? '+' : bytes < 0 ? '−' : '±') : bytes < 0 ? '−' : '';
  return `${sign}${unit === 0 ? value : value.toFixed(1)} ${UNITS[unit]}`;
}

/** The first 12 characters of a commit id. */
export function shortSha(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 12) : '—';
}
