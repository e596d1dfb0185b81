import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseRollbackTarget } from './rollback-target.js';

const A = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-system-a';
const B = '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-system-b';
const C = '/nix/store/cccccccccccccccccccccccccccccccc-system-c';
const at = '2026-01-01T00:00:00.000Z';
const generation = (number: number, path: string, current = false) => ({
  number,
  path,
  date: at,
  current,
});
const verified = (id: string, storePath: string) => ({
  id,
  store_path: storePath,
  action: 'switch' as const,
  finished_at: at,
});

describe('chooseRollbackTarget', () => {
  it('goes to the system last verified before the current one', () => {
    const target = chooseRollbackTarget({
      running: B,
      generations: [generation(3, B, true), generation(2, A), generation(1, C)],
      verified: [verified('d2', B), verified('d1', A)],
      bad: new Set(),
    });
    assert.deepEqual(target, {
      storePath: A,
      generation: 2,
      why: 'the system last verified before the current one (deployment d1)',
    });
  });

  it('never goes back to a system a rollback left, nor to a quarantined one', () => {
    // After rolling back from B to A, the history is A (rollback), B, A; B is bad.
    const target = chooseRollbackTarget({
      running: A,
      generations: [generation(3, B), generation(2, A, true), generation(1, C)],
      verified: [verified('d3', A), verified('d2', B), verified('d1', A)],
      bad: new Set([B]),
    });
    assert.equal(target?.storePath, C, 'the generation before, as nothing else was verified');
    assert.equal(target?.generation, 1);
    assert.equal(target?.why, 'the newest earlier generation not known to be bad');
  });

  it('uses the generations of a host deployed outside Flotilla, and says when there is nothing', () => {
    const target = chooseRollbackTarget({
      running: B,
      generations: [generation(2, B, true), generation(1, A)],
      verified: [],
      bad: new Set(),
    });
    assert.equal(target?.storePath, A);
    assert.equal(
      chooseRollbackTarget({
        running: B,
        generations: [generation(2, B, true), generation(1, A)],
        verified: [],
        bad: new Set([A]),
      }),
      null,
    );
  });

  it('ignores deployments that did not change the running system', () => {
    const target = chooseRollbackTarget({
      running: B,
      generations: [],
      verified: [{ ...verified('d2', C), action: 'boot' }, verified('d1', A)],
      bad: new Set(),
    });
    assert.equal(target?.storePath, A);
  });
});
