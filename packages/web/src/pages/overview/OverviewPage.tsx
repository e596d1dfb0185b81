import type { Host } from '@flotilla/protocol';
import { useAllHosts } from '../../api/queries.js';
import { Link } from '../../app/Link.js';
import { setSearch, useLocation } from '../../app/router.js';
import { timeZoneName } from '../../format/time.js';
import { Empty, QueryView } from '../../components/states.js';
import { Time } from '../../components/Time.js';

/** Every host, managed and monitor-only, with where it stands. */
export function OverviewPage() {
  const hosts = useAllHosts();
  const query = useLocation().search.get('q') ?? '';
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Fleet</h1>
      <div className="toolbar">
        <label>
          Search hosts
          <input
            type="search"
            value={query}
            onChange={(e) => setSearch({ q: e.target.value })}
            placeholder="name"
          />
        </label>
        <span className="muted">Times in {timeZoneName()}</span>
      </div>
      <QueryView query={hosts} label="Loading hosts">
        {(data) => <HostTable hosts={data.hosts.filter((h) => h.name.includes(query))} />}
      </QueryView>
    </section>
  );
}

function HostTable({ hosts }: { hosts: Host[] }) {
  if (hosts.length === 0) {
    return (
      <Empty title="No hosts yet.">
        <p>
          Add one with <code>flotilla hosts add NAME</code> and start its agent with the enrollment
          token it prints.
        </p>
      </Empty>
    );
  }
  return (
    <table className="host-table">
      <thead>
        <tr>
          <th scope="col">Host</th>
          <th scope="col">Mode</th>
          <th scope="col">Status</th>
          <th scope="col">Last seen</th>
        </tr>
      </thead>
      <tbody>
        {hosts.map((host) => (
          <tr key={host.name} data-testid="host-row">
            <td>
              <Link to={`/hosts/${encodeURIComponent(host.name)}`}>{host.name}</Link>
            </td>
            <td>{host.mode}</td>
            <td>{host.status}</td>
            <td>
              <Time iso={host.lastSeenAt} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
