/** The failure throttle under an injected clock: windows, blocking, and memory bounded under rotation. */
import { describe, expect, it } from 'vitest';
import { LoginThrottle, retryAfterSeconds } from '../../src/auth/login-throttle.js';
import { ManualClock } from '../../src/domain/clock.js';

describe('LoginThrottle', () => {
  const make = (maxTracked = 100) => {
    const clock = new ManualClock(0);
    return { clock, throttle: new LoginThrottle({ maxFailures: 3, windowMs: 60_000, maxTracked, clock }) };
  };

  it('blocks a key at max failures until the window that its first failure opened ends', () => {
    const { clock, throttle } = make();
    const keys = { clientId: 'a', address: '192.0.2.1' };
    throttle.recordFailure(keys);
    clock.advance(10_000);
    throttle.recordFailure(keys);
    expect(throttle.blockedForMs(keys)).toBe(0);
    throttle.recordFailure(keys);
    expect(throttle.blockedForMs(keys)).toBe(50_000);
    expect(throttle.blockedForMs({ clientId: 'a' })).toBe(50_000);
    expect(throttle.blockedForMs({ address: '192.0.2.1' })).toBe(50_000);
    expect(throttle.blockedForMs({ clientId: 'b', address: '192.0.2.2' })).toBe(0);
    clock.advance(50_000);
    expect(throttle.blockedForMs(keys)).toBe(0);
    throttle.recordFailure(keys);
    expect(throttle.blockedForMs(keys)).toBe(0);
  });

  it('clears a client id on success, not its address', () => {
    const { throttle } = make();
    for (let i = 0; i < 3; i++) throttle.recordFailure({ clientId: 'a', address: '192.0.2.1' });
    throttle.recordSuccess({ clientId: 'a', address: '192.0.2.1' });
    expect(throttle.blockedForMs({ clientId: 'a' })).toBe(0);
    expect(throttle.blockedForMs({ address: '192.0.2.1' })).toBe(60_000);
  });

  it('holds at most maxTracked ids and addresses however many an attacker rotates', () => {
    const { clock, throttle } = make(100);
    for (let i = 0; i < 100_000; i++) {
      throttle.recordFailure({ clientId: `id-${i}`, address: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}` });
      if (i % 1000 === 0) clock.advance(1);
    }
    expect(throttle.size).toBeLessThanOrEqual(200);
    // The newest keys are the ones kept.
    throttle.recordFailure({ clientId: 'id-99999' });
    throttle.recordFailure({ clientId: 'id-99999' });
    expect(throttle.blockedForMs({ clientId: 'id-99999' })).toBeGreaterThan(0);
  });

  it('drops ended windows first when full', () => {
    const { clock, throttle } = make(100);
    for (let i = 0; i < 100; i++) throttle.recordFailure({ address: `old-${i}` });
    clock.advance(60_000);
    for (let i = 0; i < 3; i++) throttle.recordFailure({ address: 'new' });
    expect(throttle.size).toBe(1);
    expect(throttle.blockedForMs({ address: 'new' })).toBe(60_000);
  });

  it('says Retry-After in whole seconds, at least 1', () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(240_000)).toBe(240);
    expect(retryAfterSeconds(240_001)).toBe(241);
  });
});
