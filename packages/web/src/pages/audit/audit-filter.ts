import type { AuditEntry } from '@flotilla/protocol';

/** What the page filters loaded entries by, beyond the API's host and kind. */
export interface AuditLocalFilter {
  /** Part of the actor (`admin`, `policy:auto`, `token ci`), any case. */
  actor: string;
  /** Inclusive bounds, as epoch milliseconds; null for open. */
  from: number | null;
  to: number | null;
}

/** The entries that match the actor and time range. */
export function filterAudit(
  entries: readonly AuditEntry[],
  filter: AuditLocalFilter,
): AuditEntry[] {
  const actor = filter.actor.trim().toLowerCase();
  return entries.filter((entry) => {
    if (actor !== '' && !entry.actor.toLowerCase().includes(actor)) return false;
    const at = new Date(entry.at).getTime();
    if (filter.from !== null && at < filter.from) return false;
    if (filter.to !== null && at > filter.to) return false;
    return true;
  });
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

/** The oldest loaded entry is newer than `from`: older pages may hold more matches. */
export function mayHaveOlder(entries: readonly AuditEntry[], from: number | null): boolean {
  const oldest = entries[entries.length - 1];
  if (oldest === undefined) return false;
  return from === null || new Date(oldest.at).getTime() >= from;
}
