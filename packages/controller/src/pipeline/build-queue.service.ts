import { join } from 'node:path';
import { FlotillaError, type BuildKind } from '@flotilla/protocol';
import type { Logger } from 'pino';
import type { NixAdapter } from '../adapters/nix.js';
import type { Clock } from '@flotilla/runtime';
import type { BuildsConfig } from '../config.js';
import type { LiveEvents } from '../events/event-bus.js';
import type { BuildRepository, BuildRow, BuildStatusValue } from '../storage/build.repository.js';
import type { EventRepository } from '../storage/event.repository.js';
import { newId } from '../support/tokens.js';
import { BuildLogWriter, errorSummary, type BuildLogListener } from './build-log.writer.js';
import { unreachableBuilders } from './builder-ssh.js';

export interface BuildQueueOptions {
  builds: BuildRepository;
  events: EventRepository;
  /** Told about every build that was queued, started or ended (`build.changed`). */
  live: LiveEvents;
  nix: NixAdapter;
  config: BuildsConfig;
  clock: Clock;
  logger: Logger;
  /** Directory for the GC roots that keep built outputs alive. */
  gcRootDir: string;
  /** Called once per build that ends `succeeded` (releases are made there). */
  onSucceeded: (build: BuildRow) => Promise<void>;
}

export interface BuildRequest {
  revisionId: string;
  host: string;
  drvPath: string;
  kind: BuildKind;
}

interface RunningBuild {
  abort: AbortController;
  /** Why it is being stopped, when it is: a cancel ends it, a shutdown requeues it. */
  stopReason: 'cancel' | 'shutdown' | null;
  done: Promise<void>;
}

/**
 * The persistent build queue. Builds are rows first and processes second: a queued
 * build survives a restart, and a build that was running when the controller stopped is
 * queued again on start (Nix reuses whatever it already built), so nothing is lost or
 * built twice by the queue.
 */
export class BuildQueue {
  private readonly running = new Map<string, RunningBuild>();
  private readonly listeners = new Map<string, Set<BuildLogListener>>();
  /** Log writers of running builds, so a new listener also gets the lines not stored yet. */
  private readonly writers = new Map<string, BuildLogWriter>();
  private stopping = false;
  private ticking: Promise<void> = Promise.resolve();

  constructor(private readonly options: BuildQueueOptions) {}

  /** Requeues builds interrupted by a stop, then starts working. */
  async start(): Promise<void> {
    const interrupted = await this.options.builds.requeueRunning();
    for (const build of interrupted) {
      this.options.logger.warn(
        { buildId: build.id, host: build.host_name },
        'build interrupted by a controller stop; queued again',
      );
      const writer = await this.writerFor(build);
      writer.write('[controller restarted during this build; building again]');
      await writer.flush();
    }
    this.tick();
  }

  /**
   * Resolves once nothing is queued or running, including what a finished build set off
   * (its release); for tools and tests that wait for the pipeline to settle.
   */
  async idle(): Promise<void> {
    for (;;) {
      await this.ticking;
      const runs = [...this.running.values()];
      if (runs.length > 0) {
        await Promise.all(runs.map((run) => run.done));
        continue;
      }
      if (this.stopping || (await this.options.builds.nextQueued(1)).length === 0) return;
      this.tick();
    }
  }

  /** Stops taking work and kills running builds; they are queued again on next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const run of this.running.values()) {
      run.stopReason = 'shutdown';
      run.abort.abort();
    }
    await Promise.all([...this.running.values()].map((r) => r.done));
    await this.ticking;
  }

  async enqueue(request: BuildRequest, actor: string): Promise<BuildRow> {
    const { builds, events, clock } = this.options;
    const now = clock.now();
    const id = newId('b', now);
    await builds.insert({
      id,
      revision_id: request.revisionId,
      host_name: request.host,
      drv_path: request.drvPath,
      kind: request.kind,
      status: 'queued',
      attempt: 1,
      builders: this.buildersFor(request.host),
      created_at: now.toISOString(),
    });
    this.changed(id, 'queued');
    await events.append([
      {
        at: now.toISOString(),
        kind: 'build.queued',
        actor,
        hostName: request.host,
        data: { buildId: id, kind: request.kind, drvPath: request.drvPath },
      },
    ]);
    this.tick();
    return this.require(id);
  }

  async cancel(id: string, actor: string): Promise<BuildRow> {
    const build = await this.require(id);
    const now = this.options.clock.now().toISOString();
    if (build.status === 'queued') {
      if (await this.move(id, ['queued'], { status: 'cancelled', finished_at: now })) {
        await this.record('build.cancelled', actor, build);
      }
    } else if (build.status === 'running') {
      const run = this.running.get(id);
      if (run) {
        run.stopReason = 'cancel';
        run.abort.abort();
        await run.done;
      }
      await this.record('build.cancelled', actor, build);
    } else {
      throw new FlotillaError(
        'build_not_cancellable',
        `build ${id} is ${build.status}; only queued or running builds can be cancelled`,
      );
    }
    return this.require(id);
  }

  /** Queues a failed or cancelled build again as a new attempt (a new build row). */
  async retry(id: string, actor: string): Promise<BuildRow> {
    const build = await this.require(id);
    if (build.status !== 'failed' && build.status !== 'cancelled') {
      throw new FlotillaError(
        'build_not_retryable',
        `build ${id} is ${build.status}; only failed or cancelled builds can be retried`,
      );
    }
    const now = this.options.clock.now();
    const retryId = newId('b', now);
    await this.options.builds.insert({
      id: retryId,
      revision_id: build.revision_id,
      host_name: build.host_name,
      drv_path: build.drv_path,
      kind: build.kind,
      status: 'queued',
      attempt: build.attempt + 1,
      builders: this.buildersFor(build.host_name),
      created_at: now.toISOString(),
    });
    this.changed(retryId, 'queued');
    await this.record('build.retried', actor, build, { retryId });
    this.tick();
    return this.require(retryId);
  }

  /**
   * Live log lines of a build, starting with the lines written but not yet stored (a reader
   * of the stored log would miss those); returns the unsubscribe function.
   */
  subscribe(id: string, listener: BuildLogListener): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    for (const line of this.writers.get(id)?.unstored() ?? []) listener(line);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(id);
    };
  }

  async require(id: string): Promise<BuildRow> {
    const build = await this.options.builds.findById(id);
    if (!build) throw new FlotillaError('build_not_found', `no build with id "${id}"`);
    return build;
  }

  private buildersFor(host: string): string | null {
    const { config } = this.options;
    return config.hostBuilders[host] ?? config.builders ?? null;
  }

  /** Starts queued builds while there is room; runs one scheduling pass at a time. */
  private tick(): void {
    this.ticking = this.ticking
      .then(async () => {
        if (this.stopping) return;
        const room = this.options.config.concurrency - this.running.size;
        if (room <= 0) return;
        const queued = await this.options.builds.nextQueued(room + this.running.size);
        for (const build of queued.filter((b) => !this.running.has(b.id)).slice(0, room)) {
          const started = await this.move(build.id, ['queued'], {
            status: 'running',
            started_at: this.options.clock.now().toISOString(),
          });
          if (started) this.launch(build);
        }
      })
      .catch((error: unknown) =>
        this.options.logger.error({ err: error }, 'build scheduling failed'),
      );
  }

  private launch(build: BuildRow): void {
    const run: RunningBuild = {
      abort: new AbortController(),
      stopReason: null,
      done: Promise.resolve(),
    };
    this.running.set(build.id, run);
    run.done = this.execute(build, run)
      .catch((error: unknown) =>
        this.options.logger.error({ err: error, buildId: build.id }, 'build crashed'),
      )
      .finally(() => {
        this.running.delete(build.id);
        this.tick();
      });
  }

  private async execute(build: BuildRow, run: RunningBuild): Promise<void> {
    const writer = await this.writerFor(build);
    this.writers.set(build.id, writer);
    try {
      await this.realise(build, run, writer);
    } finally {
      this.writers.delete(build.id);
    }
  }

  private async realise(build: BuildRow, run: RunningBuild, writer: BuildLogWriter): Promise<void> {
    const { nix, config, clock, logger } = this.options;
    logger.info({ buildId: build.id, host: build.host_name, drv: build.drv_path }, 'build started');
    writer.write(
      `building ${build.drv_path} for ${build.host_name}${build.builders ? ` on ${build.builders}` : ' locally'} (attempt ${build.attempt})`,
    );
    const result = await nix.realise(build.drv_path, {
      builders: build.builders,
      remoteOnly: config.remoteOnly,
      buildersUseSubstitutes: config.buildersUseSubstitutes,
      gcRoot: join(this.options.gcRootDir, build.id),
      onLine: (line) => writer.write(line),
      signal: run.abort.signal,
      timeoutMs: config.timeoutSeconds * 1000,
    });
    const finishedAt = clock.now().toISOString();
    if (result.ok) {
      const closureSize = await nix.closureSize(result.outPath);
      writer.write(`built ${result.outPath}`);
      await writer.flush();
      await this.move(build.id, ['running'], {
        status: 'succeeded',
        finished_at: finishedAt,
        out_path: result.outPath,
        closure_size: closureSize,
      });
      await this.record('build.succeeded', 'pipeline', build, { outPath: result.outPath });
      await this.options.onSucceeded(await this.require(build.id));
      return;
    }
    if (result.reason === 'cancelled' && run.stopReason === 'shutdown') {
      writer.write('[controller stopping: build interrupted, it will run again on start]');
      await writer.flush();
      await this.move(build.id, ['running'], { status: 'queued', started_at: null });
      return;
    }
    const status = result.reason === 'cancelled' ? 'cancelled' : 'failed';
    const summary =
      result.reason === 'timeout'
        ? `build timed out after ${config.timeoutSeconds} s and was stopped`
        : result.reason === 'cancelled'
          ? 'build cancelled'
          : failureSummary(result.result.stderr, result.result.exitCode);
    writer.write(
      status === 'failed' ? `build failed: ${summary.split('\n')[0]}` : 'build cancelled',
    );
    await writer.flush();
    await this.move(build.id, ['running'], {
      status,
      finished_at: finishedAt,
      error_summary: summary,
    });
    if (status === 'failed')
      await this.record('build.failed', 'pipeline', build, { error: summary.split('\n')[0] });
  }

  /** Moves a build from one of `from` to `changes.status`; says whether it moved. */
  private async move(
    id: string,
    from: readonly BuildStatusValue[],
    changes: Parameters<BuildRepository['transition']>[2] & { status: BuildStatusValue },
  ): Promise<boolean> {
    const moved = await this.options.builds.transition(id, from, changes);
    if (moved) this.changed(id, changes.status);
    return moved;
  }

  private changed(id: string, status: BuildStatusValue): void {
    this.options.live.publish({ type: 'build.changed', id, status });
  }

  private async writerFor(build: BuildRow): Promise<BuildLogWriter> {
    return new BuildLogWriter({
      buildId: build.id,
      builds: this.options.builds,
      clock: this.options.clock,
      limitBytes: this.options.config.logLimitBytes,
      startSeq: (await this.options.builds.lastLogSeq(build.id)) + 1,
      startBytes: build.log_bytes,
      truncated: build.log_truncated === 1,
      listeners: () => this.listeners.get(build.id) ?? [],
    });
  }

  private async record(
    kind: string,
    actor: string,
    build: BuildRow,
    data: Record<string, unknown> = {},
  ): Promise<void> {
    await this.options.events.append([
      {
        at: this.options.clock.now().toISOString(),
        kind,
        actor,
        hostName: build.host_name,
        data: { buildId: build.id, ...data },
      },
    ]);
  }
}

/**
 * A failed build's summary: Nix's error, after what it said of builders it could not reach
 * (when none is left, Nix's own last words only blame missing system features).
 */
function failureSummary(stderr: string, exitCode: number | null): string {
  const error = errorSummary(stderr) ?? `nix-store --realise exited with ${exitCode}`;
  const unreachable = unreachableBuilders(stderr);
  if (unreachable.length === 0) return error;
  return [
    `remote builder unreachable: ${unreachable[0]!.slice('cannot build on '.length)}`,
    ...unreachable.slice(1),
    error,
  ].join('\n');
}
