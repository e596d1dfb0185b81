import type { Facts } from '@flotilla/protocol';

/**
 * True when two fact sets differ in anything but `metrics` and `collectedAt`, the parts
 * that change on every read and travel with heartbeats instead.
 */
export function factsChanged(previous: Facts | null, next: Facts): boolean {
  if (previous === null) return true;
  return stableFingerprint(previous) !== stableFingerprint(next);
}

function stableFingerprint(facts: Facts): string {
  // JSON.stringify leaves out undefined properties.
  return JSON.stringify({ ...facts, metrics: undefined, collectedAt: undefined }, sortKeys);
}

/** Sorts object keys so the fingerprint does not depend on property order. */
function sortKeys(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}
