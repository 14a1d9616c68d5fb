/**
 * The dashboard of a region in a real headless Chromium (issue 18):
 * - the overview of 120 schools (region-fixture.ts, through the real HTTP app on a loopback port)
 *   searched, filtered and paged with the keyboard alone, each state checked by axe-core;
 * - every dashboard page of the running service (`startService`, the demo lycée, SQLite, the
 *   embedded broker): the overview, the school, its rooms and zones, events, compliance, comfort,
 *   measured savings and the error page, with no serious or critical axe-core violation.
 * axe-core is injected from its package. Without Chromium the suite fails with the reason, unless
 * SCOPE_ENERGIE_SKIP_BROWSER=1 says a machine has none on purpose.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/app/app.js';
import { configSchema } from '../../src/config/schema.js';
import { DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { ManualClock } from '../../src/domain/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { type RunningService, startService } from '../../src/service.js';
import { openStore, type Store } from '../../src/store/store.js';
import { chromiumOrSkipReason, launchChromium, saveScreenshot } from '../helpers/browser.js';
import { tempWorkDir } from '../helpers/cli.js';
import { makeClients } from '../helpers/clients.js';
import { clock, regionDashboardDeps, uaiOf } from './region-fixture.js';

const missing = chromiumOrSkipReason();
const skip = missing !== null && process.env['SCOPE_ENERGIE_SKIP_BROWSER'] === '1';
if (skip) console.warn(`[region browser tests] skipped (SCOPE_ENERGIE_SKIP_BROWSER=1): ${missing}`);
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const REPO = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: string[];
}

/** axe-core's serious and critical violations of the page as it is. */
async function axe(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) })))`,
  )) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

const focused = (page: Page) =>
  page.evaluate(
    `(() => { const e = document.activeElement; return e ? (e.id || e.getAttribute('aria-label') || e.textContent || '').trim() : ''; })()`,
  ) as Promise<string>;

/** Tab (forward) until the focused element is `target` (id, aria-label or text); at most 200 presses. */
async function tabTo(page: Page, target: string): Promise<void> {
  for (let n = 0; n < 200; n++) {
    await page.keyboard.press('Tab');
    if ((await focused(page)) === target) return;
  }
  throw new Error(`Tab never reached ${target}`);
}

const rows = (page: Page) =>
  page.locator('#etablissements tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-uai')));

describe.skipIf(skip)('the region overview in Chromium, keyboard only', () => {
  const clients = makeClients([{ id: 'admin', role: 'admin' }], clock);
  let server: Server;
  let store: Store;
  let base: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (missing) throw new Error(`[region browser tests] ${missing}`);
    store = await openStore({ dataDir: tempWorkDir() });
    const app = createHttpApp({
      authenticator: clients.authenticator,
      entree: { store, clock, bodyLimitBytes: 1024 * 1024, strictJson: false },
      dashboard: regionDashboardDeps().deps,
    });
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    const context = await browser.newContext({
      locale: 'fr-FR',
      viewport: { width: 1300, height: 900 },
      extraHTTPHeaders: clients.bearer('admin'),
    });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await store?.close();
  });

  it('searches by name from the keyboard', async () => {
    await page.goto(`${base}/tableau-de-bord`);
    expect(await axe(page)).toEqual([]);
    await tabTo(page, 'f-q');
    await page.keyboard.type('emile');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/tableau-de-bord?q=emile&departement=&alerte=&passerelles=&tri=uai`);
    expect(await rows(page)).toEqual([uaiOf(7)]);
    await expect(page.locator('#resultat').textContent()).resolves.toBe(
      '1 établissement(s) correspondant(s), page 1 sur 1.',
    );
    expect(await axe(page)).toEqual([]);
  });

  it('filters by département and alert kind, sorts by name, with the keyboard only', async () => {
    await tabTo(page, 'Effacer les filtres');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/tableau-de-bord`);
    await tabTo(page, 'f-departement');
    await page.keyboard.type('67');
    expect(await focused(page)).toBe('f-departement');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('f-alerte');
    await page.keyboard.type('Salles h');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('f-passerelles');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('f-tri');
    await page.keyboard.type('Nom');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('Afficher');
    await page.keyboard.press('Enter');
    await page.waitForURL(
      `${base}/tableau-de-bord?q=&departement=67&alerte=salles-non-affectees&passerelles=&tri=nom`,
    );
    // Département 67 (i % 3 == 0) with a room in no zone (i % 6 == 0): 20 schools, by name.
    expect(await rows(page)).toEqual(Array.from({ length: 20 }, (_, k) => uaiOf(k * 6)));
    await expect(page.locator('#f-departement').inputValue()).resolves.toBe('67');
    expect(await axe(page)).toEqual([]);
    await saveScreenshot(page, 'tableau-de-bord-region-filtre');
  });

  it('pages with the keyboard, the filters kept', async () => {
    await page.goto(`${base}/tableau-de-bord?tri=nom&passerelles=en-ligne`);
    await tabTo(page, 'Page 2');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/tableau-de-bord?passerelles=en-ligne&tri=nom&page=2`);
    await expect(page.locator('#resultat').textContent()).resolves.toBe(
      '82 établissement(s) correspondant(s), page 2 sur 2.',
    );
    await expect(page.locator('nav.pages [aria-current="page"]').textContent()).resolves.toBe('2');
    expect(await axe(page)).toEqual([]);
    await tabTo(page, '← Page précédente');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/tableau-de-bord?passerelles=en-ligne&tri=nom`);
    expect(await rows(page)).toHaveLength(50);
    await saveScreenshot(page, 'tableau-de-bord-region-pages');
  });
});

describe.skipIf(skip)('every dashboard page of the running service in Chromium', () => {
  let dataDir: string;
  let service: RunningService;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (missing) throw new Error(`[region browser tests] ${missing}`);
    dataDir = await mkdtemp(join(tmpdir(), 'scope-energie-dashboard-axe-'));
    const config = configSchema.parse({
      server: { host: '127.0.0.1', port: 0 },
      storage: { data_dir: dataDir },
      mqtt: { embedded: { port: 0 } },
      demo: { enabled: true, gateway: false },
      paths: { devices_dir: REPO('devices'), rules_dir: REPO('rules') },
      clients_file: join(dataDir, 'no-clients.yaml'),
      log: { level: 'silent' },
    });
    // Tuesday 1 December 2026, 10:00 in Strasbourg: a school day.
    service = await startService({
      config,
      logger: createLogger('silent'),
      clock: new ManualClock(Date.parse('2026-12-01T09:00:00Z')),
      baseDir: dataDir,
    });
    const credentials = readFileSync(join(dataDir, 'initial-credentials.txt'), 'utf8');
    const token = /^demo-manager\s+manager\s+(\S+)$/m.exec(credentials)?.[1] ?? '';
    expect(token).not.toBe('');
    browser = await launchChromium();
    page = await (
      await browser.newContext({
        locale: 'fr-FR',
        viewport: { width: 1300, height: 900 },
        extraHTTPHeaders: { Authorization: `Bearer ${token}` },
      })
    ).newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it.each([
    ['the overview', '/tableau-de-bord', 200],
    ['the overview with no school matching', '/tableau-de-bord?q=aucun', 200],
    ['the overview refusing a bad parameter', '/tableau-de-bord?page=0', 400],
    ['the school', `/tableau-de-bord/${DEMO_UAI}`, 200],
    ['its rooms and zones', `/tableau-de-bord/${DEMO_UAI}/salles`, 200],
    ['its events', `/tableau-de-bord/${DEMO_UAI}/evenements`, 200],
    ['its compliance report', `/tableau-de-bord/${DEMO_UAI}/conformite`, 200],
    ['its comfort', `/tableau-de-bord/${DEMO_UAI}/confort`, 200],
    ['its measured savings', `/tableau-de-bord/${DEMO_UAI}/economies-mesurees`, 200],
    ['a school outside the list', '/tableau-de-bord/0679999E', 404],
  ])('%s (%s) has no serious or critical violation', async (_what, path, status) => {
    const res = await page.goto(`${service.url}${path}`);
    expect(res?.status()).toBe(status);
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    expect(await axe(page)).toEqual([]);
  });
});
