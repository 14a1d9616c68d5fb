/**
 * VUE's findings for people (issue 20): 250 subjects with lessons without a room are 250 groups
 * listed 100 a page, with the complete counts and links to the other pages; lessons that never
 * take place are their own finding, explained; the week picker form; a bad `constat` is a 400.
 * Through the real hono app, the import route and the store.
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
const VUE = `/scope/vue/${DEMO_UAI}`;

const [sqlite] = (await storeBackends()) as [StoreBackend];

describe('SCOPE-VUE findings grouped and paged', () => {
  const clock = new ManualClock(Date.parse('2025-11-28T10:00:00Z'));
  const { authenticator, bearer } = makeClients([
    { id: 'editor', role: 'editor', uais: [DEMO_UAI] },
    { id: 'manager', role: 'manager', uais: [DEMO_UAI] },
  ]);
  let store: Store;
  let app: ReturnType<typeof createHttpApp>;
  const page = async (path: string) => {
    const res = await app.request(path, { headers: { ...bearer('manager'), Accept: 'text/html' } });
    return { status: res.status, text: await res.text() };
  };

  beforeAll(async () => {
    store = await sqlite.open();
    const calendars = schoolCalendars({ zone: 'B' });
    app = createHttpApp({
      authenticator,
      entree: { store, clock, bodyLimitBytes: 16 * 1024 * 1024, strictJson: false },
      vue: {
        store,
        clock,
        calendars,
        site: new SiteHolder({
          devicesDir: DEVICES_DIR,
          rulesDir: fileURLToPath(new URL('../../../rules', import.meta.url)),
        }),
      },
    });
    const timetable = buildDemoTimetable(clock.now());
    for (let i = 0; i < 250; i++) {
      timetable.lessons.push({
        id: `sans-salle-${i}`,
        rooms: [],
        day: 2,
        start: '10:00',
        end: '11:00',
        weeks: ['2025-11-24'],
        subject: `OPTION ${String(i).padStart(3, '0')}`,
        groups: ['TLE 1'],
      });
    }
    // Declared, placed in no week.
    for (let i = 0; i < 12; i++) {
      timetable.lessons.push({
        id: `jamais-${i}`,
        rooms: [],
        day: 3,
        start: '08:00',
        end: '09:00',
        weeks: [],
      });
    }
    const res = await app.request(`/scope/entree/v1/etablissements/${DEMO_UAI}/emploi-du-temps`, {
      method: 'PUT',
      body: JSON.stringify(timetable),
      headers: { 'Content-Type': 'application/json', ...bearer('editor') },
    });
    expect(res.status).toBe(201);
  });
  afterAll(() => sqlite.cleanup());

  it('lists the first 100 groups with the complete counts and a link to the next page', async () => {
    const { status, text } = await page(VUE);
    expect(status).toBe(200);
    // The demo's own lesson without a room makes 251 lessons in 251 groups.
    expect(text).toContain(
      '<h3 id="constat-sans-salle-titre">Cours sans salle (251 cours, 251 groupes)</h3>',
    );
    expect(text).toContain('<p>Constats 1 à 100 sur 251 (page 1 sur 3).</p>');
    expect(text).toContain(
      `<a href="${VUE}?semaine=2025-11-24&amp;constat=sans-salle&amp;page=2#constat-sans-salle" rel="next">Constats suivants →</a>`,
    );
    // Largest groups first, then by name: the demo's ACCOMPAGNEMENT, then OPTION 000 to 098.
    expect(text).toContain('ACCOMPAGNEMENT · 2NDE 3 : 1 cours sans salle');
    expect(text).toContain('OPTION 098 · TLE 1 : 1 cours sans salle');
    expect(text).not.toContain('OPTION 099 · TLE 1 : 1 cours sans salle');
    expect(text).not.toContain('sans-salle-0 n’a pas de salle');
    // Never held: apart, explained, without links (they are in no week).
    expect(text).toContain(
      '<h3 id="constat-jamais-titre">Cours qui n’ont jamais lieu (12 cours, 1 groupe)</h3>',
    );
    expect(text).toContain(
      '12 cours : aucune semaine ni date dans l’export : le logiciel les déclare sans les placer (cours en attente, option non ouverte).',
    );
    expect(text).toContain('<li>jamais-0 · mercredi 08:00–09:00</li>');
    // The week picker: a labelled date field in a GET form.
    expect(text).toContain(`<form class="choix-semaine" method="get" action="${VUE}"`);
    expect(text).toContain('<label for="semaine">Aller à la semaine du</label>');
    expect(text).toContain('<input id="semaine" name="semaine" type="date" value="2025-11-24" required');
  });

  it('shows the last page with a link back', async () => {
    const { status, text } = await page(`${VUE}?semaine=2025-11-24&constat=sans-salle&page=3`);
    expect(status).toBe(200);
    expect(text).toContain('<p>Constats 201 à 251 sur 251 (page 3 sur 3).</p>');
    expect(text).toContain('rel="prev">← Constats précédents</a>');
    expect(text).not.toContain('Constats suivants');
    expect(text).toContain('OPTION 199 · TLE 1 : 1 cours sans salle');
    expect(text).toContain('OPTION 249 · TLE 1 : 1 cours sans salle');
    expect(text).not.toContain('OPTION 198 · TLE 1 : 1 cours sans salle');
  });

  it('refuses an unknown finding or page with a 400 naming the parameter', async () => {
    const bad = await page(`${VUE}?constat=tout&page=1`);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('constat (query)');
    const zero = await page(`${VUE}?constat=sans-salle&page=0`);
    expect(zero.status).toBe(400);
    expect(zero.text).toContain('page is a whole number from 1');
  });
});
