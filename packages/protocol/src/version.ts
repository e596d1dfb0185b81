/**
 * Version of the agent⇄controller wire protocol. Bump on any incompatible message change.
 * 2: agents prove their enrolled Ed25519 identity by signing a challenge (no bearer token);
 * deploy requests carry no signing keys and no health checks (the agent's own config does);
 * the binary cache is read with short-lived credentials asked for over the connection.
 */
export const PROTOCOL_VERSION = 2;

/** Version of the Flotilla software (controller, agent and CLI ship together). */
export const FLOTILLA_VERSION = '0.1.0';

/** Largest agent⇄controller message the application accepts, in bytes. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Compares dotted numeric versions ("1.10.0" > "1.9.3"). Pre-release suffixes after `-`
 * are ignored. Returns a negative number, zero or a positive number like a sort comparator.
 */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string): number[] =>
    (v.split('-')[0] ?? '').split('.').map((part) => Number.parseInt(part, 10) || 0);
  const left = parse(a);
  const right = parse(b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}
