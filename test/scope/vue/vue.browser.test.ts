/**
 * SCOPE-VUE in a real headless Chromium against the real service (`startService`: HTTP server on
 * a loopback port, SQLite in a temporary directory, the demo lycée seeded, the repository's
 * devices/): log in through the form with the generated demo manager's token, read the grid and
 * the data-quality panel, follow a finding, change week, log out. Screenshots go to test-results/.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { createLogger } from '../../../src/logger.js';
import { type RunningService, startService } from '../../../src/service.js';
import { chromiumOrSkipReason, launchChromium, saveScreenshot } from '../../helpers/browser.js';

const skipReason = chromiumOrSkipReason();
if (skipReason) console.warn(`[VUE browser tests] skipped: ${skipReason}`);

const DEVICES_DIR = fileURLToPath(new URL('../../../devices', import.meta.url));

describe.skipIf(skipReason !== null)('SCOPE-VUE in Chromium', () => {
  let dataDir: string;
  let service: RunningService;
  let browser: Browser;
  const cspViolations: string[] = [];
  let page: Page;
  let managerToken: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'scope-energie-vue-'));
    const config = configSchema.parse({
      server: { host: '127.0.0.1', port: 0 },
      storage: { data_dir: dataDir },
      mqtt: { embedded: { port: 0 } },
      demo: { enabled: true, gateway: false },
      paths: {
        devices_dir: DEVICES_DIR,
        rules_dir: fileURLToPath(new URL('../../../rules', import.meta.url)),
      },
      clients_file: join(dataDir, 'no-clients.yaml'),
      log: { level: 'silent' },
    });
    // Friday 28 November 2025: the page opens on the week of Monday 24 November.
    service = await startService({
      config,
      logger: createLogger('silent'),
      clock: new ManualClock(Date.parse('2025-11-28T10:00:00Z')),
      baseDir: dataDir,
    });
    const credentials = readFileSync(join(dataDir, 'initial-credentials.txt'), 'utf8');
    managerToken = /^demo-manager\s+manager\s+(\S+)$/m.exec(credentials)?.[1] ?? '';
    expect(managerToken).not.toBe('');
    browser = await launchChromium();
    page = await (
      await browser.newContext({ locale: 'fr-FR', viewport: { width: 1400, height: 900 } })
    ).newPage();
    // The Content-Security-Policy allows no inline style but the pages' own, by hash: Chromium
    // reports any other it blocks on the console.
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('sends an anonymous visitor to the login form, then back to the page after login', async () => {
    await page.goto(`${service.url}/scope/vue/0670999X`);
    expect(new URL(page.url()).pathname).toBe('/connexion');
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    await page.getByLabel('Jeton (bearer)').fill(managerToken);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.waitForURL(`${service.url}/scope/vue/0670999X`);

    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({
      name: 'scope_session',
      httpOnly: true,
      sameSite: 'Strict',
      secure: false,
      path: '/',
    });
  });

  it('shows the rooms × days grid of the current week', async () => {
    await expect(page.locator('table caption').textContent()).resolves.toBe(
      'Occupation des salles, semaine du 24/11/2025 au 30/11/2025',
    );
    const rowHeaders = await page.locator('tbody th[scope=row]').allTextContents();
    expect(rowHeaders.slice(0, 3)).toEqual(['B101', 'B102', 'B103']);
    expect(rowHeaders).toContain('GYMNASE');
    expect(rowHeaders[rowHeaders.length - 1]).toBe('Sans salle');
    const columnHeaders = await page.locator('thead th[scope=col]').allTextContents();
    expect(columnHeaders).toEqual([
      'Salle',
      'lundi 24/11',
      'mardi 25/11',
      'mercredi 26/11',
      'jeudi 27/11',
      'vendredi 28/11',
      'samedi 29/11',
    ]);
    // B101, Monday 08:00–09:55 (demo-lycee.ts): in the B101 row, Monday column.
    const mondayB101 = page
      .locator('tbody tr')
      .filter({ has: page.locator('th', { hasText: /^B101$/ }) })
      .locator('td')
      .first();
    await expect(mondayB101.locator('#cours-demo-B101-1-0').textContent()).resolves.toBe(
      '08:00–09:55 ANGLAIS LV1 · 1RE G1',
    );
    await saveScreenshot(page, 'vue-semaine-2025-11-24');
    // The inline style sheet applies under the CSP (its hash is allowed), and nothing was blocked.
    await expect(
      page
        .locator('header.site')
        .evaluate(
          (e) =>
            (globalThis as unknown as { getComputedStyle(e: unknown): { display: string } }).getComputedStyle(
              e,
            ).display,
        ),
    ).resolves.toBe('flex');
    expect(cspViolations).toEqual([]);
  });

  it('shows the data-quality panel with the demo’s lesson without a room', async () => {
    const panel = page.locator('section.qualite');
    await expect(panel.locator('h2').textContent()).resolves.toBe('Qualité des données');
    await expect(panel.locator('#constat-sans-salle h3').textContent()).resolves.toBe(
      'Cours sans salle (1 cours, 1 groupe)',
    );
    await expect(panel.locator('#constat-chevauchement h3').textContent()).resolves.toBe(
      'Cours qui se chevauchent dans une même salle (0)',
    );
    const holidays = await panel.locator('#constat-vacances > ul > li').allTextContents();
    expect(holidays.some((text) => text.startsWith('Semaine du 22/12/2025 (Vacances de Noël'))).toBe(true);
  });

  it('follows a finding to the lesson, highlighted in its row', async () => {
    await page.locator('#constat-sans-salle a', { hasText: 'demo-sans-salle' }).click();
    await page.waitForURL(/cours=demo-sans-salle/);
    const url = new URL(page.url());
    expect(url.searchParams.get('semaine')).toBe('2025-11-24');
    expect(url.hash).toBe('#cours-demo-sans-salle');
    const target = page.locator('#cours-demo-sans-salle');
    await expect(target.getAttribute('class')).resolves.toBe('signale');
    await expect(target.textContent()).resolves.toBe('13:30–15:25 ACCOMPAGNEMENT · 2NDE 3');
    const row = page.locator('tbody tr').filter({ has: target });
    await expect(row.locator('th').textContent()).resolves.toBe('Sans salle');
    await saveScreenshot(page, 'vue-constat-sans-salle');
  });

  it('navigates to the next week, by keyboard', async () => {
    const next = page.getByRole('link', { name: 'Semaine suivante →' });
    await next.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/semaine=2025-12-01/);
    await expect(page.locator('table caption').textContent()).resolves.toBe(
      'Occupation des salles, semaine du 01/12/2025 au 07/12/2025',
    );
    await saveScreenshot(page, 'vue-semaine-2025-12-01');
  });

  it('logs out and needs a new login', async () => {
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.waitForURL(/\/connexion$/);
    expect(await page.context().cookies()).toEqual([]);
    await page.goto(`${service.url}/scope/vue/0670999X`);
    expect(new URL(page.url()).pathname).toBe('/connexion');
  });
});
