/**
 * Issue 13 through the real hono app (`app.request()`), a real store on every backend and real
 * import workers (piscina, tsx loaded in each worker): hostile imports are refused with the
 * contract's codes while the main event loop keeps running, a worker over its heap or time
 * limit answers 413/422 and the pool serves the next import, nothing is stored for a refusal,
 * and the fixtures import exactly as they do in-process.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../../src/app/app.js';
import { ManualClock } from '../../../src/domain/clock.js';
import type { TimetableInput } from '../../../src/domain/timetable.js';
import { createImportPool, type ImportPool } from '../../../src/scope/entree/import-pool.js';
import { parseImport } from '../../../src/scope/entree/ingest.js';
import type { Store } from '../../../src/store/store.js';
import { generateSyntheticEdt } from '../../fixtures/edt/synthetic.js';
import { makeClients } from '../../helpers/clients.js';
import { type StoreBackend, storeBackends } from '../../store/backends.js';

const UAI = '0679999E';
const WARNED = '0670001M';
const GUARDED = '0670002N';
const LIMITED = '0670003P';
const fixture = (path: string) => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url));
const EDT = fixture('edt/exemple-0679999E.xml');
const URL_OF = (uai: string) => `/scope/entree/v1/etablissements/${uai}/emploi-du-temps`;

// biome-ignore lint/suspicious/noExplicitAny: response bodies are untyped JSON, asserted field by field.
type Json = any;
const bodyOf = async (res: Response): Promise<Json> => res.json();

function timetable(uai: string, rooms: string[], lessons: number, extra: Record<string, unknown> = {}) {
  const value: TimetableInput & Record<string, unknown> = {
    uai,
    school_year: { start: '2025-09-01', end: '2026-07-04' },
    rooms: rooms.map((id) => ({ id, name: id })),
    lessons: Array.from({ length: lessons }, (_, i) => ({
      id: `L${i}`,
      rooms: [rooms[i % rooms.length] as string],
      day: 1 + (i % 5),
      start: '08:00',
      end: '09:00',
      weeks: ['2025-09-01'],
    })),
    ...extra,
  };
  return JSON.stringify(value);
}

/**
 * The main loop's delay while `run` is pending: a 1 ms sampling histogram (p99) and a 5 ms timer
 * whose longest gap between firings (up to the end) shows a loop held in one stretch.
 */
async function whileMeasuringTheLoop<T>(run: () => T | Promise<T>) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let ticks = 0;
  const started = performance.now();
  let last = started;
  let longestGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
    ticks++;
  }, 5);
  histogram.enable();
  try {
    const value = await run();
    const ended = performance.now();
    longestGapMs = Math.max(longestGapMs, ended - last);
    return { value, ms: ended - started, p99Ms: histogram.percentile(99) / 1e6, longestGapMs, ticks };
  } finally {
    histogram.disable();
    clearInterval(timer);
  }
}

const backends: StoreBackend[] = await storeBackends();

describe.each(backends)('import isolation on $name', (backend) => {
  let store: Store;
  const clock = new ManualClock(Date.parse('2025-08-28T10:00:00Z'));
  const { authenticator, bearer } = makeClients([
    { id: 'editor', role: 'editor', uais: [UAI, WARNED, GUARDED, LIMITED] },
    { id: 'manager', role: 'manager', uais: [UAI, WARNED, GUARDED, LIMITED] },
  ]);
  const pools: ImportPool[] = [];
  const appWith = (pool: ImportPool, limits = {}) =>
    createHttpApp({
      authenticator,
      entree: {
        store,
        clock,
        bodyLimitBytes: 64 * 1024 * 1024,
        strictJson: false,
        limits,
        runImportTask: pool.run,
      },
    });
  const newPool = (options: { maxHeapMb?: number; taskTimeoutMs?: number } = {}) => {
    const pool = createImportPool({
      threads: 1,
      maxHeapMb: options.maxHeapMb ?? 512,
      taskTimeoutMs: options.taskTimeoutMs ?? 30_000,
    });
    pools.push(pool);
    return pool;
  };
  let app: ReturnType<typeof createHttpApp>;

  beforeAll(async () => {
    store = await backend.open();
    app = appWith(newPool());
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
    await backend.cleanup();
  });

  const put = (
    target: ReturnType<typeof createHttpApp>,
    uai: string,
    payload: string | Uint8Array,
    headers: Record<string, string> = {},
    query = '',
  ) =>
    target.request(`${URL_OF(uai)}${query}`, {
      method: 'PUT',
      body: payload,
      headers: { 'Content-Type': 'application/octet-stream', ...bearer('editor'), ...headers },
    });
  const versionsOf = async (uai: string): Promise<Json[]> => {
    const res = await app.request(`/scope/entree/v1/etablissements/${uai}/versions`, {
      headers: bearer('manager'),
    });
    return res.status === 404 ? [] : (await bodyOf(res)).versions;
  };

  it('imports the real fixtures through the workers exactly as in-process', async () => {
    const cases: [string, Uint8Array, Record<string, string>][] = [
      ['edt', EDT, {}],
      ['sts', fixture('sts/emp_sts_0679999E_2025.xml'), {}],
      ['ics', fixture('ics/pronote-edt.ics'), { 'Content-Type': 'text/calendar' }],
    ];
    let version = 0;
    for (const [format, bytes, headers] of cases) {
      const expected = parseImport({
        bytes,
        uai: UAI,
        ...(headers['Content-Type'] ? { contentType: headers['Content-Type'] } : {}),
      });
      const res = await put(app, UAI, new Uint8Array(bytes), headers, '?confirm=replace');
      expect(res.status, format).toBe(201);
      const report: Json = await bodyOf(res);
      version++;
      expect(report, format).toEqual({
        uai: UAI,
        version,
        sha256: expected.sha256,
        unchanged: false,
        format,
        counts: expected.counts,
        warnings: expected.warnings,
        warnings_total: expected.warnings.length,
      });
      const stored = await store.timetables.current(UAI);
      expect(stored?.timetable, format).toEqual(expected.timetable);
    }
  });

  it('refuses 100,000 nested elements (422 xml-too-deep) fast, stores nothing, and the main loop keeps running', async () => {
    const before = await versionsOf(UAI);
    const hostile = `<?xml version="1.0"?>\n<ExportEmploiDuTemps>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</ExportEmploiDuTemps>`;
    const run = await whileMeasuringTheLoop(() => put(app, UAI, hostile));
    expect(run.value.status).toBe(422);
    expect(await bodyOf(run.value)).toEqual({
      errors: [
        {
          code: 'xml-too-deep',
          message: 'elements nest deeper than 64 levels (entree.max_xml_depth)',
          where: 'line 2, ExportEmploiDuTemps/a/a/…/a/a',
        },
      ],
    });
    expect(run.ms).toBeLessThan(5000);
    // The hostile-input suite's bound (issue 13: p99 under 100 ms during an attack; 50 is the
    // goal on an idle machine, this one is shared).
    expect(run.p99Ms).toBeLessThan(100);
    expect(await versionsOf(UAI)).toEqual(before);
  });

  it('refuses 1,000 FREQ=SECONDLY events (422 ics-rule-too-many-occurrences) and stores nothing', async () => {
    const before = await versionsOf(UAI);
    const events = Array.from({ length: 1000 }, (_, i) =>
      [
        'BEGIN:VEVENT',
        `UID:s${i}`,
        'DTSTART:20250901T080000Z',
        'DTEND:20250901T090000Z',
        'RRULE:FREQ=SECONDLY',
        'LOCATION:B012',
        'END:VEVENT',
      ].join('\r\n'),
    );
    const ics = ['BEGIN:VCALENDAR', 'VERSION:2.0', ...events, 'END:VCALENDAR', ''].join('\r\n');
    const run = await whileMeasuringTheLoop(() => put(app, UAI, ics, { 'Content-Type': 'text/calendar' }));
    expect(run.value.status).toBe(422);
    expect((await bodyOf(run.value)).errors).toEqual([
      {
        code: 'ics-rule-too-many-occurrences',
        message: 'the RRULE repeats SECONDLY (several times a day): lesson recurrences are daily at most',
        where: 'line 7, VEVENT/RRULE (UID s0)',
      },
    ]);
    expect(run.ms).toBeLessThan(5000);
    // The hostile-input suite's bound (issue 13: p99 under 100 ms during an attack; 50 is the
    // goal on an idle machine, this one is shared).
    expect(run.p99Ms).toBeLessThan(100);
    expect(await versionsOf(UAI)).toEqual(before);
  });

  it('keeps the main loop free while a worker reads a large export (8,000 lessons), unlike in-process', async () => {
    // ~230,000 occurrences: inside the default entree.max_occurrences.
    const large = Buffer.from(generateSyntheticEdt({ lessons: 8_000, rooms: 120, seed: 7 }));
    const inProcess = createHttpApp({
      authenticator,
      entree: { store, clock, bodyLimitBytes: 64 * 1024 * 1024, strictJson: false },
    });
    const blocking = await whileMeasuringTheLoop(() => put(inProcess, UAI, large, {}, '?confirm=replace'));
    expect(blocking.value.status).toBe(201);
    const pooled = await whileMeasuringTheLoop(() =>
      put(
        app,
        UAI,
        Buffer.from(large.toString('utf8').replace('Version="1.1"', 'Version="1.2"')),
        {},
        '?confirm=replace',
      ),
    );
    const report: Json = await bodyOf(pooled.value);
    expect([pooled.value.status, report.errors]).toEqual([201, undefined]);
    expect(report.counts.lessons).toBeGreaterThan(1000);
    // In-process the read held the loop for one long stretch; in a worker the 5 ms timer kept
    // firing (the store write of the result is the longest main-thread step left).
    expect(blocking.longestGapMs).toBeGreaterThan(3 * pooled.longestGapMs);
    expect(pooled.p99Ms).toBeLessThan(100);
    expect(pooled.ticks).toBeGreaterThan(pooled.ms / 5 / 4);
  });

  it('applies configured XML and occurrence bounds (422) and stores nothing', async () => {
    const before = await versionsOf(UAI);
    const tight = appWith(pools[0] as ImportPool, { maxXmlElements: 20 });
    const elements = await put(tight, UAI, EDT);
    expect(elements.status).toBe(422);
    expect((await bodyOf(elements)).errors[0]).toMatchObject({ code: 'xml-too-many-elements' });
    const occurrences = await put(appWith(pools[0] as ImportPool, { maxOccurrences: 5 }), UAI, EDT);
    expect(occurrences.status).toBe(422);
    expect((await bodyOf(occurrences)).errors).toEqual([
      {
        code: 'too-many-occurrences',
        message: expect.stringMatching(
          /^the timetable expands to \d+ occurrences, more than 5 \(entree\.max_occurrences\)$/,
        ),
        where: 'body',
      },
    ]);
    expect(await versionsOf(UAI)).toEqual(before);
  });

  it('keeps the first 100 warnings and counts them all (warnings_total), in the answer and the versions', async () => {
    const unknown = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`x${i}`, i]));
    const res = await put(app, WARNED, timetable(WARNED, ['A1'], 1, unknown), {
      'Content-Type': 'application/json',
    });
    expect(res.status).toBe(201);
    const report: Json = await bodyOf(res);
    expect(report.warnings).toHaveLength(100);
    expect(report.warnings[0]).toEqual({
      code: 'field-unknown',
      message: 'unknown field "x0" ignored (refused in strict mode)',
      where: '$.x0',
    });
    expect(report.warnings_total).toBe(250);
    const [stored] = await versionsOf(WARNED);
    expect(stored.warnings).toEqual(report.warnings);
    expect(stored.warnings_total).toBe(250);
  });

  it('refuses to empty a timetable or drop most rooms (409 destructive-import with the diff) unless confirmed', async () => {
    const rooms = ['A1', 'A2', 'A3', 'A4'];
    const first = await put(app, GUARDED, timetable(GUARDED, rooms, 8), {
      'Content-Type': 'application/json',
    });
    expect(first.status).toBe(201);

    // An ICS whose every event ends before it starts: no lessons at all.
    const backwards = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'BEGIN:VEVENT',
      'UID:envers',
      'DTSTART:20250901T090000Z',
      'DTEND:20250901T080000Z',
      'LOCATION:A1',
      'END:VEVENT',
      'END:VCALENDAR',
      '',
    ].join('\r\n');
    const emptied = await put(app, GUARDED, backwards, { 'Content-Type': 'text/calendar' });
    expect(emptied.status).toBe(409);
    expect(await bodyOf(emptied)).toEqual({
      errors: [
        {
          code: 'destructive-import',
          message:
            'this import would replace 8 lesson(s) by none; nothing was stored: check the export, or confirm with ?confirm=replace',
          where: 'body',
        },
      ],
      diff: { rooms_before: 4, rooms_after: 0, lessons_before: 8, lessons_after: 0, rooms_removed: rooms },
    });

    const fewer = await put(app, GUARDED, timetable(GUARDED, ['A1'], 8), {
      'Content-Type': 'application/json',
    });
    expect(fewer.status).toBe(409);
    expect((await bodyOf(fewer)).diff).toEqual({
      rooms_before: 4,
      rooms_after: 1,
      lessons_before: 8,
      lessons_after: 8,
      rooms_removed: ['A2', 'A3', 'A4'],
    });
    expect((await versionsOf(GUARDED)).map((v) => v.version)).toEqual([1]);

    // Half the rooms is not "more than half": accepted.
    const half = await put(app, GUARDED, timetable(GUARDED, ['A1', 'A2'], 8), {
      'Content-Type': 'application/json',
    });
    expect(half.status).toBe(201);
    const confirmed = await put(
      app,
      GUARDED,
      backwards,
      { 'Content-Type': 'text/calendar' },
      '?confirm=replace',
    );
    expect(confirmed.status).toBe(201);
    expect((await bodyOf(confirmed)).warnings).toEqual([
      {
        code: 'ics-event-ends-before-start',
        message: 'the VEVENT (UID envers) ends before it starts; skipped',
        where: 'line 6, VEVENT/DTEND',
      },
    ]);
    expect((await versionsOf(GUARDED)).map((v) => v.counts.lessons)).toEqual([0, 8, 8]);
    const bad = await put(app, GUARDED, backwards, {}, '?confirm=yes');
    expect(bad.status).toBe(400);
    expect((await bodyOf(bad)).errors[0]).toMatchObject({ code: 'bad-confirm', where: 'confirm (query)' });
  });

  it('warns about UTF-8 under a Latin-1 declaration (refused with ?strict=true)', async () => {
    const declared = Buffer.from(
      EDT.toString('utf8').replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'),
      'utf8',
    );
    const strict = await put(app, UAI, declared, {}, '?strict=true&confirm=replace');
    expect(strict.status).toBe(422);
    expect((await bodyOf(strict)).errors[0]).toMatchObject({ code: 'encoding-mismatch', where: 'line 10' });
    const warned = await put(app, UAI, declared, {}, '?confirm=replace');
    expect(warned.status).toBe(201);
    expect((await bodyOf(warned)).warnings[0]).toMatchObject({ code: 'encoding-mismatch', where: 'line 10' });
  });

  it('answers 400 bad-content-disposition for a malformed % escape or syntax, and reads good ones', async () => {
    const before = await versionsOf(UAI);
    for (const header of [
      "attachment; filename*=UTF-8''%E0%A4%A",
      'attachment; filename="unterminated',
      'attachment; =x',
    ]) {
      const res = await put(app, UAI, EDT, { 'Content-Disposition': header });
      expect(res.status, header).toBe(400);
      expect((await bodyOf(res)).errors[0], header).toMatchObject({
        code: 'bad-content-disposition',
        where: 'Content-Disposition',
      });
    }
    expect(await versionsOf(UAI)).toEqual(before);
    const good = await put(
      app,
      UAI,
      EDT,
      { 'Content-Disposition': 'attachment; filename="x.xml"; filename*=UTF-8\'\'%C3%A9t%C3%A9.xml;' },
      '?confirm=replace',
    );
    expect([200, 201]).toContain(good.status);
  });

  it('stops a task over its time budget (422 import-time-limit), stores nothing, and serves the next one', async () => {
    // Bounds out of the way: only the clock may stop this one.
    const slow = appWith(newPool({ taskTimeoutMs: 300 }), { maxOccurrences: 100_000_000 });
    const before = await versionsOf(LIMITED);
    const large = Buffer.from(generateSyntheticEdt({ lessons: 60_000, rooms: 200, seed: 3 }))
      .toString('utf8')
      .replace(/UAI="[^"]*"/, `UAI="${LIMITED}"`);
    const res = await put(slow, LIMITED, large);
    expect(res.status).toBe(422);
    expect(await bodyOf(res)).toEqual({
      errors: [
        {
          code: 'import-time-limit',
          message:
            'reading the import took longer than 0.3 s (entree.worker.task_timeout_s) and was stopped; nothing was stored',
          where: 'body',
        },
      ],
    });
    expect(await versionsOf(LIMITED)).toEqual(before);
    const next = await put(slow, LIMITED, timetable(LIMITED, ['B1'], 1), {
      'Content-Type': 'application/json',
    });
    expect(next.status).toBe(201);
  });

  it('refuses JSON that would not fit the worker heap before parsing it (413), and the process lives', async () => {
    // 4 million empty arrays in 12 MB: once parsed, far more than a 64 MB worker holds. Inside
    // JSON.parse (not interruptible) that limit aborted the whole process; the estimate refuses
    // it first.
    const small = appWith(newPool({ maxHeapMb: 64 }));
    const before = await versionsOf(LIMITED);
    const bomb = `[${'[],'.repeat(4_000_000)}[]]`;
    const res = await put(small, LIMITED, bomb, { 'Content-Type': 'application/json' });
    expect(res.status).toBe(413);
    expect(await bodyOf(res)).toEqual({
      errors: [
        {
          code: 'import-memory-limit',
          message:
            'reading the import needed more than 64 MB (entree.worker.max_heap_mb) and was stopped; nothing was stored',
          where: 'body',
        },
      ],
    });
    expect(await versionsOf(LIMITED)).toEqual(before);
    const next = await put(small, LIMITED, timetable(LIMITED, ['B1', 'B2'], 3), {
      'Content-Type': 'application/json',
    });
    expect(next.status).toBe(201);
  });

  it('ends a worker over its heap limit (413 import-memory-limit) without harm, and serves the next one', async () => {
    const small = appWith(newPool({ maxHeapMb: 64 }));
    const before = await versionsOf(LIMITED);
    // 300,000 lessons (~30 MB of JSON): far more than 64 MB of heap once parsed.
    const huge = timetable(LIMITED, ['B1', 'B2'], 300_000);
    const res = await put(small, LIMITED, huge, { 'Content-Type': 'application/json' });
    expect(res.status).toBe(413);
    expect(await bodyOf(res)).toEqual({
      errors: [
        {
          code: 'import-memory-limit',
          message:
            'reading the import needed more than 64 MB (entree.worker.max_heap_mb) and was stopped; nothing was stored',
          where: 'body',
        },
      ],
    });
    expect(await versionsOf(LIMITED)).toEqual(before);
    const next = await put(small, LIMITED, timetable(LIMITED, ['B1', 'B2'], 2), {
      'Content-Type': 'application/json',
    });
    expect(next.status).toBe(201);
  });
});
