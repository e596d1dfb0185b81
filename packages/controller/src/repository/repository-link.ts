import { FlotillaError, type LinkRepositoryRequest } from '@flotilla/protocol';
import type { Logger } from 'pino';
import type { Clock } from '@flotilla/runtime';
import type { RepositoryConfig } from '../config.js';
import { redactUrlCredentials } from '../git/redact.js';
import type { EventRepository } from '../storage/event.repository.js';
import type {
  RepositoryLinkRepository,
  RepositoryLinkRow,
} from '../storage/repository-link.repository.js';
import type { RepositoryCredentials } from './repository-credentials.js';

/** What writing a link needs. */
export interface LinkDeps {
  id: string;
  links: RepositoryLinkRepository;
  events: EventRepository;
  credentials: RepositoryCredentials;
  clock: Clock;
  logger: Logger;
}

type LinkFields = Pick<
  RepositoryLinkRow,
  | 'url'
  | 'branch'
  | 'flake_dir'
  | 'auth_kind'
  | 'ssh_key_file'
  | 'poll_interval_seconds'
  | 'allow_force_push'
  | 'source'
>;

/**
 * Makes the stored link match the config file, which owns it while it names a repository.
 * When the config stops naming one, the stored link stays (its revisions are history) and
 * becomes the API's to change.
 */
export async function reconcileConfigLink(
  deps: LinkDeps,
  config: RepositoryConfig | undefined,
  token: string | undefined,
): Promise<void> {
  const { id, links, logger, clock } = deps;
  const current = await links.find(id);
  if (config === undefined) {
    if (current?.source === 'config') {
      await links.update(id, { source: 'api', updated_at: clock.now().toISOString() });
      logger.warn(
        { repository: id },
        'the config no longer names a repository; the stored link stays and the API may change it',
      );
    }
    return;
  }
  // The config's token stays in memory; a token file from an earlier API link is obsolete.
  if (current?.source === 'api') await deps.credentials.removeToken(id);
  await writeLink(deps, current, 'config', {
    url: config.url,
    branch: config.branch,
    flake_dir: config.flakeDir,
    auth_kind: token !== undefined ? 'token' : config.sshKeyFile !== undefined ? 'ssh_key' : 'none',
    ssh_key_file: config.sshKeyFile ?? null,
    poll_interval_seconds: config.pollIntervalSeconds,
    allow_force_push: config.allowForcePush ? 1 : 0,
    source: 'config',
  });
}

/** Links the repository as the API asks; refused while the config owns the link. */
export async function saveApiLink(
  deps: LinkDeps,
  request: LinkRepositoryRequest,
  actor: string,
): Promise<RepositoryLinkRow> {
  const { id, links, credentials } = deps;
  const current = await links.find(id);
  if (current?.source === 'config') {
    throw new FlotillaError(
      'repository_locked',
      'the repository is linked in the config file; change it there',
    );
  }
  // The token goes to a file only the controller reads; the database never sees it.
  if (request.token !== undefined) await credentials.saveToken(id, request.token);
  else await credentials.removeToken(id);
  await writeLink(deps, current, actor, {
    url: request.url,
    branch: request.branch,
    flake_dir: request.flakeDir,
    auth_kind:
      request.token !== undefined ? 'token' : request.sshKeyFile !== undefined ? 'ssh_key' : 'none',
    ssh_key_file: request.sshKeyFile ?? null,
    poll_interval_seconds: request.pollIntervalSeconds,
    allow_force_push: request.allowForcePush ? 1 : 0,
    source: 'api',
  });
  const row = await links.find(id);
  if (!row) throw new FlotillaError('internal_error', 'repository link vanished after saving');
  return row;
}

async function writeLink(
  deps: LinkDeps,
  current: RepositoryLinkRow | undefined,
  actor: string,
  fields: LinkFields,
): Promise<void> {
  const { id, links, events, clock, logger } = deps;
  const now = clock.now().toISOString();
  // Another repository or branch starts over: its first head is recorded, not compared.
  const retarget = !current || current.url !== fields.url || current.branch !== fields.branch;
  const reset = { followed_sha: null, force_push_sha: null, force_push_at: null };
  if (!current) {
    await links.insert({
      id,
      ...fields,
      ...reset,
      last_fetch_at: null,
      last_fetch_error: null,
      created_at: now,
      updated_at: now,
    });
  } else {
    const patch = { ...fields, updated_at: now };
    await links.update(id, retarget ? { ...patch, ...reset, last_fetch_error: null } : patch);
  }
  const unchanged = current !== undefined && sameLink(current, fields);
  if (unchanged) return;
  const url = redactUrlCredentials(fields.url);
  await events.append([
    {
      at: now,
      kind: 'repository.linked',
      actor,
      data: {
        repositoryId: id,
        url,
        branch: fields.branch,
        flakeDir: fields.flake_dir,
        source: fields.source,
        authKind: fields.auth_kind,
        allowForcePush: fields.allow_force_push === 1,
        retarget,
      },
    },
  ]);
  logger.info(
    { repository: id, url, branch: fields.branch, source: fields.source },
    'repository linked',
  );
}

function sameLink(row: RepositoryLinkRow, fields: LinkFields): boolean {
  return (Object.keys(fields) as (keyof LinkFields)[]).every(
    (key) => String(row[key]) === String(fields[key]),
  );
}
