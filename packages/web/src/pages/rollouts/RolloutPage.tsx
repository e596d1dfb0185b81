import type { Rollout, RolloutHost } from '@flotilla/protocol';
import { useEffect, useState, type FormEvent } from 'react';
import { Link } from '../../app/Link.js';
import { IfRole } from '../../auth/session.js';
import { ActionError } from '../../components/ActionError.js';
import { QueryView } from '../../components/states.js';
import { Badge, DeploymentStatusBadge } from '../../components/StatusBadge.js';
import { Time } from '../../components/Time.js';
import { formatDuration, shortSha } from '../../format/quantity.js';
import { useResumeRollout, useRevision, useRollout } from './rollout.queries.js';

const WAVE_TONES = {
  waiting: 'muted',
  deploying: 'info',
  soaking: 'warn',
  done: 'ok',
  halted: 'bad',
} as const;

/** A revision's rollout: its waves, each host's deployment, soak countdowns, a halt and resume. */
export function RolloutPage({ params }: { params: Record<string, string> }) {
  const id = params['id'] ?? '';
  const rollout = useRollout(id);
  const revision = useRevision(id);
  return (
    <section aria-labelledby="rollout-title">
      <p className="breadcrumb">
        <Link to="/rollouts">Rollouts</Link>
      </p>
      <QueryView query={rollout} label="Loading the rollout">
        {(r) => (
          <>
            <header className="page-header">
              <h1 id="rollout-title">
                Rollout of <span className="mono">{shortSha(r.sha)}</span>
              </h1>
              {r.halted && (
                <Badge tone="bad" status="halted">
                  halted
                </Badge>
              )}
            </header>
            {revision.data && (
              <p className="commit">
                <span className="commit-subject">{revision.data.message.split('\n')[0]}</span>
                <span className="muted">
                  {' '}
                  — {revision.data.author}, <Time iso={revision.data.committedAt} />
                </span>
              </p>
            )}
            {r.halted && <Halt rollout={r} />}
            <Waves rollout={r} />
          </>
        )}
      </QueryView>
    </section>
  );
}

function Halt({ rollout }: { rollout: Rollout }) {
  return (
    <div className="callout callout-bad" role="alert" data-testid="rollout-halt">
      <p>
        <strong>Halted</strong> <Time iso={rollout.haltedAt} />
        {rollout.haltReason && <>: {rollout.haltReason}</>}
      </p>
      <p>Approvals of this revision are refused and held deployments wait until it resumes.</p>
      <IfRole role="operator">
        <ResumeForm id={rollout.revisionId} />
      </IfRole>
    </div>
  );
}

function ResumeForm({ id }: { id: string }) {
  const resume = useResumeRollout(id);
  const [reason, setReason] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    resume.mutate(reason.trim());
  };
  return (
    <form className="inline-form" onSubmit={submit}>
      <label>
        Why it is safe to go on
        <input
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          required
          maxLength={2000}
        />
      </label>
      <button type="submit" className="primary" disabled={resume.isPending || !reason.trim()}>
        Resume rollout
      </button>
      <ActionError error={resume.error} />
    </form>
  );
}

function Waves({ rollout }: { rollout: Rollout }) {
  const soaking = rollout.waves.some((w) => w.state === 'soaking');
  const now = useNow(soaking);
  if (rollout.waves.length === 0) return <p className="muted">No waves are configured.</p>;
  return (
    <ol className="waves">
      {rollout.waves.map((wave) => (
        <li key={wave.name} className="card wave" data-testid="wave">
          <h2>
            {wave.name}{' '}
            <Badge tone={WAVE_TONES[wave.state]} status={wave.state}>
              {wave.state}
            </Badge>
          </h2>
          {wave.state === 'soaking' && wave.soakUntil && (
            <p role="timer" aria-live="off">
              Soaking: the next wave may start in{' '}
              <strong>
                {formatDuration(Math.max(0, new Date(wave.soakUntil).getTime() - now))}
              </strong>{' '}
              (<Time iso={wave.soakUntil} absolute />)
            </p>
          )}
          <WaveHosts hosts={wave.hosts} />
        </li>
      ))}
    </ol>
  );
}

function WaveHosts({ hosts }: { hosts: RolloutHost[] }) {
  if (hosts.length === 0) return <p className="muted">No hosts in this wave.</p>;
  return (
    <table className="data-table compact">
      <thead>
        <tr>
          <th scope="col">Host</th>
          <th scope="col">Change</th>
          <th scope="col">Deployment</th>
          <th scope="col">Held because</th>
        </tr>
      </thead>
      <tbody>
        {hosts.map((h) => (
          <tr key={h.host}>
            <td>
              <Link to={`/hosts/${encodeURIComponent(h.host)}`}>{h.host}</Link>
            </td>
            <td>{h.change.replaceAll('_', ' ')}</td>
            <td>
              {h.deploymentId !== null && h.status !== null ? (
                <Link to={`/deployments/${encodeURIComponent(h.deploymentId)}`}>
                  <DeploymentStatusBadge status={h.status} />
                </Link>
              ) : (
                <span className="muted">none</span>
              )}
            </td>
            <td>{h.holdReason ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The current time, ticking each second while `ticking` (a countdown is shown); idle otherwise. */
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}
