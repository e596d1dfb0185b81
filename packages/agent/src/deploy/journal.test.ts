import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JournalStore, type DeploymentJournal } from './journal.js';
import { NEW, OLD } from './test-stand-ins.js';

const journal: DeploymentJournal = {
  version: 1,
  deploymentId: 'd1',
  storePath: NEW,
  action: 'switch',
  cache: { url: 'http://cache.local/' },
  previousSystem: OLD,
  phase: 'confirming',
  confirmTimeoutSeconds: 90,
  confirmDeadline: 1_700_000_090_000,
  healthChecks: [{ kind: 'http', url: 'http://localhost/health', timeoutSeconds: 5 }],
  failedUnitsBefore: ['old.service'],
  health: [{ name: 'http http://localhost/health', ok: true, detail: 'HTTP 200 OK' }],
  profileChanged: false,
  activation: {
    step: 'activate',
    attempt: 1,
    handle: {
      name: 'activate',
      logFile: '/s/activate.log',
      resultFile: '/s/activate.result.json',
      pidFile: '/s/activate.pid.json',
      unit: null,
      command: [`${NEW}/bin/switch-to-configuration`, 'test'],
    },
    logOffset: 1234,
    startedAt: 1_700_000_000_000,
    outcome: { exitCode: 0, signal: null, spawnError: null, lost: null },
  },
  activationExitCode: 0,
  rebootRequired: false,
  rollbackReason: null,
  error: null,
  outcome: null,
  phaseTimes: { fetching: 1_699_999_999_000, activating: 1_700_000_000_000 },
  createdAt: 1_699_999_999_000,
  updatedAt: 1_700_000_000_500,
};

describe('JournalStore', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-journal-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads back exactly what it saved, creating its directory', async () => {
    const store = new JournalStore(join(dir, 'state', 'deployment.json'));
    assert.deepEqual(await store.load(), { kind: 'none' });
    await store.save(journal);
    assert.deepEqual(await store.load(), { kind: 'loaded', journal });
    await store.save({ ...journal, phase: 'committing', profileChanged: true });
    const again = await new JournalStore(join(dir, 'state', 'deployment.json')).load();
    assert.equal(again.kind === 'loaded' && again.journal.phase, 'committing');
    assert.deepEqual(await readdir(join(dir, 'state')), ['deployment.json']);
  });

  it('moves an unreadable journal aside instead of blocking every later deployment', async () => {
    const file = join(dir, 'torn.json');
    await writeFile(file, '{"version":1,"deploymentId":"d1","sto');
    const loaded = await new JournalStore(file).load();
    assert.equal(loaded.kind, 'unreadable');
    assert.deepEqual(await new JournalStore(file).load(), { kind: 'none' });
    const names = await readdir(dir);
    assert.ok(names.some((name) => name.startsWith('torn.json.unreadable-')));
  });
});
