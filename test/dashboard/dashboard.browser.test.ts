/**
 * The dashboard in a real headless Chromium against the real service (`startService`: HTTP on a
 * loopback port, SQLite in a temporary directory, the embedded aedes broker, the demo lycée):
 * log in as the demo manager, see the demo school and its alert, open it, create an override
 * with the keyboard only and watch the retained `desired` of that zone change on the broker (an
 * independent mqtt.js subscriber with the demo gateway's credentials), cancel it and watch the
 * plan's state come back under a new rev. Screenshots go to test-results/.
 *
 * Without Chromium the suite fails with the reason, unless SCOPE_ENERGIE_SKIP_BROWSER=1 says a
 * machine has none on purpose (then it is skipped, out loud).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { ManualClock } from '../../src/domain/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { type RunningService, startService } from '../../src/service.js';
import { chromiumOrSkipReason, launchChromium, saveScreenshot } from '../helpers/browser.js';
import { type Collector, collectMessages, waitFor } from '../helpers/mqtt-contract.js';

const missing = chromiumOrSkipReason();
const skip = missing !== null && process.env['SCOPE_ENERGIE_SKIP_BROWSER'] === '1';
if (skip) console.warn(`[dashboard browser tests] skipped (SCOPE_ENERGIE_SKIP_BROWSER=1): ${missing}`);

const REPO = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const TOPIC = `sobriete/v1/${DEMO_UAI}/cdi/heating/desired`;

/** The page's globals, typed by hand: this project compiles without the DOM library. */
type PageGlobals = { document: { activeElement: { id: string; textContent: string | null } | null } };

interface Desired {
  rev: number;
  mode: string;
  setpoint_c?: number;
  reason: { kind: string; override_id?: string };
}

describe.skipIf(skip)('the dashboard in Chromium', () => {
  let dataDir: string;
  let service: RunningService;
  let browser: Browser;
  const cspViolations: string[] = [];
  let page: Page;
  let managerToken: string;
  let broker: Collector;
  let planned: Desired;
  let overridden: Desired;

  const latest = () =>
    broker.messages.filter((m) => m.topic === TOPIC).at(-1)?.payload as Desired | undefined;

  beforeAll(async () => {
    if (missing) throw new Error(`[dashboard browser tests] ${missing}`);
    dataDir = await mkdtemp(join(tmpdir(), 'scope-energie-dashboard-'));
    const config = configSchema.parse({
      server: { host: '127.0.0.1', port: 0 },
      storage: { data_dir: dataDir },
      mqtt: { embedded: { port: 0 } },
      // No simulated gateway: the demo gateway never connects, which is the alert to see.
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
    managerToken = /^demo-manager\s+manager\s+(\S+)$/m.exec(credentials)?.[1] ?? '';
    expect(managerToken).not.toBe('');
    broker = await collectMessages(
      service.mqttUrl,
      { username: 'gw-tilleuls', password: 'demo-gateway-password' },
      `sobriete/v1/${DEMO_UAI}/+/+/desired`,
    );
    browser = await launchChromium();
    page = await (
      await browser.newContext({ locale: 'fr-FR', viewport: { width: 1300, height: 900 } })
    ).newPage();
    // The Content-Security-Policy allows no inline style but the pages' own, by hash: Chromium
    // reports any other it blocks on the console.
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await broker?.close();
    await service?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('logs in through /connexion and lists the demo school with its alert', async () => {
    await page.goto(`${service.url}/tableau-de-bord`);
    expect(new URL(page.url()).pathname).toBe('/connexion');
    await page.getByLabel('Jeton (bearer)').fill(managerToken);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.waitForURL(`${service.url}/tableau-de-bord`);
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    await expect(page.locator('h1').textContent()).resolves.toBe('Tableau de bord');
    const row = page.locator(`tr[data-uai="${DEMO_UAI}"]`);
    await expect(row.locator('th a').textContent()).resolves.toBe('Lycée des Tilleuls (démonstration)');
    await expect(row.locator('li[data-alerte]').allTextContents()).resolves.toEqual([
      'Passerelle gw-tilleuls : jamais connectée.',
    ]);
    await saveScreenshot(page, 'tableau-de-bord-liste');
  });

  it('opens the school: zones, timelines with text alternatives, savings', async () => {
    await page.getByRole('link', { name: 'Lycée des Tilleuls (démonstration)' }).click();
    await page.waitForURL(`${service.url}/tableau-de-bord/${DEMO_UAI}`);
    await expect(page.locator('h1').textContent()).resolves.toBe(
      `Lycée des Tilleuls (démonstration) (${DEMO_UAI})`,
    );
    planned = await waitFor(() => latest(), { timeoutMs: 10_000, what: 'the retained desired of cdi' });
    // The zones table shows what the retained desired carries.
    const cdi = page.locator('#zones tr[data-zone="cdi"] td');
    const modes: Record<string, string> = { comfort: 'Confort', eco: 'Réduit', frost: 'Hors-gel' };
    await expect(cdi.nth(0).textContent()).resolves.toBe(modes[planned.mode]);
    expect(await page.locator('svg.frise[role="img"]').count()).toBe(16);
    await expect(page.locator('#frises-cdi svg title').first().textContent()).resolves.toBe(
      'CDI, mardi 01/12/2026',
    );
    await expect(page.locator('#economies svg.economies[role="img"]').count()).resolves.toBe(1);
    await saveScreenshot(page, 'tableau-de-bord-etablissement');
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

  it('shows form errors next to their field and keeps the values', async () => {
    await page.locator('#f-zone').selectOption('cdi');
    await page.locator('#f-consigne').fill('chaud');
    await page.getByRole('button', { name: 'Créer la dérogation' }).click();
    await page.waitForLoadState();
    await expect(page.locator('#f-consigne').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.locator('#f-consigne-erreur').textContent()).resolves.toBe(
      'Indiquez une température en °C, par exemple 19 ou 18,5 (ou laissez vide).',
    );
    await expect(page.locator('#f-motif-erreur').textContent()).resolves.toBe(
      'Indiquez le motif : il figure dans le plan et dans le journal d’audit.',
    );
    await expect(page.locator('#f-consigne').inputValue()).resolves.toBe('chaud');
    await expect(page.locator('#f-zone').inputValue()).resolves.toBe('cdi');
    await expect(page.locator('.resume-erreurs[role="alert"] li').count()).resolves.toBe(2);
    await saveScreenshot(page, 'tableau-de-bord-erreurs');
    expect(latest()?.rev).toBe(planned.rev);
  });

  it('creates an override with the keyboard only, and the desired state changes on the broker', async () => {
    await page.goto(`${service.url}/tableau-de-bord/${DEMO_UAI}`);
    await page.locator('#f-zone').focus();
    await page.keyboard.type('CDI');
    await expect(page.locator('#f-zone').inputValue()).resolves.toBe('cdi');
    const order: string[] = [];
    const tab = async () => {
      await page.keyboard.press('Tab');
      const id = await page.evaluate(
        () => (globalThis as unknown as PageGlobals).document.activeElement?.id ?? '',
      );
      order.push(id);
      return id;
    };
    expect(await tab()).toBe('f-fonction');
    expect(await tab()).toBe('f-mode');
    await page.keyboard.type('Hors');
    await expect(page.locator('#f-mode').inputValue()).resolves.toBe('frost');
    expect(await tab()).toBe('f-consigne');
    await page.keyboard.type('8');
    expect(await tab()).toBe('f-fin-duree');
    expect(await tab()).toBe('f-duree_heures');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('2');
    for (let i = 0; i < 10 && (await tab()) !== 'f-motif'; i++);
    expect(order.at(-1)).toBe('f-motif');
    await page.keyboard.type('Radiateur en panne');
    await page.keyboard.press('Tab');
    await expect(
      page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.textContent),
    ).resolves.toBe('Créer la dérogation');
    await page.keyboard.press('Enter');
    await page.waitForURL(/ok=derogation-creee/);
    await expect(page.locator('p.ok[role="status"]').textContent()).resolves.toBe(
      'Dérogation créée : le nouvel état est envoyé à la passerelle.',
    );
    const row = page.locator('table.derogations').first().locator('tbody tr');
    await expect(row.count()).resolves.toBe(1);
    await expect(row.locator('th, td').allTextContents()).resolves.toEqual([
      'CDI',
      'Chauffage',
      'Hors-gel',
      '8 °C',
      '01/12/2026 10:00',
      '01/12/2026 12:00',
      'demo-manager',
      'Radiateur en panne',
      'En cours',
      'Annuler',
    ]);

    overridden = await waitFor(
      () => {
        const d = latest();
        return d?.reason.kind === 'override' ? d : undefined;
      },
      { timeoutMs: 5_000, what: 'the override on the broker' },
    );
    expect(overridden).toMatchObject({ mode: 'frost', setpoint_c: 8, reason: { kind: 'override' } });
    expect(overridden.rev).toBeGreaterThan(planned.rev);
    await expect(page.locator('#zones tr[data-zone="cdi"] td').nth(0).textContent()).resolves.toBe(
      'Hors-gel',
    );
    await saveScreenshot(page, 'tableau-de-bord-derogation-creee');
  });

  it('cancels the override and the plan’s state comes back under a new rev', async () => {
    await page.getByRole('button', { name: 'Annuler la dérogation de CDI' }).click();
    await page.waitForURL(/ok=derogation-annulee/);
    await expect(page.locator('p.ok[role="status"]').textContent()).resolves.toBe(
      'Dérogation annulée : la zone reprend le plan.',
    );
    const resumed = await waitFor(
      () => {
        const d = latest();
        return d && d.rev > overridden.rev ? d : undefined;
      },
      { timeoutMs: 5_000, what: 'the plan resumed on the broker' },
    );
    expect(resumed.reason.kind).not.toBe('override');
    expect({ mode: resumed.mode, setpoint_c: resumed.setpoint_c }).toEqual({
      mode: planned.mode,
      setpoint_c: planned.setpoint_c,
    });
    await expect(page.getByText('Aucune dérogation en cours ou à venir.').count()).resolves.toBe(1);
    await expect(page.locator('table.derogations caption').allTextContents()).resolves.toEqual([
      'Terminées (10 dernières)',
    ]);
    await saveScreenshot(page, 'tableau-de-bord-derogation-annulee');
  });
});
