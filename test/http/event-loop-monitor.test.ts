/**
 * The event-loop delay monitor: a blocked main loop shows in the p99 gauge of `/metrics` and
 * takes `/readyz` to 503 with `missing: ["event-loop-delay"]` for that window; a calm window
 * makes the service ready again. Windows are short here (the service uses 10 s); the test waits
 * for each window to close rather than sleeping.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/app/app.js';
import { createMetrics } from '../../src/app/metrics.js';
import { ManualClock } from '../../src/domain/clock.js';
import { EventLoopMonitor } from '../../src/http/event-loop-monitor.js';
import { makeClients } from '../helpers/clients.js';
import { waitFor } from '../helpers/wait.js';
import { storeBackends } from '../store/backends.js';

const [sqlite] = await storeBackends();

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the main thread is blocked on purpose: what a synchronous import used to do
  }
}

describe('EventLoopMonitor', () => {
  let monitor: EventLoopMonitor | undefined;
  afterEach(async () => {
    monitor?.stop();
    await sqlite?.cleanup();
  });

  it('reports a blocked loop in the gauge and /readyz, and recovers on a calm window', async () => {
    monitor = new EventLoopMonitor({ maxDelayMs: 100, windowMs: 300, resolutionMs: 5 });
    const running = monitor;
    const nextWindow = () =>
      new Promise<number>((resolve) => {
        const off = running.onWindow((p99) => {
          off();
          resolve(p99);
        });
      });
    running.start();
    const metrics = createMetrics();
    metrics.setSources({ eventLoopDelayP99: () => running.p99Seconds() });
    const { authenticator, bearer } = makeClients([{ id: 'auditor', role: 'auditor', uais: ['*'] }]);
    const store = await (sqlite as NonNullable<typeof sqlite>).open();
    const app = createHttpApp({
      authenticator,
      metrics,
      entree: { store, clock: new ManualClock(0), bodyLimitBytes: 1024, strictJson: false },
      readiness: async () => running.readiness(),
    });

    // One window closes with the loop blocked for 400 ms (a synchronous parse of a hostile file).
    const blocked = nextWindow();
    busy(400);
    const p99 = await blocked;
    expect(p99).toBeGreaterThan(100);
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not-ready', missing: ['event-loop-delay'] });
    const scraped = await (await app.request('/metrics', { headers: bearer('auditor') })).text();
    const gauge = /^scope_energie_event_loop_delay_p99_seconds (\S+)$/m.exec(scraped)?.[1];
    expect(Number(gauge)).toBeGreaterThan(0.1);

    // The next window has a free loop: ready again.
    let calm = await nextWindow();
    // The window in which the block ended may still hold its tail; the one after is calm.
    if (calm > 100) calm = await nextWindow();
    expect(calm).toBeLessThan(100);
    expect(running.readiness()).toEqual([]);
    const again = await app.request('/readyz');
    expect([again.status, await again.json()]).toEqual([200, { status: 'ready', missing: [] }]);
  });

  it('forgets the start-up once serving begins, and only before the first window has closed', async () => {
    monitor = new EventLoopMonitor({ maxDelayMs: 100, windowMs: 60_000, resolutionMs: 5 });
    const starting = monitor;
    starting.start();
    // The histogram records from its second tick on.
    await waitFor(() => starting.p99Seconds() > 0, {
      timeoutMs: 5_000,
      intervalMs: 5,
      what: 'a first sample',
    });
    // The start-up's long tick: the window in progress reports it.
    busy(300);
    await waitFor(() => starting.p99Seconds() > 0.1, {
      timeoutMs: 5_000,
      intervalMs: 5,
      what: 'the start-up tick in the gauge',
    });
    starting.beginServing();
    expect(starting.p99Seconds()).toBe(0);
    expect(starting.readiness()).toEqual([]);
  });

  it('keeps a closed window once serving has begun', async () => {
    monitor = new EventLoopMonitor({ maxDelayMs: 100, windowMs: 200, resolutionMs: 5 });
    const running = monitor;
    const closed = new Promise<number>((resolve) => {
      const off = running.onWindow((p99) => {
        off();
        resolve(p99);
      });
    });
    running.start();
    const p99 = await closed;
    expect(p99).toBeGreaterThan(0);
    running.beginServing();
    expect(running.p99Seconds()).toBe(p99 / 1000);
  });
});
