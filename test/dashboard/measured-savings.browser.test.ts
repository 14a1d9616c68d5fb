/**
 * The measured-savings page of the dashboard in Chromium (issue 16): the service with the demo
 * lycée, meter readings in its store, a manager logged in through /connexion; the French form,
 * the measured saving with its uncertainty beside the estimate; too little data → the missing data
 * named and no figure. Keyboard: every field has a label and the form submits with Enter.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DateTime } from 'luxon';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDaysIso } from '../../src/calendar/index.js';
import { configSchema } from '../../src/config/schema.js';
import { DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { ManualClock } from '../../src/domain/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { monthlyNormals } from '../../src/savings/outdoor.js';
import { type RunningService, startService } from '../../src/service.js';
import { chromiumOrSkipReason, launchChromium, saveScreenshot } from '../helpers/browser.js';

const missing = chromiumOrSkipReason();
const skip = missing !== null && process.env['SCOPE_ENERGIE_SKIP_BROWSER'] === '1';
const REPO = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

describe.skipIf(skip)('the measured savings page in Chromium', () => {
  let dataDir: string;
  let service: RunningService;
  let browser: Browser;
  let page: Page;
  let token: string;

  beforeAll(async () => {
    if (missing) throw new Error(`[measured savings browser test] ${missing}`);
    dataDir = await mkdtemp(join(tmpdir(), 'scope-energie-measured-'));
    const config = configSchema.parse({
      server: { host: '127.0.0.1', port: 0 },
      storage: { data_dir: dataDir },
      mqtt: { embedded: { port: 0 } },
      demo: { enabled: true, gateway: false },
      paths: { devices_dir: REPO('devices'), rules_dir: REPO('rules') },
      clients_file: join(dataDir, 'no-clients.yaml'),
      log: { level: 'silent' },
    });
    service = await startService({
      config,
      logger: createLogger('silent'),
      clock: new ManualClock(Date.parse('2026-12-01T09:00:00Z')),
      baseDir: dataDir,
    });
    token =
      /^demo-manager\s+manager\s+(\S+)$/m.exec(
        readFileSync(join(dataDir, 'initial-credentials.txt'), 'utf8'),
      )?.[1] ?? '';
    // A school year of daily gas indexes before the pilot, and the autumn after: 300 kWh + 12 kWh
    // per degree-day of the Strasbourg normals, 20 % less from 1 September 2026.
    const normals = monthlyNormals('strasbourg');
    const readings = [];
    let index = 20_000;
    for (let i = 0; i <= 365 + 91; i++) {
      const date = addDaysIso('2025-09-01', i);
      readings.push({
        meter: 'gaz',
        ts: DateTime.fromISO(date, { zone: 'Europe/Paris' }).toMillis(),
        kind: 'index' as const,
        valueKwh: index,
        periodFrom: null,
        source: 'test',
      });
      const hdd = Math.max(0, 18 - (normals[Number(date.slice(5, 7)) - 1] as number));
      index += (date >= '2026-09-01' ? 0.8 : 1) * (300 + 12 * hdd) + (i % 2 === 0 ? 25 : -25);
    }
    await service.store.meters.putMeterReadings(DEMO_UAI, readings, 0);
    browser = await launchChromium();
    page = await (
      await browser.newContext({ locale: 'fr-FR', viewport: { width: 1200, height: 900 } })
    ).newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('shows the measured saving with its uncertainty beside the estimate', async () => {
    await page.goto(`${service.url}/tableau-de-bord/${DEMO_UAI}/economies-mesurees`);
    await page.getByLabel('Jeton (bearer)').fill(token);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.waitForURL(/economies-mesurees/);
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    const reference = page.getByRole('group', { name: 'Période de référence (avant le pilote)' });
    await reference.getByLabel('Du').fill('2025-09-01');
    await reference.getByLabel('Au').fill('2026-08-31');
    const report = page.getByRole('group', { name: 'Période de suivi' });
    await report.getByLabel('Du').fill('2026-09-01');
    await report.getByLabel('Au').fill('2026-11-30');
    await report.getByLabel('Au').press('Enter');
    await page.waitForSelector('#economies-mesurees');
    const row = (name: string) => page.locator(`tr[data-ligne="${name}"] td`).textContent();
    await expect(row('mesuree')).resolves.toMatch(/^[\d\s\u202f]+,\d kWh \((19|20|21),\d %\)$/);
    await expect(row('incertitude-68')).resolves.toMatch(/^± [\d\s\u202f]+,\d kWh$/);
    await expect(row('incertitude-90')).resolves.toMatch(/^± [\d\s\u202f]+,\d kWh$/);
    await expect(row('estimee')).resolves.toMatch(/kWh/);
    await expect(row('ashrae')).resolves.toMatch(/^critères (non )?respectés$/);
    await saveScreenshot(page, 'economies-mesurees');
  });

  it('names the missing data and gives no figure when the reference is too short', async () => {
    await page.goto(
      `${service.url}/tableau-de-bord/${DEMO_UAI}/economies-mesurees?reference_du=2025-06-01&reference_au=2025-08-31&du=2026-09-01&au=2026-11-30`,
    );
    await expect(page.locator('#manquantes-titre').textContent()).resolves.toBe(
      'Données insuffisantes : aucune économie calculée',
    );
    await expect(page.locator('li[data-manque="baseline:meter-readings"]').textContent()).resolves.toMatch(
      /^Période de référence : relevés de compteur manquants \(92 jours\)\. Premiers jours : 01\/06\/2025 \(aucun relevé\)/,
    );
    await expect(page.locator('#economies-mesurees').count()).resolves.toBe(0);
  });
});
