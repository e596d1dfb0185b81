import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseDryActivate } from './dry-activate.js';

describe('parseDryActivate', () => {
  it("reads a sandboxed system's dry activation (captured, see fixtures/README.md)", () => {
    const text = readFileSync(
      new URL('../../src/plan/fixtures/dry-activate-sandbox.txt', import.meta.url),
      'utf8',
    );
    assert.deepEqual(parseDryActivate(text.split('\n')), {
      stop: ['backup.service', 'old-cron.service'],
      start: ['backup.service', 'metrics.service'],
      restart: ['sshd.service'],
      reload: ['nginx.service'],
      skip: ['journald-upload.service'],
      restartSystemd: false,
      other: ['setting up /etc of web (dry run)'],
    });
  });

  it('reads the sentences of NixOS switch-to-configuration, both implementations', () => {
    // As nixpkgs' switch-to-configuration.pl and switch-to-configuration-ng print them.
    const lines = [
      'would stop the following units: audit.service, nscd.service, sshd.socket',
      'would NOT stop the following changed units: display-manager.service',
      'would activate the configuration...',
      'would run activate script...',
      'setting up /etc...',
      'would restart systemd',
      'would reload the following units: dbus-broker.service, firewall.service',
      'would restart the following units: systemd-journald.service',
      'would start the following units: audit.service, nscd.service, sshd.socket',
      '',
    ];
    const says = parseDryActivate(lines);
    assert.deepEqual(says.stop, ['audit.service', 'nscd.service', 'sshd.socket']);
    assert.deepEqual(says.start, ['audit.service', 'nscd.service', 'sshd.socket']);
    assert.deepEqual(says.restart, ['systemd-journald.service']);
    assert.deepEqual(says.reload, ['dbus-broker.service', 'firewall.service']);
    assert.deepEqual(says.skip, ['display-manager.service']);
    assert.equal(says.restartSystemd, true);
    assert.deepEqual(says.other, ['setting up /etc...']);
  });

  it('says nothing changes when nothing does, and keeps unknown lines', () => {
    assert.deepEqual(parseDryActivate(['would activate the configuration...']), {
      stop: [],
      start: [],
      restart: [],
      reload: [],
      skip: [],
      restartSystemd: false,
      other: [],
    });
    const odd = parseDryActivate([
      '\u001b[1mwarning: the following user units would restart\u001b[0m',
    ]);
    assert.deepEqual(odd.other, ['warning: the following user units would restart']);
  });
});
