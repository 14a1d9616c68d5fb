/**
 * The service's self-verification (issue 21): a break is found within one period of the injected
 * clock — even a tail rewritten with recomputed hashes, or a truncation with the head moved back,
 * which the chain alone cannot show — then shows in readiness; after an append, only the new
 * entries are walked. On SQLite and PostgreSQL.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditCheckpointer } from '../../src/audit/audit-checkpointer.js';
import { AuditMonitor } from '../../src/audit/audit-monitor.js';
import { loadAuditSigningKey } from '../../src/audit/audit-signing-key.js';
import type { AuditScheduler } from '../../src/audit/audit-timer.js';
import { directorySink } from '../../src/audit/checkpoint-sinks.js';
import { ManualClock } from '../../src/domain/clock.js';
import { asAttacker } from '../store/audit-tamper.js';
import { storeBackends } from '../store/backends.js';

const backends = await storeBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

const PERIOD_MS = 600_000;
const T0 = Date.parse('2026-11-30T07:00:00.000Z');

/** Timers fire when the test moves the clock past them; each fired job is awaited. */
class StepScheduler implements AuditScheduler {
  private timers = new Set<{ at: number; callback: () => void }>();
  constructor(private readonly clock: ManualClock) {}
  setTimer(callback: () => void, delayMs: number) {
    const timer = { at: this.clock.now() + delayMs, callback };
    this.timers.add(timer);
    return timer;
  }
  clearTimer(handle: unknown) {
    this.timers.delete(handle as { at: number; callback: () => void });
  }
  advance(ms: number) {
    const to = this.clock.now() + ms;
    for (const timer of [...this.timers].sort((a, b) => a.at - b.at)) {
      if (timer.at > to) continue;
      this.timers.delete(timer);
      this.clock.set(timer.at);
      timer.callback();
    }
    this.clock.set(to);
  }
}

function entries(from: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    at: T0 + (from + i) * 1000,
    kind: 'publish' as const,
    uai: '0670999X',
    zone: 'gymnase',
    actor: 'bridge/local',
    detail: { rev: from + i },
  }));
}

/** Resolves once the monitor's last result differs from `before` (the job ran to its end). */
async function nextStatus(monitor: AuditMonitor, before: unknown) {
  await expect.poll(() => monitor.status() !== before, { interval: 5, timeout: 5000 }).toBe(true);
  return monitor.status();
}

describe.each(backends)('audit self-verification on $name', (backend) => {
  it('catches a tail rewritten with recomputed hashes within one period, and degrades readiness', async () => {
    const store = await backend.open();
    await store.audit.append(entries(1, 5));
    const clock = new ManualClock(T0);
    const scheduler = new StepScheduler(clock);
    const monitor = new AuditMonitor({
      audit: store.audit,
      latestCheckpoint: () => null,
      clock,
      intervalMs: PERIOD_MS,
      scheduler,
    });
    monitor.start();
    const first = await nextStatus(monitor, null);
    expect(first).toMatchObject({ ok: true, scope: 'full', head: { seq: 5 } });
    expect(monitor.readinessProblems()).toEqual([]);

    // An append: only the new entries are walked.
    await store.audit.append(entries(6, 2));
    expect(await monitor.afterAppend()).toMatchObject({ ok: true, scope: 'incremental', checked: 7 });

    const head = await store.audit.head();
    await asAttacker(store, async (db) => {
      const rows = await db
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', '>=', 6)
        .orderBy('seq')
        .execute();
      const { entryHash } = await import('../../src/domain/audit-entry.js');
      let prevHash = (
        await db.selectFrom('audit_log').select('hash').where('seq', '=', 5).executeTakeFirstOrThrow()
      ).hash;
      for (const row of rows) {
        const fields = {
          ...row,
          seq: Number(row.seq),
          actor: 'someone-else',
          detailJson: row.detail_json,
          prevHash,
        };
        const hash = entryHash(fields);
        await sql`update audit_log set actor = 'someone-else', prev_hash = ${prevHash}, hash = ${hash} where seq = ${row.seq}`.execute(
          db,
        );
        prevHash = hash;
      }
      await sql`update audit_head set hash = ${prevHash} where id = 1`.execute(db);
    });
    expect((await store.audit.head()).hash).not.toBe(head.hash);

    const before = monitor.status();
    scheduler.advance(PERIOD_MS);
    const caught = await nextStatus(monitor, before);
    expect(caught).toMatchObject({
      ok: false,
      firstBad: { seq: 7, reason: 'rewritten' },
      anchor: { seq: 7, hash: head.hash, source: 'last-verification' },
      verifiedAt: new Date(T0 + PERIOD_MS).toISOString(),
    });
    expect(monitor.chainBroken()).toBe(true);
    expect(monitor.readinessProblems()).toEqual(['audit chain broken at seq 7 (rewritten)']);
    // Broken stays broken: appends do not clear it, only a full walk that holds.
    await store.audit.append(entries(8, 1));
    expect(await monitor.afterAppend()).toBe(caught);
    monitor.stop();
  });

  it('after a restart, catches a truncation with the head moved back against the stored checkpoint', async () => {
    const store = await backend.open();
    const dataDir = mkdtempSync(join(tmpdir(), 'scope-energie-monitor-'));
    const key = loadAuditSigningKey({ dataDir });
    const sink = directorySink(join(dataDir, 'audit-checkpoints'));
    const clock = new ManualClock(T0);
    await store.audit.append(entries(100, 3));
    const checkpointer = new AuditCheckpointer({
      audit: store.audit,
      key,
      sinks: [sink],
      clock,
      intervalMs: 0,
    });
    const { checkpoint, sinks } = await checkpointer.checkpoint();
    expect(sinks).toEqual([{ sink: `directory:${join(dataDir, 'audit-checkpoints')}`, ok: true }]);

    // While the service is down: the last two entries go, the head is moved back.
    await asAttacker(store, async (db) => {
      const kept = await db
        .selectFrom('audit_log')
        .select(['seq', 'hash'])
        .where('seq', '=', checkpoint.seq - 2)
        .executeTakeFirstOrThrow();
      await sql`delete from audit_log where seq > ${kept.seq}`.execute(db);
      await sql`update audit_head set seq = ${kept.seq}, hash = ${kept.hash} where id = 1`.execute(db);
    });
    expect(await store.audit.verify()).toMatchObject({ ok: true });

    const restarted = new AuditMonitor({
      audit: store.audit,
      latestCheckpoint: () => sink.latest(),
      clock,
      intervalMs: PERIOD_MS,
      scheduler: new StepScheduler(clock),
    });
    expect(await restarted.verifyNow()).toMatchObject({
      ok: false,
      checked: checkpoint.seq - 2,
      firstBad: { seq: checkpoint.seq - 1, reason: 'head-moved-back' },
      anchor: { seq: checkpoint.seq, hash: checkpoint.hash, source: 'checkpoint', at: checkpoint.at },
    });
  });
});
