/**
 * The dashboard's "Salles et zones" view in a real headless Chromium, against the real hono app
 * on a loopback port (the repository's devices and rules, a demo timetable where one room was
 * added, one outside place appeared and the lecture hall is gone): it lists the rooms in no zone with the proposed zone and why, leaves
 * the outside place to a person, and names the zone whose room no longer exists.
 */
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/app/app.js';
import { buildDemoTimetable } from '../../src/demo/demo-lycee.js';
import { ManualClock } from '../../src/domain/clock.js';
import { timetableSchema } from '../../src/domain/timetable.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import { openStore, type Store } from '../../src/store/store.js';
import { bridgeClients, copySite, DEMO_UAI } from '../bridge/bridge-fixtures.js';
import { chromiumOrSkipReason, launchChromium, saveScreenshot } from '../helpers/browser.js';
import { tempWorkDir } from '../helpers/cli.js';

const missing = chromiumOrSkipReason();
const skip = missing !== null && process.env['SCOPE_ENERGIE_SKIP_BROWSER'] === '1';

/** The page's globals, typed by hand: this project compiles without the DOM library. */
type PageGlobals = { document: { activeElement: { textContent: string | null } | null } };

describe.skipIf(skip)('the rooms and zones view in Chromium', () => {
  const clock = new ManualClock(Date.parse('2026-01-12T17:30:00Z'));
  const clients = bridgeClients(clock);
  let store: Store;
  let server: ServerType;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    if (missing) throw new Error(`[room mapping browser test] ${missing}`);
    const files = copySite();
    const site = new SiteHolder({ ...files, baseDir: files.dir });
    const timetable = timetableSchema.parse(buildDemoTimetable(clock.now()));
    timetable.rooms = [
      ...timetable.rooms.filter((r) => r.id !== 'AMPHI'),
      { id: 'B204', name: 'B204' },
      { id: 'STADE', name: 'Stade municipal' },
    ];
    store = await openStore({ dataDir: tempWorkDir() });
    const unused = () => {
      throw new Error('not used by this view');
    };
    const app = createHttpApp({
      authenticator: clients.authenticator,
      entree: { store, clock, bodyLimitBytes: 1024 * 1024, strictJson: false },
      dashboard: {
        clock,
        devices: () => site.current.devices,
        calendars: new CalendarSource({ zone: 'B', dataDir: files.dir }),
        planFor: unused,
        occupancy: async () => null,
        syncStatus: unused,
        gateways: () => [],
        timetable: async (uai) => (uai === DEMO_UAI ? timetable : null),
        overrides: { create: unused, cancel: unused, list: async () => [], getStored: async () => null },
      },
    });
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    page = await browser.newPage();
    await page.setExtraHTTPHeaders(clients.bearer('manager'));
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await store?.close();
  });

  it('lists unzoned rooms with proposals and zones with gone rooms', async () => {
    await page.goto(`${base}/tableau-de-bord/${DEMO_UAI}/salles`);
    // Keyboard only: Tab from the top reaches the way back to the school page.
    let focused = '';
    for (let i = 0; i < 15 && focused !== '← Retour à l’établissement'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(
        () => (globalThis as unknown as PageGlobals).document.activeElement?.textContent?.trim() ?? '',
      );
    }
    expect(focused).toBe('← Retour à l’établissement');

    expect(await page.locator('html').getAttribute('lang')).toBe('fr');
    expect(await page.locator('h1').allTextContents()).toEqual([
      `Salles et zones : Lycée des Tilleuls (démonstration) (${DEMO_UAI})`,
    ]);
    const unzoned = page.locator('section[aria-labelledby="sans-zone-titre"] tbody tr');
    expect(await unzoned.count()).toBe(2);
    const b204 = unzoned.filter({ hasText: 'B204' });
    expect(await b204.locator('td').allTextContents()).toEqual([
      'batiment-b-etage-2 — Bâtiment B, 2e étage (nouvelle zone)',
      'salle d’enseignement',
      'code "B204": building B, first digit 2 of the number is the floor (2e étage)',
    ]);
    const stade = unzoned.filter({ hasText: 'Stade municipal' });
    expect(await stade.locator('th').textContent()).toBe('Stade municipal (STADE)');
    expect(await stade.locator('td').first().textContent()).toBe('À décider par une personne');

    const stale = page.locator('section[aria-labelledby="disparues-titre"] tbody tr');
    expect(await stale.count()).toBe(1);
    expect(await stale.locator('th').textContent()).toBe('amphi — Amphithéâtre');
    expect(await stale.locator('td').textContent()).toBe('AMPHI');

    // Every table says what it holds, and its headers say what they head.
    for (const table of await page.locator('table').all()) {
      expect(await table.locator('caption').count()).toBe(1);
      expect(await table.locator('th:not([scope])').count()).toBe(0);
    }
    await saveScreenshot(page, 'dashboard-salles-et-zones');
  });

  it('answers the same 404 page for a school outside the caller’s list', async () => {
    const response = await page.goto(`${base}/tableau-de-bord/0679999E/salles`);
    expect(response?.status()).toBe(404);
    expect(await page.locator('h1').textContent()).toBe('Établissement introuvable');
  });
});
