/**
 * The published constraints are the enforced ones (issue 14), read the way an OpenAPI-driven
 * tester reads them: for every documented operation of the declared routes, a request that
 * breaks one documented constraint of one parameter (pattern, format, enum, bounds, required) is
 * answered 400, and a request that keeps them all is not. Every answer is also checked against
 * the documented responses (test/helpers/documented.ts). ENTRÉE (import and history), SORTIE, overrides,
 * plans, events, audit, savings, compliance, comfort and hourly telemetry are mounted together behind
 * the bearer check (the health probes before it), with a real store and the real services.
 */
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthRoutes } from '../../src/app/health-routes.js';
import { buildOpenApi, DECLARED_ROUTES } from '../../src/app/openapi.js';
import { auditRoutes } from '../../src/audit/audit-routes.js';
import { type AuthEnv, requireAuth } from '../../src/auth/middleware.js';
import { bridgeRoutes } from '../../src/bridge/bridge-routes.js';
import { eventsRoutes } from '../../src/bridge/events-routes.js';
import { EventsService } from '../../src/bridge/events-service.js';
import { OverridesService } from '../../src/bridge/overrides-service.js';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import { PlanningService } from '../../src/bridge/planning.js';
import { complianceRoutes } from '../../src/compliance/compliance-routes.js';
import { createComplianceService } from '../../src/compliance/compliance-service.js';
import { ManualClock } from '../../src/domain/clock.js';
import { isInputError } from '../../src/domain/problems.js';
import { inputErrorResponse } from '../../src/http/problem-response.js';
import { savingsRoutes } from '../../src/savings/savings-routes.js';
import { entreeRoutes } from '../../src/scope/entree/routes.js';
import { sortieRoutes } from '../../src/scope/sortie/routes.js';
import { schoolCalendars } from '../../src/scope/sortie/school-calendars.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import type { Store } from '../../src/store/store.js';
import { DEFAULT_COMFORT_SETTINGS } from '../../src/telemetry/comfort.js';
import { comfortRoutes } from '../../src/telemetry/comfort-routes.js';
import { bridgeClients, copySite, DEMO_UAI, fixedOccupancy, heldDemo } from '../bridge/bridge-fixtures.js';
import { checkDocumentedResponses } from '../helpers/documented.js';
import { storeBackends } from '../store/backends.js';

interface Schema {
  type?: string;
  format?: string;
  pattern?: string;
  enum?: string[];
  minimum?: number;
  maximum?: number;
}
interface Parameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  schema: Schema;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  hasBody: boolean;
}

/** A value every documented constraint of `schema` admits. */
function validValue(name: string, schema: Schema): string {
  if (schema.pattern === '^[0-9]{7}[A-Za-z]$') return DEMO_UAI;
  if (schema.pattern === '^[1-9][0-9]{0,8}$') return '1';
  if (schema.enum) return schema.enum[0] as string;
  // The baseline of measured savings ends before the reporting period starts.
  if (schema.format === 'date' && name.startsWith('baseline_'))
    return name === 'baseline_from' ? '2025-11-03' : '2025-12-31';
  if (schema.format === 'date') return '2026-01-12';
  if (schema.format === 'date-time') return name === 'to' ? '2026-01-13T00:00:00Z' : '2026-01-12T00:00:00Z';
  if (schema.type === 'integer') return String(schema.minimum ?? 1);
  return 'x';
}

/** Values that each break one documented constraint of `schema`. */
function violations(schema: Schema): string[] {
  const values: string[] = [];
  if (schema.pattern) values.push('not-a-uai!');
  if (schema.enum) values.push('not-in-the-enum');
  if (schema.format === 'date') values.push('2026-02-30', 'today');
  if (schema.format === 'date-time') values.push('yesterday', '2026-01-12T08:00');
  if (schema.type === 'integer') {
    values.push('abc', '1.5');
    if (schema.minimum !== undefined) values.push(String(schema.minimum - 1));
    if (schema.maximum !== undefined) values.push(String(schema.maximum + 1));
  }
  return values;
}

/** Bodies that keep the published request schemas (OverrideRequest, EventRequest). */
const VALID_BODIES: Record<string, unknown> = {
  'put /scope/entree/v1/etablissements/{uai}/emploi-du-temps': {
    uai: DEMO_UAI,
    name: 'Lycée des Tilleuls',
    school_year: { start: '2025-09-01', end: '2026-07-04' },
    rooms: [{ id: 'B012', name: 'B012' }],
    lessons: [{ id: 'L1', rooms: ['B012'], day: 1, start: '08:00', end: '09:50', dates: ['2026-01-12'] }],
  },
  'post /api/overrides': {
    uai: DEMO_UAI,
    zone: 'cdi',
    function: 'heating',
    mode: 'comfort',
    setpoint_c: 19,
    duration: 'PT1H',
    reason: 'Conseil de classe',
  },
  'post /api/events': {
    title: 'Réunion parents-élèves',
    start: '2026-01-13T18:00',
    end: '2026-01-13T20:00',
    target: { zone: 'cdi' },
  },
  'put /api/events/{id}': {
    title: 'Réunion parents-élèves',
    start: '2026-01-13T18:00',
    end: '2026-01-13T20:00',
    target: { zone: 'cdi' },
  },
};

const sqlite = (await storeBackends()).find((b) => b.name === 'sqlite');
if (!sqlite) throw new Error('the SQLite backend is always available');

describe('the published parameter constraints are the enforced ones', () => {
  const clock = new ManualClock(Date.parse('2026-01-12T17:30:00Z'));
  const clients = bridgeClients(clock);
  const files = copySite();
  const site = new SiteHolder(files);
  const calendars = new CalendarSource({ zone: 'B', dataDir: files.dir });
  let store: Store;
  let app: Hono<AuthEnv>;
  let planning: PlanningService;

  const document = buildOpenApi({ version: 'test' });
  const declared = new Set(DECLARED_ROUTES.map((r) => `${r.method} ${r.path}`));
  const operations: Operation[] = Object.entries(
    document['paths'] as Record<string, Record<string, { parameters?: Parameter[]; requestBody?: unknown }>>,
  ).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => declared.has(`${method} ${path}`))
      .map(([method, op]) => ({
        method,
        path,
        parameters: op.parameters ?? [],
        hasBody: op.requestBody !== undefined,
      })),
  );

  beforeAll(async () => {
    store = await sqlite.open();
    const occupancy = fixedOccupancy({ [DEMO_UAI]: heldDemo({ from: '2026-01-05', to: '2026-02-02' }) });
    const overrides = new OverridesService({
      repository: store.overrides,
      site,
      clock,
      nextChange: (...args) => planning.nextChange(...args),
    });
    const events = new EventsService({ repository: store.events, site, calendars, occupancy, clock });
    planning = new PlanningService({
      site,
      calendars,
      occupancy,
      loadOccupancy: async (uai, dates) => (uai === DEMO_UAI ? heldDemo(dates) : null),
      overrides,
      events,
      feed: new MutablePlanFeed(),
      clock,
    });
    app = checkDocumentedResponses(new Hono<AuthEnv>());
    // As src/app/app.ts: a handler's InputError is the problem body.
    app.onError((error, c) => {
      if (isInputError(error)) return inputErrorResponse(c, error);
      throw error;
    });
    app.route('/', healthRoutes());
    app.use('*', requireAuth(clients.authenticator));
    app.route('/', entreeRoutes({ store, clock, bodyLimitBytes: 64 * 1024, strictJson: false }));
    app.route('/', sortieRoutes({ store, calendars: schoolCalendars({ zone: 'B' }) }));
    app.route(
      '/',
      bridgeRoutes({
        overrides,
        planning,
        clock,
        timezoneOf: (uai) => site.current.devices.get(uai)?.value.school.timezone,
      }),
    );
    app.route('/', eventsRoutes({ events }));
    app.route('/', auditRoutes({ audit: store.audit }));
    const devicesOf = (uai: string) => site.current.devices.get(uai);
    const planFor = (uai: string, date: string, days: number) => planning.planFor(uai, date, days);
    app.route('/', savingsRoutes({ planFor, devicesOf, calendars, meters: store.meters }));
    app.route(
      '/',
      complianceRoutes(
        createComplianceService({
          planFor,
          devicesOf,
          audit: store.audit,
          overrides: store.overrides,
          clock,
        }),
      ),
    );
    app.route(
      '/',
      comfortRoutes({
        repository: store.telemetry,
        planFor,
        devicesOf,
        settings: DEFAULT_COMFORT_SETTINGS,
        clock,
      }),
    );
  });
  afterAll(() => sqlite.cleanup());

  /** The request of `op` with `values` for its parameters (undefined: left out). */
  const send = (op: Operation, values: Record<string, string | undefined>) => {
    let path = op.path;
    const query = new URLSearchParams();
    for (const p of op.parameters) {
      const value = values[p.name];
      if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(value ?? ''));
      else if (value !== undefined) query.set(p.name, value);
    }
    const body = VALID_BODIES[`${op.method} ${op.path}`];
    const search = query.size > 0 ? `?${query}` : '';
    return app.request(`${path}${search}`, {
      method: op.method.toUpperCase(),
      headers: { ...clients.bearer('admin'), 'Content-Type': 'application/json' },
      ...(op.hasBody ? { body: JSON.stringify(body) } : {}),
    });
  };
  /** The operations this app serves (audit verification and checkpoints need parts not built here). */
  const served = () => {
    const routes = new Set(app.routes.map((r) => `${r.method.toLowerCase()} ${r.path}`));
    return operations.filter((op) => routes.has(`${op.method} ${op.path.replace(/\{([^}]+)\}/g, ':$1')}`));
  };
  const validValues = (op: Operation) =>
    Object.fromEntries(
      op.parameters
        .filter((p) => p.required || p.in === 'path')
        .map((p) => [p.name, p.name === 'id' ? 'no-such-id' : validValue(p.name, p.schema)]),
    );

  it('covers the declared operations, each with a body example when it takes one', () => {
    expect(operations.length).toBe(DECLARED_ROUTES.length);
    // Without parameters; they need parts not built here (tracker, leases, monitor, checkpointer,
    // the clients file) or read a form, not JSON (the token endpoint).
    const servedNow = new Set(served());
    expect(
      operations
        .filter((op) => !servedNow.has(op))
        .map((op) => `${op.method} ${op.path}`)
        .sort(),
    ).toEqual(
      [
        'get /api/audit/verify',
        'post /api/audit/checkpoints',
        'get /api/audit/checkpoints/latest',
        'get /api/audit/public-key',
        'get /api/gateways',
        'get /api/cluster',
        // Answered and checked against their declarations in their own tests (a form, a clients file).
        'post /oauth/token',
        'post /api/admin/clients',
      ].sort(),
    );
    for (const op of operations.filter((o) => !servedNow.has(o))) expect(op.parameters).toEqual([]);
    for (const op of served().filter((o) => o.hasBody))
      expect(VALID_BODIES[`${op.method} ${op.path}`], `${op.method} ${op.path}`).toBeDefined();
  });

  it('answers a request within the documented constraints without 400', async () => {
    const answered: string[] = [];
    for (const op of served()) {
      const res = await send(op, validValues(op));
      answered.push(
        `${op.method} ${op.path} ${res.status === 400 ? JSON.stringify(await res.json()) : 'ok'}`,
      );
    }
    expect(answered.filter((a) => !a.endsWith(' ok'))).toEqual([]);
  });

  it('answers 400 naming the parameter to each request that breaks one documented constraint', async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const op of served()) {
      const valid = validValues(op);
      const cases: [string, string | undefined][] = op.parameters.flatMap((p) => [
        ...violations(p.schema).map((v): [string, string | undefined] => [p.name, v]),
        ...(p.required && p.in === 'query' ? [[p.name, undefined] as [string, undefined]] : []),
      ]);
      for (const [name, value] of cases) {
        checked++;
        const res = await send(op, { ...valid, [name]: value });
        const body = res.status === 400 ? ((await res.json()) as { errors: { where: string }[] }) : null;
        // `where` names the parameter: `days (query)`, `uai (path)`, or bare for dates.
        const named = body?.errors.some((e) => e.where === name || e.where.startsWith(`${name} (`)) ?? false;
        if (!named) wrong.push(`${op.method} ${op.path} ${name}=${value}: ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(40);
  });
});
