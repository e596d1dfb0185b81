import type { WaitStage } from '@flotilla/protocol';
import { table } from './format.js';
import {
  WAIT_EXIT_CODES,
  usefulErrorLines,
  type HostWait,
  type WaitOutcome,
} from './wait-outcome.js';

/** Where a commit stands after `flotilla wait`, for people: the result, then what failed. */
export function renderWaitOutcome(outcome: WaitOutcome, timeoutSeconds: number): string {
  const revision = outcome.revision;
  const commit = revision
    ? `${revision.sha.slice(0, 12)} "${revision.subject}" (${revision.id})`
    : 'the commit (not recorded by the controller yet)';
  const lines = [`${commit}: ${headline(outcome, timeoutSeconds)}`];
  if (outcome.error) {
    lines.push(`  ${[outcome.error.location, outcome.error.message].filter(Boolean).join('  ')}`);
  }
  if (outcome.hosts.length > 0) {
    const rows = outcome.hosts.map((h) => [h.host, h.state, h.stage, detailOf(h, outcome.target)]);
    lines.push('', table(['HOST', 'STATE', 'STAGE', 'DETAIL'], rows));
  }
  for (const host of outcome.hosts) {
    if (host.error === null) continue;
    lines.push('', `${host.host}: ${errorHeading(host.error)}`);
    const body = host.error.location === null ? usefulErrorLines(host.error.message) : [];
    for (const line of body) lines.push(`  ${line}`);
  }
  return lines.join('\n');
}

/** Where an evaluation error is, or the build or deployment the stage is about. */
function detailOf(host: HostWait, target: WaitStage): string {
  if (host.error?.location) return host.error.location;
  if (host.stage === 'unchanged' || target === 'evaluated') return '-';
  if (target === 'built' || host.deploymentId === null) return `build ${host.buildId ?? '-'}`;
  return `deployment ${host.deploymentId}`;
}

function errorHeading(error: NonNullable<HostWait['error']>): string {
  if (error.location !== null) return `${error.location}: ${error.message}`;
  if (error.buildId !== null)
    return `build ${error.buildId} failed (flotilla build ${error.buildId} has the log):`;
  return '';
}

function headline(outcome: WaitOutcome, timeoutSeconds: number): string {
  const counted = outcome.hosts.length;
  const reached = outcome.hosts.filter((h) => h.state === 'reached').length;
  switch (outcome.state) {
    case 'reached':
      return `${outcome.target} (${reached} of ${counted} hosts)`;
    case 'evaluation_failed':
      return 'evaluation failed';
    case 'build_failed':
      return 'build failed';
    case 'deployment_failed':
      return 'not deployed (rejected, failed or rolled back)';
    case 'timed_out':
      return `not ${outcome.target} after ${timeoutSeconds} s (${reached} of ${counted} hosts)`;
    case 'pending':
      return `waiting for ${outcome.target} (${reached} of ${counted} hosts)`;
  }
}

/** `--json`: the outcome with the exit code it ends with. */
export function waitOutcomeJson(outcome: WaitOutcome): object {
  const exitCode = outcome.state === 'pending' ? null : WAIT_EXIT_CODES[outcome.state];
  return { ...outcome, exitCode };
}
