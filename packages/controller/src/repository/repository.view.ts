import type { Repository, Revision } from '@flotilla/protocol';
import { redactUrlCredentials } from '../git/redact.js';
import type { RepositoryLinkRow } from '../storage/repository-link.repository.js';
import type { RevisionRow } from '../storage/revision.repository.js';

/** The API's view of a linked repository: credentials removed, booleans as booleans. */
export function toRepository(row: RepositoryLinkRow): Repository {
  return {
    id: row.id,
    url: redactUrlCredentials(row.url),
    branch: row.branch,
    flakeDir: row.flake_dir,
    source: row.source,
    locked: row.source === 'config',
    authKind: row.auth_kind,
    pollIntervalSeconds: row.poll_interval_seconds,
    allowForcePush: Number(row.allow_force_push) === 1,
    followedSha: row.followed_sha,
    lastFetchAt: row.last_fetch_at,
    lastFetchError: row.last_fetch_error,
    forcePushBlocked:
      row.force_push_sha !== null && row.force_push_at !== null
        ? { sha: row.force_push_sha, at: row.force_push_at }
        : null,
  };
}

/** The API's view of a revision; the evaluation is passed through as the pipeline stored it. */
export function toRevision(row: RevisionRow): Revision {
  return {
    id: row.id,
    sha: row.sha,
    ref: row.ref,
    kind: row.kind,
    message: row.message,
    author: row.author,
    committedAt: row.committed_at,
    discoveredAt: row.discovered_at,
    status: row.status,
    errorText: row.error_text,
    evaluatedAt: row.evaluated_at,
    baseRevisionId: row.base_revision_id,
    evaluation: parseJson(row.evaluation_json),
  };
}

function parseJson(json: string | null): unknown {
  if (json === null) return null;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return null;
  }
}
