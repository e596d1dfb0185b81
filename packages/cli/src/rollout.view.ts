import type { HostStatusReport, Rollout, WaveStatus } from '@flotilla/protocol';
import {
  columns,
  firstLine,
  formatDuration,
  shortStorePath,
  table,
  type TimeFormat,
} from './format.js';

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

/** What a revision does to one host of a wave, in words. */
function hostState(host: Rollout['waves'][number]['hosts'][number]): string {
  if (host.status !== null)
    return host.holdReason ? `${host.status}: ${host.holdReason}` : host.status;
  switch (host.change) {
    case 'unchanged':
      return 'unchanged (this revision does not change it)';
    case 'failed':
      return 'does not evaluate (flotilla revision)';
    case 'not_in_flake':
      return 'not in the flake';
    case 'pending':
      return 'not evaluated yet';
    case 'changed':
      return 'not started';
  }
}

/** One revision's way through the waves; a halt is the first thing said. */
export function renderRollout(rollout: Rollout, time: TimeFormat): string {
  const lines = [`rollout of revision ${rollout.revisionId} (${rollout.sha.slice(0, 8)})`];
  if (rollout.halted) {
    lines.unshift(
      `HALTED: ${time.localize(rollout.haltReason ?? 'no reason given')}`,
      `  resume with: flotilla rollout resume ${rollout.revisionId} --reason "…"`,
    );
  }
  if (rollout.waves.length === 0) return [...lines, '', 'no waves'].join('\n');
  for (const wave of rollout.waves) {
    lines.push('', waveHeading(wave, time));
    if (wave.hosts.length === 0) {
      lines.push('  (no hosts)');
      continue;
    }
    const rows = wave.hosts.map((h) => [`  ${h.host}`, h.deploymentId ?? '-', hostState(h)]);
    lines.push(columns(rows));
  }
  return lines.join('\n');
}

/** `flotilla status HOST`: the story first, then each layer, one line each. */
export function renderHostStatus(report: HostStatusReport, time: TimeFormat): string {
  const lines = [`${report.host}: ${time.localize(report.summary)}`];
  for (const detail of report.details) lines.push(`  ${time.localize(detail)}`);
  const rows: string[][] = [
    ['mode', report.mode === 'monitor' ? 'monitor-only' : `managed, policy ${report.policy}`],
    ['online', report.online ? 'yes' : 'no'],
    [
      'declared',
      report.declared === null
        ? report.declaredError
          ? `does not evaluate at ${report.declaredError.sha.slice(0, 8)}`
          : '-'
        : `${report.declared.sha.slice(0, 8)} (${report.declared.revisionId})`,
    ],
  ];
  if (report.declaredError !== null) {
    const where = report.declaredError.location;
    const at =
      where === null
        ? ''
        : ` at ${where.file}${where.line === null ? '' : `:${where.line}`}${where.column === null ? '' : `:${where.column}`}`;
    rows.push(['  error', `${firstLine(report.declaredError.message, 100)}${at}`]);
  }
  rows.push(
    [
      'built',
      report.built === null
        ? 'nothing built yet'
        : `${report.built.releaseId} ${report.built.sha.slice(0, 8)} ${report.built.status}`,
    ],
    [
      'pending',
      report.pending === null
        ? '-'
        : `${report.pending.deploymentId} ${report.pending.status}${report.pending.holdReason ? `: ${time.localize(report.pending.holdReason)}` : ''}`,
    ],
    [
      'running',
      report.running === null
        ? 'not reported'
        : report.running.releaseId === null
          ? shortStorePath(report.running.storePath)
          : `${report.running.releaseId} ${report.running.sha?.slice(0, 8) ?? ''}`,
    ],
    ['verified', report.verified === null ? 'no' : `yes, by ${report.verified.deploymentId}`],
    ['pinned', report.pinned === null ? 'no' : `yes: ${report.pinned.reason ?? 'no reason given'}`],
    ['branch', syncWords(report.sync)],
  );
  if (report.lastDeployment !== null) {
    const last = report.lastDeployment;
    rows.push([
      'last',
      `${last.deploymentId} ${last.kind === 'rollback' ? 'rollback ' : ''}${last.status}${last.error ? `: ${firstLine(last.error, 80)}` : ''}`,
    ]);
  }
  lines.push('', columns(rows.map(([label = '', ...rest]) => [`  ${label}`, ...rest])));
  return lines.join('\n');
}

function syncWords(sync: HostStatusReport['sync']): string {
  const output = sync.output ? ` (${sync.output.kind} output ${sync.output.attribute})` : '';
  switch (sync.state) {
    case 'up_to_date':
      return `up to date${output}`;
    case 'behind':
      return `${sync.behindBy === null ? 'behind' : `behind by ${sync.behindBy} commits`}${output}`;
    case 'drifted':
      return `drifted${output}: it runs something no revision, release or deployment explains`;
    case 'unknown':
      return sync.declaredPath === null
        ? `unknown${output}: it does not evaluate at the branch head`
        : `unknown${output}`;
  }
}
