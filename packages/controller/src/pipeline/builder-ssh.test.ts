import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nixBuildEnv, unreachableBuilders } from './builder-ssh.js';

describe('nixBuildEnv', () => {
  const base = { PATH: '/usr/bin' };

  it('leaves the environment alone without ssh settings', () => {
    assert.deepEqual(nixBuildEnv(base, {}), base);
  });

  it('hands the key, known hosts and ssh config files to Nix as NIX_SSHOPTS, before inherited ones', () => {
    const env = nixBuildEnv(
      { ...base, NIX_SSHOPTS: '-o Compression=yes' },
      {
        sshKeyFile: '/run/secrets/builder-key',
        sshKnownHostsFile: '/etc/flotilla/builders.known_hosts',
        sshConfigFile: '/etc/flotilla/builders.ssh_config',
      },
    );
    assert.equal(env.PATH, '/usr/bin');
    assert.equal(
      env.NIX_SSHOPTS,
      '-F /etc/flotilla/builders.ssh_config -i /run/secrets/builder-key -o IdentitiesOnly=yes ' +
        '-o UserKnownHostsFile=/etc/flotilla/builders.known_hosts -o StrictHostKeyChecking=yes ' +
        '-o ConnectTimeout=10 -o BatchMode=yes -o Compression=yes',
    );
  });
});

describe('unreachableBuilders', () => {
  it("picks Nix's lines about builders it could not use (Nix 2.8 output)", () => {
    const output = [
      "building '/nix/store/abc-x.drv'...",
      "cannot build on 'ssh://root@gpc0': error: cannot connect to 'root@gpc0': ssh: connect to host gpc0 port 22: Connection refused",
      'Failed to find a machine for remote build!',
      'error: unable to start any build; remote machines may not have all required system features.',
    ].join('\n');
    assert.deepEqual(unreachableBuilders(output), [
      "cannot build on 'ssh://root@gpc0': error: cannot connect to 'root@gpc0': ssh: connect to host gpc0 port 22: Connection refused",
    ]);
    assert.deepEqual(unreachableBuilders('error: builder for x failed'), []);
  });
});
