import { afterEach, describe, expect, it, vi } from 'vitest';
import { EchoGuard } from '../../src/bridge/echo-guard.js';

describe('echo guard', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('admits up to the limit, then waits for a message to come back on a topic it sent', async () => {
    const guard = new EchoGuard({ limit: 2 });
    expect(guard.admit()).toBeUndefined();
    guard.sent('p/a/z1/heating/desired');
    expect(guard.admit()).toBeUndefined();
    guard.sent('p/a/z1/heating/schedule');
    const waiting = guard.admit();
    expect(waiting).toBeInstanceOf(Promise);
    let admitted = false;
    void waiting?.then(() => {
      admitted = true;
    });
    // A topic never sent (another instance's school) is not an echo.
    guard.received('p/b/z1/heating/desired');
    await Promise.resolve();
    expect(admitted).toBe(false);
    expect(guard.inFlight).toBe(2);
    guard.received('p/a/z1/heating/schedule');
    await waiting;
    expect(admitted).toBe(true);
    expect(guard.inFlight).toBe(1);
  });

  it('counts a topic sent twice as two echoes', () => {
    const guard = new EchoGuard({ limit: 5 });
    guard.sent('t');
    guard.sent('t');
    guard.received('t');
    expect(guard.inFlight).toBe(1);
    guard.received('t');
    guard.received('t');
    expect(guard.inFlight).toBe(0);
  });

  it('turns itself off when nothing ever comes back (a refused subscription)', async () => {
    vi.useFakeTimers();
    const guard = new EchoGuard({ limit: 1, stallMs: 1_000 });
    guard.sent('t');
    const waiting = guard.admit();
    await vi.advanceTimersByTimeAsync(1_000);
    await waiting;
    expect(guard.disabled).toBe(true);
    guard.sent('u');
    guard.sent('v');
    expect(guard.admit()).toBeUndefined();
  });

  it('releases itself when echoes stop for stallMs, and after a reset', async () => {
    vi.useFakeTimers();
    const guard = new EchoGuard({ limit: 1, stallMs: 1_000 });
    guard.sent('s');
    guard.received('s');
    guard.sent('t');
    const waiting = guard.admit();
    await vi.advanceTimersByTimeAsync(1_000);
    await waiting;
    expect(guard.stalls).toBe(1);
    expect(guard.inFlight).toBe(0);
    guard.sent('u');
    const again = guard.admit();
    guard.reset();
    await again;
    expect(guard.inFlight).toBe(0);
  });
});
