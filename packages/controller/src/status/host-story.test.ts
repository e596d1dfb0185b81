import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeStory, type StoryFacts } from './host-story.js';

const OLD = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nixos-system-hsb0-1';
const NEW = '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-nixos-system-hsb0-2';
const OTHER = '/nix/store/cccccccccccccccccccccccccccccccc-nixos-system-hsb0-x';
const r1 = {
  id: 'r1',
  sha: '1111111111',
  message: 'one',
  storePath: OLD,
  status: 'deployed' as const,
};
const r2 = {
  id: 'r2',
  sha: '2222222222',
  message: 'two',
  storePath: NEW,
  status: 'ready' as const,
};

function facts(overrides: Partial<StoryFacts> = {}): StoryFacts {
  return {
    host: 'hsb0',
    mode: 'managed',
    online: true,
    running: OLD,
    runningRelease: r1,
    verifiedBy: { id: 'd1', at: null },
    pending: null,
    pendingRelease: null,
    lastDeployment: { id: 'd1', status: 'succeeded', kind: 'deploy', storePath: OLD, error: null },
    built: r1,
    pinned: null,
    sync: {
      state: 'up_to_date',
      runningReleaseId: 'r1',
      runningRevisionId: 'rv1',
      runningSha: '1111111111',
      headSha: '1111111111',
      behindBy: null,
    },
    declaredError: null,
    ...overrides,
  };
}

describe('describeStory', () => {
  it('is up to date and verified when the host runs the newest release', () => {
    const story = describeStory(facts());
    assert.equal(story.state, 'up_to_date');
    assert.equal(
      story.summary,
      'up to date: runs release r1 (11111111 one), verified by deployment d1',
    );
  });

  it('after a manual rollback: pinned, verified, and the newer release stays undeployed — one story', () => {
    const story = describeStory(
      facts({
        built: r2,
        pinned: { reason: 'manual rollback to generation 2' },
        verifiedBy: { id: 'd9', at: null },
        lastDeployment: {
          id: 'd9',
          status: 'succeeded',
          kind: 'rollback',
          storePath: OLD,
          error: null,
        },
        sync: { ...facts().sync, state: 'behind', behindBy: 1, headSha: '2222222222' },
      }),
    );
    assert.equal(story.state, 'pinned');
    assert.equal(
      story.summary,
      'pinned: runs release r1 (11111111 one), verified by deployment d9',
    );
    assert.deepEqual(story.details, [
      'pinned: manual rollback to generation 2 (flotilla unpin hsb0)',
      'newest release r2 (22222222) stays undeployed while pinned',
    ]);
  });

  it('says drifted when what runs is explained by nothing Flotilla did', () => {
    const story = describeStory(
      facts({
        running: OTHER,
        runningRelease: null,
        verifiedBy: null,
        sync: { ...facts().sync, state: 'drifted' },
      }),
    );
    assert.equal(story.state, 'drifted');
    assert.match(
      story.summary,
      /^drifted: hsb0 runs cccccccc…-nixos-system-hsb0-x, which no release/,
    );
  });

  it('puts a running deployment first, then what waits for a human, then a hold', () => {
    const deploying = describeStory(
      facts({
        pending: {
          id: 'd2',
          status: 'activating',
          holdReason: null,
          approvedBy: 'ada',
          kind: 'deploy',
        },
        pendingRelease: r2,
      }),
    );
    assert.equal(deploying.state, 'deploying');
    assert.equal(deploying.summary, 'deployment d2 is activating (release r2, 22222222)');
    const waiting = describeStory(
      facts({
        pending: {
          id: 'd2',
          status: 'awaiting_approval',
          holdReason: null,
          approvedBy: null,
          kind: 'deploy',
        },
        pendingRelease: r2,
      }),
    );
    assert.equal(waiting.state, 'awaiting_approval');
    assert.match(
      waiting.summary,
      /^release r2 \(22222222 two\) waits for approval; runs release r1/,
    );
    const held = describeStory(
      facts({
        pending: {
          id: 'd2',
          status: 'approved',
          holdReason: 'wave guinea-pig is soaking',
          approvedBy: 'ada',
          kind: 'deploy',
        },
      }),
    );
    assert.equal(held.state, 'held');
    assert.equal(
      held.summary,
      'deployment d2 is approved by ada and waits: wave guinea-pig is soaking',
    );
  });

  it('tells a failed deployment, a host not deployed yet, and a host behind apart', () => {
    const failed = describeStory(
      facts({
        built: r2,
        lastDeployment: {
          id: 'd3',
          status: 'rolled_back',
          kind: 'deploy',
          storePath: NEW,
          error: 'health check failed',
        },
        sync: { ...facts().sync, state: 'behind' },
      }),
    );
    assert.equal(failed.state, 'failed');
    assert.match(
      failed.summary,
      /^the last deployment d3 rolled back: health check failed; runs release r1/,
    );
    const fresh = describeStory(
      facts({
        running: OTHER,
        runningRelease: null,
        verifiedBy: null,
        lastDeployment: null,
        built: r2,
        sync: { ...facts().sync, state: 'unknown' },
      }),
    );
    assert.equal(fresh.state, 'not_deployed');
    assert.match(fresh.summary, /not deployed by Flotilla yet; release r2 is ready$/);
    const behind = describeStory(
      facts({ built: r2, sync: { ...facts().sync, state: 'behind', behindBy: 3 } }),
    );
    assert.equal(behind.state, 'behind');
    assert.match(
      behind.summary,
      /^behind by 3 commits: runs release r1 .*; newest release r2 \(22222222\) is ready$/,
    );
  });

  it('shows a monitor host as monitor-only, and an evaluation error as a detail', () => {
    const monitor = describeStory(facts({ mode: 'monitor' }));
    assert.equal(monitor.state, 'monitor');
    assert.match(monitor.summary, /^monitor-only: Flotilla shows hsb0 and never deploys to it/);
    const mac = (sync: Partial<StoryFacts['sync']>) =>
      describeStory(
        facts({
          host: 'imac0',
          mode: 'monitor',
          sync: {
            ...facts().sync,
            output: { kind: 'home-manager', attribute: 'markus@imac0' },
            declaredPath: NEW,
            runningPath: OTHER,
            ...sync,
          },
        }),
      ).summary;
    assert.match(mac({}), /; up to date: runs home-manager output markus@imac0 of the branch head/);
    assert.match(
      mac({ state: 'behind', behindBy: 3 }),
      /; behind by 3 commits: runs home-manager output markus@imac0 of 11111111$/,
    );
    assert.match(
      mac({ state: 'drifted' }),
      /; drifted: runs cccccccc…-nixos-system-hsb0-x, which no revision of the branch declares/,
    );
    assert.match(
      mac({ state: 'unknown', declaredPath: null }),
      /does not evaluate at the branch head/,
    );
    const broken = describeStory(
      facts({ declaredError: "error: syntax error, unexpected '}'\n at hosts/hsb0.nix:3:1" }),
    );
    assert.deepEqual(broken.details, [
      "the branch head does not evaluate for hsb0: error: syntax error, unexpected '}'",
    ]);
  });
});
