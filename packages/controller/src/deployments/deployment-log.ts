import type { LiveEvents } from '../events/event-bus.js';
import type { LogLineInput } from '../storage/deployment.repository.js';
import type { Store } from '../storage/store.js';

/** A deployment's stored log is capped; past this many lines one marker line is kept. */
export const MAX_LOG_LINES = 20_000;

/** One line from the controller itself (stream `agent`, prefixed so it reads as ours). */
export function controllerNote(at: string, text: string): LogLineInput {
  return { at, stream: 'agent', line: `[controller] ${text}` };
}

/**
 * Appends log lines to a deployment, in order, with sequence numbers reserved by the
 * database (see DeploymentRepository.appendLog), so concurrent writers never collide. Lines
 * past {@link MAX_LOG_LINES} are dropped and one truncation marker is kept in their place.
 * Each stored line is a live `deployment.log` event once `store`'s transaction committed.
 */
export async function appendDeploymentLog(
  store: Store,
  live: LiveEvents,
  id: string,
  lines: readonly LogLineInput[],
): Promise<void> {
  let stored: LogLineInput[] = [];
  const appended = await store.deployments.appendLog(id, lines, (firstSeq, offered) => {
    stored = capLines(firstSeq, offered);
    return stored;
  });
  if (!appended) return;
  stored.forEach((line, index) =>
    live.publish(
      { type: 'deployment.log', deploymentId: id, seq: appended.firstSeq + index, ...line },
      store,
    ),
  );
}

/** Which of `lines`, numbered from `firstSeq`, fit under the cap (plus the marker). */
export function capLines(firstSeq: number, lines: readonly LogLineInput[]): LogLineInput[] {
  const room = MAX_LOG_LINES - firstSeq + 1;
  if (room >= lines.length) return [...lines];
  const kept = lines.slice(0, Math.max(0, room));
  // The marker takes sequence number MAX_LOG_LINES + 1, inside the reserved range.
  if (room >= 0) {
    kept.push({
      at: lines[kept.length]?.at ?? new Date().toISOString(),
      stream: 'agent',
      line: `[log truncated: only the first ${MAX_LOG_LINES} lines are stored]`,
    });
  }
  return kept;
}
