import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchPath } from './router.js';

describe('matchPath', () => {
  it('matches static parts and names parameters, decoded', () => {
    assert.deepEqual(matchPath('/', '/'), {});
    assert.deepEqual(matchPath('/hosts/:name', '/hosts/web%2D1'), { name: 'web-1' });
    assert.equal(matchPath('/hosts/:name', '/hosts'), null);
    assert.equal(matchPath('/hosts/:name', '/hosts/a/b'), null);
    assert.equal(matchPath('/builds', '/deployments'), null);
  });

  it('gives the rest of the path to a trailing *', () => {
    assert.deepEqual(matchPath('/editor/*', '/editor/hosts/web1.nix'), { '*': 'hosts/web1.nix' });
    assert.deepEqual(matchPath('/editor/*', '/editor'), { '*': '' });
  });
});
