/**
 * Comfort on the dashboard in a real headless Chromium against the real service (`startService`:
 * HTTP on a loopback port, SQLite in a temporary directory, the demo lycée, no simulated gateway):
 * two days of reports are written into the service's own telemetry store — the B101–B103 circuit
 * reads 16 °C (every start cold against 19 °C), the B104–B106 one 21.5 °C (overheated) — and the
 * pages must show what `GET /api/comfort` computes from them: the alerts on the overview, the
 * measured temperature over the timelines, the comfort table with its cold starts linking to
 * their day, the period page with its errors in French, and the CSV exports.
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
import type { TelemetrySample } from '../../src/store/telemetry-repository.js';
import { chromiumOrSkipReason, launchChromium, saveScreenshot } from '../helpers/browser.js';

const missing = chromiumOrSkipReason();
const skip = missing !== null && process.env['SCOPE_ENERGIE_SKIP_BROWSER'] === '1';
if (skip) console.warn(`[comfort browser tests] skipped (SCOPE_ENERGIE_SKIP_BROWSER=1): ${missing}`);

const REPO = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
/** Tuesday 1 December 2026, 10:00 in Strasbourg. */
const NOW = Date.parse('2026-12-01T09:00:00Z');
const FROM = Date.parse('2026-11-29T23:00:00Z'); // Monday 00:00 local
const MIN = 60_000;

// biome-ignore lint/suspicious/noExplicitAny: API bodies are untyped JSON.
type Json = any;

function reports(zone: string, measured: number): TelemetrySample[] {
  const out: TelemetrySample[] = [];
  for (let ts = FROM; ts <= NOW; ts += 5 * MIN)
    out.push({
      uai: DEMO_UAI,
      zone,
      function: 'heating',
      ts,
      receivedAt: ts,
      measured_c: measured,
      mode: 'comfort',
      setpoint_c: 19,
      applied_rev: 1,
      source: 'bridge',
      flag: null,
    });
  return out;
}

describe.skipIf(skip)('comfort on the dashboard in Chromium', () => {
  let dataDir: string;
  let service: RunningService;
  let browser: Browser;
  let page: Page;
  let token: string;
  let api: { est: Json; ouest: Json };

  beforeAll(async () => {
    if (missing) throw new Error(`[comfort browser tests] ${missing}`);
    dataDir = await mkdtemp(join(tmpdir(), 'scope-energie-comfort-'));
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
      clock: new ManualClock(NOW),
      baseDir: dataDir,
    });
    const credentials = readFileSync(join(dataDir, 'initial-credentials.txt'), 'utf8');
    token = /^demo-manager\s+manager\s+(\S+)$/m.exec(credentials)?.[1] ?? '';
    await service.store.telemetry.writeBatch([
      ...reports('batiment-b-est', 16),
      ...reports('batiment-b-ouest', 21.5),
    ]);
    // What the API computes from the same store: the pages must say the same.
    const res = await fetch(`${service.url}/api/comfort?uai=${DEMO_UAI}&from=2026-11-30&to=2026-12-06`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const body: Json = await res.json();
    api = {
      est: body.zones.find((z: Json) => z.zone === 'batiment-b-est'),
      ouest: body.zones.find((z: Json) => z.zone === 'batiment-b-ouest'),
    };
    expect(api.est.cold_starts).toBeGreaterThan(0);
    expect(api.ouest.overheated_minutes).toBeGreaterThan(15);

    browser = await launchChromium();
    page = await (
      await browser.newContext({ locale: 'fr-FR', viewport: { width: 1300, height: 900 } })
    ).newPage();
    await page.goto(`${service.url}/tableau-de-bord`);
    await page.getByLabel('Jeton (bearer)').fill(token);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.waitForURL(`${service.url}/tableau-de-bord`);
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('the overview alerts on cold starts and overheating since yesterday', async () => {
    const alerts = page.locator(`tr[data-uai="${DEMO_UAI}"] li[data-alerte]`);
    const cold = await alerts.and(page.locator('[data-alerte="demarrage-froid"]')).allTextContents();
    const hot = await alerts.and(page.locator('[data-alerte="surchauffe"]')).allTextContents();
    expect(cold).toHaveLength(1);
    // Every start of the zone since Monday is cold (16 °C against 19 °C), listed with its time.
    expect(cold[0]).toMatch(
      /^Bâtiment B, salles B101 à B103 : (démarrage froid|\d+ démarrages froids) lun\. 30\/11 à \d\d:\d\d \(16 °C pour 19 °C\)/,
    );
    expect(cold[0]?.match(/\(16 °C pour 19 °C\)/g)?.length).toBe(api.est.cold_starts);
    expect(hot).toEqual([
      `Bâtiment B, salles B104 à B106 : ${Math.round(api.ouest.overheated_minutes)} min de cours au-dessus de 20 °C depuis hier (maximum 21,5 °C).`,
    ]);
    await saveScreenshot(page, 'confort-liste');
  });

  it('draws the measured temperature and the setpoint over the day and week timelines', async () => {
    await page.goto(`${service.url}/tableau-de-bord/${DEMO_UAI}?jour=2026-11-30`);
    const zone = page.locator('#frises-batiment-b-est');
    const [day, week] = [zone.locator('svg.frise').nth(0), zone.locator('svg.frise').nth(1)];
    for (const svg of [day, week]) {
      expect(await svg.locator('path.mesure').count()).toBeGreaterThan(0);
      expect(await svg.locator('line.consigne').count()).toBeGreaterThan(0);
    }
    // Monday: measured all day (a report every 5 minutes), 24 h at 16 °C.
    await expect(day.locator('desc').textContent()).resolves.toMatch(
      /Température mesurée : 16 °C pendant 24 h\.$/,
    );
    // Zones without reports say so; zones without heating have no band.
    await expect(page.locator('#frises-cdi svg.frise desc').first().textContent()).resolves.toMatch(
      /Température : aucune mesure\.$/,
    );
    await expect(zone.locator('details').textContent()).resolves.toContain('Température mesurée : 16 °C');
  });

  it('the week’s comfort table: the API’s figures, cold starts linking to their day', async () => {
    const row = page.locator('#confort-zones tr[data-zone="batiment-b-est"] td');
    await expect(row.nth(0).textContent()).resolves.toBe(String(Math.round(api.est.occupied_minutes)));
    await expect(row.nth(1).textContent()).resolves.toBe(String(Math.round(api.est.cold_minutes)));
    await expect(row.nth(4).textContent()).resolves.toBe(String(api.est.starts));
    const links = row.nth(5).locator('a');
    expect(await links.count()).toBe(api.est.cold_starts);
    await expect(
      page.locator('#confort-zones tr[data-zone="batiment-b-ouest"] td').nth(2).textContent(),
    ).resolves.toBe(String(Math.round(api.ouest.overheated_minutes)));
    await saveScreenshot(page, 'confort-etablissement');
    // Keyboard: focus the first cold start and follow it to its day's timelines.
    await links.first().focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/jour=2026-11-30#frises-batiment-b-est$/);
  });

  it('a chosen period, with its errors in French next to the field', async () => {
    await page.goto(`${service.url}/tableau-de-bord/${DEMO_UAI}`);
    await page.getByRole('link', { name: 'Choisir une autre période' }).click();
    await page.waitForURL(/\/confort\?du=2026-11-30&au=2026-12-06$/);
    await page.getByLabel('Du (premier jour)').fill('2026-12-01');
    await page.getByLabel('Au (dernier jour, inclus)').fill('2026-11-30');
    await page.getByRole('button', { name: 'Afficher le confort' }).click();
    await page.waitForURL(/du=2026-12-01&au=2026-11-30$/);
    await expect(page.locator('#au-erreur').textContent()).resolves.toBe(
      'au : le dernier jour précède le premier.',
    );
    await expect(page.getByLabel('Au (dernier jour, inclus)').getAttribute('aria-invalid')).resolves.toBe(
      'true',
    );
    await page.getByLabel('Du (premier jour)').fill('2026-11-30');
    await page.getByLabel('Au (dernier jour, inclus)').fill('2026-11-30');
    await page.getByRole('button', { name: 'Afficher le confort' }).click();
    await page.waitForURL(/du=2026-11-30&au=2026-11-30$/);
    const monday: Json = await (
      await fetch(
        `${service.url}/api/comfort?uai=${DEMO_UAI}&from=2026-11-30&to=2026-11-30&zone=batiment-b-est`,
        {
          headers: { authorization: `Bearer ${token}` },
        },
      )
    ).json();
    await expect(
      page.locator('#confort-zones tr[data-zone="batiment-b-est"] td').nth(1).textContent(),
    ).resolves.toBe(String(Math.round(monday.zones[0].cold_minutes)));
    await saveScreenshot(page, 'confort-periode');
  });

  it('the CSV exports: the API’s CSV through the browser session', async () => {
    const href = await page
      .getByRole('link', { name: 'Exporter le confort de la période (CSV)' })
      .getAttribute('href');
    const csv = await page.request.get(`${service.url}${href}`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toBe('text/csv; charset=utf-8');
    const bytes = await csv.body();
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const api = await fetch(
      `${service.url}/api/comfort?uai=${DEMO_UAI}&from=2026-11-30&to=2026-11-30&format=csv`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    expect(bytes.toString('utf8')).toBe(Buffer.from(await api.arrayBuffer()).toString('utf8'));
    const hourlyHref = await page
      .getByRole('link', { name: 'Exporter la télémétrie horaire de la période (CSV)' })
      .getAttribute('href');
    const hourly = await page.request.get(`${service.url}${hourlyHref}`);
    expect(hourly.status()).toBe(200);
    expect((await hourly.text()).split('\r\n')[0]).toBe(
      '\uFEFFzone;function;hour;samples;flagged;min_c;mean_c;max_c;occupied_minutes;measured_minutes;cold_minutes;overheated_minutes;unmeasured_minutes;starts;cold_starts',
    );
  });
});
