import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlotillaError } from '@flotilla/protocol';
import type { GitAuth } from '../git/git.client.js';
import type { RepositoryLinkRow } from '../storage/repository-link.repository.js';

export interface RepositoryCredentialsOptions {
  stateDir: string;
  /** The token from the config (tokenFile or env), for the config-linked repository. */
  configToken?: string | undefined;
}

/**
 * Where repository secrets live: a token linked through the API is kept in a 0600 file in
 * the state directory, never in the database; a config token stays in memory as read.
 */
export class RepositoryCredentials {
  constructor(private readonly options: RepositoryCredentialsOptions) {}

  /** The private directory of one repository: mirror, token, credential helper. */
  directory(repositoryId: string): string {
    return join(this.options.stateDir, 'repositories', repositoryId);
  }

  async saveToken(repositoryId: string, token: string): Promise<void> {
    const dir = this.directory(repositoryId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temporary = join(dir, `token.${process.pid}.tmp`);
    await writeFile(temporary, `${token}\n`, { mode: 0o600 });
    await rename(temporary, this.tokenPath(repositoryId));
  }

  async removeToken(repositoryId: string): Promise<void> {
    await rm(this.tokenPath(repositoryId), { force: true });
  }

  /** The credentials git needs for a repository as linked. */
  async authFor(row: RepositoryLinkRow): Promise<GitAuth> {
    const auth: GitAuth = {};
    if (row.ssh_key_file !== null) auth.sshKeyFile = row.ssh_key_file;
    if (row.source === 'config') {
      if (this.options.configToken !== undefined) auth.token = this.options.configToken;
    } else if (row.auth_kind === 'token') {
      auth.token = await this.readToken(row.id);
    }
    return auth;
  }

  private async readToken(repositoryId: string): Promise<string> {
    try {
      return (await readFile(this.tokenPath(repositoryId), 'utf8')).trim();
    } catch (error) {
      throw new FlotillaError(
        'git_failed',
        `the repository's token file is unreadable (${(error as NodeJS.ErrnoException).code ?? 'error'}); link the repository again`,
      );
    }
  }

  private tokenPath(repositoryId: string): string {
    return join(this.directory(repositoryId), 'token');
  }
}
