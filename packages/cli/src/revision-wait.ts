import type { RevisionPipelineStatus, WaitStage } from '@flotilla/protocol';
import type { ApiClient } from './api-client.js';
import { ApiError } from './errors.js';
import { decideWait, type WaitOutcome } from './wait-outcome.js';

/** How often the status is read again when no live event says something changed. */
export const POLL_INTERVAL_MS = 2_000;
/** With the live event stream open, a read this often anyway (an event may be missed). */
export const STREAM_POLL_INTERVAL_MS = 15_000;

/** Live events that cannot move a commit through the pipeline: no reason to read again. */
const IRRELEVANT_EVENTS = new Set(['hosts.changed', 'deployment.log', 'ready']);

export interface WaitOptions {
  target: WaitStage;
  /** Only these hosts; default: every host the commit concerns (see `decideWait`). */
  hosts?: readonly string[] | undefined;
  timeoutMs: number;
  /** Called with each outcome read while still pending, e.g. to print progress. */
  onProgress?: (outcome: WaitOutcome) => void;
  /** Poll only, without the live event stream (default: follow it when offered). */
  pollOnly?: boolean;
}

/**
 * Follows one commit (`selector`: a revision id, a commit id or prefix, `HEAD`, a previewed
 * ref) through the pipeline until every counted host reached `target`, one failed, or the
 * time is up. It reads `GET /api/v1/revisions/:rev/status` again whenever a live event says
 * a build, release, deployment or revision changed, and every few seconds regardless; a
 * commit the controller has not recorded yet is waited for too.
 */
export async function waitForRevision(
  client: ApiClient,
  selector: string,
  options: WaitOptions,
): Promise<WaitOutcome> {
  const deadline = Date.now() + options.timeoutMs;
  const wakeUp = new WakeUp();
  const stop = new AbortController();
  let streaming = false;
  if (options.pollOnly !== true) {
    void client
      .liveEvents(stop.signal, (name) => {
        streaming = true;
        if (!IRRELEVANT_EVENTS.has(name)) wakeUp.notify();
      })
      .catch(() => undefined)
      .finally(() => {
        streaming = false;
      });
  }
  try {
    for (;;) {
      wakeUp.reset();
      const outcome = decideWait(await readStatus(client, selector), options.target, options.hosts);
      if (outcome.state !== 'pending') return outcome;
      const left = deadline - Date.now();
      if (left <= 0) return { ...outcome, state: 'timed_out' };
      options.onProgress?.(outcome);
      await wakeUp.wait(Math.min(left, streaming ? STREAM_POLL_INTERVAL_MS : POLL_INTERVAL_MS));
    }
  } finally {
    stop.abort();
    wakeUp.notify();
  }
}

/** The commit's status, or null while the controller has not recorded it. */
export async function readStatus(
  client: ApiClient,
  selector: string,
): Promise<RevisionPipelineStatus | null> {
  try {
    return await client.call('getRevisionStatus', { params: { rev: selector } });
  } catch (error) {
    if (error instanceof ApiError && error.code === 'revision_not_found') return null;
    throw error;
  }
}

/** A wait that ends early when notified; a notice that came while nobody waited is kept. */
class WakeUp {
  private pending = false;
  private resolve: (() => void) | null = null;

  reset(): void {
    this.pending = false;
  }

  notify(): void {
    this.pending = true;
    this.resolve?.();
  }

  wait(ms: number): Promise<void> {
    if (this.pending) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.resolve = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.resolve = done;
    });
  }
}
