/** Parsers for the /proc files behind the agent's metrics. Each returns null on text it cannot read. */

/** Memory in bytes from /proc/meminfo, whose values are in KiB despite the "kB" label. */
export interface MemoryInfo {
  totalBytes: number;
  availableBytes: number;
}

/**
 * Reads MemTotal and MemAvailable. Kernels before 3.14 lack MemAvailable; there the
 * estimate is MemFree + Buffers + Cached, as `free` did before the field existed.
 */
export function parseMeminfo(text: string): MemoryInfo | null {
  const kib = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) kib.set(match[1], Number(match[2]));
  }
  const total = kib.get('MemTotal');
  if (total === undefined) return null;
  const available =
    kib.get('MemAvailable') ??
    (kib.get('MemFree') ?? 0) + (kib.get('Buffers') ?? 0) + (kib.get('Cached') ?? 0);
  return { totalBytes: total * 1024, availableBytes: available * 1024 };
}

/** The 1, 5 and 15 minute load averages from /proc/loadavg ("0.52 0.58 0.59 1/389 12345"). */
export function parseLoadavg(text: string): [number, number, number] | null {
  const [one, five, fifteen] = text.trim().split(/\s+/).map(Number);
  if (one === undefined || five === undefined || fifteen === undefined) return null;
  if (![one, five, fifteen].every((value) => Number.isFinite(value) && value >= 0)) return null;
  return [one, five, fifteen];
}

/** Seconds since boot from /proc/uptime ("350735.47 234388.90"; the second number is idle time). */
export function parseUptime(text: string): number | null {
  const first = text.trim().split(/\s+/)[0];
  if (first === undefined || first === '') return null;
  const seconds = Number(first);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}
