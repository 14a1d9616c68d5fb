import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, SQLITE_FILE_NAME, type Store } from '../../src/store/store.js';
import { elapse } from '../helpers/wait.js';
import { storeBackends } from './backends.js';

const backends = await storeBackends();

describe.each(backends)('openStore on $name', (backend) => {
  afterAll(async () => {
    await backend.cleanup();
  });

  // First open of this backend's database: two instances starting together must both end up
  // on one migrated schema (PostgreSQL only: one SQLite file has one process writing it).
  let first: Store;
  it('migrates a new database to the latest schema', async () => {
    if (backend.name === 'postgres') {
      const [a, b] = await Promise.all([backend.open(), backend.open()]);
      first = a;
      expect(b.dialect).toBe('postgres');
    } else {
      first = await backend.open();
    }
    expect(first.dialect).toBe(backend.name);
    expect(await migrationNames(first)).toEqual([
      '0001_timetables',
      '0002_bridge_state',
      '0003_sync_and_overrides',
      '0004_audit',
      '0005_leases',
      '0006_audit_append_only',
      '0007_revoked_sessions',
      '0008_broker_access',
      '0012_telemetry',
      '0013_meters_and_frozen_savings',
      '0014_telemetry_starts',
      '0015_scheduled_events',
      '0017_audit_purge_anchor',
    ]);
    // The EMQX tables and views exist on PostgreSQL only (migration 0008).
    const emqx = backend.name === 'postgres' ? ['broker_acl', 'broker_logins'] : [];
    const emqxViews = backend.name === 'postgres' ? ['emqx_acl', 'emqx_authn'] : [];
    expect(await tableNames(first)).toEqual([
      'audit_anchor',
      'audit_head',
      'audit_log',
      'booking_feed_state',
      'bridge_desired',
      'bridge_instances',
      ...emqx,
      ...emqxViews,
      'establishments',
      'frozen_savings',
      'gateway_reported',
      'gateway_status',
      'kysely_migration',
      'kysely_migration_lock',
      'meter_readings',
      'outdoor_readings',
      'override_events',
      'overrides',
      'revoked_sessions',
      'scheduled_events',
      'school_leases',
      'sync_state',
      'telemetry_hourly',
      'telemetry_monthly',
      'telemetry_progress',
      'telemetry_samples',
      'telemetry_starts',
      'timetable_versions',
    ]);
  });

  it('keeps data and runs nothing again when reopened', async () => {
    await first.db
      .insertInto('establishments')
      .values({
        uai: '0670080Y',
        name: 'Lycée',
        timezone: 'Europe/Paris',
        current_version: null,
        updated_at: 'x',
      })
      .execute();
    const reopened = await backend.open();
    expect(await migrationNames(reopened)).toEqual([
      '0001_timetables',
      '0002_bridge_state',
      '0003_sync_and_overrides',
      '0004_audit',
      '0005_leases',
      '0006_audit_append_only',
      '0007_revoked_sessions',
      '0008_broker_access',
      '0012_telemetry',
      '0013_meters_and_frozen_savings',
      '0014_telemetry_starts',
      '0015_scheduled_events',
      '0017_audit_purge_anchor',
    ]);
    expect(await reopened.db.selectFrom('establishments').select('uai').execute()).toEqual([
      { uai: '0670080Y' },
    ]);
  });

  it('refuses a version of an unknown establishment (foreign key) and a malformed hash (check)', async () => {
    const row = {
      uai: '0750654D',
      version: 1,
      sha256: 'a'.repeat(64),
      format: 'json',
      imported_at: '2025-09-01T06:00:00.000Z',
      imported_by: 'x',
      room_count: 0,
      lesson_count: 0,
      occurrence_count: 0,
      warnings_json: '[]',
      document_json: '{}',
    };
    await expect(first.db.insertInto('timetable_versions').values(row).execute()).rejects.toThrow(
      /foreign key/i,
    );
    await expect(
      first.db
        .insertInto('timetable_versions')
        .values({ ...row, uai: '0670080Y', sha256: 'abc' })
        .execute(),
    ).rejects.toThrow(/timetable_versions_sha256_hex|CHECK constraint/i);
  });

  it('closes idempotently', async () => {
    const store = await backend.open();
    await store.close();
    await expect(store.close()).resolves.toBeUndefined();
    await expect(store.db.selectFrom('establishments').selectAll().execute()).rejects.toThrow(
      'driver has already been destroyed',
    );
  });
});

describe('openStore on SQLite', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('creates the data directory and the file, in WAL mode with foreign keys and a busy timeout', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'scope-energie-open-'));
    dirs.push(root);
    const dataDir = path.join(root, 'nested', 'data');
    const store = await openStore({ dataDir });
    try {
      expect(existsSync(path.join(dataDir, SQLITE_FILE_NAME))).toBe(true);
      expect(await pragma(store, 'journal_mode')).toEqual({ journal_mode: 'wal' });
      expect(await pragma(store, 'foreign_keys')).toEqual({ foreign_keys: 1 });
      expect(await pragma(store, 'busy_timeout')).toEqual({ timeout: 5000 });
    } finally {
      await store.close();
    }
  });

  it('needs a data directory when no database URL is given', async () => {
    await expect(openStore({})).rejects.toThrow(
      'openStore: give a dataDir (SQLite) or a databaseUrl (PostgreSQL)',
    );
    await expect(openStore({ databaseUrl: '' })).rejects.toThrow('give a dataDir');
  });
});

describe('openStore on PostgreSQL', () => {
  it('refuses a schema name that is not a plain lower-case identifier', async () => {
    await expect(
      openStore({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', pgSchema: 'x"; drop table y; --' }),
    ).rejects.toThrow('openStore: pgSchema "x"; drop table y; --" must match /^[a-z_][a-z0-9_]{0,62}$/');
  });

  // kysely's migration setup lists the tables of every schema; another application dropping its
  // own schema at that moment made the listing fail (seen in CI: three instances starting while
  // other suites dropped theirs). The store looks again.
  it.runIf(process.env['DATABASE_URL'])(
    'opens while other schemas are created and dropped around it',
    async () => {
      const url = process.env['DATABASE_URL']!;
      const admin = await openStore({ databaseUrl: url });
      let churning = true;
      const churn = (async () => {
        let cycles = 0;
        while (churning) {
          const name = `churn_${randomBytes(4).toString('hex')}`;
          await sql
            .raw(`create schema ${name}; create table ${name}.a (x int); create table ${name}.b (x int)`)
            .execute(admin.db);
          await sql.raw(`drop schema ${name} cascade`).execute(admin.db);
          cycles += 1;
          await elapse(10, 'the churn runs one schema cycle per 10 ms');
        }
        return cycles;
      })();
      const failures: string[] = [];
      try {
        for (let i = 0; i < 15; i++) {
          const schema = `race_${randomBytes(4).toString('hex')}`;
          try {
            const store = await openStore({ databaseUrl: url, pgSchema: schema });
            await store.close();
          } catch (error) {
            failures.push(String(error));
          } finally {
            await sql.raw(`drop schema if exists ${schema} cascade`).execute(admin.db);
          }
        }
      } finally {
        churning = false;
        expect(await churn).toBeGreaterThan(0);
        await admin.close();
      }
      expect(failures).toEqual([]);
    },
    60_000,
  );
});

async function migrationNames(store: Store): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
    store.db,
  );
  return rows.map((r) => r.name);
}

async function tableNames(store: Store): Promise<string[]> {
  const query =
    store.dialect === 'sqlite'
      ? sql<{ name: string }>`select name from sqlite_master where type = 'table' order by name`
      : sql<{ name: string }>`select table_name as name from information_schema.tables
          where table_schema = current_schema() order by table_name`;
  return (await query.execute(store.db)).rows.map((r) => r.name);
}

async function pragma(store: Store, name: string): Promise<unknown> {
  return (await sql.raw(`pragma ${name}`).execute(store.db)).rows[0];
}
