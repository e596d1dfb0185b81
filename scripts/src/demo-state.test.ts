import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DEMO_LAYOUT,
  deleteSavedDemo,
  demoPaths,
  inspectSavedDemo,
  saveEnrollmentToken,
  writeDemoState,
  type DemoHost,
  type DemoPaths,
} from './demo-state.js';

const FLEET: DemoHost[] = [
  { name: 'hsb1', mode: 'managed' },
  { name: 'imac0', mode: 'monitor' },
];

/** Lays out what a finished first run leaves behind. */
async function savedDemo(paths: DemoPaths): Promise<void> {
  await mkdir(join(paths.bare, 'hooks'), { recursive: true });
  await writeFile(join(paths.bare, 'HEAD'), 'ref: refs/heads/main\n');
  await mkdir(join(paths.flake, '.git'), { recursive: true });
  await mkdir(paths.controllerDir, { recursive: true });
  for (const file of ['flotilla.db', 'sandbox-admin.json', 'webhook-secret']) {
    await writeFile(join(paths.controllerDir, file), 'x');
  }
  for (const host of FLEET) {
    const identity = join(paths.hostsDir, host.name, 'agent', 'identity');
    await mkdir(identity, { recursive: true });
    await writeFile(join(identity, 'agent-key.pem'), 'key', { mode: 0o600 });
    await writeFile(join(identity, 'enrollment.json'), '{}', { mode: 0o600 });
  }
  await mkdir(join(paths.hostsDir, 'hsb1', 'profiles'), { recursive: true });
  await mkdir(join(paths.hostsDir, 'hsb1', 'run'), { recursive: true });
  await symlink('/nix/store/x-system', join(paths.hostsDir, 'hsb1', 'profiles', 'system'));
  await symlink('/nix/store/x-system', join(paths.hostsDir, 'hsb1', 'run', 'current-system'));
  await writeDemoState(paths, 'ready', FLEET, '2024-05-01T00:00:00.000Z');
}

describe('the saved demo', () => {
  let root = '';
  let n = 0;
  const fresh = async () => {
    const paths = demoPaths(join(root, `demo-${n++}`));
    await mkdir(paths.dir, { recursive: true });
    return paths;
  };
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'flotilla-demo-state-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is none when only the running demo’s lock is there', async () => {
    const paths = await fresh();
    await writeFile(paths.lockFile, '123\n');
    assert.deepEqual(await inspectSavedDemo(paths, FLEET), { kind: 'none' });
  });

  it('resumes a finished first run whose agents hold their enrolled keys', async () => {
    const paths = await fresh();
    await savedDemo(paths);
    const saved = await inspectSavedDemo(paths, FLEET);
    assert.deepEqual(saved, {
      kind: 'resumable',
      state: {
        layout: DEMO_LAYOUT,
        status: 'ready',
        hosts: ['hsb1', 'imac0'],
        createdAt: '2024-05-01T00:00:00.000Z',
      },
    });
  });

  it('hands a host its enrollment token readable by its owner only', async () => {
    const paths = await fresh();
    await saveEnrollmentToken(paths, 'imac0', 'flte_x');
    const file = join(paths.hostsDir, 'imac0', 'enrollment-token');
    assert.equal(await readFile(file, 'utf8'), 'flte_x\n');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  });

  it('refuses a demo from the layout before saved state existed', async () => {
    const paths = await fresh();
    await mkdir(paths.controllerDir);
    await writeFile(paths.controllerConfig, '{}');
    const saved = await inspectSavedDemo(paths, FLEET);
    assert.equal(saved.kind, 'unusable');
    assert.match(saved.kind === 'unusable' ? saved.reason : '', /older version of the demo/);
  });

  it('refuses another layout, an unfinished setup, another fleet and a garbled state file', async () => {
    const cases: [string, (paths: DemoPaths) => Promise<void>, RegExp][] = [
      [
        'layout',
        (p) =>
          writeFile(
            p.stateFile,
            JSON.stringify({ layout: 0, status: 'ready', hosts: [], createdAt: '' }),
          ),
        new RegExp(`layout 0; this version of the demo uses layout ${DEMO_LAYOUT}`),
      ],
      [
        'setup',
        (p) => writeDemoState(p, 'setting-up', FLEET, 'now'),
        /stopped before its setup finished/,
      ],
      [
        'fleet',
        (p) => writeDemoState(p, 'ready', [FLEET[0]!], 'now'),
        /saved demo has hosts hsb1; this demo runs hsb1 imac0/,
      ],
      ['garbled', (p) => writeFile(p.stateFile, '{"layout":'), /cannot be read or is not JSON/],
    ];
    for (const [name, damage, expected] of cases) {
      const paths = await fresh();
      await savedDemo(paths);
      await damage(paths);
      const saved = await inspectSavedDemo(paths, FLEET);
      assert.equal(saved.kind, 'unusable', name);
      assert.match(saved.kind === 'unusable' ? saved.reason : '', expected, name);
    }
  });

  it('names what a broken demo is missing', async () => {
    const paths = await fresh();
    await savedDemo(paths);
    await rm(join(paths.controllerDir, 'flotilla.db'));
    await rm(join(paths.hostsDir, 'imac0', 'agent', 'identity', 'agent-key.pem'));
    await rm(join(paths.hostsDir, 'hsb1', 'profiles', 'system'));
    const saved = await inspectSavedDemo(paths, FLEET);
    assert.equal(saved.kind, 'unusable');
    assert.equal(
      saved.kind === 'unusable' ? saved.reason : '',
      'the saved demo is broken: controller/flotilla.db, hosts/hsb1/profiles/system, ' +
        'hosts/imac0/agent/identity/agent-key.pem are missing',
    );
  });

  it('is deleted whole by --fresh, except the lock of the demo that asked', async () => {
    const paths = await fresh();
    await savedDemo(paths);
    await writeFile(paths.lockFile, `${process.pid}\n`);
    await writeFile(paths.processesFile, '{}');
    await deleteSavedDemo(paths);
    assert.deepEqual(await readdir(paths.dir), ['demo.lock']);
    assert.deepEqual(await inspectSavedDemo(paths, FLEET), { kind: 'none' });
  });
});
