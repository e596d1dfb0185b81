/** The audit page's filters as the URL holds them (times as typed, in the browser's zone). */
export interface AuditPageFilter {
  host: string;
  kind: string;
  actor: string;
  /** `datetime-local` values; empty for open. */
  from: string;
  to: string;
}

/** What `listAudit` is asked for: empty filters left out, typed times as UTC instants. */
export interface AuditApiFilter {
  host?: string;
  kind?: string;
  actor?: string;
  since?: string;
  until?: string;
}

/**
 * The page's filters as the API's: all of them are applied by the controller, so paging goes
 * through every entry that matches, not only those loaded. `to` includes its whole minute. A
 * range that ends before it starts is swapped rather than refused.
 */
export function auditApiFilter(filter: AuditPageFilter): AuditApiFilter {
  const from = parseLocalTime(filter.from);
  const toStart = parseLocalTime(filter.to);
  const to = toStart === null ? null : toStart + 59_999;
  const [since, until] = from !== null && to !== null && from > to ? [to, from] : [from, to];
  const actor = filter.actor.trim();
  const kind = filter.kind.trim();
  return {
    ...(filter.host === '' ? {} : { host: filter.host }),
    ...(kind === '' ? {} : { kind }),
    ...(actor === '' ? {} : { actor }),
    ...(since === null ? {} : { since: new Date(since).toISOString() }),
    ...(until === null ? {} : { until: new Date(until).toISOString() }),
  };
}

/**
 * A `datetime-local` value (the browser's zone, as people type it) as epoch milliseconds;
 * null when empty or not a time.
 */
export function parseLocalTime(value: string): number | null {
  if (value.trim() === '') return null;
  const time = new Date(value).getTime();
  return Number.isNaN(time) ? null : time;
}
