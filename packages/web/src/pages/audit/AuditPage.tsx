import type { AuditEntry } from '@flotilla/protocol';
import { Link } from '../../app/Link.js';
import { setSearch, useLocation } from '../../app/router.js';
import { Empty, QueryView } from '../../components/states.js';
import { HostFilter } from '../../components/UrlFilters.js';
import { Time } from '../../components/Time.js';
import { timeZoneName } from '../../format/time.js';
import { auditApiFilter } from './audit-filter.js';
import { useAudit } from './audit.queries.js';

/** Every action and transition, newest first, by host, kind, actor and time (kept in the URL). */
export function AuditPage() {
  const { search } = useLocation();
  const host = search.get('host') ?? '';
  const kind = search.get('kind') ?? '';
  const actor = search.get('actor') ?? '';
  const from = search.get('from') ?? '';
  const to = search.get('to') ?? '';
  const audit = useAudit(auditApiFilter({ host, kind, actor, from, to }));
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form className="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <HostFilter value={host} />
        <label>
          Kind
          <input
            type="search"
            value={kind}
            placeholder="e.g. approval.approved"
            list="audit-kinds"
            onChange={(e) => setSearch({ kind: e.target.value })}
          />
        </label>
        <label>
          Actor
          <input
            type="search"
            value={actor}
            placeholder="name or token"
            onChange={(e) => setSearch({ actor: e.target.value })}
          />
        </label>
        <label>
          From ({timeZoneName()})
          <input
            type="datetime-local"
            value={from}
            onChange={(e) => setSearch({ from: e.target.value })}
          />
        </label>
        <label>
          To
          <input
            type="datetime-local"
            value={to}
            onChange={(e) => setSearch({ to: e.target.value })}
          />
        </label>
      </form>
      <QueryView query={audit} label="Loading the audit log">
        {(data) => {
          const loaded = data.pages.flatMap((page) => page.entries);
          const kinds = [...new Set(loaded.map((e) => e.kind))].sort();
          return (
            <>
              <datalist id="audit-kinds">
                {kinds.map((k) => (
                  <option key={k} value={k} />
                ))}
              </datalist>
              <AuditTable
                entries={loaded}
                filtered={Boolean(host || kind || actor || from || to)}
              />
              {audit.hasNextPage && (
                <p>
                  <button
                    type="button"
                    disabled={audit.isFetchingNextPage}
                    onClick={() => void audit.fetchNextPage()}
                  >
                    {audit.isFetchingNextPage ? 'Loading…' : 'Load older entries'}
                  </button>
                </p>
              )}
            </>
          );
        }}
      </QueryView>
    </section>
  );
}

function AuditTable({ entries, filtered }: { entries: AuditEntry[]; filtered: boolean }) {
  if (entries.length === 0) {
    return <Empty title={filtered ? 'No entry matches these filters.' : 'Nothing happened yet.'} />;
  }
  return (
    <div className="table-scroll">
      <table className="data-table">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Kind</th>
            <th scope="col">Actor</th>
            <th scope="col">Host</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id} data-testid="audit-row">
              <td>
                <Time iso={e.at} absolute />
              </td>
              <td className="mono">{e.kind}</td>
              <td>{e.actor}</td>
              <td>
                {e.host ? <Link to={`/hosts/${encodeURIComponent(e.host)}`}>{e.host}</Link> : '—'}
              </td>
              <td className="reason">
                {e.deploymentId && (
                  <Link to={`/deployments/${encodeURIComponent(e.deploymentId)}`}>deployment</Link>
                )}{' '}
                <AuditData data={e.data} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The entry's data as `key: value` pairs (reason, comment, status…), objects as JSON. */
function AuditData({ data }: { data: unknown }) {
  if (data === null || data === undefined) return null;
  if (typeof data !== 'object') return <span>{JSON.stringify(data)}</span>;
  return (
    <span className="audit-data">
      {Object.entries(data as Record<string, unknown>).map(([key, value]) => (
        <span key={key}>
          <span className="muted">{key}:</span>{' '}
          {typeof value === 'string' ? value : JSON.stringify(value)}
        </span>
      ))}
    </span>
  );
}
