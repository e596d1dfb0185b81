import {
  FINAL_DEPLOYMENT_STATUSES,
  type Deployment,
  type DeploymentList,
  type DeploymentWithLog,
  type LogLine,
} from '@flotilla/protocol';
import {
  keyValues,
  logHeading,
  shortStorePath,
  spanLabel,
  table,
  type TimeFormat,
} from './format.js';

/**
 * The status with the agent's phase while it is working, e.g. `activating (fetching)`;
 * a failed deployment names the phase it failed in.
 */
export function statusLabel(deployment: Deployment): string {
  const final = FINAL_DEPLOYMENT_STATUSES.has(deployment.status);
  return deployment.phase === null || (final && deployment.status !== 'failed')
    ? deployment.status
    : `${deployment.status} (${final ? 'in ' : ''}${deployment.phase})`;
}

/** How long the deployment ran, or "-" while it has not both started and finished. */
export function durationLabel(deployment: Deployment): string {
  return spanLabel(deployment.startedAt, deployment.finishedAt);
}

/** The deployments table, newest first as the controller sends them. */
export function renderDeploymentTable(list: DeploymentList, time: TimeFormat): string {
  if (list.deployments.length === 0) return 'no deployments';
  const rows = list.deployments.map((d) => [
    d.id,
    d.host,
    d.action,
    statusLabel(d),
    shortStorePath(d.storePath),
    time.relative(d.createdAt),
    durationLabel(d),
  ]);
  return table(['ID', 'HOST', 'ACTION', 'STATUS', 'SYSTEM', 'CREATED', 'DURATION'], rows);
}

/** One log line: its time of day, the stream unless it is plain stdout, and the text. */
export function renderLogLine(line: LogLine, time: TimeFormat): string {
  const stream = line.stream === 'stdout' ? '' : `[${line.stream}] `;
  return `${time.timeOfDay(line.at)} ${stream}${line.line}`;
}

/** A deployment's fields; the log is printed separately so `--follow` can continue it. */
export function renderDeploymentDetail(deployment: Deployment, time: TimeFormat): string {
  const pairs: [string, string][] = [
    ['Deployment', deployment.id],
    ['Host', deployment.host],
    [
      'Action',
      deployment.kind === 'rollback' ? `${deployment.action} (manual rollback)` : deployment.action,
    ],
    ['Store path', deployment.storePath],
    ['Status', statusLabel(deployment)],
    ['Requested by', deployment.actor],
    ['Created', time.stamp(deployment.createdAt)],
    ['Started', deployment.startedAt === null ? '-' : time.dateTime(deployment.startedAt)],
    ['Finished', deployment.finishedAt === null ? '-' : time.dateTime(deployment.finishedAt)],
    ['Duration', durationLabel(deployment)],
  ];
  if (deployment.revisionId !== null) pairs.push(['Revision', deployment.revisionId]);
  if (deployment.approvedBy !== null) {
    const comment = deployment.approvalComment === null ? '' : `: ${deployment.approvalComment}`;
    pairs.push(['Approved by', `${deployment.approvedBy}${comment}`]);
  }
  // Only a deployment that has not started yet can be held (wave, soak or deploy window).
  if (deployment.holdReason !== null) {
    pairs.push(['Waiting for', time.localize(deployment.holdReason)]);
  }
  if (deployment.forced) pairs.push(['Forced', deployment.forceReason ?? 'yes']);
  if (deployment.exitCode !== null) pairs.push(['Exit code', String(deployment.exitCode)]);
  if (deployment.errorCode !== null || deployment.errorMessage !== null) {
    pairs.push(['Error', errorLabel(deployment)]);
  }
  if (deployment.previousSystem !== null)
    pairs.push(['Previous system', deployment.previousSystem]);
  if (deployment.resultSystem !== null) pairs.push(['Resulting system', deployment.resultSystem]);
  if (deployment.rebootRequired)
    pairs.push(['Reboot', `required to finish (flotilla reboot ${deployment.host})`]);
  return keyValues(pairs);
}

/** The detail view followed by the log so far. */
export function renderDeploymentWithLog(deployment: DeploymentWithLog, time: TimeFormat): string {
  const log =
    deployment.log.length === 0
      ? '(no log lines yet)'
      : deployment.log.map((line) => renderLogLine(line, time)).join('\n');
  return `${renderDeploymentDetail(deployment, time)}\n\n${logHeading(time)}\n${log}`;
}

/**
 * What a deploy or rollback decided: the deployment and its status, why it waits when it
 * is held, and the controller's notes (one per line).
 */
export function renderCreatedDeployment(
  deployment: Deployment,
  notes: readonly string[] = [],
): string {
  const waiting =
    deployment.status === 'awaiting_approval'
      ? '; it waits for approval'
      : deployment.holdReason !== null
        ? `; waiting: ${deployment.holdReason}`
        : '';
  const what = deployment.kind === 'rollback' ? 'rollback' : 'deployment';
  const lines = [
    `${what} ${deployment.id}: ${deployment.action} ${deployment.storePath} on ${deployment.host} (${deployment.status}${waiting})`,
    ...notes.map((note) => `  ${note}`),
  ];
  if (deployment.holdReason !== null && !deployment.forced) {
    lines.push('  to skip earlier waves or a closed window: --force --reason "…" (audited)');
  }
  return lines.join('\n');
}

/** The closing line of `--follow`: the final status, and why when it did not succeed. */
export function renderFinalStatus(deployment: Deployment): string {
  const duration = durationLabel(deployment);
  const took = duration === '-' ? '' : ` after ${duration}`;
  if (deployment.status === 'succeeded') return `deployment ${deployment.id} succeeded${took}`;
  const reason =
    deployment.errorCode === null && deployment.errorMessage === null
      ? ''
      : `: ${errorLabel(deployment)}`;
  const exit = deployment.exitCode === null ? '' : ` (exit code ${deployment.exitCode})`;
  return `deployment ${deployment.id} ${deployment.status}${took}${reason}${exit}`;
}

function errorLabel(deployment: Deployment): string {
  return [
    deployment.errorMessage,
    deployment.errorCode === null ? null : `(${deployment.errorCode})`,
  ]
    .filter((part) => part !== null)
    .join(' ');
}
