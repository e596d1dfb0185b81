import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { activationMode } from '../create-agent.js';
import { systemdRunCommand, unitName } from './systemd-run.js';

describe('systemd-run activation', () => {
  it('wraps switch-to-configuration the way nixos-rebuild does, passing the sandbox variables', () => {
    assert.deepEqual(
      systemdRunCommand({
        unit: 'flotilla-activate-d1',
        program: '/nix/store/x-system/bin/switch-to-configuration',
        action: 'test',
        currentSystemLink: '/run/current-system',
        profile: '/nix/var/nix/profiles/system',
      }),
      [
        'systemd-run',
        '-E',
        'LOCALE_ARCHIVE',
        '-E',
        'NIXOS_INSTALL_BOOTLOADER=0',
        '-E',
        'FLOTILLA_CURRENT_SYSTEM_LINK=/run/current-system',
        '-E',
        'FLOTILLA_PROFILE=/nix/var/nix/profiles/system',
        '--collect',
        '--no-ask-password',
        '--pipe',
        '--quiet',
        '--service-type=exec',
        '--unit=flotilla-activate-d1',
        '--wait',
        '/nix/store/x-system/bin/switch-to-configuration',
        'test',
      ],
    );
  });

  it('names units after the deployment, keeping odd ids valid and distinct', () => {
    assert.equal(unitName('d-42', 'activate'), 'flotilla-activate-d-42');
    assert.equal(unitName('d-42', 'rollback-2'), 'flotilla-activate-d-42-rollback-2');
    const odd = unitName('a/b c', 'activate');
    assert.match(odd, /^flotilla-activate-a_b_c-[0-9a-f]{8}$/);
    assert.notEqual(odd, unitName('a_b c', 'activate'));
  });

  it('picks systemd-run exactly where systemd runs, unless told otherwise', () => {
    assert.equal(activationMode('auto', true), 'systemd-run');
    assert.equal(activationMode('auto', false), 'detached');
    assert.equal(activationMode('detached', true), 'detached');
    assert.equal(activationMode('systemd-run', false), 'systemd-run');
  });
});
