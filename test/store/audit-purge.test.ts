/**
 * Audit-entry retention (issue 21; docs/audit.md, "Retention"), on SQLite and PostgreSQL: entries
 * older than the policy leave the log only up to a signed checkpoint taken before the cutoff, in
 * one purge that is itself an audit entry; the chain then verifies from the checkpoint's anchor,
 * also against that checkpoint and later ones, and a purge made by hand is caught.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type KyselyPlugin, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAuditSigningKey } from '../../src/audit/audit-signing-key.js';
import { type Checkpoint, signCheckpoint } from '../../src/audit/checkpoint.js';
import { directorySink } from '../../src/audit/checkpoint-sinks.js';
import type { AuditEntryInput } from '../../src/domain/audit-entry.js';
import { ManualClock } from '../../src/domain/clock.js';
import { checkpointHoldsWith, purgeOldAuditEntries } from '../../src/retention/audit-retention.js';
import { createAuditRepository } from '../../src/store/audit-repository.js';
import type { Store } from '../../src/store/store.js';
import { tamper } from './audit-tamper.js';
import { storeBackends } from './backends.js';

const backends = await storeBackends();
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const OLD = Date.parse('2019-06-01T00:00:00.000Z');
const RECENT = Date.parse('2026-11-02T08:00:00.000Z');
/** 72 months after 2020-12-01: the cutoff of the default policy. */
const NOW = Date.parse('2026-12-01T00:00:00.000Z');

function entry(at: number, i: number): AuditEntryInput {
  return { at, kind: 'publish', uai: '0670080Y', zone: 'aile-b', actor: 'bridge/a', detail: { rev: i } };
}

/**
 * A log of 12 entries: 1–6 in June 2019 then a checkpoint of seq 6 (2019-06-02), 7–9 in July 2019,
 * 10–12 in November 2026; a second checkpoint of seq 12 in November 2026.
 */
async function scenario(store: Store) {
  const dir = await mkdtemp(path.join(tmpdir(), 'scope-energie-purge-'));
  dirs.push(dir);
  const key = loadAuditSigningKey({ dataDir: dir });
  const checkpoints = directorySink(path.join(dir, 'audit-checkpoints'));
  await store.audit.append([1, 2, 3, 4, 5, 6].map((i) => entry(OLD + i * 60_000, i)));
  const old = signCheckpoint(await store.audit.head(), Date.parse('2019-06-02T00:00:00.000Z'), key);
  await checkpoints.write(old);
  await store.audit.append([7, 8, 9].map((i) => entry(OLD + 30 * 86_400_000 + i * 60_000, i)));
  await store.audit.append([10, 11, 12].map((i) => entry(RECENT + i * 60_000, i)));
  const recent = signCheckpoint(await store.audit.head(), RECENT + 3_600_000, key);
  await checkpoints.write(recent);
  const purge = () =>
    purgeOldAuditEntries({
      keepMonths: 72,
      audit: store.audit,
      checkpoints,
      publicKey: key.publicKey,
      clock: new ManualClock(NOW),
    });
  return { key, checkpoints, old, recent, purge, checkpointHolds: checkpointHoldsWith(key.publicKey) };
}

async function seqs(store: Store): Promise<number[]> {
  const rows = await store.db.selectFrom('audit_log').select('seq').orderBy('seq').execute();
  return rows.map((r) => Number(r.seq));
}

function refusal(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'accepted',
    (error: Error) => error.message,
  );
}

describe.each(backends)('audit purge on $name', (backend) => {
  // Each case gets its own database: a purge cannot be undone.
  const freshBackend = async () => {
    const [own] = await storeBackends().then((list) => list.filter((b) => b.name === backend.name));
    if (!own) throw new Error(`no ${backend.name} backend`);
    cleanups.push(() => own.cleanup());
    return own;
  };
  const fresh = async () => (await freshBackend()).open();
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await Promise.all(cleanups.map((c) => c()));
  });

  it('purges up to the newest checkpoint before the cutoff, as one logged entry, and verifies from its anchor', async () => {
    const store = await fresh();
    const { old, recent, purge, checkpointHolds } = await scenario(store);
    const sixth = (await store.audit.list({ limit: 6 })).at(-1);
    expect(sixth?.hash).toBe(old.hash);

    const outcome = await purge();
    expect(outcome.purged).not.toBeNull();
    if (!outcome.purged) return;
    expect(outcome.cutoff).toBe('2020-12-01T00:00:00.000Z');
    expect(outcome.checkpoint).toEqual(old);
    expect(outcome.purged.fromSeq).toBe(1);
    expect(outcome.purged.throughSeq).toBe(6);
    expect(outcome.purged.entries).toBe(6);
    expect(outcome.purged.entry).toMatchObject({
      seq: 13,
      at: '2026-12-01T00:00:00.000Z',
      kind: 'config',
      uai: null,
      zone: null,
      actor: 'system:retention',
      detail: {
        event: 'audit-purged',
        object: 'audit-log',
        from_seq: 1,
        through_seq: 6,
        anchor_hash: old.hash,
        entries: 6,
        from_at: '2019-06-01T00:01:00.000Z',
        to_at: '2019-06-01T00:06:00.000Z',
        checkpoint: old,
        policy: { keep_months: 72 },
        cutoff: '2020-12-01T00:00:00.000Z',
      },
    });
    expect(await seqs(store)).toEqual([7, 8, 9, 10, 11, 12, 13]);
    expect(await store.audit.anchor()).toEqual({ seq: 6, hash: old.hash, purgeSeq: 13 });
    const head = await store.audit.head();
    expect(head.seq).toBe(13);

    const purged = { seq: 6, hash: old.hash, purgeSeq: 13 };
    // The plain walk, against the checkpoint the purge stopped at, against a later one, and
    // against one of a purged entry.
    expect(await store.audit.verify({ checkpointHolds })).toEqual({ ok: true, checked: 13, head, purged });
    expect(await store.audit.verify({ against: { seq: 6, hash: old.hash }, checkpointHolds })).toEqual({
      ok: true,
      checked: 13,
      head,
      purged,
    });
    expect(await store.audit.verify({ against: { seq: 12, hash: recent.hash } })).toMatchObject({ ok: true });
    expect(await store.audit.verify({ against: { seq: 3, hash: 'f'.repeat(64) } })).toMatchObject({
      ok: true,
    });
    // An export taken before the purge: its kept entries still match, the purged ones are not asked.
    const exported = new Map((await store.audit.list()).map((e) => [e.seq, e.hash]));
    expect(
      await store.audit.verify({ against: { seq: 12, hash: recent.hash, entries: exported } }),
    ).toMatchObject({ ok: true });
    // Incremental from a head verified before the purge (the self-verification's last good head).
    expect(await store.audit.verify({ from: { seq: 12, hash: recent.hash } })).toMatchObject({ ok: true });
    expect(await store.audit.verify({ from: { seq: 4, hash: 'e'.repeat(64) } })).toMatchObject({
      ok: true,
      purged,
    });
    // A checkpoint of the anchor with another hash: the purged range was not what it recorded.
    expect(await store.audit.verify({ against: { seq: 6, hash: 'a'.repeat(64) } })).toEqual({
      ok: false,
      checked: 5,
      firstBad: { seq: 6, reason: 'rewritten' },
    });

    // Appends go on after the purge; 7–9 are older than the policy too but no checkpoint after
    // seq 6 was taken before the cutoff, so the next run keeps them.
    await store.audit.append([entry(NOW + 1000, 14)]);
    expect(await store.audit.verify({ checkpointHolds })).toMatchObject({ ok: true, checked: 14 });
    expect(await purge()).toEqual({ purged: null, why: 'no-checkpoint', cutoff: '2020-12-01T00:00:00.000Z' });
    expect(await seqs(store)).toEqual([7, 8, 9, 10, 11, 12, 13, 14]);
  });

  it('a walk overlapping a purge (on another instance) does not report the purge as a break', async () => {
    const own = await freshBackend();
    const writer = await own.open();
    const reader = await own.open();
    const { purge } = await scenario(writer);
    // The reader's walk is held after it has read the anchor it starts from (its first query),
    // and the purge commits meanwhile.
    let queries = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reached!: () => void;
    const atGate = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const gate: KyselyPlugin = {
      transformQuery: (args) => args.node,
      async transformResult(args) {
        queries += 1;
        if (queries === 1) {
          reached();
          await held;
        }
        return args.result;
      },
    };
    const audit = createAuditRepository(reader.db.withPlugin(gate), reader.dialect);
    const walk = audit.verify();
    await atGate;
    expect((await purge()).purged?.throughSeq).toBe(6);
    release();
    // The stale walk met a seq gap where the purged rows were; the anchor had moved, so it walked
    // again from the new anchor: no false tamper alarm.
    const result = await walk;
    expect(result).toMatchObject({ ok: true, checked: 13, purged: { seq: 6 } });
    // A deletion by hand, with the anchor left alone, is still a break.
    await tamper(writer, sql`delete from audit_log where seq = 8`);
    expect(await audit.verify()).toMatchObject({ ok: false, firstBad: { seq: 8, reason: 'seq-gap' } });
  });

  it('allows only the controlled purge: other DELETEs, UPDATEs and anchor moves are refused', async () => {
    const store = await fresh();
    const { old, purge } = await scenario(store);
    expect(await refusal(sql`delete from audit_log where seq = 1`.execute(store.db))).toMatch(
      /audit_log is append-only: DELETE refused/,
    );
    await purge();
    expect(await refusal(sql`delete from audit_log where seq = 7`.execute(store.db))).toMatch(
      /audit_log is append-only: DELETE refused outside an audit purge/,
    );
    expect(await refusal(sql`update audit_log set actor = 'x' where seq = 7`.execute(store.db))).toMatch(
      /audit_log is append-only: UPDATE refused/,
    );
    const anchorRefused = /audit_anchor only moves forward/;
    // Back, to a row that does not exist with that hash, to the head, and deleted.
    expect(
      await refusal(sql`update audit_anchor set seq = 5, hash = ${old.hash} where id = 1`.execute(store.db)),
    ).toMatch(anchorRefused);
    expect(
      await refusal(
        sql`update audit_anchor set seq = 8, hash = ${'b'.repeat(64)} where id = 1`.execute(store.db),
      ),
    ).toMatch(anchorRefused);
    const head = await store.audit.head();
    expect(
      await refusal(
        sql`update audit_anchor set seq = ${head.seq}, hash = ${head.hash}, purge_seq = ${head.seq + 1} where id = 1`.execute(
          store.db,
        ),
      ),
    ).toMatch(anchorRefused);
    // Forward to a real row but citing a publish entry as its purge.
    const eighth = (await store.audit.list()).find((e) => e.seq === 8);
    expect(
      await refusal(
        sql`update audit_anchor set seq = 8, hash = ${eighth?.hash ?? ''}, purge_seq = 9 where id = 1`.execute(
          store.db,
        ),
      ),
    ).toMatch(anchorRefused);
    expect(await refusal(sql`delete from audit_anchor`.execute(store.db))).toMatch(anchorRefused);
    expect(await seqs(store)).toEqual([7, 8, 9, 10, 11, 12, 13]);
  });

  it('catches a forged purge: rows deleted by hand, or the anchor moved without its purge entry', async () => {
    const store = await fresh();
    const { purge, checkpointHolds, recent } = await scenario(store);
    await purge();
    const log = await store.audit.list();
    const eighth = log.find((e) => e.seq === 8);
    // The anchor moved forward within the triggers' rules (citing the real purge entry, seq 13)
    // and the rows below it deleted: no purge entry names this anchor.
    await sql`update audit_anchor set seq = 8, hash = ${eighth?.hash ?? ''}, purge_seq = 13 where id = 1`.execute(
      store.db,
    );
    await sql`delete from audit_log where seq <= 8`.execute(store.db);
    expect(await store.audit.verify({ checkpointHolds })).toEqual({
      ok: false,
      checked: 12,
      firstBad: { seq: 8, reason: 'unattested-purge' },
    });
    expect(await store.audit.verify({ against: { seq: 12, hash: recent.hash } })).toMatchObject({
      ok: false,
      firstBad: { seq: 8, reason: 'unattested-purge' },
    });

    // Rows deleted past the triggers, the anchor untouched: a gap after the anchor.
    const other = await fresh();
    const second = await scenario(other);
    await second.purge();
    await tamper(other, sql`delete from audit_log where seq in (7, 8)`);
    expect(await other.audit.verify({ checkpointHolds: second.checkpointHolds })).toEqual({
      ok: false,
      checked: 6,
      firstBad: { seq: 7, reason: 'seq-gap' },
    });
  });

  it("refuses a purge entry whose checkpoint is not this key's signature", async () => {
    const store = await fresh();
    const { purge } = await scenario(store);
    await purge();
    const stranger = loadAuditSigningKey({
      dataDir: await mkdtemp(path.join(tmpdir(), 'scope-energie-key-')),
    });
    expect(await store.audit.verify({ checkpointHolds: checkpointHoldsWith(stranger.publicKey) })).toEqual({
      ok: false,
      checked: 12,
      firstBad: { seq: 6, reason: 'unattested-purge' },
    });
  });

  it('purges nothing when the chain does not hold against the checkpoint, or no checkpoint precedes the cutoff', async () => {
    const store = await fresh();
    const { purge } = await scenario(store);
    await tamper(store, sql`update audit_log set actor = 'someone' where seq = 2`);
    expect(await purge()).toEqual({
      purged: null,
      why: 'chain-broken',
      cutoff: '2020-12-01T00:00:00.000Z',
      firstBad: { seq: 2, reason: 'hash-mismatch' },
    });
    expect(await seqs(store)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

    const other = await fresh();
    const dir = await mkdtemp(path.join(tmpdir(), 'scope-energie-purge-'));
    dirs.push(dir);
    const key = loadAuditSigningKey({ dataDir: dir });
    const checkpoints = directorySink(path.join(dir, 'audit-checkpoints'));
    await other.audit.append([1, 2, 3].map((i) => entry(OLD + i * 60_000, i)));
    // Taken after the cutoff: it cannot end a purge.
    const late: Checkpoint = signCheckpoint(await other.audit.head(), RECENT, key);
    await checkpoints.write(late);
    expect(
      await purgeOldAuditEntries({
        keepMonths: 72,
        audit: other.audit,
        checkpoints,
        publicKey: key.publicKey,
        clock: new ManualClock(NOW),
      }),
    ).toEqual({ purged: null, why: 'no-checkpoint', cutoff: '2020-12-01T00:00:00.000Z' });
    expect(await seqs(other)).toEqual([1, 2, 3]);
  });
});
