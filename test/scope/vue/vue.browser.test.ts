/**
 * SCOPE-VUE in a real headless Chromium against the real service (`startService`: HTTP server on
 * a loopback port, SQLite in a temporary directory, the demo lycée seeded, the repository's
 * devices/): log in through the form with the generated demo manager's token, read the grid and
 * the data-quality panel, follow a finding, change week, log out. Screenshots go to test-results/.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { createLogger } from '../../../src/log/logger.js';
import { type RunningService, startService } from '../../../src/service.js';
import { chromiumOrSkipReason, launchChromium, saveScreenshot } from '../../helpers/browser.js';

const skipReason = chromiumOrSkipReason();
if (skipReason) console.warn(`[VUE browser tests] skipped: ${skipReason}`);

const DEVICES_DIR = fileURLToPath(new URL('../../../devices', import.meta.url));
/** axe-core's browser bundle, evaluated in the page (DevTools evaluation is not subject to its CSP). */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Serious and critical axe-core violations of the page as it stands (WCAG 2.1 A and AA rules). */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }).then((r) => ({ passes: r.passes.length, violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })) }))`,
  )) as { passes: number; violations: AxeViolation[] };
  // axe ran its rules on this page (an empty answer from a failed injection would prove nothing).
  expect(result.passes).toBeGreaterThan(10);
  const violations = result.violations;
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Presses Tab until `selector` has the focus (at most `limit` times): keyboard only, no click. */
async function tabTo(page: Page, selector: string, limit = 60): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`)) return;
  }
  throw new Error(`${selector} never got the focus in ${limit} Tab presses`);
}

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

  it('picks a week with the keyboard only, through the labelled date field', async () => {
    await page.goto(`${service.url}/scope/vue/0670999X`);
    const field = page.getByLabel('Aller à la semaine du');
    await expect(field.getAttribute('type')).resolves.toBe('date');
    await expect(field.inputValue()).resolves.toBe('2025-11-24');
    await tabTo(page, '#semaine');
    // Typed segment by segment; day = month, so the field's order (jj/mm or mm/dd, from the
    // browser's own language) does not matter.
    await page.keyboard.type('12122025');
    await expect(field.inputValue()).resolves.toBe('2025-12-12');
    // Tab walks the field's segments first, then reaches the button.
    await tabTo(page, 'form.choix-semaine button', 5);
    await expect(page.evaluate('document.activeElement?.textContent')).resolves.toBe('Afficher');
    await page.keyboard.press('Enter');
    await page.waitForURL(/semaine=2025-12-12/);
    await expect(page.locator('table caption').textContent()).resolves.toBe(
      'Occupation des salles, semaine du 08/12/2025 au 14/12/2025',
    );
    await expect(field.inputValue()).resolves.toBe('2025-12-08');
    await saveScreenshot(page, 'vue-choix-semaine');
  });

  it('opens a finding’s lesson list with the keyboard, and axe-core finds no serious violation', async () => {
    await page.goto(`${service.url}/scope/vue/0670999X`);
    const holidays = page.locator('#constat-vacances details').first();
    await expect(holidays.getAttribute('open')).resolves.toBeNull();
    await tabTo(page, '#constat-vacances summary');
    await page.keyboard.press('Enter');
    await expect(holidays.getAttribute('open')).resolves.toBe('');
    await expect(page.locator('#constat-jamais h3').textContent()).resolves.toMatch(
      /^Cours qui n’ont jamais lieu \(\d+( cours.*)?\)$/,
    );
    expect(await seriousViolations(page)).toEqual([]);
    // The week picked by the form, and the login form, too.
    await page.goto(`${service.url}/scope/vue/0670999X?semaine=2025-12-24`);
    expect(await seriousViolations(page)).toEqual([]);
    expect(cspViolations).toEqual([]);
  });

  it('logs out and needs a new login', async () => {
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.waitForURL(/\/connexion$/);
    expect(await page.context().cookies()).toEqual([]);
    await page.goto(`${service.url}/scope/vue/0670999X`);
    expect(new URL(page.url()).pathname).toBe('/connexion');
  });
});
