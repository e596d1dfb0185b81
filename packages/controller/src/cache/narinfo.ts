import { isNarFileName } from './cache-names.js';

/** The fields of a `.narinfo` file (one `Key: value` per line), as written by `nix copy`. */
export function parseNarinfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(': ');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 2).trim());
  }
  return fields;
}

/**
 * The NAR file name a narinfo points to (its `URL: nar/<file>` line), or undefined when the
 * URL is missing or is not a plain file in `nar/` (this cache never writes anything else).
 */
export function narFileOf(narinfo: string): string | undefined {
  const url = parseNarinfo(narinfo).get('URL');
  if (url === undefined || !url.startsWith('nar/')) return undefined;
  const file = url.slice('nar/'.length);
  return isNarFileName(file) ? file : undefined;
}
