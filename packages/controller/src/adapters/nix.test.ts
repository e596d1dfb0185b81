import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nixErrorText } from './nix-error.js';
import { hostsExpression, nixString } from './nix-evaluation.js';
import { FlotillaError } from '@flotilla/protocol';
import { NixClient, realiseArgs } from './nix.js';

describe('realiseArgs', () => {
  it('builds locally by default, with a GC root for the output', () => {
    assert.deepEqual(realiseArgs('/nix/store/x.drv', { gcRoot: '/state/gcroots/b1' }), [
      '--realise',
      '--add-root',
      '/state/gcroots/b1',
      '--indirect',
      '--',
      '/nix/store/x.drv',
    ]);
  });

  it('hands remote builders to Nix and can keep the build off the controller', () => {
    const builders = 'ssh-ng://builder@gpc0 x86_64-linux /key 8 1 big-parallel';
    const args = realiseArgs('/nix/store/x.drv', { builders, remoteOnly: true });
    assert.deepEqual(args.slice(1), [
      '--option',
      'builders',
      builders,
      '--option',
      'builders-use-substitutes',
      'true',
      '--max-jobs',
      '0',
      '--',
      '/nix/store/x.drv',
    ]);
  });
});

describe('NixClient', () => {
  it('hands Nix nothing but store paths, so no argument can be an option', async () => {
    const nix = new NixClient({ env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    for (const path of ['--option=builders x', '/nix/store/../../etc/shadow', '-r']) {
      await assert.rejects(nix.realise(path), (error: unknown) => {
        assert.ok(error instanceof FlotillaError);
        assert.equal(error.code, 'invalid_store_path');
        return true;
      });
      await assert.rejects(nix.closureSize(path), /not a Nix store path/);
    }
  });

  it("reads Nix's effective build sandbox setting", async () => {
    const path = process.env.PATH ?? '/usr/bin:/bin';
    const withSetting = (value: string) =>
      new NixClient({ env: { PATH: path, NIX_CONFIG: `sandbox = ${value}` } }).buildSandbox();
    assert.equal(await withSetting('false'), 'false');
    assert.equal(await withSetting('relaxed'), 'relaxed');
    assert.equal(await withSetting('true'), 'true');
    assert.equal(await new NixClient({ env: { PATH: '/nonexistent' } }).buildSandbox(), null);
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
