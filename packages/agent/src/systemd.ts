import { existsSync } from 'node:fs';

/** Exists exactly when systemd is the running init (what sd_booted(3) checks). */
export const SYSTEMD_RUNTIME_DIR = '/run/systemd/system';

/** Whether systemd runs this host. */
export function systemdRunning(runtimeDir = SYSTEMD_RUNTIME_DIR): boolean {
  return existsSync(runtimeDir);
}

/** At most this many failed units are reported (the protocol's limit). */
const MAX_FAILED_UNITS = 500;

/**
 * Parses `systemctl list-units --failed --output=json`: an array of objects whose `unit`
 * field names the unit. Null when the text is not such an array (e.g. a systemd older
 * than 246, which has no JSON output).
 */
export function parseFailedUnits(text: string): string[] | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(data)) return null;
  const units: string[] = [];
  for (const entry of data as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const unit: unknown = (entry as Record<string, unknown>).unit;
    if (typeof unit === 'string' && unit !== '') units.push(unit);
  }
  return units.sort().slice(0, MAX_FAILED_UNITS);
}

/** `systemctl` arguments whose output {@link parseFailedUnits} reads. */
export const FAILED_UNITS_ARGS = ['list-units', '--failed', '--output=json', '--no-pager'];
