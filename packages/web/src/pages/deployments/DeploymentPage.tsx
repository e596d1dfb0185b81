import {
  CANCELLABLE_DEPLOYMENT_STATUSES,
  FINAL_DEPLOYMENT_STATUSES,
  type Deployment,
  type DeploymentWithLog,
} from '@flotilla/protocol';
import { useState, type FormEvent, type ReactNode } from 'react';
import { Link } from '../../app/Link.js';
import { IfRole } from '../../auth/session.js';
import { ActionError } from '../../components/ActionError.js';
import { LogView } from '../../components/LogView.js';
import { ErrorState, QueryView } from '../../components/states.js';
import { DeploymentStatusBadge } from '../../components/StatusBadge.js';
import { Time } from '../../components/Time.js';
import { elapsed, formatDuration } from '../../format/quantity.js';
import { formatTime, timeZoneName } from '../../format/time.js';
import { stepsOf, type LogState } from './deployment-log.js';
import { useCancelDeployment, useDeployment, useDeploymentLog } from './deployment.queries.js';

/** One deployment: where it stands, its steps with their times, its result and its live log. */
export function DeploymentPage({ params }: { params: Record<string, string> }) {
  const id = params['id'] ?? '';
  const deployment = useDeployment(id);
  const log = useDeploymentLog(id, deployment.data?.status);
  return (
    <section aria-labelledby="deployment-title">
      <p className="breadcrumb">
        <Link to="/deployments">Deployments</Link>
      </p>
      <QueryView query={deployment} label="Loading the deployment">
        {(d) => (
          <>
            <DeploymentHeader deployment={d} />
            <DeploymentResult deployment={d} />
            <IfRole role="operator">
              {CANCELLABLE_DEPLOYMENT_STATUSES.includes(d.status) && <CancelForm id={d.id} />}
            </IfRole>
            <DeploymentFacts deployment={d} />
            <Phases deployment={d} />
            <Steps log={log.log} />
          </>
        )}
      </QueryView>
      <h2 id="log-title">Log</h2>
      {log.error !== null && !log.loaded ? (
        <ErrorState error={log.error} retry={() => void log.retry()} />
      ) : (
        <LogView
          lines={log.log.lines}
          label="Deployment log"
          emptyText={log.loaded ? 'No output yet.' : 'Loading the log…'}
        />
      )}
    </section>
  );
}

function DeploymentHeader({ deployment: d }: { deployment: Deployment }) {
  return (
    <header className="page-header">
      <h1 id="deployment-title">
        {d.kind === 'rollback' ? 'Rollback' : 'Deployment'} of{' '}
        <Link to={`/hosts/${encodeURIComponent(d.host)}`}>{d.host}</Link>
      </h1>
      <span data-testid="deployment-status">
        <DeploymentStatusBadge status={d.status} />
      </span>
      {d.phase !== null && !FINAL_DEPLOYMENT_STATUSES.has(d.status) && (
        <span className="muted">phase: {d.phase.replaceAll('_', ' ')}</span>
      )}
    </header>
  );
}

/** How it ended and why, or why it still waits. */
function DeploymentResult({ deployment: d }: { deployment: Deployment }) {
  if (d.status === 'succeeded') {
    return (
      <div className="callout callout-ok" data-testid="deployment-result">
        <strong>Succeeded</strong> after {formatDuration(elapsed(d.startedAt, d.finishedAt))}
        {d.resultSystem && (
          <>
            : the host runs <code>{d.resultSystem}</code>
          </>
        )}
        .{d.rebootRequired && <p className="warn">A reboot is needed to run it completely.</p>}
      </div>
    );
  }
  if (d.status === 'failed' || d.status === 'rolled_back') {
    return (
      <div className="callout callout-bad" role="alert" data-testid="deployment-result">
        <p>
          <strong>{d.status === 'failed' ? 'Failed' : 'Rolled back'}</strong>
          {d.errorCode && <code className="error-code">{d.errorCode}</code>}
          {d.exitCode !== null && <span className="muted"> (exit code {d.exitCode})</span>}
        </p>
        {d.errorMessage && <p data-testid="deployment-reason">{d.errorMessage}</p>}
        {d.status === 'rolled_back' && (
          <p data-testid="deployment-rollback">
            The host went back to the system it ran before
            {d.previousSystem ? (
              <>
                : <code>{d.previousSystem}</code>
              </>
            ) : (
              '.'
            )}
          </p>
        )}
      </div>
    );
  }
  if (FINAL_DEPLOYMENT_STATUSES.has(d.status)) {
    return (
      <div className="callout" data-testid="deployment-result">
        <strong>{d.status.replaceAll('_', ' ')}</strong>
        {d.errorMessage && <>: {d.errorMessage}</>}
      </div>
    );
  }
  if (d.holdReason) {
    return (
      <div className="callout callout-warn" data-testid="deployment-result">
        <strong>Held:</strong> {d.holdReason}
      </div>
    );
  }
  return null;
}

function CancelForm({ id }: { id: string }) {
  const cancel = useCancelDeployment(id);
  const [reason, setReason] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    cancel.mutate(reason);
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Cancel this deployment">
      <label>
        Reason for cancelling (optional)
        <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={2000} />
      </label>
      <button type="submit" className="danger" disabled={cancel.isPending}>
        {cancel.isPending ? 'Cancelling…' : 'Cancel deployment'}
      </button>
      <ActionError error={cancel.error} />
    </form>
  );
}

function DeploymentFacts({ deployment: d }: { deployment: Deployment }) {
  return (
    <dl className="facts">
      <Fact term="Id">
        <code>{d.id}</code>
      </Fact>
      <Fact term="Action">
        {d.kind} ({d.action})
      </Fact>
      <Fact term="System">
        <code className="break">{d.storePath}</code>
      </Fact>
      {d.revisionId && (
        <Fact term="Revision">
          <Link to={`/rollouts/${encodeURIComponent(d.revisionId)}`} className="mono">
            {d.revisionId}
          </Link>
        </Fact>
      )}
      <Fact term="Requested by">{d.actor}</Fact>
      <Fact term="Approved by">
        {d.approvedBy ?? <span className="muted">not yet</span>}
        {d.approvalComment && <q className="comment">{d.approvalComment}</q>}
      </Fact>
      {d.forced && <Fact term="Forced">{d.forceReason ?? 'yes'}</Fact>}
      <Fact term="Created">
        <Time iso={d.createdAt} absolute />
      </Fact>
      <Fact term="Started">
        <Time iso={d.startedAt} absolute />
      </Fact>
      <Fact term="Finished">
        <Time iso={d.finishedAt} absolute />
      </Fact>
      <Fact term="Waited">{formatDuration(elapsed(d.createdAt, d.startedAt))}</Fact>
      <Fact term="Ran">
        {d.startedAt === null ? '—' : formatDuration(elapsed(d.startedAt, d.finishedAt))}
        {d.startedAt !== null && d.finishedAt === null && ' so far'}
      </Fact>
      {d.previousSystem && (
        <Fact term="Before">
          <code className="break">{d.previousSystem}</code>
        </Fact>
      )}
    </dl>
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

/**
 * The phases the agent went through (the controller records when each began), each with
 * how long it lasted: until the next phase, or the end.
 */
function Phases({ deployment: d }: { deployment: Omit<DeploymentWithLog, 'log'> }) {
  if (d.phases.length === 0) return null;
  return (
    <>
      <h2>
        Phases <span className="muted small">(times in {timeZoneName()})</span>
      </h2>
      <ol className="steps" data-testid="phases">
        {d.phases.map((p, index) => {
          const until = d.phases[index + 1]?.at ?? d.finishedAt;
          return (
            <li key={p.phase} data-phase={p.phase}>
              <time dateTime={p.at} title={formatTime(p.at)} className="mono">
                {CLOCK.format(new Date(p.at))}
              </time>
              <span className="step-text">{p.phase.replaceAll('_', ' ')}</span>
              <span className="muted">
                {until === null ? 'running' : formatDuration(elapsed(p.at, until))}
              </span>
            </li>
          );
        })}
      </ol>
    </>
  );
}

/** Steps are seconds apart: their times to the second, in the browser's zone. */
const CLOCK = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/** The narrative of the run with the time each step took (times in the browser's zone). */
function Steps({ log }: { log: LogState }) {
  const steps = stepsOf(log.lines);
  if (steps.length === 0) return null;
  return (
    <>
      <h2>
        Steps <span className="muted small">(times in {timeZoneName()})</span>
      </h2>
      <ol className="steps" data-testid="steps">
        {steps.map((s) => (
          <li key={s.seq}>
            <time dateTime={s.at} title={formatTime(s.at)} className="mono">
              {CLOCK.format(new Date(s.at))}
            </time>
            <span className={`step-by step-${s.by}`}>{s.by}</span>
            <span className="step-text">{s.text}</span>
            {s.tookMs !== null && <span className="muted">{formatDuration(s.tookMs)}</span>}
          </li>
        ))}
      </ol>
    </>
  );
}
