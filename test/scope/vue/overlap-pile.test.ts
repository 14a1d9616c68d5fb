/**
 * A broken export with 100,000 lessons in one room at one slot (issue 13): it imports, and then
 * SCOPE-VUE answers 200 with one legible cell for the pile and one overlap finding with its count
 * of pairs (before: 60 s and a 500 "Map maximum size exceeded"). Through the real hono app, the
 * import route and the store.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../../src/app/app.js';
import { buildDemoTimetable, DEMO_UAI } from '../../../src/demo/demo-lycee.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { schoolCalendars } from '../../../src/scope/sortie/school-calendars.js';
import { SiteHolder } from '../../../src/site/site-holder.js';
import type { Store } from '../../../src/store/store.js';
import { makeClients } from '../../helpers/clients.js';
import { type StoreBackend, storeBackends } from '../../store/backends.js';

const DEVICES_DIR = fileURLToPath(new URL('../../../devices', import.meta.url));
const RULES_DIR = fileURLToPath(new URL('../../../rules', import.meta.url));
const VUE = `/scope/vue/${DEMO_UAI}`;
const PILE = 100_000;

const backends: StoreBackend[] = await storeBackends();

describe.each(backends)('SCOPE-VUE with 100,000 overlapping lessons on $name', (backend) => {
  // Friday 28 November 2025 in Paris: the current week starts on Monday 24 November.
  const clock = new ManualClock(Date.parse('2025-11-28T10:00:00Z'));
  const { authenticator, bearer } = makeClients([
    { id: 'editor', role: 'editor', uais: [DEMO_UAI] },
    { id: 'manager', role: 'manager', uais: [DEMO_UAI] },
  ]);
  let store: Store;
  let app: ReturnType<typeof createHttpApp>;

  beforeAll(async () => {
    store = await backend.open();
    const calendars = schoolCalendars({ zone: 'B' });
    app = createHttpApp({
      authenticator,
      entree: { store, clock, bodyLimitBytes: 64 * 1024 * 1024, strictJson: false },
      vue: {
        store,
        clock,
        calendars,
        site: new SiteHolder({ devicesDir: DEVICES_DIR, rulesDir: RULES_DIR }),
      },
    });
    const timetable = buildDemoTimetable(clock.now());
    for (let i = 0; i < PILE; i++) {
      timetable.lessons.push({
        id: `pile-${i}`,
        rooms: ['B101'],
        day: 1,
        start: '08:00',
        end: '09:55',
        weeks: ['2025-11-24'],
        subject: 'PILE',
      });
    }
    const res = await app.request(`/scope/entree/v1/etablissements/${DEMO_UAI}/emploi-du-temps`, {
      method: 'PUT',
      body: JSON.stringify(timetable),
      headers: { 'Content-Type': 'application/json', ...bearer('editor') },
    });
    expect(res.status).toBe(201);
  }, 120_000);
  afterAll(() => backend.cleanup());

  it('answers 200 with the pile folded into one cell entry and the overlap counted, not listed', async () => {
    const res = await app.request(VUE, { headers: { ...bearer('manager'), Accept: 'text/html' } });
    expect(res.status).toBe(200);
    const text = await res.text();
    // The demo's own lesson in that slot makes 100,001.
    expect(text).toContain(
      '<li class="superposes" data-superposes="100001"><span class="horaire">08:00–09:55</span> <strong>100\u202f001 cours superposés</strong><details><summary>Voir les 5 premiers</summary>',
    );
    expect(text).toContain('<p>et 99\u202f996 autres : voir « Qualité des données ».</p>');
    // The five shown: the demo's lesson (its id sorts first) and four of the pile.
    expect(text.match(/data-cours="pile-/g)?.length).toBe(4);
    expect(text).toContain('data-cours="demo-B101-1-0"');
    expect(text).toContain(
      '<h3 id="constat-chevauchement-titre">Cours qui se chevauchent dans une même salle (1)</h3>',
    );
    expect(text).toMatch(
      /Salle B101 : 100\u202f001 cours se chevauchent le 24\/11\/2025, entre 08:00 et 09:55 \(5\u202f000\u202f050\u202f000 paire\(s\) de cours, dont [^)]+\)/,
    );
    // The page is the size of a normal week, not of the pile.
    expect(text.length).toBeLessThan(200_000);
  });

  it('opens the pile on the highlighted lesson (?cours=) even when it is not among the first five', async () => {
    const res = await app.request(`${VUE}?semaine=2025-11-24&cours=pile-77777`, {
      headers: { ...bearer('manager'), Accept: 'text/html' },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('<details open><summary>Voir les 6 premiers</summary>');
    expect(text).toContain('<li id="cours-pile-77777" class="signale" data-cours="pile-77777">');
  });
});
