/**
 * SCOPE-SORTIE through the real hono app (`app.request()`), the real Authenticator and a real
 * store on every available backend, with the demo lycée's timetable (invented teachers, classes
 * and subjects) imported through ENTRÉE: who sees what, per role and purpose.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../../src/app/app.js';
import { Authenticator } from '../../../src/auth/authenticator.js';
import { buildDemoTimetable, DEMO_NAME, DEMO_UAI } from '../../../src/demo/demo-lycee.js';
import { ManualClock } from '../../../src/domain/clock.js';
import type { Problem } from '../../../src/domain/problems.js';
import type { Timetable, TimetableInput } from '../../../src/domain/timetable.js';
import { energyOccupancySchema, fullOccupancySchema } from '../../../src/scope/sortie/schemas.js';
import { schoolCalendars } from '../../../src/scope/sortie/school-calendars.js';
import type { Store } from '../../../src/store/store.js';
import { makeClients } from '../../helpers/clients.js';
import { checkDocumentedResponses } from '../../helpers/documented.js';
import { type StoreBackend, storeBackends } from '../../store/backends.js';

const OTHER_UAI = '0670080Y';
/** A valid UAI that no test imports. */
const ABSENT_UAI = '0679999E';
const SORTIE = '/scope/sortie/v1/etablissements';
const occupation = (uai: string, from: string, to: string) =>
  `${SORTIE}/${uai}/occupation?from=${from}&to=${to}`;
const ISSUER = 'scope-energie-test';
const KEY = randomBytes(32);

const problemsOf = async (res: Response) => (await res.json()) as { errors: [Problem, ...Problem[]] };

const backends: StoreBackend[] = await storeBackends();

describe.each(backends)('SCOPE-SORTIE on $name', (backend) => {
  const clock = new ManualClock(Date.parse('2025-11-28T10:00:00Z'));
  const made = makeClients([
    { id: 'editor', role: 'editor', uais: [DEMO_UAI] },
    { id: 'energie', role: 'consumer', purpose: 'sobriete-energetique', uais: [DEMO_UAI] },
    { id: 'ent', role: 'consumer', purpose: 'ent', uais: [DEMO_UAI] },
    { id: 'manager', role: 'manager', uais: [DEMO_UAI] },
    { id: 'auditor', role: 'auditor', uais: [DEMO_UAI] },
    { id: 'admin', role: 'admin' },
    { id: 'other-energie', role: 'consumer', purpose: 'sobriete-energetique', uais: [OTHER_UAI, ABSENT_UAI] },
  ]);
  // The same clients with a key this file knows, to forge JWTs.
  const authenticator = new Authenticator({
    clients: [...made.clients.values()].map((c) => c.client),
    signingKey: KEY,
    issuer: ISSUER,
    audience: ISSUER,
    tokenTtlSeconds: 300,
    clock,
  });
  const { bearer } = made;
  const demo: TimetableInput = buildDemoTimetable(clock.now());
  let store: Store;
  let app: ReturnType<typeof createHttpApp>;

  const get = (path: string, who: string, headers: Record<string, string> = {}) =>
    app.request(path, { headers: { ...bearer(who), ...headers } });
  const put = (timetable: TimetableInput, who = 'editor') =>
    app.request(`/scope/entree/v1/etablissements/${DEMO_UAI}/emploi-du-temps`, {
      method: 'PUT',
      body: JSON.stringify(timetable),
      headers: { 'Content-Type': 'application/json', ...bearer(who) },
    });

  beforeAll(async () => {
    store = await backend.open();
    app = checkDocumentedResponses(
      createHttpApp({
        authenticator,
        entree: { store, clock, bodyLimitBytes: 4 * 1024 * 1024, strictJson: false },
        sortie: { store, calendars: schoolCalendars({ zone: 'B' }) },
      }),
    );
    const res = await put(demo);
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ version: 1 });
  });
  afterAll(() => backend.cleanup());

  describe('establishments', () => {
    it('lists the schools of the client’s list that have a timetable, with name and version', async () => {
      for (const who of ['energie', 'ent', 'manager', 'auditor', 'admin']) {
        const res = await get(SORTIE, who);
        expect(res.status, who).toBe(200);
        expect(await res.json()).toEqual({
          etablissements: [
            {
              uai: DEMO_UAI,
              name: DEMO_NAME,
              timezone: 'Europe/Paris',
              version: 1,
              updated_at: '2025-11-28T10:00:00.000Z',
            },
          ],
        });
      }
      const other = await get(SORTIE, 'other-energie');
      expect(await other.json()).toEqual({ etablissements: [] });
    });

    it('refuses editors (403) and anonymous callers (401)', async () => {
      const res = await get(SORTIE, 'editor');
      expect(res.status).toBe(403);
      expect((await problemsOf(res)).errors[0]).toMatchObject({
        code: 'forbidden',
        where: 'Authorization header',
      });
      expect((await app.request(SORTIE)).status).toBe(401);
    });
  });

  describe('occupancy: exact instants and who sees the sources', () => {
    it('gives a Monday 08:00 Paris lesson in winter as 07:00Z, with its lesson id for purpose ent', async () => {
      const res = await get(occupation(DEMO_UAI, '2025-12-01', '2025-12-01'), 'ent');
      expect(res.status).toBe(200);
      const body = fullOccupancySchema.parse(await res.json());
      expect(body).toMatchObject({
        uai: DEMO_UAI,
        version: 1,
        timezone: 'Europe/Paris',
        from: '2025-12-01',
        to: '2025-12-01',
      });
      // B101 on Mondays: slots 08:00–09:55, 10:10–12:05, 13:30–15:25 (demo-lycee.ts usage()).
      expect(body.rooms.find((r) => r.room === 'B101')).toEqual({
        room: 'B101',
        name: 'B101',
        intervals: [
          { start: '2025-12-01T07:00:00Z', end: '2025-12-01T08:55:00Z', source: ['demo-B101-1-0'] },
          { start: '2025-12-01T09:10:00Z', end: '2025-12-01T11:05:00Z', source: ['demo-B101-1-1'] },
          { start: '2025-12-01T12:30:00Z', end: '2025-12-01T14:25:00Z', source: ['demo-B101-1-2'] },
        ],
      });
    });

    it('gives the same lesson in summer time as 06:00Z, without sources for the energy purpose', async () => {
      const res = await get(occupation(DEMO_UAI, '2025-09-08', '2025-09-08'), 'energie');
      const body = energyOccupancySchema.parse(await res.json());
      expect(body.rooms.find((r) => r.room === 'B101')).toEqual({
        room: 'B101',
        name: 'B101',
        intervals: [
          { start: '2025-09-08T06:00:00Z', end: '2025-09-08T07:55:00Z' },
          { start: '2025-09-08T08:10:00Z', end: '2025-09-08T10:05:00Z' },
          { start: '2025-09-08T11:30:00Z', end: '2025-09-08T13:25:00Z' },
        ],
      });
    });

    it('gives managers and admin the sources, auditors the energy shape', async () => {
      const range = occupation(DEMO_UAI, '2025-12-01', '2025-12-01');
      for (const who of ['manager', 'admin']) {
        const body = fullOccupancySchema.parse(await (await get(range, who)).json());
        expect(body.rooms.find((r) => r.room === 'B101')?.intervals[0]?.source, who).toEqual([
          'demo-B101-1-0',
        ]);
      }
      const audit = energyOccupancySchema.parse(await (await get(range, 'auditor')).json());
      expect(audit.rooms.find((r) => r.room === 'B101')?.intervals[0]).toEqual({
        start: '2025-12-01T07:00:00Z',
        end: '2025-12-01T08:55:00Z',
      });
    });

    it('drops the holidays: nothing on 2025-12-25 (Noël, zone B)', async () => {
      const body = energyOccupancySchema.parse(
        await (await get(occupation(DEMO_UAI, '2025-12-22', '2025-12-28'), 'energie')).json(),
      );
      expect(body.rooms).toHaveLength(15);
      expect(body.rooms.every((r) => r.intervals.length === 0)).toBe(true);
    });
  });

  describe('the energy purpose never receives personal data', () => {
    const personal = [
      ...new Set(
        demo.lessons.flatMap((l) => [
          ...(l.teachers ?? []),
          ...(l.groups ?? []),
          ...(l.subject ? [l.subject] : []),
        ]),
      ),
    ];
    const roomWords = demo.rooms.flatMap((r) => [r.id, r.name]);

    it('has personal values to look for (the import carries teachers, classes and subjects)', () => {
      expect(personal).toContain('Mme ARNAUD');
      expect(personal).toContain('2NDE 1');
      expect(personal).toContain('MATHÉMATIQUES');
      expect(personal.length).toBeGreaterThan(25);
    });

    it('finds none of them, nor any lesson id, in any SORTIE response to the energy consumer', async () => {
      const responses = [
        await get(SORTIE, 'energie'),
        await get(occupation(DEMO_UAI, '2025-11-24', '2025-12-07'), 'energie'),
        await get(occupation(DEMO_UAI, '2025-09-01', '2025-10-31'), 'energie'),
        await get(`${SORTIE}/${DEMO_UAI}/emploi-du-temps`, 'energie'),
      ];
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 404]);
      for (const res of responses) {
        const text = await res.text();
        for (const value of personal) {
          // As a JSON string value: never. As a substring too, unless a room is named with it
          // (the subject "SVT" is part of the room "LABO-SVT", which the energy purpose may see).
          expect(text, value).not.toContain(JSON.stringify(value));
          if (!roomWords.some((word) => word.includes(value))) expect(text, value).not.toContain(value);
        }
        expect(text).not.toContain('demo-');
        expect(text).not.toContain('"source"');
      }
      // The occupancy bodies hold exactly the allow-listed fields (strict schema).
      const week = await get(occupation(DEMO_UAI, '2025-11-24', '2025-12-07'), 'energie');
      expect(energyOccupancySchema.safeParse(await week.json()).success).toBe(true);
    });

    it('serves the normalised timetable to purpose ent and managers, 404 to the energy purpose', async () => {
      const ent = await get(`${SORTIE}/${DEMO_UAI}/emploi-du-temps`, 'ent');
      expect(ent.status).toBe(200);
      expect(ent.headers.get('Timetable-Version')).toBe('1');
      const timetable = (await ent.json()) as Timetable;
      expect(timetable.lessons.find((l) => l.id === 'demo-B101-1-0')).toMatchObject({
        rooms: ['B101'],
        day: 1,
        start: '08:00',
        end: '09:55',
      });
      expect(JSON.stringify(timetable)).toContain('"Mme ARNAUD"');
      expect((await get(`${SORTIE}/${DEMO_UAI}/emploi-du-temps`, 'manager')).status).toBe(200);

      const energy = await get(`${SORTIE}/${DEMO_UAI}/emploi-du-temps`, 'energie');
      const absent = await get(`${SORTIE}/${ABSENT_UAI}/emploi-du-temps`, 'other-energie');
      expect(energy.status).toBe(404);
      expect(absent.status).toBe(404);
      // Identical but for the UAI named in the message.
      expect((await energy.text()).replaceAll(DEMO_UAI, 'U')).toBe(
        (await absent.text()).replaceAll(ABSENT_UAI, 'U'),
      );
      expect((await get(`${SORTIE}/${DEMO_UAI}/emploi-du-temps`, 'auditor')).status).toBe(403);
    });
  });

  describe('access by role and list', () => {
    it('refuses editors on every SORTIE route (403)', async () => {
      for (const path of [
        occupation(DEMO_UAI, '2025-12-01', '2025-12-01'),
        `${SORTIE}/${DEMO_UAI}/emploi-du-temps`,
      ]) {
        const res = await get(path, 'editor');
        expect(res.status, path).toBe(403);
        expect((await problemsOf(res)).errors[0].code).toBe('forbidden');
      }
    });

    it('refuses consumers on ENTRÉE (403)', async () => {
      for (const who of ['energie', 'ent']) {
        const res = await put(demo, who);
        expect(res.status, who).toBe(403);
      }
    });

    it('answers a UAI outside the list exactly like a school that does not exist (404)', async () => {
      const hidden = await get(occupation(DEMO_UAI, '2025-12-01', '2025-12-01'), 'other-energie');
      const absent = await get(occupation(ABSENT_UAI, '2025-12-01', '2025-12-01'), 'other-energie');
      expect(hidden.status).toBe(404);
      expect(absent.status).toBe(404);
      expect(hidden.headers.get('ETag')).toBeNull();
      expect(await hidden.json()).toEqual({
        errors: [{ code: 'not-found', message: `establishment ${DEMO_UAI} not found`, where: 'uai (path)' }],
      });
      expect(await absent.json()).toEqual({
        errors: [
          { code: 'not-found', message: `establishment ${ABSENT_UAI} not found`, where: 'uai (path)' },
        ],
      });
    });
  });

  describe('tokens', () => {
    const forged = (
      claims: Record<string, unknown>,
      options: { aud?: string; exp?: number; key?: Uint8Array } = {},
    ) => {
      const now = Math.floor(clock.now() / 1000);
      return new SignJWT({ role: 'consumer', purpose: 'sobriete-energetique', uais: [DEMO_UAI], ...claims })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject('energie')
        .setIssuer(ISSUER)
        .setAudience(options.aud ?? ISSUER)
        .setIssuedAt(now - 600)
        .setExpirationTime(options.exp ?? now + 300)
        .sign(options.key ?? KEY);
    };
    const withJwt = (jwt: string) =>
      app.request(occupation(DEMO_UAI, '2025-12-01', '2025-12-01'), {
        headers: { Authorization: `Bearer ${jwt}` },
      });

    it('accepts a JWT issued for the client', async () => {
      const { access_token } = await authenticator.mintToken('energie');
      expect((await withJwt(access_token)).status).toBe(200);
      expect((await withJwt(await forged({}))).status).toBe(200);
    });

    it('refuses expired, tampered, wrong-audience and wrongly signed JWTs with 401', async () => {
      const now = Math.floor(clock.now() / 1000);
      const valid = (await authenticator.mintToken('energie')).access_token;
      const [header, payload, signature] = valid.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      const widened = Buffer.from(JSON.stringify({ ...claims, purpose: 'ent' })).toString('base64url');
      const cases: [string, string, string][] = [
        ['expired', await forged({}, { exp: now - 60 }), 'has expired'],
        ['tampered (purpose ent, same signature)', `${header}.${widened}.${signature}`, 'not valid'],
        ['wrong audience', await forged({}, { aud: 'another-service' }), 'not valid'],
        ['signed with another key', await forged({}, { key: randomBytes(32) }), 'not valid'],
      ];
      for (const [what, jwt, message] of cases) {
        const res = await withJwt(jwt);
        expect(res.status, what).toBe(401);
        const error = (await problemsOf(res)).errors[0];
        expect(error.code, what).toBe('unauthorized');
        expect(error.where, what).toBe('Authorization header');
        expect(error.message, what).toContain(message);
        expect(res.headers.get('WWW-Authenticate'), what).toMatch(
          /^Bearer realm="scope-energie", error="invalid_token"/,
        );
      }
    });
  });

  describe('query validation', () => {
    const expectProblem = async (
      path: string,
      status: number,
      problem: { code: string; where: string },
      text?: string,
    ) => {
      const res = await get(path, 'energie');
      expect(res.status, path).toBe(status);
      const body = await problemsOf(res);
      expect(body.errors[0], path).toMatchObject(problem);
      if (text) expect(body.errors[0].message).toContain(text);
    };

    it('names the missing or malformed parameter (400)', async () => {
      await expectProblem(`${SORTIE}/${DEMO_UAI}/occupation?to=2025-12-01`, 400, {
        code: 'parameter-missing',
        where: 'from (query)',
      });
      await expectProblem(`${SORTIE}/${DEMO_UAI}/occupation?from=2025-12-01`, 400, {
        code: 'parameter-missing',
        where: 'to (query)',
      });
      // Date parameters (issue 13): invalid-date / date-out-of-range, named bare.
      await expectProblem(occupation(DEMO_UAI, '2025-13-01', '2025-12-01'), 400, {
        code: 'invalid-date',
        where: 'from',
      });
      await expectProblem(occupation(DEMO_UAI, '2025-12-01', '01/12/2025'), 400, {
        code: 'invalid-date',
        where: 'to',
      });
      await expectProblem(occupation(DEMO_UAI, '9999-12-01', '9999-12-02'), 400, {
        code: 'date-out-of-range',
        where: 'from',
      });
      await expectProblem(occupation(DEMO_UAI, '2099-12-31', '2100-01-01'), 400, {
        code: 'date-out-of-range',
        where: 'to',
      });
      await expectProblem(occupation('0670999A', '2025-12-01', '2025-12-01'), 400, {
        code: 'bad-uai',
        where: 'uai (path)',
      });
    });

    it('refuses to before from, and ranges over 62 days (400); 62 days pass', async () => {
      await expectProblem(occupation(DEMO_UAI, '2025-12-02', '2025-12-01'), 400, {
        code: 'bad-range',
        where: 'to (query)',
      });
      await expectProblem(
        occupation(DEMO_UAI, '2025-11-01', '2026-01-02'),
        400,
        { code: 'range-too-long', where: 'to (query)' },
        'the cap is 62 days',
      );
      const ok = await get(occupation(DEMO_UAI, '2025-11-01', '2026-01-01'), 'energie');
      expect(ok.status).toBe(200);
    });
  });

  describe('ETag', () => {
    const week = occupation(DEMO_UAI, '2025-12-01', '2025-12-07');

    it('is equal for identical requests, answers If-None-Match with 304 and an empty body', async () => {
      const a = await get(week, 'energie');
      const b = await get(week, 'energie');
      const tag = a.headers.get('ETag');
      expect(tag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
      expect(b.headers.get('ETag')).toBe(tag);
      expect(a.headers.get('Cache-Control')).toBe('private, no-cache');
      expect(await a.text()).toBe(await b.text());

      const revalidated = await get(week, 'energie', { 'If-None-Match': tag ?? '' });
      expect(revalidated.status).toBe(304);
      expect(revalidated.headers.get('ETag')).toBe(tag);
      expect(await revalidated.text()).toBe('');
      // A list of tags and the weak form match too (RFC 9110 §13.1.2).
      expect((await get(week, 'energie', { 'If-None-Match': `"other", W/${tag}` })).status).toBe(304);
      expect((await get(week, 'energie', { 'If-None-Match': '"other"' })).status).toBe(200);
    });

    it('differs for another range and for another response shape', async () => {
      const tag = (await get(week, 'energie')).headers.get('ETag');
      const other = (await get(occupation(DEMO_UAI, '2025-12-01', '2025-12-08'), 'energie')).headers.get(
        'ETag',
      );
      const ent = (await get(week, 'ent')).headers.get('ETag');
      expect(other).not.toBe(tag);
      expect(ent).not.toBe(tag);
      // Two clients of one purpose share the tag: it depends on the content, not on who asks.
      expect((await get(week, 'auditor')).headers.get('ETag')).toBe(tag);
    });

    it('stays the same when the same bytes are imported again, changes with a new version', async () => {
      const before = (await get(week, 'energie')).headers.get('ETag') ?? '';
      const same = await put(demo);
      expect(same.status).toBe(200);
      expect((await get(week, 'energie')).headers.get('ETag')).toBe(before);
      expect((await get(week, 'energie', { 'If-None-Match': before })).status).toBe(304);

      const changed = await put({
        ...demo,
        cancellations: [{ lesson: 'demo-B101-1-0', date: '2025-12-01' }],
      });
      expect(changed.status).toBe(201);
      const after = await get(week, 'energie', { 'If-None-Match': before });
      expect(after.status).toBe(200);
      expect(after.headers.get('ETag')).not.toBe(before);
      const body = energyOccupancySchema.parse(await after.json());
      expect(body.version).toBe(2);
      // The cancelled 08:00 lesson is gone from the new version's body (not served from the cache).
      expect(body.rooms.find((r) => r.room === 'B101')?.intervals[0]).toEqual({
        start: '2025-12-01T09:10:00Z',
        end: '2025-12-01T11:05:00Z',
      });
    });
  });
});
