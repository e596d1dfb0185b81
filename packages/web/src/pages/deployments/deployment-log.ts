import type { LogLine } from '@flotilla/protocol';

/**
 * A deployment's log as the page holds it: lines by sequence number, each once. Lines come
 * from two places that overlap — pages of `getDeploymentLog` and live `deployment.log`
 * events — so merging is by `seq`, never by arrival.
 */
export interface LogState {
  lines: readonly LogLine[];
  /** The highest sequence number held (0 before the first line). */
  last: number;
  /** Whether the numbers held are 1…last without a hole (a live line arrived past a gap). */
  complete: boolean;
}

export const EMPTY_LOG: LogState = { lines: [], last: 0, complete: true };

/** `state` with `incoming` merged in: sorted by seq, no duplicates, unchanged when nothing is new. */
export function mergeLogLines(state: LogState, incoming: readonly LogLine[]): LogState {
  const fresh = incoming.filter((line) => !hasSeq(state.lines, line.seq));
  if (fresh.length === 0) return state;
  const unique = new Map<number, LogLine>();
  for (const line of fresh) unique.set(line.seq, line);
  const appendOnly = [...unique.keys()].every((seq) => seq > state.last);
  const lines = appendOnly
    ? [...state.lines, ...[...unique.values()].sort((a, b) => a.seq - b.seq)]
    : [...state.lines, ...unique.values()].sort((a, b) => a.seq - b.seq);
  const last = lines.length === 0 ? 0 : (lines[lines.length - 1] as LogLine).seq;
  return { lines, last, complete: isContiguous(lines) };
}

/** The sequence number to ask `getDeploymentLog` for lines after, to fill the first hole. */
export function resumeAfter(state: LogState): number {
  let expected = 1;
  for (const line of state.lines) {
    if (line.seq !== expected) return expected - 1;
    expected += 1;
  }
  return state.last;
}

function hasSeq(lines: readonly LogLine[], seq: number): boolean {
  // Lines are sorted: a binary search keeps a 20,000-line log cheap to merge into.
  let low = 0;
  let high = lines.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const at = (lines[middle] as LogLine).seq;
    if (at === seq) return true;
    if (at < seq) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}

function isContiguous(lines: readonly LogLine[]): boolean {
  return lines.every((line, index) => line.seq === index + 1);
}

/** One step of a deployment: a narrative line of the agent or the controller, with its time. */
export interface DeploymentStep {
  seq: number;
  at: string;
  text: string;
  by: 'agent' | 'controller';
  /** Milliseconds until the next step (or null for the last one). */
  tookMs: number | null;
}

const CONTROLLER_PREFIX = '[controller] ';

/**
 * The steps of a deployment from its log: the lines the agent and the controller write about
 * what they do (stream `agent`), each with the time until the next one: finer than the
 * phases the API records (`phases` of the deployment).
 */
export function stepsOf(lines: readonly LogLine[]): DeploymentStep[] {
  const narrative = lines.filter((line) => line.stream === 'agent');
  return narrative.map((line, index) => {
    const next = narrative[index + 1];
    const controller = line.line.startsWith(CONTROLLER_PREFIX);
    return {
      seq: line.seq,
      at: line.at,
      text: controller ? line.line.slice(CONTROLLER_PREFIX.length) : line.line,
      by: controller ? 'controller' : 'agent',
      tookMs: next ? new Date(next.at).getTime() - new Date(line.at).getTime() : null,
    };
  });
}
