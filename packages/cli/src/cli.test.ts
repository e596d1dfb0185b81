import type { Facts, LogPage } from '@flotilla/protocol';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { run } from './cli.js';
import type { CliEnv } from './context.js';
import {
  logLine,
  sampleDeployment,
  sampleHost,
  startTestController,
  STORE_PATH,
  type TestController,
} from './test-controller.js';

const now = new Date('2025-01-01T12:00:00.000Z');
const GiB = 1024 ** 3;

const facts: Facts = {
  hostname: 'web1',
  os: 'linux',
  kernel: '6.6.60',
  osRelease: {
    id: 'nixos',
    name: 'NixOS',
    versionId: '25.05',
    prettyName: 'NixOS 25.05 (Warbler)',
  },
  machineId: 'abc',
  bootId: 'def',
  system: { current: STORE_PATH, booted: STORE_PATH, bootDefault: STORE_PATH },
  nixosVersion: '25.05.20250101.abcdef0',
  configurationRevision: null,
  generations: [],
  rebootRequired: false,
  failedUnits: null,
  metrics: {
    uptimeSeconds: 3 * 86_400 + 4 * 3600,
    load: [0.5, 0.25, 0.125],
    memory: { totalBytes: 8 * GiB, availableBytes: 6 * GiB },
    disks: [{ mount: '/', totalBytes: 100 * GiB, freeBytes: 75 * GiB }],
  },
  darwin: null,
  collectedAt: '2025-01-01T11:55:00.000Z',
};

/** Log pages the stub hands out in turn for `dep-ok` and `dep-bad`. */
function scriptedLog(pages: LogPage[]): () => { json: LogPage } {
  let call = 0;
  return () => ({ json: pages[Math.min(call++, pages.length - 1)] as LogPage });
}

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
  sleeps: number;
}

const CACHE_KEY = 'flotilla-ctl-1:Gz1khmvwnIoerheSuoHH0tTQTkfYrr7KFacyah/y6Pc=';

describe('flotilla commands against a controller', () => {
  let controller: TestController;

  function cli(...argv: string[]): Promise<Captured> {
    return cliWith({}, ...argv);
  }

  async function cliWith(env: CliEnv, ...argv: string[]): Promise<Captured> {
    const out: string[] = [];
    const err: string[] = [];
    let sleeps = 0;
    const code = await run({
      argv,
      env: {
        FLOTILLA_URL: controller.url,
        FLOTILLA_TOKEN: 'admin',
        FLOTILLA_CONTEXT_FILE: '/nonexistent',
        TZ: 'UTC',
        ...env,
      },
      homedir: '/nonexistent',
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
      now: () => now,
      sleep: () => {
        sleeps++;
        return Promise.resolve();
      },
    });
    return { code, stdout: out.join('\n'), stderr: err.join('\n'), sleeps };
  }

  before(async () => {
    const counts = { total: 3, online: 2, offline: 0, neverSeen: 1 };
    controller = await startTestController({
      'GET /api/v1/hosts': ({ query }) =>
        query.get('cursor') === null
          ? {
              json: {
                hosts: [
                  sampleHost({ name: 'db1', agentVersion: '0.0.9', agentOutdated: true }),
                  sampleHost({ facts }),
                ],
                nextCursor: 'web1',
                counts,
              },
            }
          : {
              json: {
                hosts: [
                  sampleHost({
                    name: 'web2',
                    status: 'never_seen',
                    agentVersion: null,
                    lastSeenAt: null,
                  }),
                ],
                nextCursor: null,
                counts,
              },
            },
      'GET /api/v1/hosts/web1': () => ({ json: sampleHost({ facts }) }),
      'POST /api/v1/hosts': () => ({
        status: 201,
        json: {
          host: sampleHost({ name: 'web3', status: 'never_seen' }),
          enrollment: {
            host: 'web3',
            token: 'flte_enroll-secret',
            expiresAt: '2025-01-01T13:00:00.000Z',
          },
        },
      }),
      'POST /api/v1/hosts/web3/enrollment': () => ({
        status: 201,
        json: { host: 'web3', token: 'flte_second', expiresAt: '2025-01-08T12:00:00.000Z' },
      }),
      'POST /api/v1/hosts/web3/revoke': () => ({
        json: {
          host: 'web3',
          revokedAt: '2025-01-01T12:00:00.000Z',
          keyFingerprint: `SHA256:${'a'.repeat(43)}`,
          enrollmentTokensRevoked: 1,
          disconnected: true,
        },
      }),
      'GET /api/v1/cache': () => ({ json: { publicKey: CACHE_KEY, path: '/cache', pushTo: null } }),
      'POST /api/v1/deployments': () => ({
        status: 201,
        json: { deployment: sampleDeployment({ id: 'dep-ok' }), notes: [] },
      }),
      'GET /api/v1/deployments': () => ({
        json: { deployments: [sampleDeployment({ id: 'dep-ok', status: 'succeeded' })] },
      }),
      'GET /api/v1/deployments/dep-ok': () => ({
        json: {
          ...sampleDeployment({ id: 'dep-ok', status: 'succeeded' }),
          log: [logLine(1, 'one')],
        },
      }),
      'GET /api/v1/deployments/dep-ok/log': scriptedLog([
        { lines: [logLine(1, 'one'), logLine(2, 'two')], last: 2, status: 'activating' },
        { lines: [], last: 2, status: 'activating' },
        { lines: [logLine(3, 'three')], last: 3, status: 'succeeded' },
        { lines: [], last: 3, status: 'succeeded' },
      ]),
      'GET /api/v1/deployments/dep-bad': () => ({
        json: {
          ...sampleDeployment({
            id: 'dep-bad',
            status: 'failed',
            exitCode: 4,
            errorCode: 'activation_failed',
            errorMessage: 'switch-to-configuration failed',
          }),
          log: [logLine(1, 'boom')],
        },
      }),
      'GET /api/v1/deployments/dep-bad/log': () => ({
        json: { lines: [], last: 1, status: 'failed' },
      }),
    });
  });

  after(() => controller.close());

  it('lists all hosts over every page with counts', async () => {
    const { code, stdout } = await cli('hosts');
    assert.equal(code, 0);
    const lines = stdout.split('\n');
    assert.match(
      lines[0] ?? '',
      /^NAME\s+MODE\s+STATUS\s+OS\s+AGENT\s+RUNNING\s+BRANCH\s+LAST SEEN$/,
    );
    assert.match(stdout, /db1 .* 0\.0\.9 \(outdated\)/);
    assert.match(stdout, /web1 .*01234567…-nixos-system-web1-25\.05\s+-\s+12 s ago/);
    assert.match(stdout, /web1\s+managed\s+online\s+NixOS 25\.05\s/);
    assert.match(stdout, /web2\s+managed\s+never_seen\s+linux\s+-\s+-\s+-\s+never/);
    assert.equal(lines.at(-1), '3 hosts: 2 online, 1 never seen');
  });

  it('shows a host with facts and metrics', async () => {
    const { code, stdout } = await cli('host', 'web1');
    assert.equal(code, 0);
    assert.match(stdout, /Kernel:\s+6\.6\.60/);
    assert.match(stdout, /OS:\s+NixOS 25\.05 \(Warbler\)/);
    assert.match(stdout, /Uptime:\s+3 d 4 h/);
    assert.match(stdout, /^Last seen:\s+2025-01-01 11:59:48Z \(12 s ago\)$/m);
    assert.match(stdout, /Memory:\s+2\.0 GiB used \/ 8\.0 GiB \(25%\)/);
    assert.match(stdout, /\/\s+25\.0 GiB\s+100\.0 GiB\s+25%/);
    assert.match(stdout, new RegExp(`Current system:\\s+${STORE_PATH}`));
  });

  it('registers a host and shows its enrollment token once, with the agent settings', async () => {
    const { code, stdout } = await cli(
      'host',
      'add',
      'web3',
      '--mode',
      'monitor',
      '--os',
      'linux',
      '--expires-in',
      '2h',
    );
    assert.equal(code, 0);
    const created = controller.requests.find(
      (r) => r.path === '/api/v1/hosts' && r.method === 'POST',
    );
    assert.deepEqual(created?.body, {
      name: 'web3',
      mode: 'monitor',
      os: 'linux',
      enrollmentExpiresInSeconds: 7200,
    });
    assert.match(stdout, /^ {2}flte_enroll-secret$/m);
    const gateway = `${controller.url.replace(/^http/, 'ws')}/api/v1/agent/ws`;
    assert.ok(stdout.includes(`--controller-url ${gateway}`), stdout);
    assert.ok(stdout.includes(`--trusted-public-key ${CACHE_KEY}`), stdout);
    assert.ok(stdout.includes('"enrollmentTokenFile": "/var/lib/flotilla-agent/enrollment-token"'));
    assert.match(stdout, /valid once, until 2025-01-01 13:00:00Z/);
  });

  it('issues a new enrollment token and revokes a host', async () => {
    const enrolled = await cli('host', 'enroll', 'web3', '--expires-in', '7d');
    assert.equal(enrolled.code, 0);
    assert.deepEqual(controller.requests.at(-2)?.body, { expiresInSeconds: 604800 });
    assert.match(enrolled.stdout, /^ {2}flte_second$/m);
    assert.match(enrolled.stdout, /current key works until then/);
    const bad = await cli('host', 'enroll', 'web3', '--expires-in', 'forever');
    assert.equal(bad.code, 2);
    const revoked = await cli('host', 'revoke', 'web3', '--reason', 'stolen laptop');
    assert.equal(revoked.code, 0);
    assert.deepEqual(controller.requests.at(-1)?.body, { reason: 'stolen laptop' });
    assert.match(revoked.stdout, /Revoked web3: key SHA256:a+, 1 unused enrollment token\./);
    assert.match(revoked.stdout, /Its agent was disconnected\./);
  });

  it('prints the validated JSON answer with --json', async () => {
    const { code, stdout } = await cli('deployments', '--json', '--host', 'web1', '--limit', '5');
    assert.equal(code, 0);
    assert.equal(controller.requests.at(-1)?.query.toString(), 'host=web1&limit=5');
    const parsed = JSON.parse(stdout) as { deployments: { id: string }[] };
    assert.equal(parsed.deployments[0]?.id, 'dep-ok');
  });

  it('deploys and follows the log to success', async () => {
    const vienna = { TZ: 'Europe/Vienna' };
    const { code, stdout, sleeps } = await cliWith(vienna, 'deploy', 'web1', STORE_PATH, '-f');
    assert.equal(code, 0);
    assert.deepEqual(stdout.split('\n'), [
      `deployment dep-ok: switch ${STORE_PATH} on web1 (queued)`,
      'Log (times in Europe/Vienna):',
      '13:00:00 one',
      '13:00:00 two',
      '-- activating',
      '13:00:00 three',
      '-- succeeded',
      'deployment dep-ok succeeded',
    ]);
    // A pause after each page of a running deployment; none once the status is final.
    assert.equal(sleeps, 2);
  });

  it('exits 1 when a followed deployment did not succeed', async () => {
    const { code, stdout } = await cli('deployment', 'dep-bad', '--follow');
    assert.equal(code, 1);
    assert.match(stdout, /12:00:00 boom/);
    assert.match(
      stdout,
      /deployment dep-bad failed: switch-to-configuration failed \(activation_failed\) \(exit code 4\)$/,
    );
    assert.equal(controller.requests.at(-2)?.query.get('after'), '1');
  });

  it('prints errors with their code, as JSON with --json', async () => {
    const human = await cli('host', 'ghost');
    assert.equal(human.code, 1);
    assert.equal(human.stderr, 'error: no route /api/v1/hosts/ghost (not_found)');
    const json = await cli('host', 'ghost', '--json');
    assert.deepEqual(JSON.parse(json.stderr), {
      error: { code: 'not_found', message: 'no route /api/v1/hosts/ghost' },
    });
  });

  it('exits 2 with the usage line on a usage error, before connecting', async () => {
    const before = controller.requests.length;
    const { code, stderr } = await cli('deploy', 'web1', STORE_PATH, '--action', 'reboot');
    assert.equal(code, 2);
    assert.match(stderr, /--action must be one of switch, boot, test, dry-activate/);
    assert.match(stderr, /usage: flotilla deploy HOST STORE_PATH/);
    assert.equal(controller.requests.length, before);
  });
});
