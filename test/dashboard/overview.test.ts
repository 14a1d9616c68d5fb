/**
 * The region overview (issue 18) through the real hono app (`createHttpApp` with a `dashboard`
 * dep) over region-fixture.ts: 120 schools in three départements, whose sync, gateways and
 * timetables differ by a rule on their index, so that every figure below can be counted by hand. Filters, search, sort,
 * paging and the counts per alert kind are asserted on the exact HTML; the per-version cache the
 * service puts in front of the view worker is checked to hold a whole region.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/app/app.js';
import { DASHBOARD_VIEW_CACHE_ENTRIES } from '../../src/dashboard/service-deps.js';
import { ViewCache } from '../../src/scope/vue/view-pool.js';
import type { ViewTaskInput } from '../../src/scope/vue/view-task.js';
import { openStore } from '../../src/store/store.js';
import { tempWorkDir } from '../helpers/cli.js';
import { makeClients } from '../helpers/clients.js';
import { clock, nameOf, regionDashboardDeps, uaiOf } from './region-fixture.js';

const BASE = 'http://localhost/tableau-de-bord';
const SCHOOLS = 120;
const clients = makeClients(
  [
    { id: 'admin', role: 'admin' },
    // A manager of the first 60 schools only.
    { id: 'manager', role: 'manager', uais: Array.from({ length: 60 }, (_, i) => uaiOf(i)) },
  ],
  clock,
);
const region = regionDashboardDeps();
// ENTRÉE's store is required by the app; the overview reads none of it.
const store = await openStore({ dataDir: tempWorkDir() });
afterAll(() => store.close());
const app = createHttpApp({
  authenticator: clients.authenticator,
  entree: { store, clock, bodyLimitBytes: 1024 * 1024, strictJson: false },
  dashboard: region.deps,
});

const get = async (query: string, who = 'admin') => {
  const res = await app.request(`${BASE}${query}`, {
    headers: { Accept: 'text/html', ...clients.bearer(who) },
  });
  return { status: res.status, text: await res.text() };
};
const rows = (html: string) => [...html.matchAll(/<tr data-uai="(\w+)">/g)].map((m) => m[1]);
const counts = (html: string) =>
  Object.fromEntries(
    [...html.matchAll(/<tr data-compte="([^"]+)">.*?<td class="nombre">(\d+)<\/td><\/tr>/g)].map((m) => [
      m[1],
      Number(m[2]),
    ]),
  );
const status = (html: string) => /<p role="status" id="resultat">([^<]+)<\/p>/.exec(html)?.[1];
const paging = (html: string) => /<nav class="pages"[^>]*>(.*?)<\/nav>/.exec(html)?.[1];
const range = (from: number, to: number, step = 1) =>
  Array.from({ length: Math.ceil((to - from) / step) }, (_, k) => from + k * step);

describe('the region overview', () => {
  it('lists 50 schools a page by UAI, with the schools per alert kind of the whole list', async () => {
    const { status: code, text } = await get('');
    expect(code).toBe(200);
    expect(text).toContain(
      '<p>120 établissement(s) piloté(s) dans votre périmètre, dont 65 avec des alertes.</p>',
    );
    expect(status(text)).toBe('120 établissement(s) correspondant(s), page 1 sur 3.');
    const byUai = range(0, SCHOOLS)
      .map(uaiOf)
      .sort((a, b) => a.localeCompare(b));
    expect(rows(text)).toEqual(byUai.slice(0, 50));
    // With an alert: i divisible by 4, 5, 6 or 7 (65 of 120). Stale: i % 4 == 0 (30); gateway not online: i % 5 == 0 (24) or i % 7 == 0 (18, 4 of them
    // also % 5): 38; a room in no zone: i % 6 == 0 (20); a gone room: i % 10 == 0 (12).
    expect(counts(text)).toEqual({
      'synchro-en-retard': 30,
      'sans-emploi-du-temps': 0,
      'passerelle-hors-ligne': 38,
      'zone-sans-acquittement': 0,
      'salles-non-affectees': 20,
      'salles-de-zone-absentes': 12,
      'annee-scolaire-terminee': 0,
      'annee-scolaire-non-commencee': 0,
      'vacances-inconnues': 0,
      'pas-d-import-depuis-la-rentree': 0,
      'flux-reservations-en-echec': 0,
      'demarrage-froid': 0,
      surchauffe: 0,
    });
    // A count links to its filter; a kind no school has is plain text.
    expect(text).toContain(
      '<tr data-compte="salles-non-affectees"><th scope="row"><a href="/tableau-de-bord?alerte=salles-non-affectees">Salles hors de toute zone</a></th><td class="nombre">20</td></tr>',
    );
    expect(text).toContain(
      '<tr data-compte="surchauffe"><th scope="row">Surchauffe</th><td class="nombre">0</td></tr>',
    );
    // One pass over the tracker for the whole list, not one report per school.
    expect(region.calls.gateways).toBe(0);
  });

  it('shows each school’s département, gateways and room-mapping counts, linking to its rooms page', async () => {
    const { text } = await get('?q=lyc%C3%A9e%20030');
    // School 30: département 67 (30 % 3 == 0), offline (30 % 5), a room in no zone, a gone room.
    const uai = uaiOf(30);
    expect(rows(text)).toEqual([uai]);
    expect(text).toContain(
      `<tr data-uai="${uai}"><th scope="row"><a href="/tableau-de-bord/${uai}">Lycée 030</a></th><td>${uai}</td><td>67</td><td>Au moins une hors ligne</td><td class="nombre"><a href="/tableau-de-bord/${uai}/salles" aria-label="1 salle(s) hors zone à Lycée 030 : voir les salles et zones">1</a></td><td class="nombre"><a href="/tableau-de-bord/${uai}/salles" aria-label="1 zone(s) citant des salles disparues à Lycée 030 : voir les salles et zones">1</a></td><td><ul class="alertes">`,
    );
    const seven = await get('?q=emile');
    expect(rows(seven.text)).toEqual([uaiOf(7)]);
    expect(seven.text).toContain(
      `<td>${uaiOf(7)}</td><td>68</td><td>Au moins une jamais connectée</td><td class="nombre">0</td><td class="nombre">0</td>`,
    );
  });

  it('filters by département, alert kind and gateway state, the counts following the other filters', async () => {
    const { text } = await get('?departement=68&alerte=salles-non-affectees');
    // Département 68: i % 3 == 1; a room in no zone: i % 6 == 0: none is both.
    expect(status(text)).toBe('Aucun établissement ne correspond à ces critères.');
    expect(rows(text)).toEqual([]);
    const dept67 = await get('?departement=67&alerte=salles-non-affectees&tri=nom');
    expect(rows(dept67.text)).toEqual(range(0, SCHOOLS, 6).map(uaiOf));
    expect(status(dept67.text)).toBe('20 établissement(s) correspondant(s), page 1 sur 1.');
    // The counts leave the alert filter out: the 40 schools of 67 (i % 3 == 0).
    expect(counts(dept67.text)).toMatchObject({
      'synchro-en-retard': 10, // i % 12 == 0
      'passerelle-hors-ligne': 12, // i % 15 == 0 (8: 0, 15 … 105), or i % 21 == 0 (21, 42, 63, 84)
      'salles-non-affectees': 20,
      'salles-de-zone-absentes': 4, // i % 30 == 0
    });
    // The form shows the filters chosen.
    expect(dept67.text).toContain('<option value="67" selected="">67</option>');
    expect(dept67.text).toContain(
      '<option value="salles-non-affectees" selected="">Salles hors de toute zone</option>',
    );
    expect(dept67.text).toContain('<option value="nom" selected="">Nom</option>');
    expect(dept67.text).toContain('<a href="/tableau-de-bord?tri=nom">Effacer les filtres</a>');
    const never = await get('?passerelles=jamais-connectee&tri=nom');
    expect(rows(never.text)).toEqual(
      range(0, SCHOOLS, 7)
        .filter((i) => i % 5 !== 0)
        .sort((a, b) => nameOf(a).localeCompare(nameOf(b), 'fr'))
        .map(uaiOf),
    );
    expect(rows(never.text)[0]).toBe(uaiOf(14));
    expect(rows(never.text).at(-1)).toBe(uaiOf(7)); // « Lycée Émile Zola » after the numbers
  });

  it('searches the name without accents or case, and the UAI', async () => {
    expect(rows((await get('?q=%C3%89MILE')).text)).toEqual([uaiOf(7)]);
    expect(rows((await get(`?q=${uaiOf(44).slice(0, 7).toLowerCase()}`)).text)).toEqual([uaiOf(44)]);
    expect(rows((await get('?q=0571')).text)).toHaveLength(40);
  });

  it('pages with links that keep the filters and the sort, and marks the page shown', async () => {
    const { text } = await get('?departement=67&tri=alertes&page=2');
    expect(status(text)).toBe('40 établissement(s) correspondant(s), page 1 sur 1.');
    const all = await get('?tri=nom&passerelles=en-ligne&page=2');
    // Online: neither % 5 nor % 7 == 0: 120 − 24 − 14 = 82 schools, 2 pages.
    expect(status(all.text)).toBe('82 établissement(s) correspondant(s), page 2 sur 2.');
    expect(rows(all.text)).toHaveLength(32);
    expect(paging(all.text)).toBe(
      '<ul><li><a href="/tableau-de-bord?passerelles=en-ligne&amp;tri=nom" rel="prev">← Page précédente</a></li>' +
        '<li><a href="/tableau-de-bord?passerelles=en-ligne&amp;tri=nom" aria-label="Page 1">1</a></li>' +
        '<li><a href="/tableau-de-bord?passerelles=en-ligne&amp;tri=nom&amp;page=2" aria-current="page" aria-label="Page 2, page affichée">2</a></li>' +
        '<li></li></ul>',
    );
    // A page past the end (a filter narrowed the list) shows the last one.
    const past = await get('?page=9');
    expect(status(past.text)).toBe('120 établissement(s) correspondant(s), page 3 sur 3.');
    expect(rows(past.text)).toHaveLength(20);
    // Sorted by alerts: the most first (school 0: stale, offline, room, gone room = 4 alerts).
    const most = await get('?tri=alertes');
    expect(rows(most.text)[0]).toBe(uaiOf(0));
  });

  it('shows a manager only its schools, and refuses bad parameters in French', async () => {
    const { text } = await get('', 'manager');
    expect(text).toContain('<p>60 établissement(s) piloté(s) dans votre périmètre');
    expect(rows((await get('?q=lyc%C3%A9e%20100', 'manager')).text)).toEqual([]);
    const bad = await get('?page=0&alerte=inconnue&departement=6');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain(
      '<p class="erreur">département : deux chiffres, 2A, 2B ou 97x attendus. ; alerte : type d’alerte inconnu. ; page : 1 au moins.</p>',
    );
  });
});

describe('the dashboard’s per-version cache', () => {
  it('holds the dates and unmapped rooms of a 350-school region from one view to the next', async () => {
    let runs = 0;
    const cache = new ViewCache(async () => {
      runs++;
      return { kind: 'dates', dates: { rooms: [] } };
    }, DASHBOARD_VIEW_CACHE_ENTRIES);
    const runDates = (key: string) =>
      cache.run(key, async (): Promise<ViewTaskInput> => ({ kind: 'dates', document: key }));
    const view = () =>
      Promise.all(range(0, 350).flatMap((i) => [runDates(`dates|${i}|1`), runDates(`rooms|${i}|1`)]));
    await view();
    expect(runs).toBe(700);
    await view();
    await view();
    expect(runs).toBe(700);
  });
});
