/**
 * The cases of issue 13, in the order they run (one service per backend, shared): what a
 * hostile or broken data source sent on the main branch of the time, and the exact answer the
 * shared contract (issue 13) requires; then what held and must keep holding. Cases that change
 * the demo school's timetable put the demo timetable back in `restore`.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { buildDemoTimetable, DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { uaiCheckLetter } from '../../src/domain/uai.js';
import { SQLITE_FILE_NAME } from '../../src/store/store.js';
import { REPO_ROOT } from '../cluster/cluster-harness.js';
import { collectMessages, connectOutcome, connectRaw } from '../helpers/mqtt-contract.js';
import { waitFor } from '../helpers/wait.js';
import {
  billionLaughsEdt,
  endsBeforeStartIcs,
  foreignUaiEdt,
  hostileRoomNameTimetable,
  malformedEdt,
  nestedEdt,
  overlappingLessons,
  secondlyIcs,
  unknownKeysJson,
  utf8DeclaredLatin1Edt,
  xxeEdt,
  zipBombUdt,
  zipSlipUdt,
} from './hostile-inputs.js';
import { repeatedBytes, type SendResult } from './http-client.js';
import { oversizedPublish } from './raw-mqtt.js';
import type { CaseContext, HostileCase } from './run-case.js';
import { DEMO_GATEWAY, SECRET_CLIENTS, TOPIC_PREFIX } from './service-harness.js';
import { countOf } from './store-peek.js';

const ENTREE = `/scope/entree/v1/etablissements/${DEMO_UAI}/emploi-du-temps`;
const VUE = `/scope/vue/${DEMO_UAI}`;
const DASHBOARD = `/tableau-de-bord/${DEMO_UAI}`;
const BOTH = ['sqlite', 'postgres'] as const;
const SQLITE = ['sqlite'] as const;
/** Another valid UAI of the Bas-Rhin, for the foreign-school cases. */
const OTHER_UAI = `0670998${uaiCheckLetter('0670998')}`;
/** A valid UAI no school has. */
const UNKNOWN_UAI = `0670997${uaiCheckLetter('0670997')}`;

interface Problem {
  code: string;
  message: string;
  where: string;
}

function problemsOf(res: SendResult): Problem[] {
  try {
    return (JSON.parse(res.text) as { errors?: Problem[] }).errors ?? [];
  } catch {
    return [];
  }
}

/** The exact status and first problem's code (and `where` when given) of a JSON problem body. */
function expectProblem(
  res: SendResult,
  status: number,
  code: string,
  where?: string | RegExp,
  what = '',
): Problem {
  const label = `${what} → ${res.status} ${res.error ?? ''} ${res.text.slice(0, 400)}`;
  expect(res.status, label).toBe(status);
  const problem = problemsOf(res)[0];
  expect(problem?.code, label).toBe(code);
  if (where !== undefined) {
    if (typeof where === 'string') expect(problem?.where, label).toContain(where);
    else expect(problem?.where, label).toMatch(where);
  }
  expect(problem?.message.length ?? 0, label).toBeGreaterThan(10);
  return problem!;
}

/**
 * An HTML page's refusal (VUE, dashboard): the status, and the code when the route answers with
 * a problem body; a page must at least name the parameter.
 */
function expectPageRefusal(
  res: SendResult,
  status: number,
  code: string,
  parameter: string,
  what: string,
): void {
  const label = `${what} → ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, label).toBe(status);
  if (String(res.headers['content-type'] ?? '').includes('json'))
    expectProblem(res, status, code, parameter, what);
  else expect(res.text, label).toContain(parameter);
}

const timed = async (run: () => Promise<SendResult>): Promise<[SendResult, number]> => {
  const res = await run();
  return [res, res.ms];
};

const put = (ctx: CaseContext, body: string | Uint8Array, query = '', headers: Record<string, string> = {}) =>
  ctx.http(`${ENTREE}${query}`, {
    method: 'PUT',
    token: ctx.service.tokens.editor,
    body,
    headers: { 'Content-Type': 'application/octet-stream', ...headers },
    timeoutMs: 20_000,
  });

/** Puts the demo timetable back (confirmed: the case may have left a much smaller one). */
async function restoreDemo(ctx: CaseContext): Promise<void> {
  const res = await put(ctx, JSON.stringify(buildDemoTimetable(Date.now())), '?format=json&confirm=replace', {
    'Content-Type': 'application/json',
  });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`restoring the demo timetable: ${res.status} ${res.text.slice(0, 300)}`);
}

/** Same origin as the service, as a browser's form POST sends it. */
const origin = (ctx: CaseContext) => ({ Origin: ctx.service.url });

async function metricValue(ctx: CaseContext, pattern: RegExp): Promise<number> {
  const res = await ctx.http('/metrics', { token: ctx.service.tokens.auditor });
  const match = pattern.exec(res.text);
  return match ? Number(match[1]) : Number.NaN;
}

async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  return waitFor(check, { timeoutMs, intervalMs: 50, what });
}

/** Imports `count` overlapping lessons, then opens VUE and the dashboard, each within its budget. */
function overlapCase(count: number, backends: readonly ('sqlite' | 'postgres')[]): HostileCase {
  let imported = false;
  // 2 s per page; 3 s at 100,000 lessons since VUE's grouped findings (issue 20) walk every lesson
  // again for the "never occurs" split: 2.2–2.6 s measured on the 2-core CI machine (session 4,
  // recorded as open work in docs/performance.md).
  const pageBudgetMs = count > 10_000 ? 3_000 : 2_000;
  return {
    name: `${count.toLocaleString('en')} lessons in one room at one slot, then VUE and the dashboard (200, fast)`,
    backends,
    repeat: true,
    refused: false,
    async attack(ctx) {
      let ms: number | undefined;
      if (!imported) {
        const [res, took] = await timed(() =>
          put(ctx, JSON.stringify(overlappingLessons(count)), '?format=json&confirm=replace', {
            'Content-Type': 'application/json',
          }),
        );
        expect(res.status, res.text.slice(0, 300)).toBe(201);
        imported = true;
        ms = took;
      }
      for (const path of [VUE, DASHBOARD]) {
        const res = await ctx.http(path, {
          token: ctx.service.tokens.manager,
          headers: { Accept: 'text/html' },
          timeoutMs: 30_000,
          keepBytes: 1024,
        });
        expect(res.status, `${path}: ${res.error ?? ''} ${res.text.slice(0, 200)}`).toBe(200);
        expect(res.ms, `${path} took ${res.ms.toFixed(0)} ms`).toBeLessThan(pageBudgetMs);
      }
      return ms;
    },
    async restore(ctx) {
      imported = false;
      await restoreDemo(ctx);
    },
  };
}

/** `count` wrong secrets for `clientId` from `localAddress`: 401 up to the threshold, then 429. */
async function throttled(
  count: number,
  attempt: (secret: string) => Promise<SendResult>,
  rightSecret: string,
): Promise<number> {
  const statuses: number[] = [];
  let first429: SendResult | undefined;
  let refusalMs: number | undefined;
  // One at a time up to past the threshold (10 by default), then 8 at once for the rest.
  for (let i = 0; i < 12; i++) {
    const res = await attempt(`wrong-secret-${i}`);
    statuses.push(res.status);
    if (res.status === 429 && !first429) {
      first429 = res;
      refusalMs = res.ms;
    }
  }
  for (let i = 12; i < count; i += 8) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(8, count - i) }, (_, k) => attempt(`wrong-secret-${i + k}`)),
    );
    statuses.push(...batch.map((r) => r.status));
    first429 ??= batch.find((r) => r.status === 429);
  }
  expect(statuses.slice(0, 10), 'the first 10 failures answer 401').toEqual(Array(10).fill(401));
  const firstBlocked = statuses.indexOf(429);
  expect(firstBlocked, `statuses: ${statuses.join(' ')}`).toBeGreaterThanOrEqual(10);
  expect(firstBlocked, `statuses: ${statuses.join(' ')}`).toBeLessThanOrEqual(11);
  expect(
    statuses.slice(firstBlocked).every((s) => s === 429),
    `statuses: ${statuses.join(' ')}`,
  ).toBe(true);
  const retryAfter = Number(first429?.headers['retry-after']);
  expect(
    Number.isInteger(retryAfter) && retryAfter > 0,
    `Retry-After: ${first429?.headers['retry-after']}`,
  ).toBe(true);
  if (String(first429?.headers['content-type']).includes('json'))
    expect(problemsOf(first429!)[0]?.code).toBe('too-many-attempts');
  const right = await attempt(rightSecret);
  expect(right.status, 'the right secret while blocked').toBe(429);
  return refusalMs ?? Number.NaN;
}

export const HOSTILE_CASES: readonly HostileCase[] = [
  // ------------------------------------------------------------------ imports that must be bounded
  {
    name: 'EDT of 100,000 nested elements (0.7 MB): 422 xml-too-deep',
    backends: BOTH,
    repeat: true,
    refused: true,
    async attack(ctx) {
      const res = await put(ctx, nestedEdt(100_000), '?format=edt', { 'Content-Type': 'application/xml' });
      expectProblem(res, 422, 'xml-too-deep', /\S/);
      return res.ms;
    },
  },
  {
    name: 'EDT of 30,000 nested levels (212 KB): 422 xml-too-deep',
    backends: SQLITE,
    repeat: true,
    refused: true,
    async attack(ctx) {
      const res = await put(ctx, nestedEdt(30_000), '?format=edt', { 'Content-Type': 'application/xml' });
      expectProblem(res, 422, 'xml-too-deep', /\S/);
      return res.ms;
    },
  },
  ...[1_000, 5_000].map(
    (events): HostileCase => ({
      name: `ICS with ${events.toLocaleString('en')} RRULE:FREQ=SECONDLY events: 422 ics-rule-too-many-occurrences`,
      backends: events === 1_000 ? BOTH : SQLITE,
      repeat: true,
      refused: true,
      async attack(ctx) {
        const res = await put(ctx, secondlyIcs(events), '?format=ics', { 'Content-Type': 'text/calendar' });
        expectProblem(res, 422, 'ics-rule-too-many-occurrences', /hostile-secondly-\d+|line \d+/);
        return res.ms;
      },
    }),
  ),
  overlapCase(2_000, SQLITE),
  overlapCase(100_000, SQLITE),
  {
    name: '200,000 unknown JSON keys: 100 warnings kept, warnings_total, small answers',
    backends: BOTH,
    repeat: false,
    refused: false,
    async attack(ctx) {
      const res = await put(ctx, unknownKeysJson(200_000), '?format=json', {
        'Content-Type': 'application/json',
      });
      expect(res.status, res.text.slice(0, 300)).toBe(201);
      expect(res.bodyBytes, 'the import answer').toBeLessThan(64 * 1024);
      const report = JSON.parse(res.text) as {
        warnings: unknown[];
        warnings_total?: number;
        version: number;
      };
      expect(report.warnings).toHaveLength(100);
      expect(report.warnings_total).toBe(200_000);
      const versions = await ctx.http(`/scope/entree/v1/etablissements/${DEMO_UAI}/versions`, {
        token: ctx.service.tokens.editor,
      });
      expect(versions.status).toBe(200);
      expect(versions.bodyBytes, 'GET …/versions').toBeLessThan(256 * 1024);
      const listed = (
        JSON.parse(versions.text) as {
          versions: { version: number; warnings_total?: number; warnings: unknown[] }[];
        }
      ).versions.find((v) => v.version === report.version);
      expect(listed?.warnings).toHaveLength(100);
      expect(listed?.warnings_total).toBe(200_000);
      return res.ms;
    },
    restore: restoreDemo,
  },
  // ------------------------------------------------------------------ request bodies
  {
    name: '200 MB body streamed to POST /api/overrides: 413 body-too-large, not buffered',
    backends: SQLITE,
    repeat: true,
    refused: false,
    maxRssGrowthMb: 64,
    async attack(ctx) {
      const chunk = new Uint8Array(64 * 1024).fill(0x61);
      async function* body(): AsyncGenerator<Uint8Array> {
        yield new TextEncoder().encode(`{"uai":"${DEMO_UAI}","reason":"`);
        yield* repeatedBytes(200 * 1024 * 1024, chunk);
        yield new TextEncoder().encode('"}');
      }
      const res = await ctx.http('/api/overrides', {
        method: 'POST',
        token: ctx.service.tokens.manager,
        headers: { 'Content-Type': 'application/json' },
        body: body(),
        timeoutMs: 30_000,
      });
      expectProblem(res, 413, 'body-too-large', 'body');
      expect(res.sentBytes, 'bytes sent before the answer').toBeLessThan(200 * 1024 * 1024);
      return res.ms;
    },
  },
  {
    name: 'oversized bodies on /connexion, the dashboard form, /oauth/token and a JSON API: 413 body-too-large',
    backends: SQLITE,
    repeat: true,
    refused: false,
    async attack(ctx) {
      const form = `identifiant=x&secret=${'a'.repeat(1024 * 1024)}`;
      const formHeaders = { 'Content-Type': 'application/x-www-form-urlencoded', ...origin(ctx) };
      const login = await ctx.http('/connexion', { method: 'POST', body: form, headers: formHeaders });
      expectProblem(login, 413, 'body-too-large', 'body', 'POST /connexion');
      const dashboard = await ctx.http(`${DASHBOARD}/derogations`, {
        method: 'POST',
        token: ctx.service.tokens.manager,
        body: `zone=cdi&raison=${'a'.repeat(1024 * 1024)}`,
        headers: formHeaders,
      });
      expectProblem(dashboard, 413, 'body-too-large', 'body', 'POST dashboard derogations');
      const token = await ctx.http('/oauth/token', {
        method: 'POST',
        body: `grant_type=client_credentials&client_id=x&client_secret=${'a'.repeat(1024 * 1024)}`,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
      expectProblem(token, 413, 'body-too-large', 'body', 'POST /oauth/token');
      const json = await ctx.http('/api/overrides', {
        method: 'POST',
        token: ctx.service.tokens.manager,
        body: JSON.stringify({ uai: DEMO_UAI, reason: 'a'.repeat(100 * 1024) }),
        headers: { 'Content-Type': 'application/json' },
      });
      expectProblem(json, 413, 'body-too-large', 'body', 'POST /api/overrides (100 kB)');
      return login.ms;
    },
  },
  // ------------------------------------------------------------------ dates and headers
  {
    name: 'date parameters out of range or malformed: 400 date-out-of-range / invalid-date',
    backends: SQLITE,
    repeat: true,
    refused: false,
    async attack(ctx) {
      const { manager, auditor, energie } = ctx.service.tokens;
      const plan = (date: string) =>
        ctx.http(`/api/etablissements/${DEMO_UAI}/plan?date=${date}`, { token: manager });
      const first = await plan('0020-02-29');
      expectProblem(first, 400, 'date-out-of-range', 'date', 'plan?date=0020-02-29');
      expectProblem(await plan('0000-01-01'), 400, 'date-out-of-range', 'date', 'plan?date=0000-01-01');
      expectProblem(await plan('9999-12-31'), 400, 'date-out-of-range', 'date', 'plan?date=9999-12-31');
      expectProblem(await plan('2026-02-30'), 400, 'invalid-date', 'date', 'plan?date=2026-02-30');
      expectProblem(
        await ctx.http(`/api/savings?uai=${DEMO_UAI}&from=9999-12-31&to=9999-12-31`, { token: auditor }),
        400,
        'date-out-of-range',
        'from',
        '/api/savings?from=9999-12-31',
      );
      expectProblem(
        await ctx.http(
          `/scope/sortie/v1/etablissements/${DEMO_UAI}/occupation?from=9999-12-31&to=9999-12-31`,
          {
            token: energie,
          },
        ),
        400,
        'date-out-of-range',
        'from',
        'SORTIE occupation?from=9999-12-31',
      );
      expectPageRefusal(
        await ctx.http(`${VUE}?semaine=9999-12-27`, { token: manager, headers: { Accept: 'text/html' } }),
        400,
        'date-out-of-range',
        'semaine',
        'VUE ?semaine=9999-12-27',
      );
      expectPageRefusal(
        await ctx.http(`${DASHBOARD}?jour=9999-12-31`, { token: manager, headers: { Accept: 'text/html' } }),
        400,
        'date-out-of-range',
        'jour',
        'dashboard ?jour=9999-12-31',
      );
      return first.ms;
    },
  },
  {
    name: 'malformed % escape in Content-Disposition: 400 bad-content-disposition',
    backends: SQLITE,
    repeat: true,
    refused: true,
    async attack(ctx) {
      const res = await put(ctx, JSON.stringify(buildDemoTimetable(Date.now())), '?format=json', {
        'Content-Type': 'application/json',
        'Content-Disposition': "attachment; filename*=UTF-8''emploi%E0%A4%A.json",
      });
      expectProblem(res, 400, 'bad-content-disposition');
      return res.ms;
    },
  },
  {
    name: 'security headers on HTML and JSON responses',
    backends: SQLITE,
    repeat: true,
    refused: false,
    async attack(ctx) {
      const { manager } = ctx.service.tokens;
      const responses: [string, SendResult][] = [
        ['JSON /api/gateways', await ctx.http('/api/gateways', { token: manager })],
        [
          'JSON 404',
          await ctx.http(`/scope/entree/v1/etablissements/${UNKNOWN_UAI}/versions`, { token: manager }),
        ],
        ['HTML /connexion', await ctx.http('/connexion')],
        // Cheap pages of VUE and the dashboard (an error page each): the headers are the app's,
        // and a full dashboard page costs 250–450 ms of the event loop before issue 13's fixes.
        [
          'HTML VUE (400 page)',
          await ctx.http(`${VUE}?semaine=pas-une-date`, { token: manager, headers: { Accept: 'text/html' } }),
        ],
        [
          'HTML dashboard (404 page)',
          await ctx.http(`/tableau-de-bord/${UNKNOWN_UAI}`, {
            token: manager,
            headers: { Accept: 'text/html' },
          }),
        ],
      ];
      for (const [what, res] of responses) {
        const csp = String(res.headers['content-security-policy'] ?? '');
        expect(csp, `${what}: Content-Security-Policy`).toMatch(/frame-ancestors 'none'/);
        const directives = new Map(
          csp.split(';').map((d) => {
            const [name = '', ...values] = d.trim().split(/\s+/);
            return [name, values] as const;
          }),
        );
        const scripts = directives.get('script-src') ?? directives.get('default-src');
        expect(scripts, `${what}: a script-src or default-src`).toBeDefined();
        expect(scripts, `${what}: scripts without unsafe-inline`).not.toContain("'unsafe-inline'");
        expect(res.headers['x-content-type-options'], what).toBe('nosniff');
        expect(['same-origin', 'no-referrer'], `${what}: Referrer-Policy`).toContain(
          res.headers['referrer-policy'],
        );
        expect(res.headers['x-frame-options'], what).toBe('DENY');
      }
      return responses[0]![1].ms;
    },
  },
  // ------------------------------------------------------------------ silent loss
  {
    name: 'UTF-8 bytes declared ISO-8859-1, strict: 422 encoding-mismatch',
    backends: BOTH,
    repeat: true,
    refused: true,
    async attack(ctx) {
      const { bytes, line } = utf8DeclaredLatin1Edt();
      const res = await put(ctx, bytes, '?format=edt&strict=true&confirm=replace', {
        'Content-Type': 'application/xml',
      });
      expectProblem(res, 422, 'encoding-mismatch', `line ${line}`);
      return res.ms;
    },
  },
  {
    name: 'UTF-8 bytes declared ISO-8859-1: stored with an encoding-mismatch warning',
    backends: SQLITE,
    repeat: false,
    refused: false,
    async attack(ctx) {
      const { bytes, line } = utf8DeclaredLatin1Edt();
      const res = await put(ctx, bytes, '?format=edt&confirm=replace', { 'Content-Type': 'application/xml' });
      expect(res.status, res.text.slice(0, 300)).toBe(201);
      const report = JSON.parse(res.text) as { warnings: Problem[] };
      expect(report.warnings.find((w) => w.code === 'encoding-mismatch')?.where).toBe(`line ${line}`);
      return res.ms;
    },
    restore: restoreDemo,
  },
  {
    name: 'ICS whose events all end before they start: 409 destructive-import with the diff',
    backends: BOTH,
    repeat: true,
    refused: true,
    async attack(ctx) {
      const res = await put(ctx, endsBeforeStartIcs(), '?format=ics', { 'Content-Type': 'text/calendar' });
      expectProblem(res, 409, 'destructive-import');
      const diff = (JSON.parse(res.text) as { diff?: Record<string, unknown> }).diff;
      expect(diff).toMatchObject({
        rooms_before: expect.any(Number),
        rooms_after: expect.any(Number),
        lessons_before: expect.any(Number),
        lessons_after: 0,
        rooms_removed: expect.any(Array),
      });
      expect(diff?.['lessons_before']).toBeGreaterThan(0);
      return res.ms;
    },
    // Before the fix this replaced the demo timetable by an empty one.
    restore: restoreDemo,
  },
  // ------------------------------------------------------------------ MQTT
  {
    name: 'a 100 MB retained reported publish closes the session without buffering',
    backends: SQLITE,
    repeat: true,
    refused: false,
    maxRssGrowthMb: 64,
    async attack(ctx) {
      const result = await oversizedPublish({
        url: ctx.service.mqttUrl,
        ...DEMO_GATEWAY,
        topic: `${TOPIC_PREFIX}/${DEMO_UAI}/cdi/heating/reported`,
        announcedBytes: 100 * 1024 * 1024,
        timeoutMs: 20_000,
      });
      expect(result.connack).toBe(0);
      expect(result.closedEarly, `the broker read ${result.sentBytes} bytes without closing`).toBe(true);
      return result.ms;
    },
  },
  {
    name: 'a gateway reporting 2,000 made-up zones: nothing stored or audited, counted',
    backends: BOTH,
    repeat: false,
    refused: false,
    async attack(ctx) {
      const counter = (reason: string) =>
        metricValue(
          ctx,
          new RegExp(`^scope_energie_reported_rejected_total\\{reason="${reason}"\\} (\\S+)$`, 'm'),
        );
      const rejected = async () => {
        const [undeclared, limited] = await Promise.all([
          counter('undeclared-zone'),
          counter('rate-limited'),
        ]);
        return { undeclared: undeclared || 0, limited: limited || 0 };
      };
      const before = await rejected();
      const client = await connectRaw(ctx.service.mqttUrl, DEMO_GATEWAY);
      const started = performance.now();
      try {
        const ts = new Date().toISOString();
        await Promise.all(
          Array.from({ length: 2_000 }, (_, i) =>
            client.publishAsync(
              `${TOPIC_PREFIX}/${DEMO_UAI}/hostile-zone-${i}/heating/reported`,
              JSON.stringify({ applied_rev: 1, mode: 'eco', setpoint_c: 16, source: 'local', ts }),
              { qos: 1 },
            ),
          ),
        );
      } finally {
        await client.endAsync();
      }
      const ms = performance.now() - started;
      // Every message was handled once the counters account for all 2,000 of them.
      const after = await waitUntil(
        'scope_energie_reported_rejected_total to count 2,000 more',
        async () => {
          const now = await rejected();
          return now.undeclared + now.limited - before.undeclared - before.limited >= 2_000 ? now : undefined;
        },
        5_000,
      ).catch((error: Error) => error);
      const stored = await countOf(
        ctx.service,
        "select count(*) as n from gateway_reported where zone like 'hostile-zone-%'",
      );
      const audited = await countOf(
        ctx.service,
        "select count(*) as n from audit_log where zone like 'hostile-zone-%'",
      );
      expect(stored, 'gateway_reported rows of made-up zones').toBe(0);
      expect(audited, 'audit entries of made-up zones').toBe(0);
      if (after instanceof Error) throw after;
      expect(after.undeclared + after.limited - before.undeclared - before.limited).toBe(2_000);
      expect(after.undeclared - before.undeclared).toBeGreaterThan(0);
      return ms;
    },
  },
  // ------------------------------------------------------------------ HTTP hardening
  {
    name: 'logout revokes the session on the server',
    backends: BOTH,
    repeat: true,
    refused: false,
    async attack(ctx) {
      const form = { 'Content-Type': 'application/x-www-form-urlencoded', ...origin(ctx) };
      const login = await ctx.http('/connexion', {
        method: 'POST',
        body: `jeton=${encodeURIComponent(ctx.service.tokens.manager)}&suite=${encodeURIComponent(VUE)}`,
        headers: form,
      });
      expect(login.status, login.text.slice(0, 200)).toBe(303);
      const cookie = String(login.headers['set-cookie'] ?? '').split(';')[0]!;
      expect(cookie).toMatch(/^scope_session=.+/);
      const page = () => ctx.http(VUE, { headers: { Cookie: cookie, Accept: 'text/html' } });
      expect((await page()).status, 'VUE with the session').toBe(200);
      const logout = await ctx.http('/deconnexion', { method: 'POST', headers: { ...form, Cookie: cookie } });
      expect(logout.status).toBe(303);
      const reused = await page();
      expect(reused.status, 'VUE with the logged-out cookie').toBe(303);
      expect(String(reused.headers['location'])).toMatch(/^\/connexion/);
      const script = await ctx.http(VUE, { headers: { Cookie: cookie } });
      expect(script.status, 'the old cookie without Accept: text/html').toBe(401);
      return logout.ms;
    },
  },
  {
    name: 'SQLite file, signing key and generated clients are 0600',
    backends: SQLITE,
    repeat: true,
    refused: false,
    async attack(ctx) {
      const started = performance.now();
      for (const file of [SQLITE_FILE_NAME, 'clients.generated.yaml', 'initial-credentials.txt']) {
        const mode = statSync(join(ctx.service.dataDir, file)).mode & 0o777;
        expect(mode.toString(8), file).toBe('600');
      }
      return performance.now() - started;
    },
  },
  {
    name: 'CLI `versions` into a closed pipe exits 0 quietly',
    backends: SQLITE,
    repeat: false,
    refused: false,
    async attack(ctx) {
      const started = performance.now();
      const child = spawn(
        process.execPath,
        [join(REPO_ROOT, 'bin', 'scope-energie.js'), 'versions', '--uai', DEMO_UAI],
        {
          cwd: ctx.service.dir,
          env: ctx.service.env,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      // The reader goes away before the command writes anything (like `| head -1` once satisfied).
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(stderr, 'stderr').not.toMatch(/EPIPE|Error|at \S+ \(/);
      expect(code, stderr).toBe(0);
      return performance.now() - started;
    },
  },
  {
    name: 'a comfort override without setpoint_c publishes the rule’s comfort setpoint (gymnasium: 14 °C)',
    backends: SQLITE,
    repeat: false,
    refused: false,
    async attack(ctx) {
      const watcher = await collectMessages(
        ctx.service.mqttUrl,
        DEMO_GATEWAY,
        `${TOPIC_PREFIX}/${DEMO_UAI}/gymnase/heating/desired`,
      );
      try {
        const res = await ctx.http('/api/overrides', {
          method: 'POST',
          token: ctx.service.tokens.manager,
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({
            uai: DEMO_UAI,
            zone: 'gymnase',
            function: 'heating',
            mode: 'comfort',
            duration: 'PT10M',
            reason: 'Tournoi (suite hostile)',
          }),
        });
        expect(res.status, res.text.slice(0, 300)).toBe(201);
        const id = (JSON.parse(res.text) as { id: string }).id;
        const message = await watcher.waitForMessage(
          (m) => (m.payload as { reason?: { override_id?: string } })?.reason?.override_id === id,
          5_000,
        );
        expect(message.payload).toMatchObject({ mode: 'comfort', setpoint_c: 14 });
        await ctx.http(`/api/overrides/${id}`, { method: 'DELETE', token: ctx.service.tokens.manager });
        return res.ms;
      } finally {
        await watcher.close();
      }
    },
  },
  // ------------------------------------------------------------------ what held and must keep holding
  {
    name: 'held: entity bombs (billion laughs) and XXE: 400 xml-doctype',
    backends: BOTH,
    repeat: true,
    refused: true,
    async attack(ctx) {
      const bomb = await put(ctx, billionLaughsEdt(), '?format=edt', { 'Content-Type': 'application/xml' });
      expectProblem(bomb, 400, 'xml-doctype', 'line 2', 'billion laughs');
      expectProblem(
        await put(ctx, xxeEdt(), '?format=edt', { 'Content-Type': 'application/xml' }),
        400,
        'xml-doctype',
        'line 2',
        'XXE',
      );
      return bomb.ms;
    },
  },
  {
    name: 'held: zip bomb (413 zip-bomb) and zip-slip (400 zip-unsafe-path) in UDT archives',
    backends: SQLITE,
    repeat: true,
    refused: true,
    async attack(ctx) {
      const query = `?format=udt&filename=${DEMO_UAI}_udt.zip`;
      const zip = { 'Content-Type': 'application/zip' };
      const bomb = await put(ctx, zipBombUdt(), query, zip);
      expectProblem(bomb, 413, 'zip-bomb', 'UDCal_12.xml', 'zip bomb');
      for (const name of ['../evil.xml', '/etc/passwd']) {
        expectProblem(
          await put(ctx, zipSlipUdt(name), query, zip),
          400,
          'zip-unsafe-path',
          name,
          `zip-slip ${name}`,
        );
      }
      return bomb.ms;
    },
  },
  {
    name: 'held: malformed XML (400 xml-malformed) and wrong UAIs (400 bad-uai, 422 uai-mismatch)',
    backends: SQLITE,
    repeat: true,
    refused: true,
    async attack(ctx) {
      const xml = { 'Content-Type': 'application/xml' };
      const malformed = await put(ctx, malformedEdt(), '?format=edt', xml);
      expectProblem(malformed, 400, 'xml-malformed', /line \d+/, 'malformed XML');
      const badLetter = await ctx.http(
        `/scope/entree/v1/etablissements/0670999A/emploi-du-temps?format=edt`,
        {
          method: 'PUT',
          token: ctx.service.tokens.editor,
          body: foreignUaiEdt('0670999A'),
          headers: xml,
        },
      );
      expectProblem(badLetter, 400, 'bad-uai', 'uai (path)', 'wrong check letter in the path');
      expectProblem(
        await put(ctx, foreignUaiEdt(OTHER_UAI), '?format=edt', xml),
        422,
        'uai-mismatch',
        'UAI',
        'another school in the file',
      );
      return malformed.ms;
    },
  },
  {
    name: 'held: tampered JWTs (alg none, changed payload) are refused with 401',
    backends: SQLITE,
    repeat: true,
    refused: false,
    async attack(ctx) {
      const { id, secret } = SECRET_CLIENTS.jwt;
      const issued = await ctx.http('/oauth/token', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials',
      });
      expect(issued.status, issued.text.slice(0, 200)).toBe(200);
      const jwt = (JSON.parse(issued.text) as { access_token: string }).access_token;
      expect((await ctx.http('/api/gateways', { token: jwt })).status, 'the genuine JWT').toBe(200);
      const [header, payload, signature] = jwt.split('.') as [string, string, string];
      const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<
        string,
        unknown
      >;
      const none = `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`;
      const changed = `${header}.${b64({ ...claims, sub: 'admin' })}.${signature}`;
      const longer = `${header}.${b64({ ...claims, exp: Number(claims['exp']) + 86_400 })}.${signature}`;
      for (const [what, token] of [
        ['alg none', none],
        ['sub changed to admin', changed],
        ['exp extended', longer],
      ] as const) {
        expectProblem(await ctx.http('/api/gateways', { token }), 401, 'unauthorized', undefined, what);
      }
      return issued.ms;
    },
  },
  {
    name: 'held: role and purpose checks (403, and 404 for a purpose that may not read timetables)',
    backends: SQLITE,
    repeat: true,
    refused: true,
    async attack(ctx) {
      const { energie, auditor, editor } = ctx.service.tokens;
      const consumerImport = await ctx.http(`${ENTREE}?format=json`, {
        method: 'PUT',
        token: energie,
        body: JSON.stringify(buildDemoTimetable(Date.now())),
        headers: { 'Content-Type': 'application/json' },
      });
      expectProblem(consumerImport, 403, 'forbidden', undefined, 'a consumer importing');
      const auditorOverride = await ctx.http('/api/overrides', {
        method: 'POST',
        token: auditor,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          uai: DEMO_UAI,
          zone: 'cdi',
          function: 'heating',
          mode: 'eco',
          duration: 'PT1H',
          reason: 'x',
        }),
      });
      expectProblem(auditorOverride, 403, 'forbidden', undefined, 'an auditor creating an override');
      expectProblem(
        await ctx.http('/metrics', { token: editor }),
        403,
        'forbidden',
        undefined,
        'an editor reading /metrics',
      );
      const energyTimetable = await ctx.http(`/scope/sortie/v1/etablissements/${DEMO_UAI}/emploi-du-temps`, {
        token: energie,
      });
      expectProblem(energyTimetable, 404, 'not-found', 'uai', 'the energy purpose reading the timetable');
      return consumerImport.ms;
    },
  },
  {
    name: 'held: a foreign school and an unknown one get identical 404s',
    backends: SQLITE,
    repeat: true,
    refused: false,
    async attack(ctx) {
      const { admin, editor, energie } = ctx.service.tokens;
      const other = {
        ...buildDemoTimetable(Date.now()),
        uai: OTHER_UAI,
        name: 'Lycée voisin (suite hostile)',
      };
      const seeded = await ctx.http(
        `/scope/entree/v1/etablissements/${OTHER_UAI}/emploi-du-temps?format=json`,
        {
          method: 'PUT',
          token: admin,
          body: JSON.stringify(other),
          headers: { 'Content-Type': 'application/json' },
        },
      );
      expect([200, 201], seeded.text.slice(0, 200)).toContain(seeded.status);
      const same = async (path: (uai: string) => string, token: string) => {
        const [foreign, unknown] = await Promise.all([
          ctx.http(path(OTHER_UAI), { token }),
          ctx.http(path(UNKNOWN_UAI), { token }),
        ]);
        expect(foreign.status, path(OTHER_UAI)).toBe(404);
        expect(unknown.status, path(UNKNOWN_UAI)).toBe(404);
        expect(foreign.text.replaceAll(OTHER_UAI, 'UAI')).toBe(unknown.text.replaceAll(UNKNOWN_UAI, 'UAI'));
        return foreign.ms;
      };
      const ms = await same((uai) => `/scope/entree/v1/etablissements/${uai}/versions`, editor);
      await same(
        (uai) => `/scope/sortie/v1/etablissements/${uai}/occupation?from=2026-11-30&to=2026-12-06`,
        energie,
      );
      return ms;
    },
  },
  {
    name: 'held: CSRF on the dashboard form and the login (403 cross-site or without Origin)',
    backends: SQLITE,
    repeat: true,
    refused: false,
    async attack(ctx) {
      const form = 'zone=cdi&fonction=heating&mode=eco&duree=PT1H&raison=csrf';
      const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
      const crossSite = await ctx.http(`${DASHBOARD}/derogations`, {
        method: 'POST',
        token: ctx.service.tokens.manager,
        body: form,
        headers: { ...headers, Origin: 'https://evil.example' },
      });
      expect(crossSite.status, 'dashboard POST from another origin').toBe(403);
      const noOrigin = await ctx.http(`${DASHBOARD}/derogations`, {
        method: 'POST',
        token: ctx.service.tokens.manager,
        body: form,
        headers,
      });
      expect(noOrigin.status, 'dashboard POST without Origin or Referer').toBe(403);
      const login = await ctx.http('/connexion', {
        method: 'POST',
        body: `jeton=${encodeURIComponent(ctx.service.tokens.manager)}`,
        headers: { ...headers, Origin: 'https://evil.example' },
      });
      expect(login.status, 'login from another origin').toBe(403);
      return crossSite.ms;
    },
  },
  {
    name: 'held: a room named with markup is escaped in VUE',
    backends: SQLITE,
    repeat: false,
    refused: false,
    async attack(ctx) {
      const name = '<script>alert("salle")</script><img src=x onerror=alert(1)>';
      const imported = await put(
        ctx,
        JSON.stringify(hostileRoomNameTimetable(name)),
        '?format=json&confirm=replace',
        {
          'Content-Type': 'application/json',
        },
      );
      expect(imported.status, imported.text.slice(0, 300)).toBe(201);
      const page = await ctx.http(VUE, {
        token: ctx.service.tokens.manager,
        headers: { Accept: 'text/html' },
      });
      expect(page.status).toBe(200);
      expect(page.text).toContain('&lt;script&gt;alert(&quot;salle&quot;)&lt;/script&gt;');
      expect(page.text).not.toContain('<script>alert(');
      expect(page.text).not.toContain('<img src=x');
      return page.ms;
    },
    restore: restoreDemo,
  },
  {
    name: 'held: MQTT authentication and ACLs (wrong password refused, another school’s topics refused)',
    backends: SQLITE,
    repeat: true,
    refused: false,
    async attack(ctx) {
      const started = performance.now();
      const refused = await connectOutcome(ctx.service.mqttUrl, {
        username: DEMO_GATEWAY.username,
        password: 'wrong',
      });
      expect([4, 5]).toContain(refused);
      const client = await connectRaw(ctx.service.mqttUrl, DEMO_GATEWAY);
      try {
        const granted = await client
          .subscribeAsync(`${TOPIC_PREFIX}/${OTHER_UAI}/+/+/desired`, { qos: 1 })
          .then(
            (grants) => grants[0]?.qos,
            () => 128,
          );
        expect(granted, 'a subscription to another school').toBe(128);
      } finally {
        await client.endAsync();
      }
      return performance.now() - started;
    },
  },
  // ------------------------------------------------------------------ throttling (last: it blocks addresses)
  {
    name: '300 wrong secrets on /oauth/token: 429 too-many-attempts with Retry-After past 10',
    backends: SQLITE,
    repeat: false,
    refused: false,
    timeoutMs: 120_000,
    async attack(ctx) {
      const { id, secret } = SECRET_CLIENTS.oauthThrottle;
      return throttled(
        300,
        (attempt) =>
          ctx.http('/oauth/token', {
            method: 'POST',
            localAddress: '127.0.0.2',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: `grant_type=client_credentials&client_id=${id}&client_secret=${attempt}`,
            timeoutMs: 60_000,
          }),
        secret,
      );
    },
  },
  {
    name: '200 wrong secrets on /connexion: 429 too-many-attempts with Retry-After past 10',
    backends: SQLITE,
    repeat: false,
    refused: false,
    timeoutMs: 120_000,
    async attack(ctx) {
      const { id, secret } = SECRET_CLIENTS.loginThrottle;
      return throttled(
        200,
        (attempt) =>
          ctx.http('/connexion', {
            method: 'POST',
            localAddress: '127.0.0.3',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...origin(ctx) },
            body: `identifiant=${id}&secret=${attempt}`,
            timeoutMs: 60_000,
          }),
        secret,
      );
    },
  },
];
