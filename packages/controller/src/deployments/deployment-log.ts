import type { DeploymentRepository, LogLineInput } from '../storage/deployment.repository.js';

/** A deployment's stored log is capped; past this many lines one marker line is kept. */
export const MAX_LOG_LINES = 20_000;

/** Appends deployment log lines in order, numbering them and enforcing the cap. */
export class DeploymentLog {
  /** Next sequence number per deployment that is receiving lines. */
  private readonly nextSeq = new Map<string, number>();

  constructor(private readonly deployments: DeploymentRepository) {}

  async append(id: string, lines: readonly LogLineInput[]): Promise<void> {
    let next = this.nextSeq.get(id);
    if (next === undefined) next = (await this.deployments.lastLogSeq(id)) + 1;
    if (next > MAX_LOG_LINES + 1) return;
    const room = MAX_LOG_LINES + 1 - next;
    let kept = lines.slice(0, room);
    if (lines.length > room) {
      kept = [
        ...kept,
        {
          at: lines[room]?.at ?? new Date().toISOString(),
          stream: 'agent',
          line: `[log truncated: only the first ${MAX_LOG_LINES} lines are stored]`,
        },
      ];
    }
    await this.deployments.appendLog(id, next, kept);
    this.nextSeq.set(id, next + kept.length);
  }

  /** One line from the controller itself (stream `agent`, prefixed so it reads as ours). */
  note(id: string, at: string, line: string): Promise<void> {
    return this.append(id, [{ at, stream: 'agent', line: `[controller] ${line}` }]);
  }

  /** Forgets the counter of a finished deployment. */
  finished(id: string): void {
    this.nextSeq.delete(id);
  }
}
