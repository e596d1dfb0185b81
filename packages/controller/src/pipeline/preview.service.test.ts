import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PreviewHost } from '@flotilla/protocol';
import { formatDelta, summarize } from './preview.service.js';

const host = (name: string, changed: boolean, deltaBytes: number | null): PreviewHost => ({
  host: name,
  changed,
  drvPath: null,
  baseDrvPath: null,
  buildId: null,
  buildStatus: null,
  closureSize: null,
  baseClosureSize: null,
  deltaBytes,
  added: false,
  removed: false,
});

describe('preview summary', () => {
  it('names how many hosts rebuild and the biggest size changes first', () => {
    const hosts = [
      host('csb1', false, 0),
      host('gpc0', true, 12_000_000),
      host('hsb1', true, -1_200_000),
      host('hsb8', true, null),
    ];
    assert.equal(
      summarize(hosts, false),
      'rebuilds 3 of 4 hosts, +12.0 MB on gpc0, −1.2 MB on hsb1',
    );
  });

  it('says when nothing changes and when evaluation failed', () => {
    assert.equal(summarize([host('a', false, 0)], false), 'changes none of 1 hosts');
    assert.equal(summarize([], true), 'evaluation failed');
  });

  it('formats deltas in decimal units', () => {
    assert.equal(formatDelta(512), '+512 B');
    assert.equal(formatDelta(-1500), '−1.5 kB');
    assert.equal(formatDelta(2_500_000_000), '+2.50 GB');
  });
});
