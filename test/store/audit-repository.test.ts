import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditEntryInput } from '../../src/domain/audit-entry.js';
import { tamper } from './audit-tamper.js';
import { storeBackends } from './backends.js';

const backends = await storeBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

const T0 = Date.parse('2026-11-30T07:00:00.000Z');
const ZEROS = '0'.repeat(64);

function publish(i: number, actor = 'bridge'): AuditEntryInput {
  return {
    at: T0 + i * 1000,
    kind: 'publish',
    uai: '0670080Y',
    zone: 'aile-b',
    actor,
    detail: { topic: 'scope/0670080Y/aile-b/heating/desired', rev: i },
  };
}

describe.each(backends)('audit repository on $name', (backend) => {
  it('chains entries from 64 zeros with the documented canonical hash', async () => {
    const store = await backend.open();
    const [first, second] = await store.audit.append([
      {
        at: T0,
        kind: 'override',
        uai: '0670080Y',
        zone: 'aile-b',
        actor: 'manager',
        detail: { reason: 'Réunion parents-élèves', mode: 'comfort' },
      },
      { at: T0 + 60_000, kind: 'config', actor: 'system', detail: { rules_version: '2026-11' } },
    ]);
    // Hand-built canonical text: keys of detail sorted, fields in the documented order.
    const firstText = JSON.stringify([
      1,
      '2026-11-30T07:00:00.000Z',
      'override',
      '0670080Y',
      'aile-b',
      'manager',
      '{"mode":"comfort","reason":"Réunion parents-élèves"}',
      ZEROS,
    ]);
    const firstHash = createHash('sha256').update(firstText, 'utf8').digest('hex');
    expect(first).toEqual({
      seq: 1,
      at: '2026-11-30T07:00:00.000Z',
      kind: 'override',
      uai: '0670080Y',
      zone: 'aile-b',
      actor: 'manager',
      detail: { mode: 'comfort', reason: 'Réunion parents-élèves' },
      prevHash: ZEROS,
      hash: firstHash,
    });
    const secondText = JSON.stringify([
      2,
      '2026-11-30T07:01:00.000Z',
      'config',
      null,
      null,
      'system',
      '{"rules_version":"2026-11"}',
      firstHash,
    ]);
    expect(second).toMatchObject({
      seq: 2,
      uai: null,
      zone: null,
      prevHash: firstHash,
      hash: createHash('sha256').update(secondText, 'utf8').digest('hex'),
    });
    expect(await store.audit.verify()).toMatchObject({ ok: true, checked: 2 });
    expect(await store.audit.list()).toEqual([first, second]);
  });

  it('filters by school, scope, zone, kind and period', async () => {
    const store = await backend.open();
    await store.audit.append([publish(10), { ...publish(11), uai: '0670999X', zone: 'gym' }]);
    expect((await store.audit.list({ uai: '0670999X' })).map((e) => e.seq)).toEqual([4]);
    expect((await store.audit.list({ zone: 'aile-b' })).map((e) => e.seq)).toEqual([1, 3]);
    expect((await store.audit.list({ kind: 'publish' })).map((e) => e.seq)).toEqual([3, 4]);
    expect((await store.audit.list({ from: T0 + 10_000, to: T0 + 11_000 })).map((e) => e.seq)).toEqual([3]);
    expect((await store.audit.list({ uais: ['0670080Y'] })).map((e) => e.seq)).toEqual([1, 3]);
    expect((await store.audit.list({ uais: ['0670080Y'], withoutUai: true })).map((e) => e.seq)).toEqual([
      1, 2, 3,
    ]);
    expect((await store.audit.list({ uais: [] })).map((e) => e.seq)).toEqual([]);
    expect((await store.audit.list({ limit: 2 })).map((e) => e.seq)).toEqual([1, 2]);
  });

  it('keeps one unbroken chain under concurrent appends (PostgreSQL: from two stores)', async () => {
    const a = await backend.open();
    // Two better-sqlite3 connections in one thread would deadlock: the waiting one blocks the event
    // loop in its busy handler. Several SQLite processes are serialised by BEGIN IMMEDIATE instead.
    const b = backend.name === 'postgres' ? await backend.open() : a;
    const before = (await a.audit.verify()).checked;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? a : b).audit.append([publish(100 + i, `w${i}`), publish(200 + i, `w${i}`)]),
      ),
    );
    expect(await a.audit.verify()).toMatchObject({ ok: true, checked: before + 40 });
    const all = await b.audit.list();
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: before + 40 }, (_, i) => i + 1));
    // Each batch stays contiguous: one transaction, one writer at a time.
    const added = all.slice(before);
    for (let i = 0; i < added.length; i += 2) expect(added[i]!.actor).toBe(added[i + 1]!.actor);
  });

  it('detects a changed detail, naming its seq', async () => {
    const store = await backend.open();
    const [entry] = await store.audit.append([publish(300)]);
    const seq = entry!.seq;
    const original = (
      await store.db
        .selectFrom('audit_log')
        .select('detail_json')
        .where('seq', '=', seq)
        .executeTakeFirstOrThrow()
    ).detail_json;
    await tamper(
      store,
      sql`update audit_log set detail_json = ${'{"rev":301,"topic":"x"}'} where seq = ${seq}`,
    );
    expect(await store.audit.verify()).toEqual({
      ok: false,
      checked: seq - 1,
      firstBad: { seq, reason: 'hash-mismatch' },
    });
    await tamper(store, sql`update audit_log set detail_json = ${original} where seq = ${seq}`);
    expect((await store.audit.verify()).ok).toBe(true);
  });

  it('detects a row rewritten with a recomputed hash (the next row no longer points to it)', async () => {
    const store = await backend.open();
    const [entry] = await store.audit.append([publish(400), publish(401)]);
    const seq = entry!.seq;
    const saved = await store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '=', seq)
      .executeTakeFirstOrThrow();
    const { entryHash } = await import('../../src/domain/audit-entry.js');
    const forged = entryHash({
      seq,
      at: saved.at,
      kind: saved.kind,
      uai: saved.uai,
      zone: saved.zone,
      actor: 'someone-else',
      detailJson: saved.detail_json,
      prevHash: saved.prev_hash,
    });
    await tamper(
      store,
      sql`update audit_log set actor = 'someone-else', hash = ${forged} where seq = ${seq}`,
    );
    expect(await store.audit.verify()).toEqual({
      ok: false,
      checked: seq,
      firstBad: { seq: seq + 1, reason: 'prev-hash-mismatch' },
    });
    await tamper(
      store,
      sql`update audit_log set actor = ${saved.actor}, hash = ${saved.hash} where seq = ${seq}`,
    );
    expect((await store.audit.verify()).ok).toBe(true);
  });

  it('detects reordered rows (two seqs swapped)', async () => {
    const store = await backend.open();
    const [x, y] = await store.audit.append([publish(500), publish(501)]);
    await tamper(store, sql`update audit_log set seq = -1 where seq = ${x!.seq}`);
    await tamper(store, sql`update audit_log set seq = ${x!.seq} where seq = ${y!.seq}`);
    await tamper(store, sql`update audit_log set seq = ${y!.seq} where seq = -1`);
    expect(await store.audit.verify()).toEqual({
      ok: false,
      checked: x!.seq - 1,
      firstBad: { seq: x!.seq, reason: 'prev-hash-mismatch' },
    });
    await tamper(store, sql`update audit_log set seq = -1 where seq = ${x!.seq}`);
    await tamper(store, sql`update audit_log set seq = ${x!.seq} where seq = ${y!.seq}`);
    await tamper(store, sql`update audit_log set seq = ${y!.seq} where seq = -1`);
    expect((await store.audit.verify()).ok).toBe(true);
  });

  it('appends a large batch and verifies it across pages, finding a change on a later page', async () => {
    const store = await backend.open();
    const before = (await store.audit.verify()).checked;
    const added = await store.audit.append(Array.from({ length: 2100 }, (_, i) => publish(1000 + i)));
    expect(added.map((e) => e.seq)).toEqual(Array.from({ length: 2100 }, (_, i) => before + 1 + i));
    // The walk gives the event loop a turn between pages (SQLite answers synchronously: without
    // it, immediates and timers would wait for the whole walk).
    let turns = 0;
    let counting = true;
    const count = () => {
      turns += 1;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    expect(await store.audit.verify()).toMatchObject({ ok: true, checked: before + 2100 });
    counting = false;
    expect(turns).toBeGreaterThanOrEqual(2);
    const seq = before + 2050;
    await tamper(store, sql`update audit_log set at = '2026-11-30T09:00:00.000Z' where seq = ${seq}`);
    expect(await store.audit.verify()).toEqual({
      ok: false,
      checked: seq - 1,
      firstBad: { seq, reason: 'hash-mismatch' },
    });
    await tamper(store, sql`update audit_log set at = ${added[2049]!.at} where seq = ${seq}`);
    expect(await store.audit.verify()).toMatchObject({ ok: true, checked: before + 2100 });
  });

  it('detects rows inserted by hand: below seq 1, and after the head', async () => {
    const store = await backend.open();
    const [last] = await store.audit.append([publish(700)]);
    const { entryHash } = await import('../../src/domain/audit-entry.js');
    const fields = {
      seq: last!.seq + 1,
      at: '2026-11-30T08:00:00.000Z',
      kind: 'publish',
      uai: null,
      zone: null,
      actor: 'intruder',
      detailJson: '{}',
      prevHash: last!.hash,
    };
    // A well-chained row, but not written by append: the head does not know it.
    await store.db
      .insertInto('audit_log')
      .values({
        seq: fields.seq,
        at: fields.at,
        kind: fields.kind,
        uai: null,
        zone: null,
        actor: fields.actor,
        detail_json: fields.detailJson,
        prev_hash: fields.prevHash,
        hash: entryHash(fields),
      })
      .execute();
    expect(await store.audit.verify()).toEqual({
      ok: false,
      checked: last!.seq + 1,
      firstBad: { seq: last!.seq + 1, reason: 'beyond-head' },
    });
    await tamper(store, sql`delete from audit_log where seq = ${fields.seq}`);
    await store.db
      .insertInto('audit_log')
      .values({
        seq: 0,
        at: fields.at,
        kind: 'config',
        uai: null,
        zone: null,
        actor: 'intruder',
        detail_json: '{}',
        prev_hash: '0'.repeat(64),
        hash: 'f'.repeat(64),
      })
      .execute();
    expect(await store.audit.verify()).toEqual({
      ok: false,
      checked: 0,
      firstBad: { seq: 0, reason: 'unexpected-seq' },
    });
    await tamper(store, sql`delete from audit_log where seq = 0`);
    expect(await store.audit.verify()).toMatchObject({ ok: true, checked: last!.seq });
  });

  it("refuses UPDATE and DELETE of entries, and any move of the head but append's forward one", async () => {
    const store = await backend.open();
    const [entry] = await store.audit.append([publish(50)]);
    const seq = entry!.seq;
    const refused = /append-only/;
    await expect(sql`update audit_log set actor = 'x' where seq = ${seq}`.execute(store.db)).rejects.toThrow(
      refused,
    );
    await expect(sql`delete from audit_log where seq = ${seq}`.execute(store.db)).rejects.toThrow(refused);
    if (backend.name === 'postgres') {
      await expect(sql`truncate audit_log`.execute(store.db)).rejects.toThrow(refused);
    }
    const headRefused = /audit_head only moves forward/;
    await expect(sql`update audit_head set seq = ${seq - 1}`.execute(store.db)).rejects.toThrow(headRefused);
    await expect(
      sql`update audit_head set seq = ${seq + 1}, hash = ${'f'.repeat(64)}`.execute(store.db),
    ).rejects.toThrow(headRefused);
    await expect(sql`delete from audit_head`.execute(store.db)).rejects.toThrow(headRefused);
    expect((await store.audit.list({ from: T0 + 50_000, to: T0 + 50_001 })).at(-1)).toEqual(entry);
    expect(await store.audit.head()).toEqual({ seq, hash: entry!.hash });
    expect(await store.audit.verify()).toMatchObject({ ok: true, checked: seq });
  });

  // Last: it leaves the chain broken.
  it('detects a deleted row in the middle and a deleted last row', async () => {
    const store = await backend.open();
    const [a, b, c] = await store.audit.append([publish(600), publish(601), publish(602)]);
    await tamper(store, sql`delete from audit_log where seq = ${b!.seq}`);
    expect(await store.audit.verify()).toEqual({
      ok: false,
      checked: a!.seq,
      firstBad: { seq: b!.seq, reason: 'seq-gap' },
    });
    await tamper(store, sql`delete from audit_log where seq >= ${b!.seq}`);
    expect(await store.audit.verify()).toEqual({
      ok: false,
      checked: a!.seq,
      firstBad: { seq: b!.seq, reason: 'truncated' },
    });
    expect(c!.seq).toBe(b!.seq + 1);
  });
});
