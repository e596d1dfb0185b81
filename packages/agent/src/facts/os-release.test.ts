import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOsRelease } from './os-release.js';

describe('parseOsRelease', () => {
  it('reads a NixOS os-release file', () => {
    const text = [
      'ANSI_COLOR="1;34"',
      'BUG_REPORT_URL="https://github.com/NixOS/nixpkgs/issues"',
      'BUILD_ID="24.05.20240612.abcdef0"',
      'ID=nixos',
      'NAME=NixOS',
      'PRETTY_NAME="NixOS 24.05 (Uakari)"',
      'VERSION_ID="24.05"',
      '',
    ].join('\n');
    assert.deepEqual(parseOsRelease(text), {
      id: 'nixos',
      name: 'NixOS',
      versionId: '24.05',
      prettyName: 'NixOS 24.05 (Uakari)',
    });
  });

  it('handles single quotes, escapes, comments and blank lines', () => {
    const text = '# comment\n\nNAME=\'My OS\'\nPRETTY_NAME="Say \\"hi\\" \\$HOME"\nID=my\\ os\n';
    assert.deepEqual(parseOsRelease(text), {
      id: 'my os',
      name: 'My OS',
      versionId: null,
      prettyName: 'Say "hi" $HOME',
    });
  });

  it('reports missing and empty keys as null and skips malformed lines', () => {
    assert.deepEqual(parseOsRelease('garbage line\nID=\nVERSION_ID=12\n'), {
      id: null,
      name: null,
      versionId: '12',
      prettyName: null,
    });
  });
});
