import type { Kysely } from 'kysely';
import type { SqlDialectName } from './dialect.js';

/**
 * The git pipeline: linked repositories, revisions and their evaluations, the build
 * queue with logs, releases, and the binary cache's index of what each host may fetch.
 *
 * @public (run by the migrator through migrations/index.ts)
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .createTable('repositories')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('branch', 'text', (c) => c.notNull())
    .addColumn('flake_dir', 'text', (c) => c.notNull().defaultTo(''))
    // 'none' | 'token' | 'ssh_key'; secrets live in files under the state dir, never here.
    .addColumn('auth_kind', 'text', (c) => c.notNull().defaultTo('none'))
    .addColumn('ssh_key_file', 'text')
    .addColumn('poll_interval_seconds', 'integer', (c) => c.notNull())
    .addColumn('allow_force_push', 'integer', (c) => c.notNull().defaultTo(0))
    // 'config' (locked, from the config file) | 'api'
    .addColumn('source', 'text', (c) => c.notNull())
    // The branch head the pipeline follows; a force push does not move it unless allowed.
    .addColumn('followed_sha', 'text')
    // A rewritten head that is reported but not followed; kept so the report survives
    // restarts and each rewritten head is recorded as an event only once.
    .addColumn('force_push_sha', 'text')
    .addColumn('force_push_at', 'text')
    .addColumn('last_fetch_at', 'text')
    .addColumn('last_fetch_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('revisions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('repository_id', 'text', (c) =>
      c.notNull().references('repositories.id').onDelete('cascade'),
    )
    .addColumn('sha', 'text', (c) => c.notNull())
    // refs/heads/<branch> for the tracked branch, e.g. refs/pull/12/head for a preview
    .addColumn('ref', 'text', (c) => c.notNull())
    // 'branch' | 'preview'
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('committed_at', 'text', (c) => c.notNull())
    .addColumn('discovered_at', 'text', (c) => c.notNull())
    // 'pending' | 'evaluating' | 'evaluated' | 'failed'
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error_text', 'text')
    // {"nixos": {host: drvPath}, "darwin": [names], "home": [names], "hostErrors": {host: text}}
    .addColumn('evaluation_json', 'text')
    .addColumn('evaluated_at', 'text')
    // The tracked-branch revision this one is compared with (for previews: the base).
    .addColumn('base_revision_id', 'text')
    .addUniqueConstraint('revisions_repo_ref_sha', ['repository_id', 'ref', 'sha'])
    .execute();
  await db.schema
    .createIndex('revisions_repo_kind_discovered')
    .on('revisions')
    .columns(['repository_id', 'kind', 'discovered_at'])
    .execute();

  await db.schema
    .createTable('builds')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('revision_id', 'text', (c) =>
      c.notNull().references('revisions.id').onDelete('cascade'),
    )
    // The flake's host name; the host need not be registered.
    .addColumn('host_name', 'text', (c) => c.notNull())
    .addColumn('drv_path', 'text', (c) => c.notNull())
    // 'release' | 'preview'
    .addColumn('kind', 'text', (c) => c.notNull())
    // 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled'
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('builders', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('finished_at', 'text')
    .addColumn('out_path', 'text')
    .addColumn('closure_size', 'bigint')
    .addColumn('error_summary', 'text')
    .addColumn('log_bytes', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('log_truncated', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex('builds_status_created')
    .on('builds')
    .columns(['status', 'created_at'])
    .execute();
  await db.schema.createIndex('builds_drv').on('builds').column('drv_path').execute();

  await db.schema
    .createTable('build_logs')
    .addColumn('build_id', 'text', (c) => c.notNull().references('builds.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('line', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('build_logs_pk', ['build_id', 'seq'])
    .execute();

  await db.schema
    .createTable('releases')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('host_name', 'text', (c) => c.notNull())
    .addColumn('revision_id', 'text', (c) => c.notNull().references('revisions.id'))
    .addColumn('build_id', 'text', (c) => c.notNull().references('builds.id'))
    .addColumn('drv_path', 'text', (c) => c.notNull())
    .addColumn('store_path', 'text', (c) => c.notNull())
    .addColumn('closure_size', 'bigint')
    .addColumn('previous_release_id', 'text')
    // 'publishing' | 'ready' | 'superseded' | 'deployed'
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('releases_host_revision', ['host_name', 'revision_id'])
    .execute();
  await db.schema
    .createIndex('releases_host_created')
    .on('releases')
    .columns(['host_name', 'created_at'])
    .execute();

  // What each host may fetch from the cache: every store path in its releases' closures.
  await db.schema
    .createTable('release_paths')
    .addColumn('release_id', 'text', (c) =>
      c.notNull().references('releases.id').onDelete('cascade'),
    )
    .addColumn('host_name', 'text', (c) => c.notNull())
    // The 32-character hash part of the store path, as used in `<hash>.narinfo`.
    .addColumn('store_hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('release_paths_pk', ['release_id', 'store_hash'])
    .execute();
  await db.schema
    .createIndex('release_paths_host_hash')
    .on('release_paths')
    .columns(['host_name', 'store_hash'])
    .execute();

  // NAR files of the controller's cache and the store paths each holds. NARs are
  // content-addressed: two paths with identical contents share one file, hence the pair key.
  await db.schema
    .createTable('cache_nars')
    .addColumn('nar_file', 'text', (c) => c.notNull())
    .addColumn('store_hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('cache_nars_pk', ['nar_file', 'store_hash'])
    .execute();
  await db.schema.createIndex('cache_nars_hash').on('cache_nars').column('store_hash').execute();

  await db.schema.alterTable('deployments').addColumn('release_id', 'text').execute();
}
