import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Host, OverviewHost } from '@flotilla/protocol';
import {
  applyFilter,
  approvalsByRevision,
  DEFAULT_FILTER,
  filterFromSearch,
  fullestDisk,
  syncLabel,
} from './overview-model.js';

function entry(
  name: string,
  over: Partial<Host> = {},
  extra: Partial<OverviewHost> = {},
): OverviewHost {
  const host: Host = {
    name,
    mode: 'managed',
    os: 'linux',
    status: 'online',
    agentVersion: '0.1.0',
    agentOutdated: false,
    protocolVersion: 1,
    connectedAt: null,
    lastSeenAt: '2026-03-02T10:00:00.000Z',
    facts: null,
    factsAt: null,
    metrics: null,
    createdAt: '2026-03-01T10:00:00.000Z',
    ...over,
  };
  return {
    host,
    policy: host.mode === 'monitor' ? 'monitor' : 'manual',
    pinned: false,
    pinReason: null,
    wave: null,
    graduation: null,
    pendingApprovals: [],
    openDeployment: null,
    lastDeployment: null,
    ...extra,
  };
}

const sync = (
  state: 'up_to_date' | 'behind' | 'drifted' | 'unknown',
  behindBy: number | null = null,
) => ({
  state,
  behindBy,
  runningReleaseId: null,
  runningRevisionId: null,
  runningSha: null,
  headSha: null,
});

describe('the fleet overview model', () => {
  it('says where a host stands against the branch head', () => {
    assert.deepEqual(syncLabel(entry('a', { sync: sync('behind', 3) }).host), {
      text: 'behind by 3 commits',
      tone: 'warn',
    });
    assert.equal(
      syncLabel(entry('a', { sync: sync('behind', 1) }).host).text,
      'behind by 1 commit',
    );
    assert.equal(syncLabel(entry('a', { sync: sync('behind') }).host).text, 'behind');
    assert.equal(syncLabel(entry('a', { sync: sync('drifted') }).host).tone, 'bad');
    assert.equal(syncLabel(entry('a').host).text, 'unknown');
  });

  it('filters by search, status, mode and attention, and sorts with ties by name', () => {
    const hosts = [
      entry('web2', { sync: sync('up_to_date') }),
      entry('web1', { status: 'offline', sync: sync('drifted') }),
      entry('imac0', { mode: 'monitor' }),
      entry(
        'db1',
        { sync: sync('behind', 2) },
        {
          pendingApprovals: [{ deploymentId: 'd1', releaseId: 'r1', revisionId: 'rv1', sha: null }],
        },
      ),
    ];
    const names = (f: Partial<typeof DEFAULT_FILTER>) =>
      applyFilter(hosts, { ...DEFAULT_FILTER, ...f }).map((h) => h.host.name);
    assert.deepEqual(names({}), ['db1', 'imac0', 'web1', 'web2']);
    assert.deepEqual(names({ search: 'WEB' }), ['web1', 'web2']);
    assert.deepEqual(names({ status: 'offline' }), ['web1']);
    assert.deepEqual(names({ mode: 'monitor' }), ['imac0']);
    assert.deepEqual(names({ attention: true }), ['db1', 'web1']);
    assert.deepEqual(names({ sort: 'sync' }), ['web1', 'db1', 'imac0', 'web2']);
    assert.deepEqual(names({ sort: 'status' }), ['web1', 'db1', 'imac0', 'web2']);
  });

  it('reads the filter from the query string, ignoring values it does not know', () => {
    const filter = filterFromSearch(
      new URLSearchParams('q=web&status=offline&mode=bogus&attention=1&sort=load'),
    );
    assert.deepEqual(filter, {
      search: 'web',
      status: 'offline',
      mode: 'all',
      attention: true,
      sort: 'load',
    });
  });

  it('groups waiting approvals by revision for one all-or-nothing decision each', () => {
    const groups = approvalsByRevision([
      entry(
        'a',
        {},
        {
          pendingApprovals: [{ deploymentId: 'd1', releaseId: null, revisionId: 'rv1', sha: null }],
        },
      ),
      entry(
        'b',
        {},
        {
          pendingApprovals: [{ deploymentId: 'd2', releaseId: null, revisionId: 'rv1', sha: null }],
        },
      ),
      entry(
        'c',
        {},
        {
          pendingApprovals: [{ deploymentId: 'd3', releaseId: null, revisionId: null, sha: null }],
        },
      ),
    ]);
    assert.deepEqual(groups, [
      { revisionId: 'rv1', hosts: ['a', 'b'], deploymentIds: ['d1', 'd2'] },
      { revisionId: null, hosts: ['c'], deploymentIds: ['d3'] },
    ]);
  });

  it('finds the fullest disk', () => {
    const host = entry('a', {
      metrics: {
        uptimeSeconds: 1,
        load: [0, 0, 0],
        memory: { totalBytes: 100, availableBytes: 50 },
        disks: [
          { mount: '/', totalBytes: 100, freeBytes: 60 },
          { mount: '/var', totalBytes: 100, freeBytes: 10 },
        ],
      },
    }).host;
    assert.deepEqual(fullestDisk(host), { mount: '/var', used: 0.9 });
  });
});
