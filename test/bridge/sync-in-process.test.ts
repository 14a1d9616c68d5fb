/**
 * The embedded default's sync (issue 14, "SORTIE in process"): SyncService reads this hub's
 * SORTIE through `InProcessSortie` on a real store (every backend), no HTTP server and no token.
 * Proves the ETag semantics (a pull, then `not-modified` with the stored tag, a new body after an
 * import), the tags and bytes are the HTTP route's own, only rooms and intervals reach the bridge
 * whatever the principal's purpose, and a principal outside the school's scope is refused.
 * The HTTP path (a remote hub) is tested against a real server in sync.test.ts and
 * sortie-client.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import { InProcessSortie } from '../../src/bridge/in-process-sortie.js';
import { SortieError } from '../../src/bridge/sortie-source.js';
import { SyncService } from '../../src/bridge/sync.js';
import { buildDemoTimetable } from '../../src/demo/demo-lycee.js';
import { ManualClock } from '../../src/domain/clock.js';
import { ingestTimetable } from '../../src/scope/entree/ingest.js';
import { energyOccupancySchema } from '../../src/scope/sortie/schemas.js';
import { SortieOccupancy } from '../../src/scope/sortie/sortie-occupancy.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import type { Store } from '../../src/store/store.js';
import type { SyncRecord, SyncRepository } from '../../src/store/sync-repository.js';
import { type StoreBackend, storeBackends } from '../store/backends.js';
import { copySite, DEMO_UAI, NO_DATA_UAI } from './bridge-fixtures.js';

const backends: StoreBackend[] = await storeBackends();
const RANGE = { from: '2026-01-05', to: '2026-02-02' };

describe.each(backends)('sync from the in-process SORTIE on $name', (backend) => {
  const t0 = Date.parse('2026-01-12T05:00:00Z'); // Monday 06:00 in Strasbourg
  const clock = new ManualClock(t0);
  const demo = buildDemoTimetable(t0);
  const siteFiles = copySite();
  const site = new SiteHolder(siteFiles);
  const calendars = new CalendarSource({ zone: 'B', dataDir: siteFiles.dir });
  let store: Store;
  let sortie: SortieOccupancy;
  let sync: SyncService;

  async function importDemo(edit: (timetable: typeof demo) => typeof demo = (t) => t) {
    const bytes = new TextEncoder().encode(JSON.stringify(edit(demo)));
    const report = await ingestTimetable(
      store,
      { bytes, uai: DEMO_UAI, format: 'json', importedBy: 'test' },
      clock.now(),
    );
    // What the app's ENTRÉE hook does after an import.
    sortie.invalidate(DEMO_UAI);
    return report;
  }

  beforeAll(async () => {
    store = await backend.open();
    sortie = new SortieOccupancy({ store, calendars });
    await importDemo();
    sync = new SyncService({
      client: new InProcessSortie({ sortie }),
      repository: store.sync,
      site,
      clock,
      cron: '0 0 1 1 *',
      staleAfterHours: 24,
    });
  });
  afterAll(async () => {
    await sync.stop();
    await backend.cleanup();
  });

  it('pulls the window, stores the body and its tag, then revalidates: not-modified, a new import: updated', async () => {
    expect(await sync.syncNow(DEMO_UAI)).toEqual([{ uai: DEMO_UAI, result: 'updated', version: 1 }]);
    const stored = await store.sync.get(DEMO_UAI);
    expect(stored).toMatchObject({
      version: 1,
      rangeFrom: RANGE.from,
      rangeTo: RANGE.to,
      fetchedAt: t0,
      lastSuccessAt: t0,
    });
    expect(stored?.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(sync.occupancyFor(DEMO_UAI)?.occupancy.rooms.length).toBeGreaterThan(0);

    clock.advance(15 * 60_000);
    expect(await sync.syncNow(DEMO_UAI)).toEqual([{ uai: DEMO_UAI, result: 'not-modified', version: 1 }]);
    expect(await store.sync.get(DEMO_UAI)).toMatchObject({
      etag: stored?.etag,
      fetchedAt: t0,
      lastSuccessAt: t0 + 15 * 60_000,
    });

    // A lesson moved: version 2, a new tag, seen at the next pull (no stale 304).
    const report = await importDemo((t) => ({
      ...t,
      lessons: t.lessons.map((lesson, i) => (i === 0 ? { ...lesson, start: '13:00', end: '14:00' } : lesson)),
    }));
    expect(report.version).toBe(2);
    clock.advance(15 * 60_000);
    expect(await sync.syncNow(DEMO_UAI)).toEqual([{ uai: DEMO_UAI, result: 'updated', version: 2 }]);
    const after = await store.sync.get(DEMO_UAI);
    expect(after?.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(after?.etag).not.toBe(stored?.etag);
  });

  it('gives the HTTP route’s own tag and bytes to the energy purpose, and answers a tag it holds with not-modified', async () => {
    const consumer: Principal = {
      clientId: 'c',
      role: 'consumer',
      purpose: 'sobriete-energetique',
      uais: 'all',
    };
    const viaRoute = await sortie.occupancy(consumer, DEMO_UAI, RANGE);
    if (viaRoute.status !== 'ok') throw new Error(`expected a body, got ${viaRoute.status}`);
    const source = new InProcessSortie({ sortie });
    const fetched = await source.occupancy(DEMO_UAI, RANGE);
    expect(fetched).toEqual({ status: 'modified', body: JSON.parse(viaRoute.text), etag: viaRoute.etag });
    expect(await source.occupancy(DEMO_UAI, RANGE, viaRoute.etag)).toEqual({ status: 'not-modified' });
    expect(await source.occupancy(DEMO_UAI, RANGE, '"another"')).toMatchObject({ status: 'modified' });
  });

  it('hands the bridge rooms and intervals only: no lesson id, even for a principal of purpose ent', async () => {
    const ent: Principal = { clientId: 'ent', role: 'consumer', purpose: 'ent', uais: 'all' };
    // The core does give lesson ids to purpose ent: the allow-list below is what removes them.
    const full = await sortie.occupancy(ent, DEMO_UAI, RANGE);
    expect(full.status === 'ok' && full.text.includes('"source"')).toBe(true);

    for (const source of [new InProcessSortie({ sortie }), new InProcessSortie({ sortie, principal: ent })]) {
      const fetched = await source.occupancy(DEMO_UAI, RANGE);
      if (fetched.status !== 'modified') throw new Error('expected a body');
      // Strict schema: any field beyond uai, version, timezone, from, to, rooms (room, name,
      // intervals of start and end) fails.
      expect(energyOccupancySchema.safeParse(fetched.body).success).toBe(true);
      expect(JSON.stringify(fetched.body)).not.toMatch(/"source"|teacher|enseignant|group/i);
    }
    const stored = await store.sync.get(DEMO_UAI);
    expect(energyOccupancySchema.safeParse(JSON.parse(stored?.bodyJson ?? 'null')).success).toBe(true);
  });

  it('refuses a principal outside the school’s scope (not found) and a role that never reads occupancy', async () => {
    const elsewhere: Principal = {
      clientId: 'elsewhere',
      role: 'consumer',
      purpose: 'sobriete-energetique',
      uais: new Set([NO_DATA_UAI]),
    };
    const outside = new InProcessSortie({ sortie, principal: elsewhere });
    await expect(outside.occupancy(DEMO_UAI, RANGE)).rejects.toMatchObject({
      name: 'SortieError',
      kind: 'not-found',
      details: { status: 404 },
    });
    const editor: Principal = { clientId: 'editor', role: 'editor', uais: 'all' };
    const error = await new InProcessSortie({ sortie, principal: editor })
      .occupancy(DEMO_UAI, RANGE)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SortieError);
    expect(error).toMatchObject({ kind: 'unauthorized', details: { status: 403 } });

    // A sync reading as that principal holds nothing of the school: the fallback week, no body.
    const scoped = new SyncService({
      client: outside,
      repository: memoryRepository(),
      site,
      clock,
      cron: '0 0 1 1 *',
      staleAfterHours: 24,
    });
    expect(await scoped.syncNow(DEMO_UAI)).toEqual([{ uai: DEMO_UAI, result: 'no-timetable' }]);
    expect(scoped.occupancyFor(DEMO_UAI)).toBeNull();
  });

  it('refuses a malformed range without asking the core', async () => {
    await expect(
      new InProcessSortie({ sortie }).occupancy(DEMO_UAI, { from: '2026-02-02', to: '2026-01-05' }),
    ).rejects.toMatchObject({ kind: 'http', details: { status: 400 } });
    await expect(
      new InProcessSortie({ sortie }).occupancy(DEMO_UAI, { from: '2026-02-30', to: '2026-03-05' }),
    ).rejects.toMatchObject({ kind: 'http', details: { status: 400 } });
  });
});

/** A sync state of its own, so the scoped sync starts as a school never pulled. */
function memoryRepository(): SyncRepository {
  const rows = new Map<string, SyncRecord>();
  return {
    all: async () => [...rows.values()],
    get: async (uai) => rows.get(uai) ?? null,
    put: async (record) => {
      rows.set(record.uai, record);
    },
  };
}
