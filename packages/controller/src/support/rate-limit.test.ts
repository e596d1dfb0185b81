import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlotillaError } from '@flotilla/protocol';
import { ManualClock } from '@flotilla/runtime';
import { ConnectionLimiter, FailureLimiter } from './rate-limit.js';

const policy = { maxFailures: 3, windowMs: 60_000, lockoutMs: 10_000, maxLockoutMs: 40_000 };

describe('FailureLimiter', () => {
  it('locks an address out after too many failures, and only that address', () => {
    const clock = new ManualClock('2026-03-01T00:00:00.000Z');
    const limiter = new FailureLimiter(policy, clock);
    for (let i = 0; i < 3; i++) assert.equal(limiter.fail('192.0.2.1'), 0);
    assert.equal(limiter.retryAfterSeconds('192.0.2.1'), 0, 'three failures are allowed');
    assert.equal(limiter.fail('192.0.2.1'), 10, 'the fourth starts a lockout');
    assert.throws(
      () => limiter.check('192.0.2.1'),
      (error: unknown) =>
        error instanceof FlotillaError &&
        error.code === 'rate_limited' &&
        (error.details as { retryAfterSeconds: number }).retryAfterSeconds === 10,
    );
    limiter.check('192.0.2.2');
    clock.advance(10_000);
    limiter.check('192.0.2.1');
  });

  it('doubles each further lockout up to the maximum, and forgets after a quiet spell', () => {
    const clock = new ManualClock('2026-03-01T00:00:00.000Z');
    const limiter = new FailureLimiter(policy, clock);
    const lockout = () => {
      let started = 0;
      for (let i = 0; i < 4; i++) started = limiter.fail('a');
      clock.advance(started * 1000);
      return started;
    };
    assert.deepEqual([lockout(), lockout(), lockout(), lockout()], [10, 20, 40, 40]);
    clock.advance(policy.maxLockoutMs + policy.windowMs + 1);
    assert.equal(lockout(), 10);
  });

  it('counts failures within the window only; a success forgets them', () => {
    const clock = new ManualClock('2026-03-01T00:00:00.000Z');
    const limiter = new FailureLimiter(policy, clock);
    for (let i = 0; i < 3; i++) limiter.fail('a');
    clock.advance(60_001);
    assert.equal(limiter.fail('a'), 0, 'the window moved on');
    limiter.fail('a');
    limiter.fail('a');
    limiter.succeed('a');
    assert.equal(limiter.size, 0);
    assert.equal(limiter.fail('a'), 0);
  });

  it('remembers a bounded number of addresses', () => {
    const clock = new ManualClock('2026-03-01T00:00:00.000Z');
    const limiter = new FailureLimiter({ ...policy, maxTracked: 100 }, clock);
    for (let i = 0; i < 1000; i++) limiter.fail(`198.51.100.${i}`);
    assert.equal(limiter.size, 100);
  });
});

describe('ConnectionLimiter', () => {
  it('caps connections per address and in total; releasing twice counts once', () => {
    const limiter = new ConnectionLimiter({ perAddress: 2, total: 3 });
    const a1 = limiter.acquire('a');
    const a2 = limiter.acquire('a');
    assert.ok(a1 && a2);
    assert.equal(limiter.acquire('a'), undefined, 'per address');
    const b1 = limiter.acquire('b');
    assert.ok(b1);
    assert.equal(limiter.acquire('c'), undefined, 'in total');
    a1();
    a1();
    assert.equal(limiter.count, 2);
    assert.ok(limiter.acquire('c'));
  });
});
