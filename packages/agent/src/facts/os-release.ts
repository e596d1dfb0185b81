import type { OsRelease } from '@flotilla/protocol';

/**
 * Parses /etc/os-release, a shell-compatible KEY=value file
 * (https://www.freedesktop.org/software/systemd/man/os-release.html): values may be
 * unquoted, 'single-quoted' or "double-quoted" with backslash escapes; # starts a comment.
 */
export function parseOsRelease(text: string): OsRelease {
  const values = new Map<string, string>();
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    values.set(match[1], unquote(match[2]));
  }
  const get = (key: string) => {
    const value = values.get(key);
    return value === undefined || value === '' ? null : value;
  };
  return {
    id: get('ID'),
    name: get('NAME'),
    versionId: get('VERSION_ID'),
    prettyName: get('PRETTY_NAME'),
  };
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) {
    return value.slice(1, -1);
  }
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    // Inside double quotes only \\, \", \$ and \` are escapes, as in the shell.
    return value.slice(1, -1).replace(/\\([\\"$`])/g, '$1');
  }
  return value.replace(/\\(.)/g, '$1');
}
