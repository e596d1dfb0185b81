import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EDITOR_LIMITS, FlotillaError } from '@flotilla/protocol';
import { blobId, type TreeEntry } from '../git/git-objects.js';
import type { DraftFileRow } from '../storage/draft.repository.js';
import { applyChange, baseTreeOf, checkDraftLimits } from './draft-changes.js';

const blob = (path: string, content: string, mode = '100644'): TreeEntry => ({
  path,
  type: 'blob',
  mode,
  oid: blobId(content),
  size: Buffer.byteLength(content),
});
const base = baseTreeOf([
  blob('flake.nix', '{ }\n'),
  { path: 'hosts', type: 'tree', mode: '040000', oid: 'a'.repeat(40), size: null },
  blob('hosts/a.nix', 'old\n'),
  blob('run.sh', '#!/bin/sh\n', '100755'),
  blob('link', 'hosts/a.nix', '120000'),
  { path: 'vendor', type: 'commit', mode: '160000', oid: 'b'.repeat(40), size: null },
]);

function code(work: () => void): string {
  try {
    work();
  } catch (error) {
    assert.ok(error instanceof FlotillaError);
    return error.code;
  }
  return 'none';
}

describe('applyChange', () => {
  it('records a modification against the base blob, keeping the mode', () => {
    const files = new Map<string, DraftFileRow>();
    applyChange(
      files,
      { op: 'write', path: 'run.sh', content: '#!/bin/sh\necho hi\n' },
      base,
      'd1',
    );
    assert.deepEqual(files.get('run.sh'), {
      draft_id: 'd1',
      path: 'run.sh',
      kind: 'modified',
      content: '#!/bin/sh\necho hi\n',
      size: 18,
      base_blob: blobId('#!/bin/sh\n'),
      base_mode: '100755',
    });
  });

  it('drops a write that brings back the base content, and a deletion of a file only the draft adds', () => {
    const files = new Map<string, DraftFileRow>();
    applyChange(files, { op: 'write', path: 'hosts/a.nix', content: 'new\n' }, base, 'd1');
    applyChange(files, { op: 'write', path: 'hosts/a.nix', content: 'old\n' }, base, 'd1');
    assert.equal(files.size, 0);
    applyChange(files, { op: 'write', path: 'hosts/b.nix', content: 'b\n' }, base, 'd1');
    assert.equal(files.get('hosts/b.nix')?.kind, 'added');
    applyChange(files, { op: 'delete', path: 'hosts/b.nix' }, base, 'd1');
    assert.equal(files.size, 0);
  });

  it('deletes base files, symbolic links included, and reverts any change', () => {
    const files = new Map<string, DraftFileRow>();
    applyChange(files, { op: 'delete', path: 'link' }, base, 'd1');
    assert.equal(files.get('link')?.kind, 'deleted');
    assert.equal(files.get('link')?.content, null);
    applyChange(files, { op: 'revert', path: 'link' }, base, 'd1');
    assert.equal(files.size, 0);
  });

  it('refuses what git could not store or the editor could not show, and changes nothing then', () => {
    const files = new Map<string, DraftFileRow>();
    const write =
      (path: string, content = 'x') =>
      () =>
        applyChange(files, { op: 'write', path, content }, base, 'd1');
    assert.equal(code(write('hosts')), 'validation_failed', 'a directory');
    assert.equal(code(write('flake.nix/x')), 'validation_failed', 'below a file');
    assert.equal(code(write('link')), 'file_not_text', 'a symbolic link');
    assert.equal(code(write('vendor')), 'validation_failed', 'a submodule');
    assert.equal(code(write('a.nix', 'a\0b')), 'file_not_text', 'a NUL');
    assert.equal(code(write('big.nix', 'x'.repeat(EDITOR_LIMITS.fileBytes + 1))), 'file_too_large');
    assert.equal(
      code(() => applyChange(files, { op: 'delete', path: 'nope.nix' }, base, 'd1')),
      'file_not_found',
    );
    assert.equal(files.size, 0);
  });

  it('lets a new file replace a deleted one’s place, but not bring the file back over it', () => {
    const files = new Map<string, DraftFileRow>();
    applyChange(files, { op: 'delete', path: 'flake.nix' }, base, 'd1');
    applyChange(files, { op: 'write', path: 'flake.nix/inner', content: 'x' }, base, 'd1');
    assert.equal(files.get('flake.nix/inner')?.kind, 'added');
    assert.equal(
      code(() => applyChange(files, { op: 'revert', path: 'flake.nix' }, base, 'd1')),
      'validation_failed',
    );
  });
});

describe('checkDraftLimits', () => {
  it('refuses more files or bytes than a draft may hold', () => {
    const files = new Map<string, DraftFileRow>();
    for (let i = 0; i <= EDITOR_LIMITS.draftFiles; i += 1) {
      files.set(`f${i}`, {
        draft_id: 'd',
        path: `f${i}`,
        kind: 'added',
        content: 'x',
        size: 1,
        base_blob: null,
        base_mode: null,
      });
    }
    assert.equal(
      code(() => checkDraftLimits(files)),
      'validation_failed',
    );
    const big = new Map(
      [...files].slice(0, 5).map(([k, v]) => [k, { ...v, size: EDITOR_LIMITS.draftBytes / 4 }]),
    );
    assert.equal(
      code(() => checkDraftLimits(big)),
      'payload_too_large',
    );
  });
});
