import type { OverviewHost } from '@flotilla/protocol';
import { Link } from '../../app/Link.js';
import { Time } from '../../components/Time.js';
import { formatPercent } from '../../format/numbers.js';
import { attentionOf } from './host-attention.js';
import { fullestDisk, memoryUsed, syncLabel } from './overview-model.js';

/** The grid columns of the host list, shared by the header and every row. */
export const HOST_COLUMNS = [
  'Host',
  'Status',
  'Revision',
  'Approvals',
  'Last deployment',
  'Policy',
  'Health',
  'Load · mem · disk',
] as const;

/** One host in the fleet list: one row of cells; `selectable` adds its checkbox. */
export function HostRow(props: {
  entry: OverviewHost;
  selected: boolean;
  selectable: boolean;
  onToggle: (name: string) => void;
}) {
  const { entry } = props;
  const { host } = entry;
  const sync = syncLabel(host);
  const os = host.facts?.osRelease?.prettyName ?? host.facts?.nixosVersion ?? host.os ?? '—';
  const failed = host.facts?.failedUnits?.length ?? 0;
  const disk = fullestDisk(host);
  const load = host.metrics?.load[0];
  const reasons = attentionOf(host);
  const href = `/hosts/${encodeURIComponent(host.name)}`;
  return (
    <>
      <div role="cell" className="cell-host">
        {props.selectable && (
          <input
            type="checkbox"
            checked={props.selected}
            onChange={() => props.onToggle(host.name)}
            aria-label={`Select ${host.name}`}
          />
        )}
        <div>
          <Link to={href} className="host-name">
            {host.name}
          </Link>
          <div className="muted small">
            {host.mode === 'monitor' ? 'monitor-only · ' : ''}
            {os}
          </div>
        </div>
      </div>
      <div role="cell">
        <span className={`badge badge-${host.status === 'online' ? 'ok' : 'bad'}`}>
          {host.status === 'never_seen' ? 'never seen' : host.status}
        </span>
        <div className="muted small">
          <Time iso={host.lastSeenAt} />
        </div>
      </div>
      <div role="cell">
        <span className={`badge badge-${sync.tone}`}>{sync.text}</span>
        <div className="muted small mono">{host.sync?.runningSha?.slice(0, 8) ?? ''}</div>
      </div>
      <div role="cell">
        {entry.pendingApprovals.length > 0 ? (
          <span className="badge badge-info">{entry.pendingApprovals.length} waiting</span>
        ) : entry.openDeployment ? (
          <span className="badge badge-info">{entry.openDeployment.status.replace(/_/g, ' ')}</span>
        ) : (
          <span className="muted">—</span>
        )}
      </div>
      <div role="cell">
        {entry.lastDeployment ? (
          <>
            <span className={`badge badge-${deploymentTone(entry.lastDeployment.status)}`}>
              {entry.lastDeployment.kind === 'rollback' ? 'rollback ' : ''}
              {entry.lastDeployment.status.replace(/_/g, ' ')}
            </span>
            <div className="muted small">
              <Time iso={entry.lastDeployment.finishedAt} />
            </div>
          </>
        ) : (
          <span className="muted">none</span>
        )}
      </div>
      <div role="cell">
        <span>{entry.policy}</span>
        {entry.pinned && (
          <span className="badge badge-warn" title={entry.pinReason ?? 'pinned'}>
            pinned
          </span>
        )}
        <div className="muted small">{graduationText(entry)}</div>
      </div>
      <div role="cell">
        {host.facts?.rebootRequired && <span className="badge badge-warn">reboot</span>}
        {failed > 0 && (
          <span className="badge badge-bad">
            {failed} failed unit{failed === 1 ? '' : 's'}
          </span>
        )}
        {reasons.length === 0 && !host.facts?.rebootRequired && failed === 0 && (
          <span className="ok small">fine</span>
        )}
      </div>
      <div role="cell" className="small mono">
        {load === undefined ? '—' : load.toFixed(2)} · {formatPercent(memoryUsed(host))} ·{' '}
        {disk ? formatPercent(disk.used) : '—'}
      </div>
    </>
  );
}

function deploymentTone(status: string): 'ok' | 'bad' | 'warn' | 'muted' {
  if (status === 'succeeded') return 'ok';
  if (status === 'failed' || status === 'rolled_back') return 'bad';
  if (status === 'cancelled' || status === 'rejected' || status === 'expired') return 'muted';
  return 'warn';
}

function graduationText(entry: OverviewHost): string {
  const g = entry.graduation;
  if (entry.policy !== 'manual' || g === null) return entry.wave ? `wave ${entry.wave}` : '';
  if (g.eligible) return 'may graduate to auto';
  if (g.requiredDays === null) return entry.wave ? `wave ${entry.wave}` : '';
  return `stable ${g.stableDays ?? 0}/${g.requiredDays} days`;
}
