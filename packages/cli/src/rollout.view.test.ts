import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderHostStatus, renderRollout, renderWaves } from './rollout.view.js';
import { TimeFormat } from './format.js';
import { IDS, sampleHostStatus, sampleRollout, STORE_PATH } from './test-controller.js';

const now = new Date('2025-01-01T12:00:00.000Z');
const utc = new TimeFormat('UTC', now);

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
      `  resume with: flotilla rollout resume ${IDS.revision} --reason "…"`,
      `rollout of revision ${IDS.revision} (01234567)`,
      '',
      'wave canary: done, soak until 2025-01-01 11:30:00Z (30 m ago)',
      '  web1  dmwy8t0001  succeeded',
      '',
      'wave rest: halted',
      '  web2  dmwy8t0002  failed',
      '  db1   -           unchanged (this revision does not change it)',
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
  it('tells the story first, then one line per layer', () => {
    const lines = renderHostStatus(sampleHostStatus(), utc).split('\n');
    assert.equal(lines[0], `web1: ${sampleHostStatus().summary}`);
    const text = lines.join('\n');
    assert.match(text, new RegExp(`^ {2}declared\\s+01234567 \\(${IDS.revision}\\)$`, 'm'));
    assert.match(text, new RegExp(`^ {2}built\\s+${IDS.release} 01234567 deployed$`, 'm'));
    assert.match(text, /^ {2}verified\s+yes, by dmwy8t0001$/m);
    assert.match(text, /^ {2}pinned\s+no$/m);
    assert.match(text, /^ {2}branch\s+up to date$/m);
  });

  it('shows a pin, what waits and an evaluation error with its place', () => {
    const text = renderHostStatus(
      sampleHostStatus({
        state: 'pinned',
        summary: 'pinned: runs release r1',
        details: ['pinned: manual rollback (flotilla unpin web1)'],
        pinned: { reason: 'manual rollback' },
        pending: {
          deploymentId: 'd7',
          status: 'awaiting_approval',
          releaseId: 'r2',
          storePath: STORE_PATH,
          approvedBy: null,
          holdReason: null,
        },
        declaredError: {
          revisionId: IDS.revision,
          sha: IDS.sha,
          message: "error: syntax error, unexpected '}'",
          location: { file: 'hosts/web1.nix', line: 3, column: 7 },
        },
        sync: { ...sampleHostStatus().sync, state: 'behind', behindBy: 2 },
      }),
      utc,
    );
    assert.match(text, /^web1: pinned: runs release r1$/m);
    assert.match(text, /^ {2}pinned: manual rollback \(flotilla unpin web1\)$/m);
    assert.match(text, /^ {2}pending\s+d7 awaiting_approval$/m);
    assert.match(
      text,
      /^ {4}error\s+error: syntax error, unexpected '}' at hosts\/web1\.nix:3:7$/m,
    );
    assert.match(text, /^ {2}pinned\s+yes: manual rollback$/m);
    assert.match(text, /^ {2}branch\s+behind by 2 commits$/m);
  });
});
