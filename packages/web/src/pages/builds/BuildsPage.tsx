import { BuildStatus, type Build } from '@flotilla/protocol';
import { Link } from '../../app/Link.js';
import { useLocation } from '../../app/router.js';
import { Empty, QueryView } from '../../components/states.js';
import { HostFilter, RevisionFilter, StatusFilter } from '../../components/UrlFilters.js';
import { BuildStatusBadge } from '../../components/StatusBadge.js';
import { Time } from '../../components/Time.js';
import { elapsed, formatBytes, formatDuration } from '../../format/quantity.js';
import { timeZoneName } from '../../format/time.js';
import { useBuilds } from './build.queries.js';

/** Every build, newest first, filtered by status, host and revision (kept in the URL). */
export function BuildsPage() {
  const { search } = useLocation();
  const host = search.get('host') ?? '';
  const status = BuildStatus.safeParse(search.get('status') ?? '').data;
  const revision = search.get('revision') ?? '';
  const builds = useBuilds({
    host: host || undefined,
    status,
    revision: revision.trim() || undefined,
  });
  return (
    <section aria-labelledby="builds-title">
      <h1 id="builds-title">Builds</h1>
      <form className="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <HostFilter value={host} />
        <StatusFilter value={status} statuses={BuildStatus.options} />
        <RevisionFilter value={revision} />
        <span className="muted">Times in {timeZoneName()}</span>
      </form>
      <QueryView query={builds} label="Loading builds">
        {(data) => (
          <BuildTable builds={data.builds} filtered={Boolean(host || status || revision)} />
        )}
      </QueryView>
    </section>
  );
}

function BuildTable({ builds, filtered }: { builds: Build[]; filtered: boolean }) {
  if (builds.length === 0) {
    return (
      <Empty title={filtered ? 'No build matches these filters.' : 'No builds yet.'}>
        {!filtered && <p>A push to the tracked branch builds every host whose system changed.</p>}
      </Empty>
    );
  }
  return (
    <div className="table-scroll">
      <table className="data-table">
        <thead>
          <tr>
            <th scope="col">Build</th>
            <th scope="col">Host</th>
            <th scope="col">Status</th>
            <th scope="col">Kind</th>
            <th scope="col">Created</th>
            <th scope="col">Took</th>
            <th scope="col">Closure</th>
          </tr>
        </thead>
        <tbody>
          {builds.map((b) => (
            <tr key={b.id} data-testid="build-row">
              <td>
                <Link to={`/builds/${encodeURIComponent(b.id)}`} className="mono">
                  {b.id.slice(0, 10)}
                </Link>
                {b.attempt > 1 && <span className="muted"> attempt {b.attempt}</span>}
              </td>
              <td>
                <Link to={`/hosts/${encodeURIComponent(b.host)}`}>{b.host}</Link>
              </td>
              <td>
                <BuildStatusBadge status={b.status} />
              </td>
              <td>{b.kind}</td>
              <td>
                <Time iso={b.createdAt} />
              </td>
              <td>{formatDuration(elapsed(b.startedAt, b.finishedAt))}</td>
              <td>{formatBytes(b.closureSize)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
