/**
 * SCOPE-ENTRÉE through the real hono app (`app.request()`, no server), the real authenticator and
 * a real store on every available backend (SQLite always, PostgreSQL when DATABASE_URL is set).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../../src/app/app.js';
import { ManualClock } from '../../../src/domain/clock.js';
import type { TimetableInput } from '../../../src/domain/timetable.js';
import type { Store } from '../../../src/store/store.js';
import { makeClients } from '../../helpers/clients.js';
import { checkDocumentedResponses } from '../../helpers/documented.js';
import { type StoreBackend, storeBackends } from '../../store/backends.js';

const UAI = '0679999E';
const OTHER_UAI = '0670080Y';
const URL_OF = (uai: string) => `/scope/entree/v1/etablissements/${uai}/emploi-du-temps`;

function timetable(overrides: Partial<TimetableInput> = {}): TimetableInput {
  return {
    uai: UAI,
    name: 'Lycée exemple',
    school_year: { start: '2025-09-01', end: '2026-07-04' },
    rooms: [
      { id: 'B012', name: 'B012' },
      { id: 'LABO 1', name: 'LABO 1' },
    ],
    lessons: [
      {
        id: 'L1',
        rooms: ['B012'],
        day: 1,
        start: '08:00',
        end: '09:50',
        weeks: ['2025-09-01', '2025-09-08'],
        teachers: ['ALPHA Inès'],
      },
      { id: 'L2', rooms: ['LABO 1'], day: 2, start: '10:05', end: '11:00', dates: ['2025-09-02'] },
    ],
    ...overrides,
  };
}

const body = (value: unknown) => JSON.stringify(value);
// biome-ignore lint/suspicious/noExplicitAny: response bodies are untyped JSON, asserted field by field below.
type Json = any;
const json = async (res: Response): Promise<Json> => res.json();

const backends: StoreBackend[] = await storeBackends();

describe.each(backends)('SCOPE-ENTRÉE on $name', (backend) => {
  let store: Store;
  const clock = new ManualClock(Date.parse('2025-08-28T10:00:00Z'));
  const { authenticator, bearer } = makeClients([
    { id: 'editor', role: 'editor', uais: [UAI] },
    { id: 'other-editor', role: 'editor', uais: [OTHER_UAI] },
    { id: 'energie', role: 'consumer', purpose: 'sobriete-energetique', uais: [UAI] },
    { id: 'manager', role: 'manager', uais: [UAI] },
    { id: 'auditor', role: 'auditor', uais: [UAI] },
  ]);
  let app: ReturnType<typeof createHttpApp>;
  const imported: [string, number, string][] = [];

  beforeAll(async () => {
    store = await backend.open();
    app = checkDocumentedResponses(
      createHttpApp({
        authenticator,
        entree: {
          store,
          clock,
          bodyLimitBytes: 64 * 1024,
          strictJson: false,
          onImported: (report, by) => imported.push([report.uai, report.version, by]),
        },
      }),
    );
  });
  afterAll(() => backend.cleanup());

  const put = (payload: string | Uint8Array, headers: Record<string, string> = {}, uai = UAI, query = '') =>
    app.request(`${URL_OF(uai)}${query}`, {
      method: 'PUT',
      body: payload,
      headers: { 'Content-Type': 'application/json', ...bearer('editor'), ...headers },
    });

  it('stores a first import as version 1 (201) with the report of docs/api.md', async () => {
    const res = await put(body(timetable()));
    expect(res.status).toBe(201);
    const report = await json(res);
    expect(report).toMatchObject({
      uai: UAI,
      version: 1,
      unchanged: false,
      format: 'json',
      counts: { rooms: 2, lessons: 2, occurrences: 3 },
      warnings: [],
    });
    expect(report.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(imported).toEqual([[UAI, 1, 'editor']]);
  });

  it('answers 200 unchanged with the same version for the same bytes', async () => {
    const res = await put(body(timetable()));
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ version: 1, unchanged: true });
    expect(imported).toEqual([[UAI, 1, 'editor']]);
  });

  it('refuses bad input with {errors:[{code,message,where}]} and keeps the previous version intact', async () => {
    const before = await store.timetables.current(UAI);
    const cases: [string, Response, number, string, string][] = [
      ['malformed JSON', await put('{"rooms": ['), 400, 'json-malformed', 'line 1'],
      [
        'wrong types',
        await put(body({ ...timetable(), rooms: [{ id: 3, name: 'x' }] })),
        422,
        'json-invalid-type',
        '$.rooms[0].id',
      ],
      [
        'lesson ending before it starts',
        await put(
          body(
            timetable({
              lessons: [{ id: 'X', rooms: [], day: 1, start: '10:00', end: '09:00', weeks: ['2025-09-01'] }],
            }),
          ),
        ),
        422,
        'lesson-ends-before-start',
        '$.lessons[0].end',
      ],
      [
        'undeclared room',
        await put(
          body(
            timetable({
              lessons: [
                { id: 'X', rooms: ['Z99'], day: 1, start: '08:00', end: '09:00', weeks: ['2025-09-01'] },
              ],
            }),
          ),
        ),
        422,
        'room-undeclared',
        '$.lessons[0].rooms[0]',
      ],
      [
        'wrong check letter in the file',
        await put(body(timetable({ uai: '0679999A' }))),
        422,
        'bad-uai',
        'UAI in the file',
      ],
      [
        'UAI of another school in the file',
        await put(body(timetable({ uai: OTHER_UAI }))),
        422,
        'uai-mismatch',
        'UAI in the file',
      ],
      [
        'unknown format parameter',
        await put(body(timetable()), {}, UAI, '?format=xls'),
        400,
        'format-unknown',
        'format',
      ],
      [
        'unrecognisable body',
        await put('hello', { 'Content-Type': 'application/octet-stream' }),
        415,
        'format-unknown',
        'body',
      ],
      [
        'oversize body',
        await put(body({ ...timetable(), name: 'x'.repeat(70 * 1024) })),
        413,
        'body-too-large',
        'body',
      ],
      ['empty body', await put(''), 400, 'body-empty', 'body'],
      [
        'malformed XML',
        await put('<?xml version="1.0"?><ExportEmploiDuTemps><Cours></ExportEmploiDuTemps>', {
          'Content-Type': 'application/xml',
        }),
        400,
        'xml-malformed',
        'line 1',
      ],
      [
        'bad encoding',
        await put(
          Buffer.concat([Buffer.from('{"name": "'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
          {},
        ),
        400,
        'encoding-invalid',
        'line 1',
      ],
    ];
    for (const [what, res, status, code, where] of cases) {
      expect(res.status, what).toBe(status);
      const parsed = (await json(res)) as { errors: { code: string; message: string; where: string }[] };
      expect(parsed.errors[0]?.code, what).toBe(code);
      expect(parsed.errors[0]?.where, what).toContain(where);
      expect(parsed.errors[0]?.message.length, what).toBeGreaterThan(10);
    }
    const after = await store.timetables.current(UAI);
    expect(after?.version).toBe(1);
    expect(JSON.stringify(after?.timetable)).toBe(JSON.stringify(before?.timetable));
    expect(await store.timetables.listVersions(UAI)).toHaveLength(1);
  });

  it('refuses a path UAI with a wrong check letter (400)', async () => {
    const res = await put(body(timetable()), {}, '0679999A');
    expect(res.status).toBe(400);
    expect((await json(res)).errors[0]).toMatchObject({ code: 'bad-uai', where: 'uai (path)' });
  });

  it('gives 401 without or with a wrong token, 403 to a consumer, 404 for a UAI outside the list', async () => {
    const noToken = await app.request(URL_OF(UAI), { method: 'PUT', body: body(timetable()) });
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('WWW-Authenticate')).toContain('Bearer');
    const wrong = await put(body(timetable()), { Authorization: 'Bearer not-a-token' });
    expect(wrong.status).toBe(401);
    const consumer = await put(body(timetable()), bearer('energie'));
    expect(consumer.status).toBe(403);
    expect((await json(consumer)).errors[0].code).toBe('forbidden');
    const outside = await put(body(timetable()), bearer('other-editor'));
    expect(outside.status).toBe(404);
    const missing = await put(body(timetable({ uai: '0750654D' })), bearer('other-editor'), '0750654D');
    expect(missing.status).toBe(404);
    // Same body for "exists but not yours" and "does not exist": nothing to probe.
    expect((await json(outside)).errors[0].message.replace(UAI, 'X')).toBe(
      (await json(missing)).errors[0].message.replace('0750654D', 'X'),
    );
  });

  it('keeps a version history and diffs two versions', async () => {
    clock.advance(60_000);
    const second = timetable({
      lessons: [
        {
          id: 'L1',
          rooms: ['B012'],
          day: 1,
          start: '08:00',
          end: '10:00',
          weeks: ['2025-09-01', '2025-09-08'],
        },
        { id: 'L3', rooms: ['LABO 1'], day: 4, start: '13:30', end: '14:25', weeks: ['2025-09-01'] },
      ],
    });
    const res = await put(body(second));
    expect(res.status).toBe(201);
    expect((await json(res)).version).toBe(2);

    const versions = await app.request(`/scope/entree/v1/etablissements/${UAI}/versions`, {
      headers: bearer('manager'),
    });
    expect(versions.status).toBe(200);
    const list = await json(versions);
    expect(
      list.versions.map((v: { version: number; importedBy: string }) => [v.version, v.importedBy]),
    ).toEqual([
      [2, 'editor'],
      [1, 'editor'],
    ]);
    expect(list.versions[0].importedAt).toBe('2025-08-28T10:01:00.000Z');

    const diff = await app.request(`/scope/entree/v1/etablissements/${UAI}/versions/1/diff/2`, {
      headers: bearer('manager'),
    });
    expect(diff.status).toBe(200);
    const d = await json(diff);
    expect(d.lessons.added.map((l: { id: string }) => l.id)).toEqual(['L3']);
    expect(d.lessons.removed.map((l: { id: string }) => l.id)).toEqual(['L2']);
    expect(d.lessons.changed.map((l: { id: string }) => l.id)).toEqual(['L1']);
    expect(d.rooms).toEqual({ added: [], removed: [], changed: [] });

    // The manager sees L1's teacher go; the auditor sees only when and where lessons meet.
    expect(d.lessons.changed[0].changes.map((c: { field: string }) => c.field)).toEqual(['end', 'teachers']);
    const audited = await app.request(`/scope/entree/v1/etablissements/${UAI}/versions/1/diff/2`, {
      headers: bearer('auditor'),
    });
    expect(audited.status).toBe(200);
    const text = await audited.text();
    expect(text).not.toContain('ALPHA');
    expect(JSON.parse(text)).toEqual({
      uai: UAI,
      from: 1,
      to: 2,
      rooms: { added: [], removed: [], changed: [] },
      lessons: {
        added: [{ id: 'L3', rooms: ['LABO 1'], day: 4, start: '13:30', end: '14:25', weeks: ['2025-09-01'] }],
        removed: [
          { id: 'L2', rooms: ['LABO 1'], day: 2, start: '10:05', end: '11:00', dates: ['2025-09-02'] },
        ],
        changed: [{ id: 'L1', changes: [{ field: 'end', before: '09:50', after: '10:00' }] }],
      },
      withheld: { lessons: ['subject', 'teachers', 'groups'] },
    });

    const missing = await app.request(`/scope/entree/v1/etablissements/${UAI}/versions/1/diff/9`, {
      headers: bearer('manager'),
    });
    expect(missing.status).toBe(404);
    const bad = await app.request(`/scope/entree/v1/etablissements/${UAI}/versions/x/diff/2`, {
      headers: bearer('manager'),
    });
    expect(bad.status).toBe(400);
  });

  it('imports the EDT worked example of docs/formats.md as XML, sniffed from the bytes', async () => {
    const xml = readFileSync(new URL('../../fixtures/edt/exemple-0679999E.xml', import.meta.url));
    const res = await put(xml, { 'Content-Type': 'application/octet-stream' });
    expect(res.status).toBe(201);
    const report = await json(res);
    expect(report).toMatchObject({ format: 'edt', version: 3, counts: { rooms: 2 } });
    const stored = await store.timetables.current(UAI);
    expect(stored?.timetable.rooms.map((r) => r.name).sort()).toEqual(['B012', 'LABO 1']);
  });

  it('ends two simultaneous imports for one school in a consistent state', async () => {
    const a = timetable({ name: 'A' });
    const b = timetable({ name: 'B' });
    const [ra, rb] = await Promise.all([put(body(a)), put(body(b))]);
    const versions = [(await json(ra)).version, (await json(rb)).version].sort();
    expect(versions).toEqual([4, 5]);
    const current = await store.timetables.current(UAI);
    expect(current?.version).toBe(5);
    expect(['A', 'B']).toContain(current?.timetable.name);
  });
});
