/**
 * Issue 13, "What must hold": every hostile case against the running service (a real
 * `scope-energie serve` child: HTTP, embedded broker, bridge, demo lycée), on SQLite and, for
 * the cases that touch the store, on PostgreSQL, while a probe on another thread measures
 * `/healthz` round trips, the service's event-loop delay gauge, the child's RSS and a dispatcher
 * transition scheduled during each attack (test/hostile/run-case.ts lists the checks).
 *
 * One service per backend, reused by the cases in order (cases.ts); a case that kills the
 * service fails, and the next one starts it again on the same data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { runAlone } from '../helpers/heavy-suite-lock.js';
import { waitFor } from '../helpers/wait.js';
import { HOSTILE_CASES } from './cases.js';
import { Probe } from './probe.js';
import { runCase } from './run-case.js';
import { type Backend, type HostileService, startHostileService } from './service-harness.js';

// A heavy suite (test/helpers/heavy-suites.ts): never alongside another one.
runAlone(import.meta.url);

const backends: Backend[] = process.env['DATABASE_URL'] ? ['sqlite', 'postgres'] : ['sqlite'];
if (!process.env['DATABASE_URL'])
  console.warn('[hostile] DATABASE_URL is not set: the PostgreSQL variant of the hostile suite is skipped');

describe.each(backends)('hostile inputs against the running service on %s', (backend) => {
  let service: HostileService;
  let probe: Probe;

  beforeAll(async () => {
    service = await startHostileService(backend);
    // Ready: the first sync is done and the demo gateway holds every zone's desired state.
    await waitFor(async () => (await fetch(`${service.url}/readyz`)).status === 200, {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: '/readyz to answer 200',
    }).catch((error: Error) => {
      throw new Error(`${error.message}; log:\n${service.logTail()}`);
    });
    probe = await Probe.start(service);
  }, 90_000);

  afterAll(async () => {
    await probe?.stop();
    await service?.stop();
  }, 30_000);

  for (const hostile of HOSTILE_CASES.filter((c) => c.backends.includes(backend))) {
    it(
      hostile.name,
      async () => {
        const result = await runCase(service, probe, hostile);
        expect(result.failures, `${hostile.name} (school ${DEMO_UAI})`).toEqual([]);
      },
      hostile.timeoutMs ?? 90_000,
    );
  }
});
