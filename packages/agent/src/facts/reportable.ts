import { isStorePath } from '@flotilla/protocol';

/**
 * Values as the controller accepts them (see the protocol's `Facts`): it refuses a whole
 * facts report over one odd value, so the agent reports what it cannot vouch for as unknown
 * rather than not at all.
 */

/** A store path, or null for anything else (a link into a non-Nix tree, say). */
export function asStorePath(path: string | null): string | null {
  return path !== null && isStorePath(path) ? path : null;
}

// Control characters and the invisible marks that reorder text.
const NOT_PLAIN = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Text on one line of at most `max` characters: other characters become spaces. */
export function plain(value: string, max: number): string;
export function plain(value: string | null, max: number): string | null;
export function plain(value: string | null, max: number): string | null {
  return value === null ? null : value.replace(NOT_PLAIN, ' ').slice(0, max);
}
