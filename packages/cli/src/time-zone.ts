import type { CliEnv } from './context.js';
import { CliError } from './errors.js';

/**
 * The IANA name Intl uses for `name` (`Europe/Vienna`; `Etc/UTC` and `UTC` both read `UTC`),
 * or undefined when Intl does not know it. A leading colon, as glibc allows in `TZ`, is
 * ignored.
 */
export function canonicalTimeZone(name: string): string | undefined {
  const bare = name.startsWith(':') ? name.slice(1) : name;
  if (bare === '') return undefined;
  try {
    const zone = new Intl.DateTimeFormat('en-US', { timeZone: bare }).resolvedOptions().timeZone;
    return ['Etc/UTC', 'Etc/Universal', 'Etc/Zulu', 'Universal', 'Zulu'].includes(zone)
      ? 'UTC'
      : zone;
  } catch {
    return undefined;
  }
}

/** `FLOTILLA_UTC` as a switch: 1/true/yes/on or 0/false/no/off; unset or empty is off. */
function utcFromEnv(value: string | undefined): boolean {
  const normal = (value ?? '').trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normal)) return true;
  if (['', '0', 'false', 'no', 'off'].includes(normal)) return false;
  throw new CliError('invalid_setting', `FLOTILLA_UTC must be 1 or 0 (got "${value ?? ''}")`);
}

/**
 * The zone the CLI shows absolute times in: UTC with `--utc` or `FLOTILLA_UTC=1`, else the
 * zone `TZ` names, else `systemZone` (the process's zone as Intl found it). A `TZ` Intl does
 * not know by name (a POSIX rule such as `CET-1CEST`) falls back to `systemZone` too.
 */
export function resolveTimeZone(flags: { utc: boolean }, env: CliEnv, systemZone: string): string {
  if (flags.utc || utcFromEnv(env.FLOTILLA_UTC)) return 'UTC';
  const fromEnv = env.TZ === undefined ? undefined : canonicalTimeZone(env.TZ);
  return fromEnv ?? canonicalTimeZone(systemZone) ?? 'UTC';
}

/** The zone Intl reports for this process, i.e. `TZ` or the system's. */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
