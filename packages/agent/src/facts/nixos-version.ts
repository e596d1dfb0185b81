/** What `nixos-version --json` tells about a system. */
export interface SystemVersion {
  nixosVersion: string | null;
  configurationRevision: string | null;
}

/** Parses `nixos-version --json` output; fields that are absent or not strings become null. */
export function parseNixosVersionJson(text: string): SystemVersion | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null) return null;
  const field = (name: string): string | null => {
    const value: unknown = (data as Record<string, unknown>)[name];
    return typeof value === 'string' && value !== '' ? value : null;
  };
  return {
    nixosVersion: field('nixosVersion'),
    configurationRevision: field('configurationRevision'),
  };
}
