/**
 * The telemetry ingestor's counters on /metrics (src/app/metrics.ts): reports through a real
 * ingestor into a real SQLite store, then the Prometheus text the registry serves.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/app/metrics.js';
import { ManualClock } from '../../src/domain/clock.js';
import { openStore, type Store } from '../../src/store/store.js';
import { TelemetryIngestor } from '../../src/telemetry/telemetry-ingestor.js';

const NOW = Date.parse('2026-12-07T12:00:00.000Z');
const MIN = 60_000;

let dir: string;
let store: Store;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ingest-metrics-'));
  store = await openStore({ dataDir: dir });
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('telemetry counters on /metrics', () => {
  it('accepted, duplicate, flagged and refused by reason', async () => {
    const clock = new ManualClock(NOW);
    const ingestor = new TelemetryIngestor({ repository: store.telemetry, clock, batchSize: 100 });
    const metrics = createMetrics();
    metrics.setSources({ telemetryIngest: () => ingestor.stats() });
    const offer = (ts: number, measured: number, zone = 'z1') =>
      ingestor.offer({
        uai: '0670999X',
        zone,
        function: 'heating',
        payload: {
          applied_rev: 1,
          mode: 'comfort',
          setpoint_c: 19,
          measured_c: measured,
          source: 'bridge',
          ts: new Date(ts).toISOString(),
        },
        receivedAt: clock.now(),
      });
    offer(NOW - 10 * MIN, 19.1);
    offer(NOW - 5 * MIN, 19.2);
    offer(NOW - 5 * MIN, 19.2); // the retained copy again
    offer(NOW - 4 * MIN, 75); // out of range: stored, flagged
    offer(NOW - 49 * 60 * MIN, 18); // beyond 48 h
    offer(NOW + 2 * MIN, 18); // ahead of the clock
    offer(NOW + 3 * MIN, 18);
    await ingestor.flush();

    const text = await metrics.registry.metrics();
    const lines = text.split('\n').filter((l) => l.startsWith('scope_energie_telemetry_'));
    expect(lines).toEqual([
      'scope_energie_telemetry_samples_total{outcome="accepted"} 3',
      'scope_energie_telemetry_samples_total{outcome="duplicate"} 1',
      'scope_energie_telemetry_samples_total{outcome="failed"} 0',
      'scope_energie_telemetry_samples_flagged_total{reason="out-of-range"} 1',
      'scope_energie_telemetry_samples_flagged_total{reason="stuck"} 0',
      'scope_energie_telemetry_samples_refused_total{reason="future"} 2',
      'scope_energie_telemetry_samples_refused_total{reason="too-old"} 1',
    ]);
    expect(text).toContain('# TYPE scope_energie_telemetry_samples_total counter');
  });
});
