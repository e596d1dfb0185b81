import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStatStartTime } from './process-identity.js';
import { parseFailedUnits } from './systemd.js';

describe('parseFailedUnits', () => {
  it('reads the unit names of systemctl --output=json, sorted', () => {
    const text = JSON.stringify([
      { unit: 'nginx.service', load: 'loaded', active: 'failed', sub: 'failed', description: 'x' },
      { unit: 'data.mount', load: 'loaded', active: 'failed', sub: 'failed', description: 'y' },
    ]);
    assert.deepEqual(parseFailedUnits(text), ['data.mount', 'nginx.service']);
    assert.deepEqual(parseFailedUnits('[]\n'), []);
  });

  it('answers null for output that is not a JSON array (old systemd)', () => {
    assert.equal(
      parseFailedUnits('  UNIT LOAD ACTIVE SUB DESCRIPTION\n0 loaded units listed.'),
      null,
    );
    assert.equal(parseFailedUnits('{"unit":"a"}'), null);
  });

  it('skips entries without a unit name', () => {
    assert.deepEqual(parseFailedUnits('[{"unit":""},null,{"load":"x"},{"unit":"a.service"}]'), [
      'a.service',
    ]);
  });
});

describe('parseStatStartTime', () => {
  it('counts fields after the command name, which may contain spaces and parentheses', () => {
    const rest = 'S 1 100 100 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 1000 50';
    assert.equal(parseStatStartTime(`4242 (node) ${rest}`), '987654');
    assert.equal(parseStatStartTime(`4242 (a (b) c) ${rest}`), '987654');
    assert.equal(parseStatStartTime('garbage'), null);
  });
});
