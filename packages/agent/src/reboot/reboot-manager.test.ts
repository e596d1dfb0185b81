import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RebootResult } from '@flotilla/protocol';
import { Logger } from '@flotilla/runtime';
import { ChildProcessRunner } from '@flotilla/runtime';
import { RebootManager } from './reboot-manager.js';

const quiet = new Logger({ level: 'error', output: { write: () => true } });

describe('RebootManager', () => {
  let dir = '';
  let count = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-reboot-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A manager whose "reboot" is a real command; `connected` decides whether results get out. */
  async function setup(
    command: string[],
    options: { mode?: 'managed' | 'monitor'; busy?: string } = {},
  ) {
    const root = join(dir, String(++count));
    const bootIdFile = join(root, 'boot_id');
    await mkdir(root, { recursive: true });
    await writeFile(bootIdFile, 'boot-1\n');
    const sent: RebootResult[] = [];
    const link = { connected: true };
    const create = () =>
      new RebootManager({
        mode: options.mode ?? 'managed',
        stateFile: join(root, 'reboot.json'),
        readBootId: async () => (await readFile(bootIdFile, 'utf8')).trim(),
        command: command.map((part) => part.replace('BOOT_ID_FILE', bootIdFile)),
        runner: new ChildProcessRunner(),
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        send: (message) => link.connected && sent.push(message) > 0,
        activeDeployment: () => options.busy ?? null,
        logger: quiet,
      });
    return { root, bootIdFile, sent, link, create, manager: create() };
  }

  it('reports the new boot when the command "reboots" without killing the agent', async () => {
    const t = await setup(['sh', '-c', 'echo boot-2 > BOOT_ID_FILE']);
    await t.manager.handle({ type: 'reboot.request', requestId: 'r1' });
    assert.deepEqual(t.sent, [{ type: 'reboot.result', requestId: 'r1', ok: true, error: null }]);
    await assert.rejects(
      access(join(t.root, 'reboot.json')),
      'the state file is gone once reported',
    );
  });

  it('reports the new boot from the agent that starts after a real reboot', async () => {
    const t = await setup(['true']);
    await t.manager.handle({ type: 'reboot.request', requestId: 'r2' });
    assert.deepEqual(t.sent, [], 'same boot: the reboot is still to come');
    // The host reboots; the next agent starts before it is connected.
    await writeFile(t.bootIdFile, 'boot-2\n');
    t.link.connected = false;
    const next = t.create();
    await next.load();
    assert.deepEqual(t.sent, []);
    t.link.connected = true;
    await next.flush();
    assert.deepEqual(t.sent, [{ type: 'reboot.result', requestId: 'r2', ok: true, error: null }]);
  });

  it('reports a failing reboot command with its output', async () => {
    const t = await setup(['sh', '-c', 'echo "Failed to reboot: access denied" >&2; exit 1']);
    await t.manager.handle({ type: 'reboot.request', requestId: 'r3' });
    assert.equal(t.sent[0]?.ok, false);
    assert.equal(
      t.sent[0]?.error?.message,
      'reboot command "sh -c echo "Failed to reboot: access denied" >&2; exit 1" exited with code 1: Failed to reboot: access denied',
    );
  });

  it('refuses on monitor-only hosts and during a deployment', async () => {
    const monitor = await setup(['true'], { mode: 'monitor' });
    await monitor.manager.handle({ type: 'reboot.request', requestId: 'r4' });
    assert.equal(monitor.sent[0]?.error?.code, 'host_not_managed');
    const busy = await setup(['true'], { busy: 'd9' });
    await busy.manager.handle({ type: 'reboot.request', requestId: 'r5' });
    assert.equal(busy.sent[0]?.error?.code, 'agent_busy');
  });
});
