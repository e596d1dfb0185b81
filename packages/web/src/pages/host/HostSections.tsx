import type {
  Deployment,
  GraduationStatus,
  Host,
  HostPolicy,
  HostStatusReport,
} from '@flotilla/protocol';
import type { ReactNode } from 'react';
import { Link } from '../../app/Link.js';
import { Empty } from '../../components/states.js';
import { Time } from '../../components/Time.js';
import { formatBytes, formatDuration, formatPercent } from '../../format/numbers.js';
import { memoryUsed, syncLabel } from '../overview/overview-model.js';

/** Views of the host page; each takes its data as props. */

export function FactsSection({ host }: { host: Host }) {
  const facts = host.facts;
  const metrics = host.metrics;
  return (
    <section className="card" aria-labelledby="facts-title">
      <h2 id="facts-title">Facts</h2>
      <dl className="facts">
        <Fact term="Status">
          {host.status === 'online' ? 'online' : host.status.replace('_', ' ')}, last seen{' '}
          <Time iso={host.lastSeenAt} />
        </Fact>
        <Fact term="OS">{facts?.osRelease?.prettyName ?? host.os ?? '—'}</Fact>
        <Fact term="NixOS version">{facts?.nixosVersion ?? '—'}</Fact>
        <Fact term="Kernel">{facts?.kernel ?? '—'}</Fact>
        <Fact term="Agent">
          {host.agentVersion ?? '—'}
          {host.agentOutdated && <span className="badge badge-warn">outdated</span>}
        </Fact>
        <Fact term="Uptime">{metrics ? formatDuration(metrics.uptimeSeconds) : '—'}</Fact>
        <Fact term="Load">{metrics ? metrics.load.map((l) => l.toFixed(2)).join(' ') : '—'}</Fact>
        <Fact term="Memory">
          {metrics
            ? `${formatPercent(memoryUsed(host))} of ${formatBytes(metrics.memory.totalBytes)}`
            : '—'}
        </Fact>
        <Fact term="Disks">
          {metrics && metrics.disks.length > 0
            ? metrics.disks
                .map(
                  (d) =>
                    `${d.mount} ${formatPercent(1 - d.freeBytes / (d.totalBytes || 1))} of ${formatBytes(d.totalBytes)}`,
                )
                .join(', ')
            : '—'}
        </Fact>
        <Fact term="Reboot required">{facts?.rebootRequired ? 'yes' : 'no'}</Fact>
        <Fact term="Failed units">
          {facts?.failedUnits === null || facts?.failedUnits === undefined
            ? '—'
            : facts.failedUnits.length === 0
              ? 'none'
              : facts.failedUnits.join(', ')}
        </Fact>
        <Fact term="Running system">
          <span className="mono small">{facts?.system.current ?? '—'}</span>
        </Fact>
      </dl>
    </section>
  );
}

export function RevisionSection({ host, status }: { host: Host; status: HostStatusReport }) {
  const sync = syncLabel(host);
  return (
    <section className="card" aria-labelledby="revision-title">
      <h2 id="revision-title">Revision</h2>
      <p>
        <span className={`badge badge-${sync.tone}`}>{sync.text}</span> {status.summary}
      </p>
      {status.details.length > 0 && (
        <ul className="small">
          {status.details.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      )}
      <dl className="facts">
        <Fact term="Running">
          <span className="mono">{status.running?.sha?.slice(0, 8) ?? '—'}</span>
        </Fact>
        <Fact term="Branch head">
          <span className="mono">{host.sync?.headSha?.slice(0, 8) ?? '—'}</span>
        </Fact>
        <Fact term="Newest release">
          {status.built ? (
            <span className="mono">
              {status.built.sha.slice(0, 8)} ({status.built.status})
            </span>
          ) : (
            '—'
          )}
        </Fact>
        {status.declaredError && (
          <Fact term="Evaluation error">
            <span className="bad">{status.declaredError.message}</span>
          </Fact>
        )}
      </dl>
    </section>
  );
}

export function PolicySection(props: {
  status: HostStatusReport;
  policy: HostPolicy | undefined;
  graduation: GraduationStatus | undefined;
}) {
  const { status, policy, graduation } = props;
  return (
    <section className="card" aria-labelledby="policy-title">
      <h2 id="policy-title">Policy</h2>
      <dl className="facts">
        <Fact term="Policy">
          {status.policy}
          {policy?.locked && <span className="muted small"> (set in the config file)</span>}
        </Fact>
        <Fact term="Pinned">
          {status.pinned ? `yes${status.pinned.reason ? `: ${status.pinned.reason}` : ''}` : 'no'}
        </Fact>
        <Fact term="Wave">{policy?.wave ?? '—'}</Fact>
        <Fact term="Stable since">
          <Time iso={policy?.stableSince} />
        </Fact>
        <Fact term="Graduation">
          {graduation === undefined || status.mode === 'monitor'
            ? '—'
            : graduation.eligible
              ? 'may be set to auto'
              : graduation.reasons.join('; ') || '—'}
        </Fact>
        <Fact term="Deploy windows">
          {status.pending?.holdReason ?? 'as configured (see flotilla policy)'}
        </Fact>
      </dl>
    </section>
  );
}

export function IdentitySection({ host }: { host: Host }) {
  const identity = host.identity;
  return (
    <section className="card" aria-labelledby="identity-title">
      <h2 id="identity-title">Agent identity</h2>
      {identity === undefined ? (
        <p className="muted">Not known.</p>
      ) : (
        <dl className="facts">
          <Fact term="Enrollment">{identity.status}</Fact>
          <Fact term="Key fingerprint">
            <span className="mono small">{identity.keyFingerprint ?? '—'}</span>
          </Fact>
          <Fact term="Enrolled">
            <Time iso={identity.enrolledAt} />
          </Fact>
          {identity.revokedAt && (
            <Fact term="Revoked">
              <Time iso={identity.revokedAt} />
            </Fact>
          )}
          <Fact term="Open enrollment token">
            {identity.enrollmentExpiresAt ? (
              <>
                expires <Time iso={identity.enrollmentExpiresAt} />
              </>
            ) : (
              'none'
            )}
          </Fact>
        </dl>
      )}
    </section>
  );
}

export function HistorySection({ deployments }: { deployments: Deployment[] }) {
  return (
    <section className="card wide" aria-labelledby="history-title">
      <h2 id="history-title">Deployment history</h2>
      {deployments.length === 0 ? (
        <Empty title="No deployment yet." />
      ) : (
        <div className="table-scroll">
          <table className="data-table" data-testid="deployment-history">
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Kind</th>
                <th scope="col">Status</th>
                <th scope="col">By</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {deployments.map((d) => (
                <tr key={d.id}>
                  <td>
                    <Link to={`/deployments/${encodeURIComponent(d.id)}`}>
                      <Time iso={d.createdAt} />
                    </Link>
                  </td>
                  <td>{d.kind}</td>
                  <td>{d.status.replace(/_/g, ' ')}</td>
                  <td>{d.approvedBy ?? d.actor}</td>
                  <td className="small">
                    {d.errorMessage ?? (d.rebootRequired ? 'needs a reboot' : '')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}
