/**
 * The week calendar of events (issue 20) in a real headless Chromium, driven by the keyboard
 * alone: the real HTTP app (security headers and CSP included) on a loopback port, the real
 * EventsService on SQLite, the demo lycée's devices and timetable. axe-core, injected from its
 * package, finds no serious or critical violation on the page, its error state and after a change.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/app/app.js';
import { EventsService } from '../../src/bridge/events-service.js';
import { ManualClock } from '../../src/domain/clock.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import { bridgeClients, copySite, DEMO_UAI, fixedOccupancy, heldDemo } from '../bridge/bridge-fixtures.js';
import { temporaryStore } from '../bridge/dispatch-fixtures.js';
import { chromiumOrSkipReason, launchChromium, saveScreenshot } from '../helpers/browser.js';

const missing = chromiumOrSkipReason();
const skip = missing !== null && process.env['SCOPE_ENERGIE_SKIP_BROWSER'] === '1';
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: string[];
}

describe.skipIf(skip)('the events calendar in Chromium, keyboard only', () => {
  // Monday 12 January 2026, 10:00 Paris.
  const clock = new ManualClock(Date.parse('2026-01-12T09:00:00Z'));
  const clients = bridgeClients(clock);
  let server: Server;
  let base: string;
  let browser: Browser;
  let page: Page;
  let cleanup: () => Promise<void>;
  const cspViolations: string[] = [];

  beforeAll(async () => {
    if (missing) throw new Error(`[events browser tests] ${missing}`);
    const files = copySite();
    const site = new SiteHolder(files);
    const calendars = new CalendarSource({ zone: 'B', dataDir: files.dir });
    const stores = await temporaryStore();
    cleanup = stores.cleanup;
    const held = heldDemo({ from: '2026-01-05', to: '2026-02-02' });
    const events = new EventsService({
      repository: stores.store.events,
      site,
      calendars,
      occupancy: fixedOccupancy({ [DEMO_UAI]: held }),
      clock,
    });
    const app = createHttpApp({
      authenticator: clients.authenticator,
      entree: { store: stores.store, clock, bodyLimitBytes: 1024 * 1024, strictJson: false },
      dashboard: {
        clock,
        devices: () => site.current.devices,
        calendars,
        planFor: async () => {
          throw new Error('not used by the events page');
        },
        occupancy: async (_uai, dates) => heldDemo(dates),
        syncStatus: () => {
          throw new Error('not used by the events page');
        },
        gateways: () => [],
        timetable: async () => null,
        overrides: {
          create: async () => {
            throw new Error('not used');
          },
          cancel: async () => null,
          list: async () => [],
          getStored: async () => null,
        },
        events,
      },
    });
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    const context = await browser.newContext({
      locale: 'fr-FR',
      viewport: { width: 1300, height: 900 },
      extraHTTPHeaders: clients.bearer('manager'),
    });
    page = await context.newPage();
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await cleanup?.();
  });

  /** axe-core's serious and critical violations of the page as it is. */
  const axe = async (): Promise<AxeViolation[]> => {
    await page.evaluate(AXE_SOURCE);
    const violations = (await page.evaluate(
      `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) })))`,
    )) as AxeViolation[];
    return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  };
  const focused = () =>
    page.evaluate(
      `(() => { const e = document.activeElement; return e ? (e.id || e.getAttribute('aria-label') || e.textContent || '').trim() : ''; })()`,
    ) as Promise<string>;
  /** Tab (forward) until the focused element is `target` (id, aria-label or text); at most 120 presses. */
  const tabTo = async (target: string) => {
    for (let n = 0; n < 120; n++) {
      await page.keyboard.press('Tab');
      if ((await focused()) === target) return;
    }
    throw new Error(`Tab never reached ${target}`);
  };

  const fillEvent = async (values: { titre: string; date: string; debut: string; fin: string }) => {
    await tabTo('titre');
    await page.keyboard.type(values.titre);
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('zone');
    await page.keyboard.type('CDI');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('date');
    await page.keyboard.type(values.date);
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('debut');
    // Replaces the suggested time.
    await page.keyboard.press('Control+A');
    await page.keyboard.type(values.debut);
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('fin');
    await page.keyboard.press('Control+A');
    await page.keyboard.type(values.fin);
  };

  it('shows the week beside the timetable, with no serious accessibility violation', async () => {
    await page.goto(`${base}/tableau-de-bord/${DEMO_UAI}/evenements?semaine=2026-01-14`);
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    await expect(page.locator('h2#semaine-titre').textContent()).resolves.toBe('Semaine du lundi 12/01/2026');
    const rows = page.locator('#calendrier tbody tr');
    expect(await rows.count()).toBe(7);
    await expect(rows.nth(0).locator('td').nth(0).textContent()).resolves.toMatch(
      /salle\(s\) occupée\(s\), de \d\d:\d\d à/,
    );
    await expect(rows.nth(6).locator('td').nth(0).textContent()).resolves.toBe('Aucun cours');
    expect(await axe()).toEqual([]);
  });

  it('refuses an event ending before it starts, naming the field, still accessible', async () => {
    await fillEvent({ titre: 'Réunion parents', date: '2026-01-12', debut: '21:30', fin: '19:30' });
    await tabTo('Créer l’évènement');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.resume-erreurs', { timeout: 5000 });
    await expect(page.locator('.resume-erreurs li').allTextContents()).resolves.toEqual([
      'L’heure de fin doit suivre l’heure de début.',
    ]);
    await expect(page.locator('#fin').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.locator('#titre').inputValue()).resolves.toBe('Réunion parents');
    expect(await axe()).toEqual([]);
  });

  it('creates a weekly event from the keyboard and shows it in the calendar', async () => {
    await page.goto(`${base}/tableau-de-bord/${DEMO_UAI}/evenements?semaine=2026-01-12`);
    await fillEvent({ titre: 'Réunion parents', date: '2026-01-12', debut: '19:30', fin: '22:00' });
    // Every Monday and Thursday until the end of January.
    await tabTo('jours-1');
    await page.keyboard.press('Space');
    await tabTo('jours-4');
    await page.keyboard.press('Space');
    await tabTo('jusqua');
    await page.keyboard.type('2026-01-31');
    await tabTo('Créer l’évènement');
    await page.keyboard.press('Enter');
    await page.waitForSelector('p.ok[role="status"]', { timeout: 5000 });
    await expect(page.locator('p.ok').textContent()).resolves.toBe(
      'Évènement créé : le plan en tient compte dès maintenant.',
    );
    const rows = page.locator('#calendrier tbody tr');
    await expect(rows.nth(0).locator('td').nth(1).textContent()).resolves.toBe(
      '19:30–22:00 : Réunion parents (zone CDI, saisi)',
    );
    await expect(rows.nth(3).locator('td').nth(1).textContent()).resolves.toBe(
      '19:30–22:00 : Réunion parents (zone CDI, saisi)',
    );
    await expect(rows.nth(1).locator('td').nth(1).textContent()).resolves.toBe('Aucun');
    await expect(page.locator('#evenements tbody td').nth(1).textContent()).resolves.toBe(
      'chaque lundi, jeudi, 19:30–22:00, du 12/01/2026 au 31/01/2026',
    );
    expect(await axe()).toEqual([]);
    await saveScreenshot(page, 'tableau-de-bord-evenements');
  });

  it('deletes it from the keyboard', async () => {
    await tabTo('Supprimer l’évènement « Réunion parents » (toutes ses dates)');
    await page.keyboard.press('Enter');
    await page.waitForSelector('p.ok[role="status"]');
    await expect(page.locator('p.ok').textContent()).resolves.toBe(
      'Évènement supprimé : le plan en tient compte dès maintenant.',
    );
    await expect(page.locator('#liste-titre + p').textContent()).resolves.toBe('Aucun évènement.');
    expect(cspViolations).toEqual([]);
  });
});
