import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generationNumbers, MAX_GENERATIONS, toGenerations } from './generations.js';
import { bootFilesDiffer } from './reboot-required.js';

const path = (n: number) => `/nix/store/${String(n).padStart(32, '0')}-nixos-system-h`;

describe('generationNumbers', () => {
  it('keeps only this profile’s generation links, newest first', () => {
    const entries = [
      'system',
      'system-9-link',
      'system-10-link',
      'system-1-link',
      'system-profiles',
      'per-user',
      'system.tmp-3-link',
      'systemx-4-link',
      'system-5-link.old',
    ];
    assert.deepEqual(
      [...generationNumbers('system', entries)],
      [
        [10, 'system-10-link'],
        [9, 'system-9-link'],
        [1, 'system-1-link'],
      ],
    );
  });

  it('escapes the profile name', () => {
    assert.deepEqual(
      [...generationNumbers('a.b', ['a.b-1-link', 'axb-2-link'])],
      [[1, 'a.b-1-link']],
    );
  });
});

describe('toGenerations', () => {
  it('marks the generation the profile points at and dates each by its link', () => {
    const generations = toGenerations(
      [
        { number: 1, name: 'system-1-link', target: path(1), mtimeMs: Date.UTC(2024, 4, 1) },
        { number: 2, name: 'system-2-link', target: path(2), mtimeMs: Date.UTC(2024, 4, 2) },
      ],
      'system-1-link',
    );
    assert.deepEqual(generations, [
      { number: 2, path: path(2), date: '2024-05-02T00:00:00.000Z', current: false },
      { number: 1, path: path(1), date: '2024-05-01T00:00:00.000Z', current: true },
    ]);
  });

  it('keeps the newest hundred', () => {
    const links = Array.from({ length: 150 }, (_, i) => ({
      number: i + 1,
      name: `system-${i + 1}-link`,
      target: path(i + 1),
      mtimeMs: i,
    }));
    const generations = toGenerations(links, null);
    assert.equal(generations.length, MAX_GENERATIONS);
    assert.equal(generations[0]?.number, 150);
    assert.equal(generations.at(-1)?.number, 51);
    assert.ok(generations.every((g) => !g.current));
  });
});

describe('bootFilesDiffer', () => {
  const files = { kernel: '/k1', initrd: '/i1', kernelModules: '/m1' };
  it('is true when the kernel, initrd or modules differ', () => {
    assert.equal(bootFilesDiffer(files, { ...files }), false);
    assert.equal(bootFilesDiffer(files, { ...files, kernel: '/k2' }), true);
    assert.equal(bootFilesDiffer(files, { ...files, initrd: '/i2' }), true);
    assert.equal(bootFilesDiffer(files, { ...files, kernelModules: null }), true);
  });

  it('makes no claim unless both systems exist', () => {
    assert.equal(bootFilesDiffer(null, files), false);
    assert.equal(bootFilesDiffer(files, null), false);
    const none = { kernel: null, initrd: null, kernelModules: null };
    assert.equal(bootFilesDiffer(none, none), false);
  });
});
