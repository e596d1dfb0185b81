import type { FleetOverview } from '@flotilla/protocol';
import { useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { messageOf } from '../../api/api-error.js';
import { useApi } from '../../api/api-context.js';
import { useOverview } from '../../api/queries.js';
import { queryKeys } from '../../api/query-keys.js';
import { setSearch, useLocation } from '../../app/router.js';
import { useCan } from '../../auth/session.js';
import { Empty, QueryView } from '../../components/states.js';
import { timeZoneName } from '../../format/time.js';
import { BulkActions, type BulkResult } from './BulkActions.js';
import { HostList } from './HostList.js';
import { applyFilter, countsOf, filterFromSearch, type OverviewFilter } from './overview-model.js';

/** Every host, managed and monitor-only, with where it stands; filters live in the URL. */
export function OverviewPage() {
  const overview = useOverview();
  const filter = filterFromSearch(useLocation().search);
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Fleet</h1>
      <QueryView query={overview} label="Loading the fleet">
        {(data) => <OverviewView data={data} filter={filter} />}
      </QueryView>
    </section>
  );
}

function OverviewView({ data, filter }: { data: FleetOverview; filter: OverviewFilter }) {
  const can = useCan();
  const api = useApi();
  const queryClient = useQueryClient();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [result, setResult] = useState<BulkResult | null>(null);
  const shown = useMemo(() => applyFilter(data.hosts, filter), [data.hosts, filter]);
  const counts = useMemo(() => countsOf(data.hosts), [data.hosts]);
  const chosen = data.hosts.filter((h) => selected.has(h.host.name));
  const toggle = (name: string) => {
    const next = new Set(selected);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    setSelected(next);
  };
  const toggleAll = (select: boolean) =>
    setSelected(select ? new Set(shown.map((h) => h.host.name)) : new Set());
  const done = (outcome: BulkResult) => {
    setResult(outcome);
    setSelected(new Set());
    void queryClient.invalidateQueries({ queryKey: queryKeys.overview });
    void queryClient.invalidateQueries({ queryKey: queryKeys.approvals });
  };

  if (data.hosts.length === 0) {
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
    <>
      <p className="summary-counts" data-testid="fleet-counts">
        <span>{counts.total} hosts</span>
        <span>{counts.online} online</span>
        <span>
          {counts.managed} managed, {counts.monitor} monitor-only
        </span>
        <span>{counts.waiting} waiting for approval</span>
        <span>{counts.attention} need attention</span>
      </p>
      <FilterBar filter={filter} />
      {can('operator') && (
        <BulkActions
          api={api}
          chosen={chosen}
          onDone={done}
          onError={(error) => setResult({ ok: false, lines: [messageOf(error)] })}
        />
      )}
      {result && (
        <div className={`notice ${result.ok ? 'notice-ok' : 'notice-bad'}`} role="status">
          {result.lines.map((line) => (
            <p key={line}>{line}</p>
          ))}
          <button type="button" onClick={() => setResult(null)}>
            Dismiss
          </button>
        </div>
      )}
      {shown.length === 0 ? (
        <Empty title="No host matches these filters.">
          <button type="button" onClick={() => setSearch(CLEARED)}>
            Clear the filters
          </button>
        </Empty>
      ) : (
        <HostList
          hosts={shown}
          selected={selected}
          selectable={can('operator')}
          onToggle={toggle}
          onToggleAll={toggleAll}
        />
      )}
      <p className="muted small">
        Times in {timeZoneName()}. Branch head {data.headSha?.slice(0, 8) ?? 'not known yet'}.
      </p>
    </>
  );
}

const CLEARED = { q: null, status: null, mode: null, attention: null, sort: null };

function FilterBar({ filter }: { filter: OverviewFilter }) {
  return (
    <div className="toolbar" role="search">
      <label>
        Search
        <input
          type="search"
          value={filter.search}
          onChange={(e) => setSearch({ q: e.target.value })}
          placeholder="name, OS, wave"
        />
      </label>
      <label>
        Status
        <select value={filter.status} onChange={(e) => setSearch({ status: e.target.value })}>
          <option value="all">all</option>
          <option value="online">online</option>
          <option value="offline">offline</option>
        </select>
      </label>
      <label>
        Mode
        <select value={filter.mode} onChange={(e) => setSearch({ mode: e.target.value })}>
          <option value="all">all</option>
          <option value="managed">managed</option>
          <option value="monitor">monitor-only</option>
        </select>
      </label>
      <label>
        Sort by
        <select value={filter.sort} onChange={(e) => setSearch({ sort: e.target.value })}>
          <option value="name">name</option>
          <option value="status">status</option>
          <option value="lastSeen">last seen</option>
          <option value="sync">revision</option>
          <option value="load">load</option>
        </select>
      </label>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={filter.attention}
          onChange={(e) => setSearch({ attention: e.target.checked ? '1' : null })}
        />
        Needs attention
      </label>
    </div>
  );
}
