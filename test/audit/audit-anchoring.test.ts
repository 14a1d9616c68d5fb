/**
 * Issue 21, "What must hold": an edited row, a deleted row, a tail rewritten with recomputed hashes
 * and head, a truncation with the head moved back — done as an attacker past the append-only
 * triggers (test/store/audit-tamper.ts) — each caught by `audit verify --against` a checkpoint
 * taken before, and by `--against` a JSON export, on SQLite and PostgreSQL; through the CLI. After
 * a retention purge (docs/audit.md, "Retention") the same still hold, and a purge by hand is caught.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAuditSigningKey } from '../../src/audit/audit-signing-key.js';
import { directorySink } from '../../src/audit/checkpoint-sinks.js';
import { type AuditEntryInput, entryHash } from '../../src/domain/audit-entry.js';
import { ManualClock } from '../../src/domain/clock.js';
import { purgeOldAuditEntries } from '../../src/retention/audit-retention.js';
import type { Database } from '../../src/store/schema.js';
import { openStore, type Store } from '../../src/store/store.js';
import { cli } from '../helpers/cli.js';
import { asAttacker } from '../store/audit-tamper.js';

const T0 = Date.parse('2026-11-30T07:00:00.000Z');
const DATABASE_URL = process.env['DATABASE_URL'];
const engines = DATABASE_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
if (!DATABASE_URL) console.warn('[audit anchoring] PostgreSQL cases skipped: DATABASE_URL is not set');

const schemas: string[] = [];
const opened: Store[] = [];
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  if (schemas.length === 0 || !DATABASE_URL) return;
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
});

interface Site {
  cwd: string;
  store: Store;
  env: Record<string, string>;
  run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** A data directory (key, checkpoints, SQLite file) and a database of its own. */
async function site(engine: 'sqlite' | 'postgres'): Promise<Site> {
  const cwd = mkdtempSync(join(tmpdir(), 'scope-energie-anchoring-'));
  const env: Record<string, string> = {};
  let store: Store;
  if (engine === 'postgres' && DATABASE_URL) {
    const schema = `test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    schemas.push(schema);
    store = await openStore({ databaseUrl: DATABASE_URL, pgSchema: schema });
    // The CLI reaches the same schema through the URL (libpq `options`).
    env['DATABASE_URL'] = `${DATABASE_URL}?options=-c%20search_path%3D${schema}`;
  } else {
    store = await openStore({ dataDir: join(cwd, 'data') });
  }
  opened.push(store);
  return { cwd, store, env, run: (...argv) => cli(argv, { cwd, env }) };
}

function entry(i: number): AuditEntryInput {
  return {
    at: T0 + i * 60_000,
    kind: 'publish',
    uai: '0670999X',
    zone: 'gymnase',
    actor: 'bridge/local',
    detail: { function: 'heating', rev: i, setpoint_c: 14 },
  };
}

/** Six entries, a checkpoint and a JSON export of them, then two more entries. */
async function anchored(engine: 'sqlite' | 'postgres') {
  const s = await site(engine);
  await s.store.audit.append([1, 2, 3, 4, 5, 6].map(entry));
  const checkpointRun = await s.run('audit', 'checkpoint', '--json');
  expect(checkpointRun.code).toBe(0);
  const { checkpoint, sinks } = JSON.parse(checkpointRun.stdout);
  expect(checkpoint).toMatchObject({ format: 'scope-energie/audit-checkpoint/v1', seq: 6 });
  expect(sinks).toEqual([{ sink: `directory:${join(s.cwd, 'data', 'audit-checkpoints')}`, ok: true }]);
  const dir = join(s.cwd, 'data', 'audit-checkpoints');
  const [file] = readdirSync(dir);
  const checkpointFile = join(dir, file!);
  // Never overwritten: read-only, created exclusively.
  expect(statSync(checkpointFile).mode & 0o777).toBe(0o444);
  expect(JSON.parse(readFileSync(checkpointFile, 'utf8'))).toEqual(checkpoint);
  const exported = await s.run('audit', 'export', '--format', 'json');
  expect(exported.code).toBe(0);
  writeFileSync(join(s.cwd, 'export.json'), exported.stdout);
  await s.store.audit.append([7, 8].map(entry));
  return { ...s, checkpointFile, exportFile: join(s.cwd, 'export.json') };
}

async function verify(s: Site, against?: string) {
  const run = await s.run('audit', 'verify', '--json', ...(against ? ['--against', against] : []));
  return { code: run.code, ...JSON.parse(run.stdout) };
}

/** What an attacker with the database recomputes: every hash from `fromSeq` on, and the head. */
async function rewriteFrom(db: Kysely<Database>, fromSeq: number, change: { actor: string }): Promise<void> {
  const rows = await db
    .selectFrom('audit_log')
    .selectAll()
    .where('seq', '>=', fromSeq)
    .orderBy('seq')
    .execute();
  const before = await db
    .selectFrom('audit_log')
    .select('hash')
    .where('seq', '=', fromSeq - 1)
    .executeTakeFirstOrThrow();
  let prevHash = before.hash;
  for (const row of rows) {
    const actor = Number(row.seq) === fromSeq ? change.actor : row.actor;
    const hash = entryHash({
      seq: Number(row.seq),
      at: row.at,
      kind: row.kind,
      uai: row.uai,
      zone: row.zone,
      actor,
      detailJson: row.detail_json,
      prevHash,
    });
    await db
      .updateTable('audit_log')
      .set({ actor, prev_hash: prevHash, hash })
      .where('seq', '=', row.seq)
      .execute();
    prevHash = hash;
  }
  await db.updateTable('audit_head').set({ hash: prevHash }).where('id', '=', 1).execute();
}

describe.each(engines)('audit verify --against a prior checkpoint, on %s', (engine) => {
  it('an untouched log matches its checkpoint and its export (signatures valid)', async () => {
    const s = await anchored(engine);
    // The signing key was generated on first use, readable by the service's account only.
    expect(statSync(join(s.cwd, 'data', 'audit-signing-ed25519.pem')).mode & 0o777).toBe(0o600);
    const result = await verify(s, s.checkpointFile);
    expect(result).toMatchObject({
      ok: true,
      checked: 8,
      against: { kind: 'checkpoint', seq: 6, signature: 'valid' },
    });
    expect(await verify(s, s.exportFile)).toMatchObject({
      ok: true,
      against: { kind: 'json-export', seq: 6, signature: 'valid' },
    });
  });

  it('an edited row', async () => {
    const s = await anchored(engine);
    await asAttacker(s.store, async (db) => {
      await sql`update audit_log set actor = 'someone-else' where seq = 3`.execute(db);
    });
    expect(await verify(s, s.checkpointFile)).toMatchObject({
      ok: false,
      checked: 2,
      firstBad: { seq: 3, reason: 'hash-mismatch' },
    });
  });

  it('a deleted row', async () => {
    const s = await anchored(engine);
    await asAttacker(s.store, async (db) => {
      await sql`delete from audit_log where seq = 4`.execute(db);
    });
    expect(await verify(s, s.checkpointFile)).toMatchObject({
      ok: false,
      checked: 3,
      firstBad: { seq: 4, reason: 'seq-gap' },
    });
  });

  it('a tail rewritten with recomputed hashes and head: holds alone, caught against the checkpoint', async () => {
    const s = await anchored(engine);
    await asAttacker(s.store, (db) => rewriteFrom(db, 4, { actor: 'someone-else' }));
    // The chain alone cannot tell (issue 21): every hash was recomputed.
    expect(await verify(s)).toMatchObject({ ok: true, checked: 8 });
    expect(await verify(s, s.checkpointFile)).toMatchObject({
      ok: false,
      checked: 5,
      firstBad: { seq: 6, reason: 'rewritten' },
    });
    // The export holds every entry's hash: it names the first rewritten one.
    expect(await verify(s, s.exportFile)).toMatchObject({
      ok: false,
      checked: 3,
      firstBad: { seq: 4, reason: 'rewritten' },
    });
    const human = await s.run('audit', 'verify', '--against', s.checkpointFile);
    expect(human).toMatchObject({
      code: 1,
      stdout: 'audit chain broken at seq 6: rewritten (5 entries good before it)\n',
    });
  });

  it('a truncation with the head moved back: holds alone, caught against the checkpoint', async () => {
    const s = await anchored(engine);
    await asAttacker(s.store, async (db) => {
      const kept = await db
        .selectFrom('audit_log')
        .select('hash')
        .where('seq', '=', 4)
        .executeTakeFirstOrThrow();
      await sql`delete from audit_log where seq > 4`.execute(db);
      await db.updateTable('audit_head').set({ seq: 4, hash: kept.hash }).where('id', '=', 1).execute();
    });
    expect(await verify(s)).toMatchObject({ ok: true, checked: 4 });
    expect(await verify(s, s.checkpointFile)).toMatchObject({
      ok: false,
      checked: 4,
      firstBad: { seq: 5, reason: 'head-moved-back' },
    });
    expect(await verify(s, s.exportFile)).toMatchObject({
      ok: false,
      firstBad: { seq: 5, reason: 'head-moved-back' },
    });
  });

  it('a checkpoint whose fields were changed, or signed by another key, is refused', async () => {
    const s = await anchored(engine);
    const forged = JSON.parse(readFileSync(s.checkpointFile, 'utf8'));
    forged.seq = 5;
    writeFileSync(join(s.cwd, 'forged.json'), JSON.stringify(forged));
    const result = await verify(s, join(s.cwd, 'forged.json'));
    expect(result).toMatchObject({ ok: false, against: { signature: 'invalid' } });
    expect(result.code).toBe(1);
    const bad = await s.run(
      'audit',
      'verify',
      '--json',
      '--against',
      join(s.cwd, 'export.json'),
      '--public-key',
      s.checkpointFile,
    );
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).errors).toEqual([
      {
        code: 'bad-public-key',
        message: 'expected an Ed25519 public key in PEM (SPKI)',
        where: '--public-key',
      },
    ]);
  });
});

/** The service's purge as its retention job runs it, on the site's key and checkpoint directory. */
async function purgeAsService(s: Site, now: string) {
  const data = join(s.cwd, 'data');
  return purgeOldAuditEntries({
    keepMonths: 72,
    audit: s.store.audit,
    checkpoints: directorySink(join(data, 'audit-checkpoints')),
    publicKey: loadAuditSigningKey({ dataDir: data }).publicKey,
    clock: new ManualClock(Date.parse(now)),
  });
}

describe.each(engines)('audit verify after a retention purge, on %s', (engine) => {
  it('holds alone, against the checkpoint it stopped at and an earlier export; a later rewrite or truncation is still caught', async () => {
    const s = await anchored(engine);
    // Seven years on, 72 months after the entries and the checkpoint of seq 6.
    const outcome = await purgeAsService(s, '2033-12-01T00:00:00.000Z');
    expect(outcome).toMatchObject({
      cutoff: '2027-12-01T00:00:00.000Z',
      purged: { fromSeq: 1, throughSeq: 6 },
    });
    expect(outcome.purged?.entry).toMatchObject({ seq: 9, kind: 'config', actor: 'system:retention' });
    const checkpoint = JSON.parse(readFileSync(s.checkpointFile, 'utf8'));
    const purged = { seq: 6, hash: checkpoint.hash, purgeSeq: 9 };
    expect(await verify(s)).toMatchObject({ code: 0, ok: true, checked: 9, purged });
    expect(await verify(s, s.checkpointFile)).toMatchObject({
      code: 0,
      ok: true,
      purged,
      against: { kind: 'checkpoint', seq: 6, signature: 'valid' },
    });
    expect(await verify(s, s.exportFile)).toMatchObject({
      code: 0,
      ok: true,
      against: { signature: 'valid' },
    });
    expect(await s.run('audit', 'verify')).toMatchObject({
      code: 0,
      stdout:
        'entries up to seq 6 purged by the retention policy (purge entry seq 9): the walk starts after them\n' +
        'audit chain holds: 3 entries checked\n',
    });

    // A checkpoint after the purge, then more entries; the tail rewritten with recomputed hashes.
    const later = JSON.parse((await s.run('audit', 'checkpoint', '--json')).stdout).checkpoint;
    writeFileSync(join(s.cwd, 'later.json'), JSON.stringify(later));
    await s.store.audit.append([10, 11].map(entry));
    await asAttacker(s.store, (db) => rewriteFrom(db, 8, { actor: 'someone-else' }));
    expect(await verify(s)).toMatchObject({ ok: true, checked: 11 });
    // The chain holds alone (the purge entry, seq 9, rehashed but unchanged); the checkpoint of
    // seq 9 taken after the purge names it.
    expect(await verify(s, join(s.cwd, 'later.json'))).toMatchObject({
      code: 1,
      ok: false,
      firstBad: { seq: 9, reason: 'rewritten' },
    });
  });

  it('a truncation with the head moved back after a purge is caught against a later checkpoint', async () => {
    const s = await anchored(engine);
    await purgeAsService(s, '2033-12-01T00:00:00.000Z');
    await s.store.audit.append([10, 11, 12].map(entry));
    const later = JSON.parse((await s.run('audit', 'checkpoint', '--json')).stdout).checkpoint;
    expect(later.seq).toBe(12);
    writeFileSync(join(s.cwd, 'later.json'), JSON.stringify(later));
    await asAttacker(s.store, async (db) => {
      const kept = await db
        .selectFrom('audit_log')
        .select('hash')
        .where('seq', '=', 10)
        .executeTakeFirstOrThrow();
      await sql`delete from audit_log where seq > 10`.execute(db);
      await db.updateTable('audit_head').set({ seq: 10, hash: kept.hash }).where('id', '=', 1).execute();
    });
    expect(await verify(s)).toMatchObject({ ok: true, checked: 10 });
    expect(await verify(s, join(s.cwd, 'later.json'))).toMatchObject({
      code: 1,
      ok: false,
      firstBad: { seq: 11, reason: 'head-moved-back' },
    });
  });

  it('rows deleted by hand below a moved anchor, with no purge entry naming it, fail verify', async () => {
    const s = await anchored(engine);
    await purgeAsService(s, '2033-12-01T00:00:00.000Z');
    await asAttacker(s.store, async (db) => {
      const seventh = await db
        .selectFrom('audit_log')
        .select('hash')
        .where('seq', '=', 7)
        .executeTakeFirstOrThrow();
      await db.updateTable('audit_anchor').set({ seq: 7, hash: seventh.hash }).where('id', '=', 1).execute();
      await sql`delete from audit_log where seq = 7`.execute(db);
    });
    expect(await verify(s, s.checkpointFile)).toMatchObject({
      code: 1,
      ok: false,
      firstBad: { seq: 7, reason: 'unattested-purge' },
    });
  });
});
