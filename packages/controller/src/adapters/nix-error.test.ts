import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatNixErrorLocation as formatLocation } from '@flotilla/protocol';
import { nixErrorText, parseNixError } from './nix-error.js';
import { NEWER, NEWER_SOURCE, NIX_2_8, NIXPKGS_SOURCE } from './nix-error.fixtures.js';

/** How the adapter calls it: on the error part of stderr. */
const parse = (stderr: string, source?: string) => parseNixError(nixErrorText(stderr), source);

describe('parseNixError on Nix 2.8 output (recorded)', () => {
  it('places a syntax error in the host file, relative to the flake', () => {
    assert.deepEqual(parse(NIX_2_8.syntax), {
      message: "syntax error, unexpected end of file, expecting ';'",
      location: { file: 'hosts/gpc0.nix', line: 1, column: 30 },
    });
  });

  it('places undefined variables, type errors and failed selections where Nix says', () => {
    assert.deepEqual(parse(NIX_2_8.undefinedVar), {
      message: "undefined variable 'foo'",
      location: { file: 'hosts/gpc0.nix', line: 1, column: 29 },
    });
    assert.deepEqual(parse(NIX_2_8.typeAdd).location, {
      file: 'hosts/gpc0.nix',
      line: 1,
      column: 33,
    });
    assert.deepEqual(parse(NIX_2_8.multilineSelect), {
      message: 'value is an integer while a set was expected',
      location: { file: 'hosts/gpc0.nix', line: 5, column: 14 },
    });
  });

  it('reports errors Nix places in flake.nix there', () => {
    assert.deepEqual(parse(NIX_2_8.missingAttr), {
      message: "attribute 'exitCode' missing",
      location: { file: 'flake.nix', line: 6, column: 52 },
    });
    assert.deepEqual(parse(NIX_2_8.typeIntInString).location, {
      file: 'flake.nix',
      line: 7,
      column: 44,
    });
    assert.deepEqual(parse(NIX_2_8.flakeBroken).location, {
      file: 'flake.nix',
      line: 2,
      column: 17,
    });
  });

  it('takes a file named in the message when Nix gives no position', () => {
    assert.deepEqual(parse(NIX_2_8.missingFile), {
      message:
        "getting status of '/nix/store/g7kg4v4sq2kbq0li5fiwb8khxxhchp9r-source/hosts/nope.nix': No such file or directory",
      location: { file: 'hosts/nope.nix', line: null, column: null },
    });
  });

  it('keeps the message of a throw, which has no location', () => {
    assert.deepEqual(parse(NIX_2_8.throw), { message: 'gpc0 is retired', location: null });
  });

  it('leaves a position outside the given source tree absolute', () => {
    const other = '/nix/store/00000000000000000000000000000000-source';
    assert.deepEqual(parse(NIX_2_8.syntax, other).location, {
      file: '/nix/store/ffg59zcx6nf9ynnx2nlwibrf5h8anb12-source/hosts/gpc0.nix',
      line: 1,
      column: 30,
    });
  });
});

describe('parseNixError on the layout of Nix 2.13 and later', () => {
  it('takes the innermost error and its own position, not the trace frames', () => {
    assert.deepEqual(parse(NEWER.syntax, NEWER_SOURCE), {
      message: "syntax error, unexpected end of file, expecting ';'",
      location: { file: 'hosts/gpc0.nix', line: 1, column: 30 },
    });
  });

  it('finds the file a NixOS module error names in its message', () => {
    assert.deepEqual(parse(NEWER.optionMissing, NEWER_SOURCE), {
      message: "The option `services.ngnix' does not exist. Definition values:",
      location: { file: 'hosts/gpc0/configuration.nix', line: null, column: null },
    });
  });

  it("prefers the flake's innermost frame to a position inside an input", () => {
    assert.deepEqual(parse(NEWER.inputError, NEWER_SOURCE), {
      message: 'value is a list while a set was expected',
      location: { file: 'hosts/gpc0/users.nix', line: 7, column: 38 },
    });
  });

  it('falls back to the position inside the input when no frame is in the flake', () => {
    const onlyInput = NEWER.inputError.replace(`${NEWER_SOURCE}/hosts/gpc0/users.nix`, '«string»');
    assert.deepEqual(parse(onlyInput, NEWER_SOURCE).location, {
      file: `${NIXPKGS_SOURCE}/lib/attrsets.nix`,
      line: 647,
      column: 124,
    });
  });
});

describe('nixErrorText', () => {
  it('keeps the beginning and the end of a long error, where newer Nix puts the error', () => {
    const frames = Array.from({ length: 400 }, (_, i) => `       … while evaluating frame ${i}`);
    const stderr = ['error:', ...frames, '', '       error: the real problem', ''].join('\n');
    const text = nixErrorText(stderr, 2_000);
    assert.ok(text.length < 2_100);
    assert.match(text, /^error:\n {7}… while evaluating frame 0\n/);
    assert.match(text, /\[… \d+ characters of the error text left out …\]/);
    assert.match(text, /error: the real problem$/);
    assert.equal(parseNixError(text).message, 'the real problem');
  });
});

describe('formatLocation and odd input', () => {
  it('prints file:line:column, or as much as is known', () => {
    assert.equal(
      formatLocation({ file: 'hosts/gpc0.nix', line: 1, column: 30 }),
      'hosts/gpc0.nix:1:30',
    );
    assert.equal(
      formatLocation({ file: 'hosts/gpc0.nix', line: 3, column: null }),
      'hosts/gpc0.nix:3',
    );
    assert.equal(
      formatLocation({ file: 'hosts/gpc0.nix', line: null, column: null }),
      'hosts/gpc0.nix',
    );
  });

  it('reads text without an error line as its first line', () => {
    assert.deepEqual(parseNixError('\nsomething odd happened\nmore'), {
      message: 'something odd happened',
      location: null,
    });
  });
});
