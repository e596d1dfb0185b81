import type { Logger } from 'pino';
import type { Clock } from '@flotilla/runtime';
import type { GitClient } from '../git/git.client.js';
import type { EventRepository } from '../storage/event.repository.js';
import type { RevisionRepository, RevisionRow } from '../storage/revision.repository.js';
import { newId } from '../support/tokens.js';

export interface RevisionRecorderOptions {
  revisions: RevisionRepository;
  events: EventRepository;
  clock: Clock;
  logger: Logger;
}

export interface RecordRevisionInput {
  git: GitClient;
  repositoryId: string;
  ref: string;
  sha: string;
  kind: RevisionRow['kind'];
  baseRevisionId: string | null;
  /** Who caused the discovery: `git` for syncs, the admin for requested previews. */
  actor: string;
  /** What started it (startup, poll, webhook, api, preview request). */
  reason: string;
}

/** Records a discovered commit as a revision, once per repository, ref and sha. */
export class RevisionRecorder {
  constructor(private readonly options: RevisionRecorderOptions) {}

  async record(input: RecordRevisionInput): Promise<{ row: RevisionRow; created: boolean }> {
    const { revisions, events, clock, logger } = this.options;
    const known = await revisions.findByRef(input.repositoryId, input.ref, input.sha);
    if (known) return { row: known, created: false };
    const commit = await input.git.commitInfo(input.sha);
    const now = clock.now();
    const result = await revisions.insertIfAbsent({
      id: newId('rv', now),
      repository_id: input.repositoryId,
      sha: input.sha,
      ref: input.ref,
      kind: input.kind,
      message: commit.message,
      author: commit.author,
      committed_at: commit.committedAt,
      discovered_at: now.toISOString(),
      status: 'pending',
      error_text: null,
      evaluation_json: null,
      evaluated_at: null,
      base_revision_id: input.baseRevisionId,
    });
    if (result.created) {
      const { row } = result;
      await events.append([
        {
          at: row.discovered_at,
          kind: 'revision.discovered',
          actor: input.actor,
          data: {
            repositoryId: row.repository_id,
            revisionId: row.id,
            kind: row.kind,
            ref: row.ref,
            sha: row.sha,
            reason: input.reason,
          },
        },
      ]);
      logger.info(
        {
          repository: row.repository_id,
          revisionId: row.id,
          kind: row.kind,
          ref: row.ref,
          sha: row.sha,
        },
        'revision recorded',
      );
    }
    return result;
  }

  /** The tracked-branch revision at `sha`, if one was recorded. */
  async branchRevisionId(
    repositoryId: string,
    branch: string,
    sha: string | null,
  ): Promise<string | null> {
    if (sha === null) return null;
    const row = await this.options.revisions.findByRef(repositoryId, `refs/heads/${branch}`, sha);
    return row?.id ?? null;
  }
}
