import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderHostRollout, renderRollout, renderWaves, rolloutVerdict } from './rollout.view.js';
import { TimeFormat } from './format.js';
import { IDS, sampleHostRollout, sampleRollout, STORE_PATH } from './test-controller.js';

const now = new Date('2025-01-01T12:00:00.000Z');
const utc = new TimeFormat('UTC', now);
const OTHER = '/nix/store/zyxwvsrqpnmlkjihgfdcba9876543210-nixos-system-web1-25.05';

describe('renderWaves', () => {
  it('lists waves with soak and hosts', () => {
    const text = renderWaves([
      { name: 'canary', hosts: ['web1'], soakSeconds: 1800 },
      { name: 'rest', hosts: ['web2', 'db1'], soakSeconds: 0 },
    ]);
    assert.deepEqual(text.split('\n'), [
      'WAVE    SOAK  HOSTS',
      'canary  30 m  web1',
      'rest    0 s   web2, db1',
    ]);
    assert.equal(renderWaves([]), 'no waves configured');
  });
});

describe('renderRollout', () => {
  it('puts a halt on top, then each wave with its hosts', () => {
    assert.deepEqual(renderRollout(sampleRollout(), utc).split('\n'), [
      'HALTED: deployment dmwy8t0002 on web2 failed',
      `rollout of revision ${IDS.revision}`,
      '',
      'wave canary: done, soak until 2025-01-01 11:30:00Z (30 m ago)',
      '  web1  dmwy8t0001  succeeded',
      '',
      'wave rest: halted',
      '  web2  dmwy8t0002  failed',
      '  db1   -           not started',
    ]);
  });

  it('shows a running rollout without a halt line', () => {
    const text = renderRollout(
      sampleRollout({
        halted: false,
        haltReason: null,
        waves: [
          { name: 'canary', state: 'soaking', soakUntil: '2025-01-01T12:20:00.000Z', hosts: [] },
        ],
      }),
      new TimeFormat('Europe/Vienna', now),
    );
    assert.ok(!text.includes('HALTED'));
    assert.match(
      text,
      /^wave canary: soaking, soak until 2025-01-01 13:20:00\+01:00 \(in 20 m\)$/m,
    );
    assert.match(text, /^ {2}\(no hosts\)$/m);
  });
});

describe('status HOST', () => {
  it('shows each layer with its id and short store path, and the verdict', () => {
    const lines = renderHostRollout(sampleHostRollout()).split('\n');
    assert.equal(lines[0], 'web1');
    assert.match(
      lines[1] ?? '',
      new RegExp(`^ {2}declared\\s+${IDS.revision}\\s+01234567…-.*\\.drv$`),
    );
    assert.match(
      lines[2] ?? '',
      new RegExp(`^ {2}built\\s+${IDS.release}\\s+01234567…\\S+\\s+deployed$`),
    );
    assert.match(lines[3] ?? '', /^ {2}approved\s+dmwy8t0001\s+01234567…\S+\s+by admin$/);
    assert.match(lines[4] ?? '', /^ {2}executed\s+dmwy8t0001\s+01234567…\S+\s+succeeded$/);
    assert.match(lines[5] ?? '', /^ {2}verified\s+yes\s+running 01234567…/);
    assert.equal(lines.at(-1), 'verified: the host runs what was deployed');
  });

  it('says what is missing on a new host', () => {
    const text = renderHostRollout(
      sampleHostRollout({
        declared: null,
        built: null,
        approved: null,
        executed: null,
        verified: false,
        running: null,
      }),
    );
    assert.match(text, /^ {2}built\s+-\s+nothing built yet$/m);
    assert.match(text, /^ {2}verified\s+no\s+running -$/m);
    assert.equal(
      text.split('\n').at(-1),
      'not verified: nothing was deployed and the agent has not reported its system',
    );
  });

  it('tells a drifted host from a failed or running deployment', () => {
    const drifted = rolloutVerdict(sampleHostRollout({ verified: false, running: OTHER }));
    assert.deepEqual(drifted, [
      'not verified: the host runs zyxwvsrq…-nixos-system-web1-25.05, not the deployed 01234567…-nixos-system-web1-25.05',
    ]);
    const executed = { deploymentId: 'd9', storePath: STORE_PATH, status: 'rolled_back' };
    assert.equal(
      rolloutVerdict(sampleHostRollout({ verified: false, executed }))[0],
      'not verified: deployment d9 ended rolled_back',
    );
    const running = { ...executed, status: 'activating' };
    assert.equal(
      rolloutVerdict(sampleHostRollout({ verified: false, executed: running }))[0],
      'not verified yet: deployment d9 is activating',
    );
    assert.equal(
      rolloutVerdict(sampleHostRollout({ verified: false }))[0],
      'not verified: the agent has not confirmed its running system since the deployment',
    );
  });

  it('names layers that are ahead of what ran', () => {
    const built = { releaseId: 'rnew', storePath: OTHER, status: 'ready' };
    assert.deepEqual(rolloutVerdict(sampleHostRollout({ built })), [
      'verified: the host runs what was deployed',
      'newest release rnew (ready) is not deployed yet',
    ]);
    const approved = { deploymentId: 'dnext', storePath: OTHER, by: 'admin' };
    assert.deepEqual(rolloutVerdict(sampleHostRollout({ built, approved })), [
      'verified: the host runs what was deployed',
      'approved deployment dnext has not run yet',
    ]);
  });
});
