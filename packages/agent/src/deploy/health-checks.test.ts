import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ChildProcessRunner, runResultOf, type ProcessRunner } from '@flotilla/runtime';
import { HostHealthChecker } from './health-checks.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

describe('HostHealthChecker', () => {
  let server: Server;
  let base = '';
  before(async () => {
    server = createServer((request, response) => {
      if (request.url === '/ok') return response.end('fine');
      if (request.url === '/moved') {
        response.writeHead(302, { location: '/ok' });
        return response.end();
      }
      if (request.url === '/down') {
        response.writeHead(503);
        return response.end('no');
      }
      // /hang: never answers.
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const checker = new HostHealthChecker({ runner: new ChildProcessRunner(), env, systemd: false });

  it('passes a GET answered with 2xx, also after a redirect', async () => {
    assert.deepEqual(await checker.run({ kind: 'http', url: `${base}/ok`, timeoutSeconds: 5 }), {
      name: `http ${base}/ok`,
      ok: true,
      detail: 'HTTP 200 OK',
    });
    const moved = await checker.run({ kind: 'http', url: `${base}/moved`, timeoutSeconds: 5 });
    assert.equal(moved.ok, true);
  });

  it('fails other statuses, silence past the timeout and refused connections', async () => {
    const down = await checker.run({ kind: 'http', url: `${base}/down`, timeoutSeconds: 5 });
    assert.deepEqual([down.ok, down.detail], [false, 'HTTP 503 Service Unavailable']);
    const started = Date.now();
    const hang = await checker.run({ kind: 'http', url: `${base}/hang`, timeoutSeconds: 0.3 });
    assert.deepEqual([hang.ok, hang.detail], [false, 'no answer within 0.3 s']);
    assert.ok(Date.now() - started < 3000);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await checker.run({
      kind: 'http',
      url: `http://127.0.0.1:${port}/`,
      timeoutSeconds: 5,
    });
    assert.equal(refused.ok, false);
    assert.match(refused.detail, /^request failed: .*ECONNREFUSED/);
  });

  it('runs commands without a shell and reports how they failed', async () => {
    const ok = await checker.run({ kind: 'command', argv: ['true'], timeoutSeconds: 5 });
    assert.deepEqual(ok, { name: 'command true', ok: true, detail: 'exited 0' });
    const failing = await checker.run({
      kind: 'command',
      argv: ['sh', '-c', 'echo boom >&2; exit 3'],
      timeoutSeconds: 5,
    });
    assert.deepEqual([failing.ok, failing.detail], [false, 'exited with code 3: boom']);
    const literal = await checker.run({
      kind: 'command',
      argv: ['test', '$HOME', '=', '$HOME'],
      timeoutSeconds: 5,
    });
    assert.equal(literal.ok, true, 'arguments reach the program unexpanded');
    const slow = await checker.run({ kind: 'command', argv: ['sleep', '5'], timeoutSeconds: 0.2 });
    assert.deepEqual([slow.ok, slow.detail], [false, 'timed out after 0.2 s']);
    const missing = await checker.run({
      kind: 'command',
      argv: ['/nonexistent/x'],
      timeoutSeconds: 5,
    });
    assert.equal(missing.ok, false);
    assert.match(missing.detail, /could not be started: .*ENOENT/);
  });

  it('checks units with systemctl, and fails them clearly without systemd', async () => {
    const none = await checker.run({ kind: 'unit', unit: 'nginx.service', timeoutSeconds: 5 });
    assert.deepEqual(none, {
      name: 'unit nginx.service',
      ok: false,
      detail: 'cannot check unit nginx.service: systemd does not run this host',
    });
    const calls: string[] = [];
    // systemctl is outside this machine's reach (no systemd here): its answers are stood in for.
    const systemctl: ProcessRunner = {
      run: (command, args) => {
        calls.push([command, ...args].join(' '));
        const active = args[1] === 'nginx.service';
        return Promise.resolve(
          runResultOf({
            exitCode: active ? 0 : 3,
            stdout: active ? 'active\n' : 'failed\n',
          }),
        );
      },
    };
    const withSystemd = new HostHealthChecker({ runner: systemctl, env, systemd: true });
    const up = await withSystemd.run({ kind: 'unit', unit: 'nginx.service', timeoutSeconds: 5 });
    const down = await withSystemd.run({ kind: 'unit', unit: 'db.service', timeoutSeconds: 5 });
    assert.deepEqual([up.ok, up.detail], [true, 'nginx.service is active']);
    assert.deepEqual([down.ok, down.detail], [false, 'db.service is failed']);
    assert.deepEqual(calls, [
      'systemctl is-active nginx.service',
      'systemctl is-active db.service',
    ]);
  });
});
