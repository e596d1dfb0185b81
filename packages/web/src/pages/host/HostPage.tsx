import {
  IN_FLIGHT_DEPLOYMENT_STATUSES,
  type Generation,
  type Host,
  type HostStatusReport,
} from '@flotilla/protocol';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { messageOf } from '../../api/api-error.js';
import { useApi } from '../../api/api-context.js';
import { queryKeys } from '../../api/query-keys.js';
import { Link } from '../../app/Link.js';
import { useCan } from '../../auth/session.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { DeploymentLog } from '../../components/DeploymentLog.js';
import { ErrorState, Loading } from '../../components/states.js';
import { Time } from '../../components/Time.js';
import { useHostPageData } from './host-queries.js';
import {
  FactsSection,
  HistorySection,
  IdentitySection,
  PolicySection,
  RevisionSection,
} from './HostSections.js';

type Action = { kind: 'reboot' } | { kind: 'pin' } | { kind: 'unpin' } | { kind: 'rollback' };

/** One host: facts, revision, policy, identity, generations, deployments, the running log. */
export function HostPage({ params }: { params: Record<string, string> }) {
  const name = params.name ?? '';
  const data = useHostPageData(name);
  const { host, status } = data;
  if (host.isPending || status.isPending) return <Loading label={`Loading ${name}`} />;
  if (host.isError) return <ErrorState error={host.error} retry={() => void host.refetch()} />;
  if (status.isError)
    return <ErrorState error={status.error} retry={() => void status.refetch()} />;
  return (
    <section aria-labelledby="host-title" className="host-page">
      <p className="small">
        <Link to="/">Fleet</Link> / {name}
      </p>
      <h1 id="host-title">
        {name}{' '}
        <span className={`badge badge-${host.data.status === 'online' ? 'ok' : 'bad'}`}>
          {host.data.status.replace('_', ' ')}
        </span>{' '}
        <span className="badge badge-muted">{host.data.mode}</span>
      </h1>
      <HostActions host={host.data} status={status.data} />
      <RunningDeployment status={status.data} />
      <div className="host-grid">
        <RevisionSection host={host.data} status={status.data} />
        <PolicySection status={status.data} policy={data.policy} graduation={data.graduation} />
        <FactsSection host={host.data} />
        <IdentitySection host={host.data} />
        <Generations host={host.data} />
        {data.deployments.data && (
          <HistorySection deployments={data.deployments.data.deployments} />
        )}
      </div>
    </section>
  );
}

function RunningDeployment({ status }: { status: HostStatusReport }) {
  const pending = status.pending;
  const last = status.lastDeployment;
  if (pending && IN_FLIGHT_DEPLOYMENT_STATUSES.includes(pending.status)) {
    return (
      <section className="card" aria-labelledby="running-title">
        <h2 id="running-title">Deploying now: {pending.status}</h2>
        <DeploymentLog deploymentId={pending.deploymentId} running />
      </section>
    );
  }
  if (!last) return null;
  return (
    <details className="card">
      <summary>
        Last deployment: {last.status.replace(/_/g, ' ')} <Time iso={last.finishedAt} />
        {last.error ? ` — ${last.error}` : ''}
      </summary>
      <DeploymentLog deploymentId={last.deploymentId} running={false} />
    </details>
  );
}

function HostActions({ host, status }: { host: Host; status: HostStatusReport }) {
  const can = useCan();
  const api = useApi();
  const queryClient = useQueryClient();
  const [action, setAction] = useState<Action | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  if (!can('operator') || host.mode === 'monitor') return null;

  const run = async (work: () => Promise<string>) => {
    setBusy(true);
    try {
      setMessage({ ok: true, text: await work() });
    } catch (error) {
      setMessage({ ok: false, text: messageOf(error) });
    } finally {
      setBusy(false);
      setAction(null);
      void queryClient.invalidateQueries({ queryKey: queryKeys.host(host.name) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.overview });
      void queryClient.invalidateQueries({ queryKey: queryKeys.policies });
    }
  };
  const params = { name: host.name };
  return (
    <div className="host-actions" role="group" aria-label="Actions">
      <button type="button" onClick={() => setAction({ kind: 'rollback' })}>
        Roll back
      </button>
      {status.pinned ? (
        <button type="button" onClick={() => setAction({ kind: 'unpin' })}>
          Unpin
        </button>
      ) : (
        <button type="button" onClick={() => setAction({ kind: 'pin' })}>
          Pin
        </button>
      )}
      <button type="button" className="danger" onClick={() => setAction({ kind: 'reboot' })}>
        Reboot…
      </button>
      {message && (
        <span className={message.ok ? 'ok' : 'bad'} role="status">
          {message.text}
        </span>
      )}
      {action?.kind === 'reboot' && (
        <ConfirmDialog
          title={`Reboot ${host.name}`}
          confirmLabel="Reboot"
          danger
          typeToConfirm={host.name}
          busy={busy}
          onCancel={() => setAction(null)}
          onConfirm={() =>
            void run(async () => {
              await api.call('rebootHost', { params, body: { confirm: host.name } });
              return `${host.name} is rebooting; its agent reports back after the boot.`;
            })
          }
        >
          <p>The host restarts now. Anything running on it stops.</p>
        </ConfirmDialog>
      )}
      {(action?.kind === 'pin' || action?.kind === 'unpin') && (
        <ConfirmDialog
          title={action.kind === 'pin' ? `Pin ${host.name}` : `Unpin ${host.name}`}
          confirmLabel={action.kind === 'pin' ? 'Pin' : 'Unpin'}
          withComment={action.kind === 'pin'}
          busy={busy}
          onCancel={() => setAction(null)}
          onConfirm={(reason) =>
            void run(async () => {
              if (action.kind === 'pin') {
                await api.call('pinHost', { params, body: reason ? { reason } : {} });
                return `${host.name} is pinned: auto deployments leave it where it is.`;
              }
              await api.call('unpinHost', { params });
              return `${host.name} is no longer pinned.`;
            })
          }
        >
          <p>
            {action.kind === 'pin'
              ? 'Auto deployments stop moving this host forward until it is unpinned.'
              : 'Auto deployments may move this host forward again.'}
          </p>
        </ConfirmDialog>
      )}
      {action?.kind === 'rollback' && (
        <ConfirmDialog
          title={`Roll ${host.name} back`}
          confirmLabel="Roll back"
          danger
          withComment
          busy={busy}
          onCancel={() => setAction(null)}
          onConfirm={(comment) =>
            void run(async () => {
              const answer = await api.call('rollbackHost', {
                params,
                body: comment ? { comment } : {},
              });
              return `Rollback ${answer.deployment.status.replace(/_/g, ' ')}; the host is pinned.`;
            })
          }
        >
          <p>
            The host goes back to the system last verified before the current one. It is pinned
            afterwards, so nothing moves it forward by itself.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}

function Generations({ host }: { host: Host }) {
  const can = useCan();
  const [target, setTarget] = useState<Generation | null>(null);
  const generations = host.facts?.generations ?? [];
  return (
    <section className="card wide" aria-labelledby="generations-title">
      <h2 id="generations-title">Generations</h2>
      {generations.length === 0 ? (
        <p className="muted">The agent reported none.</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table" data-testid="generations">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Made</th>
                <th scope="col">System</th>
                <th scope="col">
                  <span className="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {generations.map((g) => (
                <tr key={g.number}>
                  <td>
                    {g.number}
                    {g.current && <span className="badge badge-ok">current</span>}
                  </td>
                  <td>
                    <Time iso={g.date} />
                  </td>
                  <td className="mono small">{g.path.replace('/nix/store/', '').slice(0, 40)}</td>
                  <td>
                    {can('operator') && host.mode === 'managed' && !g.current && (
                      <button type="button" onClick={() => setTarget(g)}>
                        Roll back to {g.number}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {target && (
        <GenerationRollback host={host.name} generation={target} onDone={() => setTarget(null)} />
      )}
    </section>
  );
}

function GenerationRollback(props: { host: string; generation: Generation; onDone: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <ConfirmDialog
      title={`Roll ${props.host} back to generation ${props.generation.number}`}
      confirmLabel="Roll back"
      danger
      withComment
      busy={busy}
      onCancel={props.onDone}
      onConfirm={(comment) => {
        setBusy(true);
        api
          .call('rollbackHost', {
            params: { name: props.host },
            body: { generation: props.generation.number, ...(comment ? { comment } : {}) },
          })
          .then(() => {
            void queryClient.invalidateQueries({ queryKey: queryKeys.host(props.host) });
            props.onDone();
          })
          .catch((caught: unknown) => setError(messageOf(caught)))
          .finally(() => setBusy(false));
      }}
    >
      <p>The host switches back to generation {props.generation.number} and is pinned there.</p>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </ConfirmDialog>
  );
}
