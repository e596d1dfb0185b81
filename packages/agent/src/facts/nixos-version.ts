/** What `nixos-version --json` tells about a system. */
export interface SystemVersion {
  nixosVersion: string | null;
  configurationRevision: string | null;
}

/** Parses `nixos-version --json` output; fields that are absent or not strings become null. */
export function parseNixosVersionJson(text: string): SystemVersion | null {
  const field = jsonStringFields(text);
  if (field === null) return null;
  return {
    nixosVersion: field('nixosVersion'),
    configurationRevision: field('configurationRevision'),
  };
}

/**
 * A JSON object's text as a reader of its string fields (absent, empty or not a string:
 * null); null when the text is not a JSON object. For the version files systems carry.
 */
export function jsonStringFields(text: string): ((name: string) => string | null) | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null) return null;
  return (name) => {
    const value: unknown = (data as Record<string, unknown>)[name];
    return typeof value === 'string' && value !== '' ? value : null;
  };
}
