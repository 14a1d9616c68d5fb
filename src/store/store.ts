/**
 * The store: one kysely handle on SQLite (default, a file under the data directory) or
 * PostgreSQL (when a `DATABASE_URL` is given; several instances may share it), migrated to the
 * latest schema before it is handed out. SQL stays inside src/store.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { type AuditRepository, createAuditRepository } from './audit-repository.js';
import { type BridgeStateRepository, createBridgeStateRepository } from './bridge-state-repository.js';
import { createFrozenSavingsRepository, type FrozenSavingsRepository } from './frozen-savings-repository.js';
import { createLeaseRepository, type LeaseRepository } from './lease-repository.js';
import { createMeterRepository, type MeterRepository } from './meter-repository.js';
import { migrationProvider } from './migrations/index.js';
import { createOverrideRepository, type OverrideRepository } from './override-repository.js';
import {
  createScheduledEventRepository,
  type ScheduledEventRepository,
} from './scheduled-event-repository.js';
import type { Database } from './schema.js';
import { inProcessSignals, postgresSignals, type StoreSignals } from './store-signals.js';
import { createSyncRepository, type SyncRepository } from './sync-repository.js';
import { createTelemetryRepository, type TelemetryRepository } from './telemetry-repository.js';
import { createTimetableRepository, type TimetableRepository } from './timetable-repository.js';
import type { StoreDialect } from './write-transaction.js';

export type { StoreDialect } from './write-transaction.js';

export const SQLITE_FILE_NAME = 'scope-energie.sqlite';

/** Read and write for the service's user only. */
const PRIVATE_FILE_MODE = 0o600;

/** How long a SQLite writer waits for another process's write lock before failing. */
const SQLITE_BUSY_TIMEOUT_MS = 5_000;

export interface StoreOptions {
  /** Directory of the SQLite file (created if missing); used when no databaseUrl is given. */
  dataDir?: string;
  /** `postgres://…`: use PostgreSQL instead of SQLite. */
  databaseUrl?: string;
  /** PostgreSQL schema to hold the tables (created if missing); default: the server's search_path. */
  pgSchema?: string;
  /** PostgreSQL pool size per instance. */
  pgPoolSize?: number;
  /**
   * A PostgreSQL connection failed (server restart, failover, network), idle in the pool, checked
   * out inside a transaction, or the LISTEN session: the pool drops it and the next query
   * reconnects. Give a logger here; every client has a listener, so pg never crashes the process.
   */
  onPoolError?: (error: Error) => void;
  /** PostgreSQL timeouts (config `storage.*_ms`); defaults in {@link DEFAULT_PG_TIMEOUTS}. */
  pgTimeouts?: Partial<PgTimeouts>;
}

export interface PgTimeouts {
  /** Server side: a statement running longer is cancelled (SQLSTATE 57014). */
  statementMs: number;
  /** Server side: a statement waiting longer for a lock fails (55P03). */
  lockMs: number;
  /** Client side: no answer within this fails the query (a frozen server never cancels anything). */
  queryMs: number;
  /** Client side: longest wait for a new connection. */
  connectMs: number;
}

/** config/default.yaml's values: a frozen database is a failure within seconds, not a hang. */
export const DEFAULT_PG_TIMEOUTS: PgTimeouts = {
  statementMs: 10_000,
  lockMs: 5_000,
  queryMs: 15_000,
  connectMs: 5_000,
};

export interface Store {
  dialect: StoreDialect;
  db: Kysely<Database>;
  timetables: TimetableRepository;
  /** The bridge's desired revs and what gateways reported. */
  bridgeState: BridgeStateRepository;
  /** The bridge's last good SORTIE occupancy per school. */
  sync: SyncRepository;
  overrides: OverrideRepository;
  /** Scheduled events and booking-feed state (docs/events.md). */
  events: ScheduledEventRepository;
  /** The append-only, hash-chained audit log. */
  audit: AuditRepository;
  /** Bridge instances and the school leases that split the work between them (issue 8). */
  leases: LeaseRepository;
  /** Raw samples, hourly and monthly aggregates of what gateways measured (issue 16). */
  telemetry: TelemetryRepository;
  /** Meter readings and outdoor temperatures per school (measured savings). */
  meters: MeterRepository;
  /** Savings of closed weeks and months, frozen with the versions used. */
  frozenSavings: FrozenSavingsRepository;
  /** Messages between the processes sharing this store (LISTEN/NOTIFY on PostgreSQL). */
  signals: StoreSignals;
  /** Closes the file or the pool; idempotent. */
  close(): Promise<void>;
}

/** See the pool's `connect` handler: longer than any pause between our statements, far below TCP keepalive. */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;

/** Lower-case SQL identifier: it goes into DDL and the search_path unquoted-safe. */
const PG_SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function openStore(options: StoreOptions): Promise<Store> {
  const timeouts = { ...DEFAULT_PG_TIMEOUTS, ...options.pgTimeouts };
  const { db, dialect, migrationSchema } =
    options.databaseUrl !== undefined && options.databaseUrl !== ''
      ? await connectPostgres(options.databaseUrl, options)
      : connectSqlite(options.dataDir);

  try {
    await migrateToLatest(db, migrationSchema);
  } catch (error) {
    await db.destroy();
    throw error;
  }

  let closed: Promise<void> | undefined;
  return {
    dialect,
    db,
    timetables: createTimetableRepository(db, dialect),
    bridgeState: createBridgeStateRepository(db, dialect),
    sync: createSyncRepository(db),
    overrides: createOverrideRepository(db, dialect),
    events: createScheduledEventRepository(db, dialect),
    audit: createAuditRepository(db, dialect),
    leases: createLeaseRepository(db, dialect),
    telemetry: createTelemetryRepository(db, dialect),
    meters: createMeterRepository(db, dialect),
    frozenSavings: createFrozenSavingsRepository(db),
    signals:
      dialect === 'postgres' && options.databaseUrl && migrationSchema
        ? postgresSignals({
            databaseUrl: options.databaseUrl,
            schema: migrationSchema,
            send: async (channel, message) => {
              await sql`select pg_notify(${channel}, ${message})`.execute(db);
            },
            ...(options.onPoolError ? { onError: options.onPoolError } : {}),
            connectTimeoutMs: timeouts.connectMs,
            queryTimeoutMs: timeouts.queryMs,
          })
        : inProcessSignals(),
    close() {
      closed ??= db.destroy();
      return closed;
    },
  };
}

interface Connected {
  db: Kysely<Database>;
  dialect: StoreDialect;
  /** Where kysely keeps its migration tables (PostgreSQL only). */
  migrationSchema?: string;
}

function connectSqlite(dataDir: string | undefined): Connected {
  if (dataDir === undefined || dataDir === '') {
    throw new Error('openStore: give a dataDir (SQLite) or a databaseUrl (PostgreSQL)');
  }
  mkdirSync(dataDir, { recursive: true });
  const filePath = path.join(dataDir, SQLITE_FILE_NAME);
  // Timetables, overrides and the audit log are for the service's user only (issue 13): the file
  // is created 0600 and an older, wider one narrowed. SQLite gives its -wal and -shm files the
  // database file's mode (sqlite.org/src, os_unix.c findCreateFileMode); narrowed too if older.
  closeSync(openSync(filePath, 'a', PRIVATE_FILE_MODE));
  chmodSync(filePath, PRIVATE_FILE_MODE);
  const file = new SqliteDatabase(filePath);
  try {
    // WAL: readers (SORTIE, dashboard) never wait for the writer (docs/performance.md, "HTTP and SQLite").
    file.pragma('journal_mode = WAL');
    for (const suffix of ['-wal', '-shm']) {
      if (existsSync(filePath + suffix)) chmodSync(filePath + suffix, PRIVATE_FILE_MODE);
    }
    file.pragma('foreign_keys = ON');
    file.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  } catch (error) {
    file.close();
    throw error;
  }
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: file }) }), dialect: 'sqlite' };
}

async function connectPostgres(databaseUrl: string, options: StoreOptions): Promise<Connected> {
  const schema = options.pgSchema;
  if (schema !== undefined && !PG_SCHEMA_NAME.test(schema)) {
    throw new Error(`openStore: pgSchema "${schema}" must match ${PG_SCHEMA_NAME}`);
  }
  const timeouts = { ...DEFAULT_PG_TIMEOUTS, ...options.pgTimeouts };
  const onError = options.onPoolError ?? (() => {});
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.pgPoolSize ?? 10,
    // Every pooled connection sees only this schema, so tables need no qualification.
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
    // Startup parameters, set before the first statement of every session.
    statement_timeout: timeouts.statementMs,
    lock_timeout: timeouts.lockMs,
    // A session left idle inside a transaction (its process paused or cut off mid-write) would
    // keep its row locks for hours (TCP keepalive): a fenced write's FOR SHARE lock on a lease
    // would then hold that school back from the instance taking over. The server ends such
    // sessions instead; no transaction of ours is idle for more than a moment between statements.
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    query_timeout: timeouts.queryMs,
    connectionTimeoutMillis: timeouts.connectMs,
    // A dead peer (host gone, network cut) is noticed by TCP probes, not after the OS's hours.
    keepAlive: true,
  });
  pool.on('error', onError);
  // pg-pool listens for 'error' only while a client is idle in the pool; a client checked out
  // (inside a kysely transaction, between two statements) that loses its server — a restart's
  // "terminating connection due to administrator command" (57P01) — emits 'error' with no
  // listener, which ends the process. This listener stays for the client's whole life; the
  // failed statement still rejects, and pg-pool discards the broken client on release.
  pool.on('connect', (client) => {
    client.on('error', onError);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    if (schema !== undefined) await createSchemaIfMissing(db, schema);
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    const current = rows[0]?.schema;
    if (current === null || current === undefined) {
      throw new Error('openStore: the PostgreSQL search_path names no existing schema');
    }
    return { db, dialect: 'postgres', migrationSchema: current };
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

async function createSchemaIfMissing(db: Kysely<Database>, schema: string): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (error) {
    // Two instances starting together both pass IF NOT EXISTS; the loser gets a unique
    // violation on pg_namespace (23505), and the schema exists either way.
    if ((error as { code?: string }).code !== '23505') throw error;
  }
}

async function migrateToLatest(db: Kysely<Database>, migrationSchema: string | undefined): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    // Without a schema kysely looks for its tables in every schema it can see, and would take
    // another schema's for ours.
    ...(migrationSchema === undefined ? {} : { migrationTableSchema: migrationSchema }),
  });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (error === undefined) return;
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    // kysely's setup lists the tables of every schema it can see; another application (or test
    // suite) dropping ITS schema or tables at that moment fails the listing with "schema … does
    // not exist" or "relation … does not exist". Nothing of ours changed: look again.
    if (failed === undefined && isVanishedSchema(error, migrationSchema) && attempt < 5) {
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      continue;
    }
    throw new Error(`store migration ${failed ?? '(setup)'} failed: ${String(error)}`, { cause: error });
  }
}

/**
 * PostgreSQL invalid_schema_name (3F000) or undefined_table (42P01) about a schema other than
 * ours (a relation is named `"schema.table"` in the message).
 */
function isVanishedSchema(error: unknown, ours: string | undefined): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if ((code !== '3F000' && code !== '42P01') || typeof message !== 'string') return false;
  return ours === undefined || !(message.includes(`"${ours}"`) || message.includes(`"${ours}.`));
}
