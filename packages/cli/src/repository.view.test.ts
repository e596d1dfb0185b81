import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Revision } from '@flotilla/protocol';
import { TimeFormat } from './format.js';
import { renderRevisionDetail } from './repository.view.js';

const now = new TimeFormat('UTC', new Date('2025-01-01T12:00:00.000Z'));

function revision(evaluation: unknown): Revision {
  return {
    id: 'rv2',
    sha: '0123456789abcdef0123456789abcdef01234567',
    ref: 'refs/heads/main',
    kind: 'branch',
    message: 'gpc0: new disk',
    author: 'Ada <ada@example.org>',
    committedAt: '2025-01-01T11:00:00.000Z',
    discoveredAt: '2025-01-01T11:59:30.000Z',
    status: 'evaluated',
    errorText: null,
    evaluatedAt: '2025-01-01T11:59:40.000Z',
    baseRevisionId: null,
    evaluation,
  };
}

const SYNTAX_TEXT = [
  "error: syntax error, unexpected end of file, expecting ';'",
  '',
  '       at /nix/store/ffg59zcx6nf9ynnx2nlwibrf5h8anb12-source/hosts/gpc0.nix:1:30:',
  "(use '--show-trace' to show detailed location information)",
].join('\n');

describe('renderRevisionDetail with an evaluation', () => {
  it('lists each failing host with file:line:column and its error line', () => {
    const text = renderRevisionDetail(
      revision({
        nixos: { gpc1: '/nix/store/a.drv', rpi0: '/nix/store/b.drv' },
        hostErrors: { gpc0: SYNTAX_TEXT, srv0: 'error: srv0 is retired' },
        hostErrorDetails: {
          gpc0: {
            message: "syntax error, unexpected end of file, expecting ';'",
            location: { file: 'hosts/gpc0.nix', line: 1, column: 30 },
          },
          srv0: { message: 'srv0 is retired', location: null },
        },
        evaluatedPerHost: true,
        darwin: [],
        home: [],
      }),
      now,
    );
    assert.match(text, /Hosts:\s+2 evaluated, 2 failed \(evaluated host by host\)/);
    assert.match(
      text,
      /Hosts that failed to evaluate:\n {2}gpc0 {2}hosts\/gpc0\.nix:1:30 {2}syntax error, unexpected end of file, expecting ';'\n {2}srv0 {2}- {20}srv0 is retired/,
    );
    assert.match(text, /\n\n {4}gpc0: new disk$/);
  });

  it('reads the error line out of an evaluation stored before locations were recorded', () => {
    const text = renderRevisionDetail(
      revision({ nixos: {}, hostErrors: { gpc0: SYNTAX_TEXT }, darwin: [], home: [] }),
      now,
    );
    assert.match(text, /Hosts:\s+0 evaluated, 1 failed\n/);
    assert.match(text, /gpc0 {2}- {2}syntax error, unexpected end of file, expecting ';'/);
  });

  it('says which hosts were not rebuilt and how to retry them', () => {
    const text = renderRevisionDetail(
      revision({
        nixos: { gpc0: '/nix/store/a.drv' },
        hostErrors: {},
        notRebuilt: { gpc0: { drvPath: '/nix/store/a.drv', failedBuildId: 'bk2x9f' } },
        darwin: [],
        home: [],
      }),
      now,
    );
    assert.match(text, /Hosts:\s+1 evaluated\n/);
    assert.match(
      text,
      /Not rebuilt:\n {2}gpc0: not rebuilt — build bk2x9f of this derivation failed; flotilla build retry bk2x9f/,
    );
  });

  it('shows no host section before the revision is evaluated', () => {
    const text = renderRevisionDetail({ ...revision(null), status: 'pending' }, now);
    assert.doesNotMatch(text, /Hosts/);
  });
});
