import type { ContextFile } from './context.js';
import { table } from './format.js';

/** One context as `flotilla context` shows it: never the token, only whether one is stored. */
export interface ContextSummary {
  name: string;
  url: string;
  current: boolean;
  hasToken: boolean;
}

/** The `--json` answer of every `flotilla context` command: the file and what it holds now. */
export interface ContextListing {
  file: string;
  current: string | null;
  contexts: ContextSummary[];
}

/** The contexts file without its tokens, contexts sorted by name. */
export function contextListing(file: string, contexts: ContextFile): ContextListing {
  const summaries = Object.entries(contexts.contexts)
    .map(([name, entry]) => ({
      name,
      url: entry.url,
      current: name === contexts.current,
      hasToken: entry.token !== undefined,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { file, current: contexts.current, contexts: summaries };
}

/** The contexts table, the current one marked `*`, then where the file is. */
export function renderContextList(listing: ContextListing): string {
  if (listing.contexts.length === 0) {
    return [
      `no contexts in ${listing.file}`,
      'Add one with: flotilla context add NAME --url URL [--token-file FILE]',
    ].join('\n');
  }
  const rows = listing.contexts.map((c) => [
    c.current ? '*' : '',
    c.name,
    c.url,
    c.hasToken ? 'stored' : 'none',
  ]);
  const lines = [table(['', 'NAME', 'URL', 'TOKEN'], rows), '', `Contexts file: ${listing.file}`];
  if (listing.current === null) {
    lines.push('No context is current; choose one with: flotilla context use NAME');
  }
  return lines.join('\n');
}

/** The line printed after `context add`. */
export function renderContextAdded(
  name: string,
  listing: ContextListing,
  replaced: boolean,
): string {
  const added = listing.contexts.find((c) => c.name === name);
  const token = added?.hasToken === true ? 'token stored' : 'no token stored';
  const current = listing.current === name ? '; it is the current context' : '';
  return `${replaced ? 'replaced' : 'added'} context ${name}: ${added?.url ?? '?'}, ${token}${current}`;
}
