import { DeploymentStatus, type Deployment } from '@flotilla/protocol';
import { Link } from '../../app/Link.js';
import { useLocation } from '../../app/router.js';
import { Empty, QueryView } from '../../components/states.js';
import { HostFilter, RevisionFilter, StatusFilter } from '../../components/UrlFilters.js';
import { DeploymentStatusBadge } from '../../components/StatusBadge.js';
import { Time } from '../../components/Time.js';
import { timeZoneName } from '../../format/time.js';
import { elapsed, formatDuration } from '../../format/quantity.js';
import { useDeployments } from './deployment.queries.js';

/** Every deployment, newest first, filtered by host, status and revision (kept in the URL). */
export function DeploymentsPage() {
  const { search } = useLocation();
  const host = search.get('host') ?? '';
  const statusParam = search.get('status') ?? '';
  const status = DeploymentStatus.safeParse(statusParam).data;
  const revision = search.get('revision') ?? '';
  const deployments = useDeployments({
    host: host || undefined,
    status,
    revision: revision.trim() || undefined,
  });
  return (
    <section aria-labelledby="deployments-title">
      <h1 id="deployments-title">Deployments</h1>
      <form className="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <HostFilter value={host} />
        <StatusFilter value={status} statuses={DeploymentStatus.options} />
        <RevisionFilter value={revision} />
        <span className="muted">Times in {timeZoneName()}</span>
      </form>
      <QueryView query={deployments} label="Loading deployments">
        {(data) => (
          <DeploymentTable
            deployments={data.deployments}
            filtered={Boolean(host || status || revision)}
          />
        )}
      </QueryView>
    </section>
  );
}

function DeploymentTable({
  deployments,
  filtered,
}: {
  deployments: Deployment[];
  filtered: boolean;
}) {
  if (deployments.length === 0) {
    return (
      <Empty title={filtered ? 'No deployment matches these filters.' : 'No deployments yet.'}>
        {!filtered && (
          <p>A release waiting for approval, or a deploy from the command line, shows up here.</p>
        )}
      </Empty>
    );
  }
  return (
    <div className="table-scroll">
      <table className="data-table">
        <thead>
          <tr>
            <th scope="col">Deployment</th>
            <th scope="col">Host</th>
            <th scope="col">Status</th>
            <th scope="col">Revision</th>
            <th scope="col">Created</th>
            <th scope="col">Took</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {deployments.map((d) => (
            <tr key={d.id} data-testid="deployment-row">
              <td>
                <Link to={`/deployments/${encodeURIComponent(d.id)}`} className="mono">
                  {d.id.slice(0, 10)}
                </Link>
                {d.kind === 'rollback' && <span className="badge badge-warn">rollback</span>}
              </td>
              <td>
                <Link to={`/hosts/${encodeURIComponent(d.host)}`}>{d.host}</Link>
              </td>
              <td>
                <DeploymentStatusBadge status={d.status} />
              </td>
              <td className="mono">
                {d.revisionId ? (
                  <Link to={`/rollouts/${encodeURIComponent(d.revisionId)}`}>
                    {d.revisionId.slice(0, 10)}
                  </Link>
                ) : (
                  <span className="muted">store path</span>
                )}
              </td>
              <td>
                <Time iso={d.createdAt} />
              </td>
              <td>{formatDuration(elapsed(d.startedAt, d.finishedAt))}</td>
              <td className="reason">{d.errorMessage ?? d.holdReason ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
