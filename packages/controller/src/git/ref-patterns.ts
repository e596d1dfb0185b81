// Ref patterns as the config writes them, e.g. refs/pull/*/head. A `*` matches one or more
// characters, `/` included, as in a git refspec, so that what is fetched and what is matched
// agree.

function patternRegExp(pattern: string): RegExp {
  const parts = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.+')}$`);
}

/** Whether `ref` matches `pattern`. */
export function refMatches(pattern: string, ref: string): boolean {
  return patternRegExp(pattern).test(ref);
}

/** Whether `ref` matches any of `patterns`. */
export function refMatchesAny(patterns: readonly string[], ref: string): boolean {
  return patterns.some((pattern) => refMatches(pattern, ref));
}

/**
 * Fetch refspecs that bring every ref matching `patterns` into the mirror under the same
 * name. A refspec may hold only one `*`, so patterns with several are fetched by the prefix
 * before their first `*` (and narrowed by {@link refMatches} afterwards). An exact ref
 * becomes `<ref>*`: git treats a missing exact source as an error that would fail the whole
 * fetch, while a glob matching nothing is fine (and `*` also matches the empty string there).
 */
export function refspecsFor(patterns: readonly string[]): string[] {
  const specs = patterns.map((pattern) => {
    const star = pattern.indexOf('*');
    const glob = star < 0 ? `${pattern}*` : `${pattern.slice(0, star)}*${onlyIfSingle(pattern)}`;
    return `+${glob}:${glob}`;
  });
  return [...new Set(specs)];
}

/** The rest of a pattern after its only `*`; empty when there are more (fetch the prefix). */
function onlyIfSingle(pattern: string): string {
  const star = pattern.indexOf('*');
  const rest = pattern.slice(star + 1);
  return rest.includes('*') ? '' : rest;
}

/** The refspec that mirrors one branch. */
export function branchRefspec(branch: string): string {
  return `+refs/heads/${branch}:refs/heads/${branch}`;
}

/** The prefix before a pattern's first `*` (the whole pattern when it has none). */
export function patternPrefix(pattern: string): string {
  const star = pattern.indexOf('*');
  return star < 0 ? pattern : pattern.slice(0, star);
}
