import { BuildStatus, type Build } from '@flotilla/protocol';
import { useAllHosts } from '../../api/queries.js';
import { Link } from '../../app/Link.js';
import { setSearch, useLocation } from '../../app/router.js';
import { Empty, QueryView } from '../../components/states.js';
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
  const hosts = useAllHosts();
  return (
    <section aria-labelledby="builds-title">
      <h1 id="builds-title">Builds</h1>
      <form className="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Host
          <select value={host} onChange={(e) => setSearch({ host: e.target.value })}>
            <option value="">All hosts</option>
            {(hosts.data?.hosts ?? []).map((h) => (
              <option key={h.name} value={h.name}>
                {h.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={status ?? ''} onChange={(e) => setSearch({ status: e.target.value })}>
            <option value="">Any status</option>
            {BuildStatus.options.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Revision
          <input
            type="search"
            value={revision}
            placeholder="revision id"
            onChange={(e) => setSearch({ revision: e.target.value })}
          />
        </label>
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
