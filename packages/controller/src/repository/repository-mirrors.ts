import type { Clock } from '@flotilla/runtime';
import { GitClient, mirrorPath, type GitClientOptions } from '../git/git.client.js';
import { redact } from '../git/redact.js';
import type {
  RepositoryLinkRepository,
  RepositoryLinkRow,
} from '../storage/repository-link.repository.js';
import type { RepositoryCredentials } from './repository-credentials.js';

export interface RepositoryMirrorsOptions {
  stateDir: string;
  /** The environment git starts from. */
  childEnv: Record<string, string>;
  credentials: RepositoryCredentials;
  links: RepositoryLinkRepository;
  clock: Clock;
  /** Builds a mirror's git client; replaceable for tests. */
  gitClient?: ((options: GitClientOptions) => GitClient) | undefined;
}

/** A mirror's git client and the token it uses (for redacting it from other errors). */
export interface MirrorClient {
  client: GitClient;
  token: string | undefined;
}

/** The git client of each repository's mirror, rebuilt when its URL or credentials change. */
export class RepositoryMirrors {
  private readonly clients = new Map<string, { key: string; client: GitClient }>();

  constructor(private readonly options: RepositoryMirrorsOptions) {}

  /** The client for a link as stored now; an unreadable token is recorded as a fetch error. */
  async clientFor(link: RepositoryLinkRow): Promise<MirrorClient> {
    const { credentials, links, clock, stateDir } = this.options;
    let auth;
    try {
      auth = await credentials.authFor(link);
    } catch (error) {
      const at = clock.now().toISOString();
      const message = redact((error as Error).message);
      await links.update(link.id, { last_fetch_at: at, last_fetch_error: message, updated_at: at });
      throw error;
    }
    const key = JSON.stringify([
      link.url,
      link.source,
      auth.sshKeyFile ?? null,
      auth.token ?? null,
    ]);
    let entry = this.clients.get(link.id);
    if (entry?.key !== key) {
      const options: GitClientOptions = {
        gitDir: mirrorPath(stateDir, link.id),
        url: link.url,
        origin: link.source === 'config' ? 'config' : 'api',
        auth,
        helperDir: credentials.directory(link.id),
        baseEnv: this.options.childEnv,
      };
      entry = { key, client: (this.options.gitClient ?? ((o) => new GitClient(o)))(options) };
      this.clients.set(link.id, entry);
    }
    return { client: entry.client, token: auth.token };
  }
}
