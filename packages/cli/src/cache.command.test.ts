import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestController, type TestController, runCli } from './test-controller.js';

const KEY = 'flotilla-ctl-1:Gz1khmvwnIoerheSuoHH0tTQTkfYrr7KFacyah/y6Pc=';

describe('flotilla cache', () => {
  let controller: TestController;
  before(async () => {
    controller = await startTestController({
      'GET /api/v1/cache': () => ({ json: { publicKey: KEY, path: '/cache', pushTo: null } }),
    });
  });
  after(() => controller.close());

  const cli = (...argv: string[]) => runCli(controller, argv, new Date('2025-01-01T12:00:00Z'));

  it('prints the key and the agent setting that trusts it', async () => {
    const { code, stdout } = await cli('cache');
    assert.equal(code, 0);
    assert.match(stdout, new RegExp(`Public key: +${KEY.replace(/[+/]/g, '\\$&')}`));
    assert.ok(stdout.includes(`--trusted-public-key ${KEY}`));
    assert.equal(controller.requests.at(-1)?.authorization, 'Bearer admin');
  });

  it('prints the answer as JSON with --json', async () => {
    const { stdout } = await cli('cache', '--json');
    assert.deepEqual(JSON.parse(stdout), { publicKey: KEY, path: '/cache', pushTo: null });
  });
});
