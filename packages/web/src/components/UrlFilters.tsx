import { useAllHosts } from '../api/queries.js';
import { setSearch } from '../app/router.js';

/** A filter on a list page: a host to narrow to, kept in the URL's `host`. */
export function HostFilter({ value }: { value: string }) {
  const hosts = useAllHosts();
  return (
    <label>
      Host
      <select value={value} onChange={(e) => setSearch({ host: e.target.value })}>
        <option value="">All hosts</option>
        {(hosts.data?.hosts ?? []).map((h) => (
          <option key={h.name} value={h.name}>
            {h.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A status to narrow to, one of `statuses`, kept in the URL's `status`. */
export function StatusFilter({
  value,
  statuses,
}: {
  value: string | undefined;
  statuses: readonly string[];
}) {
  return (
    <label>
      Status
      <select value={value ?? ''} onChange={(e) => setSearch({ status: e.target.value })}>
        <option value="">Any status</option>
        {statuses.map((s) => (
          <option key={s} value={s}>
            {s.replaceAll('_', ' ')}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A revision id to narrow to, kept in the URL's `revision`. */
export function RevisionFilter({ value }: { value: string }) {
  return (
    <label>
      Revision
      <input
        type="search"
        value={value}
        placeholder="revision id"
        onChange={(e) => setSearch({ revision: e.target.value })}
      />
    </label>
  );
}
