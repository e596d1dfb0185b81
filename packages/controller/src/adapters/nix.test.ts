import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nixErrorText } from './nix-error.js';
import { hostsExpression, nixString } from './nix-evaluation.js';
import { realiseArgs } from './nix.js';

describe('realiseArgs', () => {
  it('builds locally by default, with a GC root for the output', () => {
    assert.deepEqual(realiseArgs('/nix/store/x.drv', { gcRoot: '/state/gcroots/b1' }), [
      '--realise',
      '/nix/store/x.drv',
      '--add-root',
      '/state/gcroots/b1',
      '--indirect',
    ]);
  });

  it('hands remote builders to Nix and can keep the build off the controller', () => {
    const builders = 'ssh-ng://builder@gpc0 x86_64-linux /key 8 1 big-parallel';
    const args = realiseArgs('/nix/store/x.drv', { builders, remoteOnly: true });
    assert.deepEqual(args.slice(2), [
      '--option',
      'builders',
      builders,
      '--option',
      'builders-use-substitutes',
      'true',
      '--max-jobs',
      '0',
    ]);
  });
});

describe('Nix expressions', () => {
  it('quotes strings so a path cannot break out of the expression', () => {
    assert.equal(nixString('a"b\\c${d}'), '"a\\"b\\\\c\\${d}"');
  });

  it('evaluates every host in one expression over getFlake', () => {
    const expression = hostsExpression('git+file:///m.git?rev=abc');
    assert.match(expression, /builtins\.getFlake "git\+file:\/\/\/m\.git\?rev=abc"/);
    assert.match(expression, /builtins\.mapAttrs/);
    assert.match(expression, /darwinConfigurations/);
    assert.match(expression, /homeConfigurations/);
  });

  it('keeps the error part of Nix output', () => {
    const stderr =
      'copying path x\nwarning: Git tree is dirty\nerror: undefined variable foo\n  at bar.nix:1';
    assert.equal(nixErrorText(stderr), 'error: undefined variable foo\n  at bar.nix:1');
  });
});
