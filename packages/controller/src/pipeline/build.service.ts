import {
  FlotillaError,
  type Build,
  type BuildList,
  type BuildListQuery,
  type BuildLogPage,
  type LogQuery,
} from '@flotilla/protocol';
import type { BuildRepository, BuildRow } from '../storage/build.repository.js';
import type { BuildLogListener } from './build-log.writer.js';
import type { BuildQueue } from './build-queue.service.js';

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** What the API offers on builds: reads, live logs, cancel and retry. */
export class BuildService {
  constructor(private readonly options: { builds: BuildRepository; queue: BuildQueue }) {}

  async list(query: BuildListQuery): Promise<BuildList> {
    return { builds: (await this.options.builds.list(query)).map(toBuild) };
  }

  async get(id: string): Promise<Build> {
    return toBuild(await this.options.queue.require(id));
  }

  async readLog(id: string, query: LogQuery): Promise<BuildLogPage> {
    const build = await this.options.queue.require(id);
    const lines = await this.options.builds.readLog(id, query.after, query.limit);
    return {
      lines,
      last: lines.at(-1)?.seq ?? query.after,
      status: build.status,
      errorSummary: build.error_summary,
      truncated: build.log_truncated === 1,
    };
  }

  async cancel(id: string, actor: string): Promise<Build> {
    return toBuild(await this.options.queue.cancel(id, actor));
  }

  async retry(id: string, actor: string): Promise<Build> {
    return toBuild(await this.options.queue.retry(id, actor));
  }

  isFinal(build: BuildRow): boolean {
    return FINAL.has(build.status);
  }

  subscribe(id: string, listener: BuildLogListener): () => void {
    return this.options.queue.subscribe(id, listener);
  }

  async require(id: string): Promise<BuildRow> {
    const build = await this.options.builds.findById(id);
    if (!build) throw new FlotillaError('build_not_found', `no build with id "${id}"`);
    return build;
  }
}

export function toBuild(row: BuildRow): Build {
  return {
    id: row.id,
    revisionId: row.revision_id,
    host: row.host_name,
    drvPath: row.drv_path,
    kind: row.kind,
    status: row.status,
    attempt: row.attempt,
    builders: row.builders,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    outPath: row.out_path,
    closureSize: row.closure_size === null ? null : Number(row.closure_size),
    errorSummary: row.error_summary,
    logBytes: row.log_bytes,
    logTruncated: row.log_truncated === 1,
  };
}
