import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostSettings, Wave } from '../config.js';
import { deployWindowList } from './deploy-windows.view.js';

const NIGHT = {
  days: ['sat' as const, 'sun' as const],
  start: '02:00',
  end: '04:00',
  timeZone: 'UTC',
};
const config = {
  hosts: {
    zeta: HostSettings.parse({ windows: [NIGHT] }),
    alpha: HostSettings.parse({
      windows: [{ start: '09:00', end: '17:00', timeZone: 'Europe/Vienna' }],
    }),
    plain: HostSettings.parse({ policy: 'manual' }),
  },
  rollout: {
    waves: [
      Wave.parse({ name: 'canary', hosts: ['zeta'] }),
      Wave.parse({ name: 'main', hosts: ['alpha'], windows: [NIGHT] }),
    ],
  },
};

describe('the deploy windows as the API lists them', () => {
  it('lists hosts by name, then waves in order, leaving out those without windows', () => {
    // Saturday 2026-03-07, 10:00 in Vienna (09:00 UTC).
    const list = deployWindowList(config, new Date('2026-03-07T09:00:00.000Z'));
    assert.deepEqual(
      list.windows.map((w) => `${w.scope}:${w.name}`),
      ['host:alpha', 'host:zeta', 'wave:main'],
    );
    const [alpha, zeta] = list.windows;
    assert.equal(alpha?.open, true);
    assert.equal(alpha?.nextOpen, '2026-03-07T09:00:00.000Z');
    assert.equal(alpha?.description, 'daily 09:00–17:00 Europe/Vienna');
    assert.deepEqual(alpha?.windows, [{ start: '09:00', end: '17:00', timeZone: 'Europe/Vienna' }]);
    assert.equal(zeta?.open, false);
    assert.equal(zeta?.nextOpen, '2026-03-08T02:00:00.000Z', 'Sunday 02:00 UTC');
    assert.deepEqual(zeta?.windows[0]?.days, ['sat', 'sun']);
  });

  it('is empty when nothing declares windows', () => {
    assert.deepEqual(deployWindowList({ hosts: {}, rollout: { waves: [] } }, new Date()), {
      windows: [],
    });
  });
});
