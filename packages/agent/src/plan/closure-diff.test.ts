import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseDiffClosures } from './closure-diff.js';

/** Output captured from real Nix; fixtures/README.md says how. */
function fixture(name: string): string {
  return readFileSync(new URL(`../../src/plan/fixtures/${name}`, import.meta.url), 'utf8');
}

describe('parseDiffClosures', () => {
  it('reads added, removed, changed and resized packages from Nix 2.8 output', () => {
    const diff = parseDiffClosures(fixture('diff-closures-nix-2.8.txt'));
    assert.deepEqual(diff.unparsed, []);
    assert.equal(diff.truncated, false);
    assert.deepEqual(diff.added, [
      { name: 'nginx', from: [], to: ['1.24.0'], sizeDelta: Math.round(60.3 * 1024) },
      // 3.11.1 is in both closures; only the new version is listed, as Nix does.
      { name: 'python3', from: [], to: ['3.12.0'], sizeDelta: Math.round(120.3 * 1024) },
    ]);
    assert.deepEqual(diff.removed, [
      { name: 'curl', from: ['8.5.0'], to: [], sizeDelta: Math.round(-40.3 * 1024) },
      // `unit-script`: Nix takes `-script` for an output name; ε is the empty version.
      { name: 'unit', from: [''], to: [], sizeDelta: null },
    ]);
    assert.deepEqual(diff.changed, [
      { name: 'hello', from: ['2.10'], to: ['2.12'], sizeDelta: 20 * 1024 },
      { name: 'nixos-system-web', from: ['24.05.1'], to: ['24.05.2'], sizeDelta: null },
      { name: 'tzdata', from: ['2024a'], to: ['2024b'], sizeDelta: null },
    ]);
    assert.deepEqual(diff.resized, [
      { name: 'etc', from: [], to: [], sizeDelta: 29 * 1024 },
      { name: 'firmware', from: [], to: [], sizeDelta: -40 * 1024 },
    ]);
  });

  it('reads the same closures the other way round as the mirror image', () => {
    const forward = parseDiffClosures(fixture('diff-closures-nix-2.8.txt'));
    const back = parseDiffClosures(fixture('diff-closures-nix-2.8-reversed.txt'));
    assert.deepEqual(
      back.added.map((p) => p.name),
      forward.removed.map((p) => p.name),
    );
    assert.deepEqual(
      back.removed.map((p) => p.name),
      forward.added.map((p) => p.name),
    );
    assert.deepEqual(
      back.changed.map((p) => [p.name, p.from, p.to]),
      forward.changed.map((p) => [p.name, p.to, p.from]),
    );
    assert.deepEqual(
      back.resized.map((p) => p.sizeDelta),
      forward.resized.map((p) => -(p.sizeDelta ?? 0)),
    );
  });

  it('reads two releases of a sandboxed host: packages, kernel and initrd', () => {
    const diff = parseDiffClosures(fixture('diff-closures-sandbox-nix-2.8.txt'));
    assert.deepEqual(diff.unparsed, []);
    assert.deepEqual(
      diff.changed.map((p) => `${p.name} ${p.from.join()}→${p.to.join()}`),
      [
        'hello 2.10→2.12',
        'initrd-linux 6.6.1→6.6.2',
        'linux 6.6.1→6.6.2',
        'nixos-system-web 1→2',
        'tzdata 2024a→2024b',
      ],
    );
    assert.deepEqual(
      diff.added.map((p) => p.name),
      ['nginx'],
    );
    assert.deepEqual(
      diff.removed.map((p) => p.name),
      ['curl'],
    );
  });

  it('reads several versions on one side, sizes in other units, and no change at all', () => {
    const diff = parseDiffClosures(
      'glibc: 2.38-44, 2.38-77 → 2.39-52, +1.5 MiB\nkernel-modules: -12 B\n',
    );
    assert.deepEqual(diff.changed, [
      {
        name: 'glibc',
        from: ['2.38-44', '2.38-77'],
        to: ['2.39-52'],
        sizeDelta: Math.round(1.5 * 1024 * 1024),
      },
    ]);
    assert.deepEqual(diff.resized, [{ name: 'kernel-modules', from: [], to: [], sizeDelta: -12 }]);
    const none = parseDiffClosures('');
    assert.deepEqual(
      [none.added, none.removed, none.changed, none.resized, none.unparsed],
      [[], [], [], [], []],
    );
  });

  it('keeps lines it cannot read apart instead of guessing, and cuts long lists', () => {
    const diff = parseDiffClosures('warning: something odd\nfoo: bar\na: 1 → 2\nb: 1 → 2\n', 1);
    assert.deepEqual(diff.unparsed, ['warning: something odd', 'foo: bar']);
    assert.deepEqual(
      diff.changed.map((p) => p.name),
      ['a'],
    );
    assert.equal(diff.truncated, true);
  });
});
