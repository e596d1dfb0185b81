import type { DecisionResult, PendingApproval } from '@flotilla/protocol';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError } from '../../api/api-error.js';
import { useRepository } from '../../api/queries.js';
import { Link } from '../../app/Link.js';
import { useCan } from '../../auth/session.js';
import { ActionError } from '../../components/ActionError.js';
import { Empty, QueryView } from '../../components/states.js';
import { Badge, DeploymentStatusBadge } from '../../components/StatusBadge.js';
import { Time } from '../../components/Time.js';
import { shortSha } from '../../format/quantity.js';
import { timeZoneName } from '../../format/time.js';
import {
  groupApprovals,
  isUndecided,
  type RevisionGroup,
  type WaveGroup,
} from './approval-groups.js';
import { useApprovals, useDecide, useRevisionCommit, useWaves } from './approval.queries.js';
import { ChangePlan } from './ChangePlan.js';
import { commitLink } from './commit-link.js';

/** What a decision covers: one host, one wave of a revision, or the whole revision. */
type Scope =
  | { kind: 'host'; approval: PendingApproval }
  | { kind: 'wave'; revisionId: string; wave: WaveGroup }
  | { kind: 'revision'; group: RevisionGroup & { revisionId: string } };

type Decision = 'approve' | 'reject';

/** The approvals inbox: pending releases by revision and wave; approve or reject with a comment. */
export function ApprovalsPage() {
  const approvals = useApprovals();
  const waves = useWaves();
  const [asking, setAsking] = useState<{ scope: Scope; decision: Decision } | null>(null);
  const [result, setResult] = useState<DecisionResult | null>(null);
  return (
    <section aria-labelledby="approvals-title">
      <h1 id="approvals-title">Approvals</h1>
      <p className="muted">Times in {timeZoneName()}.</p>
      {result && <DecisionSummary result={result} onClose={() => setResult(null)} />}
      <QueryView query={approvals} label="Loading approvals">
        {(data) =>
          data.approvals.length === 0 ? (
            <Empty title="Nothing waits for a decision.">
              <p>Releases for hosts with the manual policy wait here until someone decides.</p>
            </Empty>
          ) : (
            groupApprovals(
              data.approvals,
              (waves.data?.waves ?? []).map((w) => w.name),
            ).map((group) => (
              <RevisionCard
                key={group.revisionId ?? group.waves[0]?.approvals[0]?.deploymentId}
                group={group}
                onDecide={(scope, decision) => setAsking({ scope, decision })}
              />
            ))
          )
        }
      </QueryView>
      {asking && (
        <DecisionDialog
          {...asking}
          onDone={(answer) => {
            setAsking(null);
            if (answer) setResult(answer);
          }}
        />
      )}
    </section>
  );
}

function RevisionCard({
  group,
  onDecide,
}: {
  group: RevisionGroup;
  onDecide: (scope: Scope, decision: Decision) => void;
}) {
  const can = useCan();
  const commit = useRevisionCommit(group.revisionId);
  const repository = useRepository();
  const link = commitLink(repository.data?.url, group.sha);
  const undecided = group.waves.flatMap((w) => w.approvals).filter(isUndecided);
  const subject = (commit.data?.message ?? group.commitMessage ?? '').split('\n')[0];
  const revisionId = group.revisionId;
  return (
    <article className="card approval-revision" data-testid="approval-revision">
      <header className="page-header">
        <h2>
          {group.sha ? (
            <>
              {link ? (
                <a href={link} target="_blank" rel="noreferrer noopener" className="mono">
                  {shortSha(group.sha)}
                </a>
              ) : (
                <span className="mono">{shortSha(group.sha)}</span>
              )}{' '}
              <span className="commit-subject">{subject || '(no message)'}</span>
            </>
          ) : (
            'A store path, not from a revision'
          )}
        </h2>
        {revisionId !== null && (
          <Link to={`/rollouts/${encodeURIComponent(revisionId)}`}>Rollout</Link>
        )}
      </header>
      {commit.data && (
        <p className="muted small">
          {commit.data.author} · committed <Time iso={commit.data.committedAt} />
        </p>
      )}
      {group.halted && (
        <div className="callout callout-bad" role="alert">
          <strong>The rollout is halted</strong>
          {group.haltReason && <>: {group.haltReason}</>}. Approvals are refused until it is resumed
          {revisionId !== null && (
            <>
              {' '}
              on its <Link to={`/rollouts/${encodeURIComponent(revisionId)}`}>rollout page</Link>
            </>
          )}
          .
        </div>
      )}
      {can('operator') && revisionId !== null && undecided.length > 1 && (
        <div className="actions" aria-label={`Decide the whole revision ${shortSha(group.sha)}`}>
          <button
            type="button"
            className="primary"
            onClick={() =>
              onDecide({ kind: 'revision', group: { ...group, revisionId } }, 'approve')
            }
          >
            Approve all {undecided.length} hosts
          </button>
          <button
            type="button"
            onClick={() =>
              onDecide({ kind: 'revision', group: { ...group, revisionId } }, 'reject')
            }
          >
            Reject all
          </button>
        </div>
      )}
      {group.waves.map((wave) => (
        <WaveSection
          key={wave.wave ?? ''}
          revisionId={revisionId}
          wave={wave}
          several={group.waves.length > 1}
          onDecide={onDecide}
        />
      ))}
    </article>
  );
}

function WaveSection({
  revisionId,
  wave,
  several,
  onDecide,
}: {
  revisionId: string | null;
  wave: WaveGroup;
  several: boolean;
  onDecide: (scope: Scope, decision: Decision) => void;
}) {
  const can = useCan();
  const undecided = wave.approvals.filter(isUndecided);
  return (
    <section className="approval-wave" aria-label={`Wave ${wave.wave ?? 'none'}`}>
      <h3>
        {wave.wave === null ? 'No wave' : `Wave ${wave.wave}`}{' '}
        <span className="muted small">
          {wave.approvals.length} host{wave.approvals.length === 1 ? '' : 's'} change
        </span>
      </h3>
      {can('operator') &&
        several &&
        revisionId !== null &&
        wave.wave !== null &&
        undecided.length > 1 && (
          <div className="actions">
            <button
              type="button"
              onClick={() => onDecide({ kind: 'wave', revisionId, wave }, 'approve')}
            >
              Approve wave {wave.wave}
            </button>
            <button
              type="button"
              onClick={() => onDecide({ kind: 'wave', revisionId, wave }, 'reject')}
            >
              Reject wave {wave.wave}
            </button>
          </div>
        )}
      <ul className="approval-hosts">
        {wave.approvals.map((a) => (
          <li key={a.deploymentId} data-testid="approval-host" data-host={a.host}>
            <div className="approval-host-head">
              <Link to={`/hosts/${encodeURIComponent(a.host)}`} className="host-name">
                {a.host}
              </Link>
              <DeploymentStatusBadge status={a.status} />
              {a.isRollback && (
                <Badge tone="warn" status="rollback">
                  rollback
                </Badge>
              )}
              {a.quarantined && (
                <Badge tone="bad" status="quarantined">
                  quarantined
                </Badge>
              )}
              <span className="muted small">
                waiting since <Time iso={a.createdAt} />
              </span>
              <Link to={`/deployments/${encodeURIComponent(a.deploymentId)}`} className="small">
                deployment
              </Link>
              {can('operator') && isUndecided(a) && (
                <span className="approval-buttons">
                  <button
                    type="button"
                    className="primary"
                    aria-label={`Approve ${a.host}`}
                    onClick={() => onDecide({ kind: 'host', approval: a }, 'approve')}
                  >
                    Approve
                  </button>
                  <button
                    type="button"
                    aria-label={`Reject ${a.host}`}
                    onClick={() => onDecide({ kind: 'host', approval: a }, 'reject')}
                  >
                    Reject
                  </button>
                </span>
              )}
            </div>
            {a.holdReason && <p className="small">Held: {a.holdReason}</p>}
            <ChangePlan host={a.host} plan={a.plan ?? null} />
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The hosts a scope decides on (only those still waiting), and how the API is asked. */
function describe(scope: Scope): { hosts: string[]; title: string; body: object } {
  switch (scope.kind) {
    case 'host':
      return {
        hosts: [scope.approval.host],
        title: scope.approval.host,
        body: { deploymentId: scope.approval.deploymentId },
      };
    case 'wave':
      return {
        hosts: scope.wave.approvals.filter(isUndecided).map((a) => a.host),
        title: `wave ${scope.wave.wave ?? ''}`,
        body: { revisionId: scope.revisionId, wave: scope.wave.wave ?? undefined },
      };
    case 'revision':
      return {
        hosts: scope.group.waves.flatMap((w) => w.approvals.filter(isUndecided).map((a) => a.host)),
        title: `every host of ${shortSha(scope.group.sha)}`,
        body: { revisionId: scope.group.revisionId },
      };
  }
}

function DecisionDialog({
  scope,
  decision,
  onDone,
}: {
  scope: Scope;
  decision: Decision;
  onDone: (result: DecisionResult | null) => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const decide = useDecide();
  const [comment, setComment] = useState('');
  const { hosts, title, body } = describe(scope);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    decide.mutate(
      { decision, ...body, ...(comment.trim() === '' ? {} : { comment: comment.trim() }) },
      { onSuccess: (answer) => onDone(answer) },
    );
  };
  const verb = decision === 'approve' ? 'Approve' : 'Reject';
  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby="decision-title"
      onCancel={() => onDone(null)}
    >
      <form onSubmit={submit}>
        <h2 id="decision-title">
          {verb} {title}
        </h2>
        <p>
          {hosts.length === 1 ? 'This host' : `These ${hosts.length} hosts`}:{' '}
          <strong>{hosts.join(', ')}</strong>
          {hosts.length > 1 && ' — all or nothing: if one is refused, none is decided.'}
        </p>
        <label>
          Comment {decision === 'reject' ? '(why)' : '(optional)'}
          <textarea
            name="comment"
            rows={3}
            maxLength={2000}
            value={comment}
            onChange={(e) => setComment(e.target.value)}
          />
        </label>
        <RefusedHosts error={decide.error} />
        <div className="dialog-actions">
          <button type="button" onClick={() => onDone(null)}>
            Cancel
          </button>
          <button
            type="submit"
            className={decision === 'approve' ? 'primary' : 'danger'}
            disabled={decide.isPending}
          >
            {decide.isPending ? `${verb.slice(0, -1)}ing…` : verb}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** A refused bulk decision: the error, and per host why (nothing was decided). */
function RefusedHosts({ error }: { error: unknown }) {
  if (!error) return null;
  const refused =
    error instanceof ApiError &&
    typeof error.details === 'object' &&
    error.details !== null &&
    'refused' in error.details &&
    Array.isArray(error.details.refused)
      ? (error.details.refused as { host: string; message: string; code: string }[])
      : [];
  return (
    <>
      <ActionError error={error} />
      {refused.length > 0 && (
        <ul className="refused">
          {refused.map((r) => (
            <li key={r.host}>
              <strong>{r.host}</strong>: {r.message} <code className="error-code">{r.code}</code>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** What a decision did, host by host. */
function DecisionSummary({ result, onClose }: { result: DecisionResult; onClose: () => void }) {
  return (
    <div className="callout callout-ok" role="status" data-testid="decision-summary">
      <p>
        <strong>
          Decided {result.decided.length} deployment{result.decided.length === 1 ? '' : 's'}:
        </strong>
      </p>
      <ul>
        {result.decided.map((d) => (
          <li key={d.deploymentId}>
            <Link to={`/deployments/${encodeURIComponent(d.deploymentId)}`}>{d.host}</Link>:{' '}
            <DeploymentStatusBadge status={d.status} />
            {d.holdReason && <> — held: {d.holdReason}</>}
            {d.notes.map((note) => (
              <span key={note} className="muted">
                {' '}
                ({note})
              </span>
            ))}
          </li>
        ))}
      </ul>
      <button type="button" onClick={onClose}>
        Dismiss
      </button>
    </div>
  );
}
