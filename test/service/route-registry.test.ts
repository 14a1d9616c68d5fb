import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApi } from '../../src/app/openapi.js';
import { configSchema } from '../../src/config/schema.js';
import { ManualClock } from '../../src/domain/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { type RunningService, startService } from '../../src/service.js';

/**
 * The published OpenAPI document (src/app/openapi.ts) and the router of the running service name
 * the same routes (issue 14): a route added without its documentation, or documented and gone,
 * fails here. Middleware (`*` paths, method ALL) is not a route.
 */
const REPO = (path: string) => join(import.meta.dirname, '..', '..', path);

describe('the router and the published OpenAPI routes', () => {
  let service: RunningService;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'scope-energie-routes-'));
    const config = configSchema.parse({
      server: { host: '127.0.0.1', port: 0 },
      storage: { data_dir: dataDir },
      mqtt: { embedded: { port: 0 } },
      paths: { devices_dir: REPO('devices'), rules_dir: REPO('rules') },
      clients_file: join(dataDir, 'no-clients.yaml'),
      log: { level: 'silent' },
    });
    service = await startService({
      config,
      logger: createLogger('silent'),
      baseDir: dataDir,
      clock: new ManualClock(Date.parse('2026-12-01T09:00:00Z')),
    });
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('are the same set', () => {
    const served = new Set(
      service
        .routes()
        .filter((r) => r.method !== 'ALL' && !r.path.includes('*'))
        .map((r) => `${r.method.toUpperCase()} ${r.path.replace(/:([A-Za-z_]+)(\{[^}]*\})?/g, '{$1}')}`),
    );
    const paths = buildOpenApi({ version: 'test' })['paths'] as Record<string, Record<string, unknown>>;
    const documented = new Set(
      Object.entries(paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    expect({
      undocumented: [...served].filter((r) => !documented.has(r)).sort(),
      notServed: [...documented].filter((r) => !served.has(r)).sort(),
    }).toEqual({ undocumented: [], notServed: [] });
  });
});
