import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateToken } from '../support/tokens.js';

export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * Returns the admin API token, creating it on first start. The file is created with
 * mode 0600 atomically (`wx`), so the token is never readable by other users, even briefly.
 */
export function loadOrCreateAdminToken(stateDir: string): {
  token: string;
  created: boolean;
  path: string;
} {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  // The state directory holds the database, tokens and the cache's signing key: only the
  // controller's user may even list it, whatever it was created with.
  chmodSync(stateDir, 0o700);
  const path = join(stateDir, ADMIN_TOKEN_FILE);
  if (existsSync(path)) {
    chmodSync(path, 0o600);
    const token = readFileSync(path, 'utf8').trim();
    if (token.length < 20)
      throw new Error(`${path} does not hold a valid token; delete it to create a new one`);
    return { token, created: false, path };
  }
  const token = generateToken('flt_admin');
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, created: true, path };
}
