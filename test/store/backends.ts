/**
 * The databases a store suite runs against: SQLite in a temporary directory always; PostgreSQL
 * when `DATABASE_URL` is set (CI, and this machine's server), else in a testcontainers
 * container when a Docker engine answers, else not at all, with the reason printed.
 *
 * Call `storeBackends()` once per test file (top-level await) and `describe.each` over the
 * result. Each call gets its own SQLite directory and its own random PostgreSQL schema, so
 * files running in parallel never see each other's rows; `cleanup()` closes the stores it
 * opened and drops the schema / deletes the directory.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { StartedTestContainer } from 'testcontainers';
import { openStore, type Store } from '../../src/store/store.js';

export interface StoreBackend {
  name: 'sqlite' | 'postgres';
  /** A new Store on this backend's database; every call of one backend reaches the same data. */
  open(): Promise<Store>;
  /** Closes every store `open()` returned, then removes the database. */
  cleanup(): Promise<void>;
}

export async function storeBackends(): Promise<StoreBackend[]> {
  const backends: StoreBackend[] = [sqliteBackend()];
  const postgres = await postgresUrl();
  if ('url' in postgres) backends.push(postgresBackend(postgres.url, postgres.stop));
  else console.warn(`[store backends] PostgreSQL cases skipped: ${postgres.skipReason}`);
  return backends;
}

function sqliteBackend(): StoreBackend {
  const opened: Store[] = [];
  let dir: string | undefined;
  return {
    name: 'sqlite',
    async open() {
      dir ??= await mkdtemp(path.join(tmpdir(), 'scope-energie-store-'));
      const store = await openStore({ dataDir: dir });
      opened.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(opened.map((s) => s.close()));
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(databaseUrl: () => Promise<string>, stop: () => Promise<void>): StoreBackend {
  const schema = `test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const opened: Store[] = [];
  return {
    name: 'postgres',
    async open() {
      const store = await openStore({ databaseUrl: await databaseUrl(), pgSchema: schema });
      opened.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(opened.map((s) => s.close()));
      if (opened.length > 0) {
        const client = new pg.Client({ connectionString: await databaseUrl() });
        await client.connect();
        try {
          await client.query(`drop schema if exists ${schema} cascade`);
        } finally {
          await client.end();
        }
      }
      await stop();
    },
  };
}

type PostgresSource = { url: () => Promise<string>; stop: () => Promise<void> } | { skipReason: string };

async function postgresUrl(): Promise<PostgresSource> {
  const fromEnv = process.env['DATABASE_URL'];
  if (fromEnv !== undefined && fromEnv !== '') return { url: async () => fromEnv, stop: async () => {} };

  const dockerHost = process.env['DOCKER_HOST'];
  if ((dockerHost === undefined || dockerHost === '') && !existsSync('/var/run/docker.sock')) {
    return {
      skipReason:
        'DATABASE_URL is not set and no Docker engine is reachable (no DOCKER_HOST, no /var/run/docker.sock)',
    };
  }
  // Loaded only here: testcontainers pulls in a Docker client that the usual run never needs.
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch (error) {
    return { skipReason: `DATABASE_URL is not set and the Docker engine does not answer: ${String(error)}` };
  }
  // Started on first open(), so a file that never opens a PostgreSQL store starts nothing.
  let started: Promise<StartedTestContainer> | undefined;
  const start = () => {
    started ??= new GenericContainer('postgres:16-alpine')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust', POSTGRES_DB: 'test' })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
    return started;
  };
  return {
    url: async () => {
      const container = await start();
      return `postgres://postgres@${container.getHost()}:${container.getMappedPort(5432)}/test`;
    },
    stop: async () => {
      if (started !== undefined) await (await started).stop();
    },
  };
}
