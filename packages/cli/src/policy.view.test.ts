import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GraduationStatus } from '@flotilla/protocol';
import {
  renderGraduation,
  renderPinChange,
  renderPolicyDetail,
  renderPolicySet,
  renderPolicyTable,
  sourceLabel,
} from './policy.view.js';
import { TimeFormat } from './format.js';
import { samplePolicy } from './test-controller.js';

const now = new Date('2025-01-01T12:00:00.000Z');
const utc = new TimeFormat('UTC', now);

function graduation(overrides: Partial<GraduationStatus> = {}): GraduationStatus {
  return {
    host: 'web1',
    policy: 'manual',
    stableSince: '2024-12-20T12:00:00.000Z',
    stableDays: 12.9,
    requiredDays: 7,
    after: [],
    eligible: true,
    reasons: [],
    ...overrides,
  };
}

describe('policy views', () => {
  it('lists policies with the locked source, wave, stability and pin', () => {
    const text = renderPolicyTable(
      {
        policies: [
          samplePolicy({ host: 'db1', policy: 'monitor', source: 'config', locked: true }),
          samplePolicy({ wave: null, stableSince: null, pinned: true, pinReason: 'bisect' }),
        ],
      },
      utc,
    );
    const lines = text.split('\n');
    assert.match(lines[0] ?? '', /^HOST\s+POLICY\s+SOURCE\s+WAVE\s+STABLE SINCE\s+PINNED$/);
    assert.match(lines[1] ?? '', /^db1\s+monitor\s+config \(locked\)\s+canary\s+12 d ago\s+no$/);
    assert.match(lines[2] ?? '', /^web1\s+manual\s+default\s+-\s+-\s+yes: bisect$/);
    assert.match(text, /Locked policies are set in the controller's config file/);
    assert.equal(renderPolicyTable({ policies: [] }, utc), 'no hosts');
  });

  it('leaves out the locked hint when nothing is locked', () => {
    const text = renderPolicyTable({ policies: [samplePolicy()] }, utc);
    assert.ok(!text.includes('Locked'));
    assert.equal(sourceLabel(samplePolicy({ source: 'api' })), 'api');
  });

  it('shows one policy in detail', () => {
    const text = renderPolicyDetail(samplePolicy({ policy: 'auto' }), utc);
    assert.match(text, /^Policy:\s+auto \(releases deploy once built\)$/m);
    assert.match(text, /^Stable since:\s+2024-12-20 12:00:00Z \(12 d ago\)$/m);
    assert.match(text, /^Updated:\s+2024-12-01 00:00:00Z by admin$/m);
    const vienna = renderPolicyDetail(samplePolicy(), new TimeFormat('Europe/Vienna', now));
    assert.match(vienna, /^Updated:\s+2024-12-01 01:00:00\+01:00 by admin$/m);
  });

  it('confirms a new policy and warns when the host is pinned', () => {
    assert.equal(
      renderPolicySet(samplePolicy({ policy: 'auto' })),
      'web1: policy auto (releases deploy once built)',
    );
    const pinned = renderPolicySet(samplePolicy({ pinned: true }));
    assert.match(pinned, /^web1 is pinned: auto is paused and .* until flotilla unpin web1$/m);
  });

  it('confirms pin and unpin', () => {
    assert.equal(
      renderPinChange(samplePolicy({ pinned: true, pinReason: 'bisect' })),
      'web1 pinned (bisect): auto is paused and releases wait for approval until flotilla unpin web1',
    );
    assert.equal(
      renderPinChange(samplePolicy({ policy: 'monitor' })),
      'web1 unpinned; policy monitor applies again (never deployed, only watched)',
    );
  });
});

describe('renderGraduation', () => {
  it('shows whole days, prerequisites, reasons and the command for ready hosts', () => {
    const text = renderGraduation({
      hosts: [
        graduation(),
        graduation({
          host: 'db1',
          stableDays: 6.99,
          after: [
            { host: 'web1', requiredDays: 14, stableDays: 3.2, met: false },
            { host: 'web2', requiredDays: null, stableDays: null, met: false },
          ],
          eligible: false,
          reasons: [
            'stable 6 of 7 days',
            'web1 stable on auto 3.2 of 14 days',
            'web2 is not on auto',
          ],
        }),
        graduation({ host: 'new1', stableSince: null, stableDays: null, eligible: false }),
      ],
    });
    const lines = text.split('\n');
    assert.match(lines[0] ?? '', /^HOST\s+POLICY\s+STABLE\s+NEEDS\s+AFTER\s+ELIGIBLE\s+WHY NOT$/);
    assert.match(lines[1] ?? '', /^web1\s+manual\s+12\s+7\s+-\s+yes\s+-$/);
    assert.match(
      lines[2] ?? '',
      /^db1\s+manual\s+6\s+7\s+web1\+14d,web2\s+no\s+stable 6 of 7 days; web1 stable on auto 3\.2 of 14 days; web2 is not on auto$/,
    );
    assert.match(lines[3] ?? '', /^new1\s+manual\s+-\s+7\s+/);
    assert.deepEqual(lines.slice(-2), [
      'STABLE and NEEDS are days. Ready for auto:',
      '  flotilla policy web1 auto',
    ]);
  });

  it('suggests nothing when no host is ready, or the ready one is on auto already', () => {
    const text = renderGraduation({ hosts: [graduation({ policy: 'auto' })] });
    assert.match(text, /No host is ready for auto yet/);
    assert.equal(renderGraduation({ hosts: [] }), 'no hosts');
  });
});
