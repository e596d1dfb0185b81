import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Facts } from '@flotilla/protocol';
import { asStorePath, plain } from './reportable.js';

describe('reportable values', () => {
  it('reports a system outside the store as unknown', () => {
    const path = '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-hsb1';
    assert.equal(asStorePath(path), path);
    assert.equal(asStorePath('/opt/system'), null);
    assert.equal(asStorePath(null), null);
  });

  it('makes text plain and short enough for the controller', () => {
    const hostname = plain(`evil\u001b[2J\u202ehost${'x'.repeat(300)}`, 253);
    assert.equal(hostname.length, 253);
    assert.match(hostname, /^evil \[2J host/);
    assert.equal(Facts.shape.hostname.safeParse(hostname).success, true);
  });
});
