/**
 * The audit purge as the service wires it (src/service.ts): the retention job runs the timetable
 * purge, then `runAuditRetention` on the anchoring's key and checkpoint directory; the
 * self-verification then walks from the purge anchor and still holds, and a second run a day
 * later stops at the next checkpoint before the cutoff.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAnchoring } from '../../src/audit/audit-anchoring.js';
import { configSchema } from '../../src/config/schema.js';
import type { AuditEntryInput } from '../../src/domain/audit-entry.js';
import { ManualClock } from '../../src/domain/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { auditPurgeAllowed, runAuditRetention } from '../../src/retention/audit-retention-run.js';
import { RetentionJob } from '../../src/retention/retention-job.js';
import { openStore, type Store } from '../../src/store/store.js';

const opened: Store[] = [];
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
});

function entry(at: string, rev: number): AuditEntryInput {
  return {
    at: Date.parse(at),
    kind: 'publish',
    uai: '0670999X',
    zone: 'cdi',
    actor: 'bridge/a',
    detail: { rev },
  };
}

describe('audit retention in the service', () => {
  it('purges up to the checkpoint before the cutoff on each run, and the self-verification holds', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'scope-energie-audit-retention-'));
    const store = await openStore({ dataDir });
    opened.push(store);
    const config = configSchema.parse({});
    const clock = new ManualClock(Date.parse('2019-06-01T10:00:00.000Z'));
    const logger = createLogger('silent');
    const anchoring = createAnchoring({
      config: config.audit,
      paths: { baseDir: dataDir, dataDir },
      env: {},
      audit: store.audit,
      clock,
      logger,
    });
    // Two days of 2019 with a checkpoint at the end of each, then today's entries.
    await store.audit.append([entry('2019-06-01T08:00:00.000Z', 1), entry('2019-06-01T09:00:00.000Z', 2)]);
    expect((await anchoring.checkpointer.checkpoint()).checkpoint.seq).toBe(2);
    clock.set('2019-06-02T10:00:00.000Z');
    await store.audit.append([entry('2019-06-02T08:00:00.000Z', 3)]);
    expect((await anchoring.checkpointer.checkpoint()).checkpoint.seq).toBe(3);
    await store.audit.append([entry('2026-11-30T08:00:00.000Z', 4)]);
    expect(await anchoring.monitor.verifyNow()).toMatchObject({ ok: true, checked: 4 });

    const job = new RetentionJob({
      settings: { intervalMs: 0, keepVersions: 10, keepMonths: 24 },
      purge: async () => [],
      audit: () => {},
      purgeAudit: () => runAuditRetention({ config, store, anchoring, clock, logger }),
      clock,
    });
    // 72 months after 2019-06-01T12:00Z: only the first day is older than the policy.
    clock.set('2025-06-01T12:00:00.000Z');
    await job.run();
    expect(await store.audit.anchor()).toEqual({ seq: 2, hash: expect.any(String), purgeSeq: 5 });
    const [purge] = await store.audit.list({ kind: 'config' });
    expect(purge).toMatchObject({
      seq: 5,
      at: '2025-06-01T12:00:00.000Z',
      actor: 'system:retention',
      detail: {
        event: 'audit-purged',
        from_seq: 1,
        through_seq: 2,
        entries: 2,
        cutoff: '2019-06-01T12:00:00.000Z',
      },
    });
    expect(anchoring.monitor.status()).toMatchObject({ ok: true, scope: 'incremental' });
    expect(await anchoring.monitor.verifyNow()).toMatchObject({
      ok: true,
      checked: 5,
      purged: { seq: 2, purgeSeq: 5 },
      scope: 'full',
    });
    expect(anchoring.monitor.readinessProblems()).toEqual([]);

    // A day later the second day goes too, stopping at the checkpoint of seq 3.
    clock.set('2025-06-02T12:00:00.000Z');
    await job.run();
    expect(await store.audit.anchor()).toEqual({ seq: 3, hash: expect.any(String), purgeSeq: 6 });
    expect((await store.audit.list()).map((e) => e.seq)).toEqual([4, 5, 6]);
    expect(await anchoring.monitor.verifyNow()).toMatchObject({ ok: true, checked: 6 });
  });

  it('purges on PostgreSQL only with a shared audit key file, and says why not otherwise', () => {
    const plain = configSchema.parse({});
    expect(auditPurgeAllowed(plain, 'sqlite')).toEqual({ allowed: true });
    const refused = auditPurgeAllowed(plain, 'postgres');
    expect(refused.allowed).toBe(false);
    expect(refused.allowed ? '' : refused.why).toMatch(
      /audit\.signing_key_file, the same file on every instance/,
    );
    const shared = configSchema.parse({ audit: { signing_key_file: '/run/secrets/audit-key.pem' } });
    expect(auditPurgeAllowed(shared, 'postgres')).toEqual({ allowed: true });
    const off = configSchema.parse({ retention: { audit: { purge: false } } });
    expect(auditPurgeAllowed(off, 'sqlite')).toEqual({
      allowed: false,
      why: 'retention.audit.purge is false',
    });
  });
});
