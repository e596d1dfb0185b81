import {
  DeploymentStatus,
  FINAL_DEPLOYMENT_STATUSES,
  type HostRollout,
  type Rollout,
  type WaveStatus,
} from '@flotilla/protocol';
import { columns, formatDuration, shortStorePath, table, type TimeFormat } from './format.js';

/** The configured waves in rollout order. */
export function renderWaves(waves: readonly WaveStatus[]): string {
  if (waves.length === 0) return 'no waves configured';
  const rows = waves.map((w) => [
    w.name,
    formatDuration(w.soakSeconds),
    w.hosts.length === 0 ? '-' : w.hosts.join(', '),
  ]);
  return table(['WAVE', 'SOAK', 'HOSTS'], rows);
}

function waveHeading(wave: Rollout['waves'][number], time: TimeFormat): string {
  const soak = wave.soakUntil === null ? '' : `, soak until ${time.stamp(wave.soakUntil)}`;
  return `wave ${wave.name}: ${wave.state}${soak}`;
}

/** One revision's way through the waves; a halt is the first thing said. */
export function renderRollout(rollout: Rollout, time: TimeFormat): string {
  const lines = [`rollout of revision ${rollout.revisionId}`];
  if (rollout.halted) {
    lines.unshift(`HALTED: ${time.localize(rollout.haltReason ?? 'no reason given')}`);
  }
  if (rollout.waves.length === 0) return [...lines, '', 'no waves'].join('\n');
  for (const wave of rollout.waves) {
    lines.push('', waveHeading(wave, time));
    if (wave.hosts.length === 0) {
      lines.push('  (no hosts)');
      continue;
    }
    const rows = wave.hosts.map((h) => [
      `  ${h.host}`,
      h.deploymentId ?? '-',
      h.status ?? 'not started',
    ]);
    lines.push(columns(rows));
  }
  return lines.join('\n');
}

function isFinal(status: string): boolean {
  const known = DeploymentStatus.safeParse(status);
  return known.success && FINAL_DEPLOYMENT_STATUSES.has(known.data);
}

/**
 * Whether the host runs what was deployed, in words: first the verdict, then any layer that
 * is ahead of the one below it (built but not approved, approved but not run).
 */
export function rolloutVerdict(rollout: HostRollout): string[] {
  const { built, approved, executed, running } = rollout;
  const lines = [primaryVerdict(rollout)];
  if (approved !== null && approved.deploymentId !== executed?.deploymentId) {
    lines.push(`approved deployment ${approved.deploymentId} has not run yet`);
  }
  const builtIsInFlight =
    built !== null &&
    (built.storePath === approved?.storePath || built.storePath === executed?.storePath);
  if (built !== null && !builtIsInFlight && built.storePath !== running) {
    lines.push(`newest release ${built.releaseId} (${built.status}) is not deployed yet`);
  }
  return lines;
}

function primaryVerdict(rollout: HostRollout): string {
  const { executed, running } = rollout;
  if (rollout.verified) return 'verified: the host runs what was deployed';
  if (executed === null) {
    return running === null
      ? 'not verified: nothing was deployed and the agent has not reported its system'
      : `not verified: nothing was deployed; the host runs ${shortStorePath(running)}`;
  }
  if (executed.status !== 'succeeded') {
    return isFinal(executed.status)
      ? `not verified: deployment ${executed.deploymentId} ended ${executed.status}`
      : `not verified yet: deployment ${executed.deploymentId} is ${executed.status}`;
  }
  if (running === null) return 'not verified: the agent has not reported its running system';
  if (running !== executed.storePath) {
    return `not verified: the host runs ${shortStorePath(running)}, not the deployed ${shortStorePath(executed.storePath)}`;
  }
  return 'not verified: the agent has not confirmed its running system since the deployment';
}

/** `flotilla status HOST`: one line per layer, then the verdict. */
export function renderHostRollout(rollout: HostRollout): string {
  const { declared, built, approved, executed, running } = rollout;
  const rows = [
    declared === null
      ? ['declared', '-', 'not in the latest evaluation']
      : ['declared', declared.revisionId, shortStorePath(declared.drvPath)],
    built === null
      ? ['built', '-', 'nothing built yet']
      : ['built', built.releaseId, shortStorePath(built.storePath), built.status],
    approved === null
      ? ['approved', '-', 'nothing approved yet']
      : [
          'approved',
          approved.deploymentId,
          shortStorePath(approved.storePath),
          `by ${approved.by}`,
        ],
    executed === null
      ? ['executed', '-', 'nothing ran yet']
      : ['executed', executed.deploymentId, shortStorePath(executed.storePath), executed.status],
    ['verified', rollout.verified ? 'yes' : 'no', `running ${shortStorePath(running)}`],
  ];
  const layers = columns(rows.map(([label = '', ...rest]) => [`  ${label}`, ...rest]));
  return [rollout.host, layers, '', ...rolloutVerdict(rollout)].join('\n');
}
