import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimeFormat } from './format.js';
import { planSummary, renderPlan, signedBytes } from './plan.view.js';
import { samplePlan } from './test-controller.js';

const time = new TimeFormat('UTC', new Date('2025-01-01T12:00:00.000Z'));

describe('planSummary', () => {
  it('says in one line what a ready plan changes', () => {
    assert.equal(planSummary(samplePlan()), '+1 −1 ~3 pkgs, +12.4 MiB; restart 2 units; reboot');
    const ready = samplePlan().plan;
    assert.ok(ready?.closure && ready.activation);
    const quiet = samplePlan({
      plan: {
        ...ready,
        closure: { ...ready.closure, added: [], removed: [], changed: [], sizeDelta: -2048 },
        activation: {
          ...ready.activation,
          stop: ['a.service'],
          start: ['a.service', 'b.service'],
          restart: [],
          restartSystemd: true,
        },
        reboot: { required: false, changed: [], bootedSystem: null },
      },
    });
    assert.equal(
      planSummary(quiet),
      'no package changes, −2.0 KiB; stop 1, start 2 units, restart systemd',
    );
    const boot = samplePlan({ plan: { ...ready, activation: null } });
    assert.match(planSummary(boot), /; activates at the next boot; reboot$/);
  });

  it('says where a plan stands when it is not ready', () => {
    assert.equal(planSummary(null), '-');
    assert.equal(planSummary(samplePlan({ state: 'pending', plan: null })), 'plan: preparing');
    assert.equal(
      planSummary(samplePlan({ state: 'pending', plan: null, requestedAt: null })),
      'plan: waiting for the host',
    );
    assert.equal(
      planSummary(samplePlan({ state: 'failed', code: 'fetch_failed', plan: null })),
      'plan failed: fetch_failed',
    );
    assert.equal(
      planSummary(samplePlan({ state: 'unavailable', code: 'prefetch_disabled', plan: null })),
      'no plan: prefetch off',
    );
    assert.equal(
      planSummary(samplePlan({ state: 'unavailable', code: 'agent_unsupported', plan: null })),
      'no plan: agent too old',
    );
  });

  it('signs sizes', () => {
    assert.equal(signedBytes(13_002_342), '+12.4 MiB');
    assert.equal(signedBytes(-41_267), '−40.3 KiB');
    assert.equal(signedBytes(0), '±0 B');
  });
});

describe('renderPlan', () => {
  it('lists every package, unit and the reboot of a ready plan', () => {
    const lines = renderPlan(samplePlan(), time).split('\n');
    assert.deepEqual(lines, [
      'Plan of deployment dmwy8t0001 on web1: ready',
      'Prepared:       2025-01-01 11:00:05Z (59 m 55 s ago), closure fetched ahead in 4.2 s',
      'Compared with:  /nix/store/zyxwvsrqpnmlkjihgfdcba9876543210-nixos-system-web1-25.04',
      'Packages: +1 −1 ~3 pkgs, +12.4 MiB (closure 1.1 GiB)',
      '  + nginx   1.24.0         +1.2 MiB',
      '  − curl    8.5.0          −40.3 KiB',
      '  ~ hello   2.10 → 2.12    +20.0 KiB',
      '  ~ linux   6.6.1 → 6.6.2',
      '  ~ tzdata  2024a → 2024b',
      '  = etc     same version   +29.0 KiB',
      'Activation (switch-to-configuration dry-activate): restart 2 units',
      '  restart                 nginx.service, sshd.service',
      '  keep running (changed)  display-manager.service',
      '  | setting up /etc...',
      "Reboot: needed (kernel, initrd differ from the booted system's)",
    ]);
  });

  it('says why there is no plan, and when the agent was asked', () => {
    const failed = samplePlan({
      state: 'failed',
      code: 'untrusted_closure',
      reason: 'not signed by any of this host’s trusted keys',
      plan: null,
    });
    assert.deepEqual(renderPlan(failed, time).split('\n'), [
      'Plan of deployment dmwy8t0001 on web1: failed: not signed by any of this host’s trusted keys (untrusted_closure)',
      'Asked: 2025-01-01 11:00:01Z (59 m 59 s ago)',
    ]);
  });
});
