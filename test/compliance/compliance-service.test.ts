/**
 * The compliance report in the running service and from the CLI: the same CSV bytes from
 * `GET /api/compliance?format=csv`, the dashboard's `…/conformite?format=csv` and
 * `scope-energie compliance --csv` on the same data directory, and the printable French page.
 */
import { cpSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../src/cli/command.js';
import { complianceCommand } from '../../src/cli/compliance.js';
import { complianceReportSchema } from '../../src/compliance/compliance-report-schema.js';
import { configSchema } from '../../src/config/schema.js';
import { DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { ManualClock } from '../../src/domain/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { type RunningService, startService } from '../../src/service.js';
import { chromiumOrSkipReason, launchChromium, saveScreenshot } from '../helpers/browser.js';
import { REPO_CONFIG, REPO_ROOT, tempWorkDir } from '../helpers/cli.js';
import { CDI_EXCEPTION, rulesWithCdiException } from './compliance-fixtures.js';

const NOW = '2026-12-01T09:00:00.000Z';
const PERIOD = { from: '2026-11-23', to: '2026-11-29' };

class Capture extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer | string, _encoding: string, done: () => void) {
    this.chunks.push(Buffer.from(chunk));
    done();
  }
}

describe('the compliance report in the service and the CLI', () => {
  let service: RunningService;
  let auditor: string;
  const cwd = tempWorkDir();

  beforeAll(async () => {
    cpSync(join(REPO_ROOT, 'devices'), join(cwd, 'devices'), { recursive: true });
    cpSync(join(REPO_ROOT, 'rules'), join(cwd, 'rules'), { recursive: true });
    rulesWithCdiException(join(cwd, 'rules', 'default.yaml'));
    const config = configSchema.parse({
      server: { host: '127.0.0.1', port: 0 },
      storage: { data_dir: 'data' },
      mqtt: { embedded: { port: 0 } },
      clients_file: 'no-clients.yaml',
      demo: { gateway: false },
      log: { level: 'silent' },
    });
    service = await startService({
      config,
      logger: createLogger('silent'),
      baseDir: cwd,
      clock: new ManualClock(Date.parse(NOW)),
    });
    // The CDI's sensor on Tuesday 24 November, 10:00 and 10:05 Paris: 21.5 °C then 19.8 °C.
    const sample = (ts: string, measured_c: number) => ({
      uai: DEMO_UAI,
      zone: 'cdi',
      function: 'heating',
      ts: Date.parse(ts),
      receivedAt: Date.parse(ts),
      measured_c,
      mode: 'comfort',
      setpoint_c: 20,
      applied_rev: 1,
      source: 'gateway',
      flag: null,
    });
    await service.store.telemetry.writeBatch([
      sample('2026-11-24T09:00:00.000Z', 21.5),
      sample('2026-11-24T09:05:00.000Z', 19.8),
    ]);
    const credentials = await readFile(join(cwd, 'data', 'initial-credentials.txt'), 'utf8');
    auditor = /^demo-auditor\s.*?(se_\S+)$/m.exec(credentials)?.[1] as string;
  });
  afterAll(async () => {
    await service?.stop();
  });

  const bytes = async (path: string) => {
    const res = await fetch(`${service.url}${path}`, { headers: { Authorization: `Bearer ${auditor}` } });
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  };
  const query = `from=${PERIOD.from}&to=${PERIOD.to}`;

  it('API, dashboard and CLI give the same CSV bytes', async () => {
    const api = await bytes(`/api/compliance?uai=${DEMO_UAI}&${query}&format=csv`);
    expect(api.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const page = await bytes(`/tableau-de-bord/${DEMO_UAI}/conformite?${query}&format=csv`);
    expect(page.equals(api)).toBe(true);

    const stdout = new Capture();
    const stderr = new Capture();
    const argv = ['--uai', DEMO_UAI, '--from', PERIOD.from, '--to', PERIOD.to, '--csv', '--at', NOW];
    const code = await complianceCommand.run(parseCommandArgs(complianceCommand, argv), {
      stdout,
      stderr,
      cwd,
      env: { SCOPE_ENERGIE_CONFIG: REPO_CONFIG, SCOPE_ENERGIE_DATA: join(cwd, 'data') },
    });
    expect(Buffer.concat(stderr.chunks).toString()).toBe('');
    expect(code).toBe(0);
    const cli = Buffer.concat(stdout.chunks);
    expect(cli.toString('utf8')).toBe(api.toString('utf8'));
    expect(cli.equals(api)).toBe(true);
    // The demo week with the CDI's exception, its approval and its reference.
    expect(api.toString('utf8')).toContain(`;${CDI_EXCEPTION.approved_by};${CDI_EXCEPTION.reference};`);
    // The measured temperatures, the same in all three.
    expect(api.toString('utf8')).toContain(
      `measured;cdi;heating;occupied;2026-11-24T09:00:00.000Z;;0.33;21.5;19;above-cap-tolerance;;Code de l'énergie R241-26;"{""minutes_above_cap"":5,""minutes_above_cap_tolerance"":5}"`,
    );
  });

  it('the JSON report fits its published strict schema, sections and measured figures included', async () => {
    const report = complianceReportSchema.parse(
      JSON.parse((await bytes(`/api/compliance?uai=${DEMO_UAI}&${query}`)).toString('utf8')),
    );
    expect(report.exceptions.map((e) => e.reference)).toContain(CDI_EXCEPTION.reference);
    expect(report.summary.measured?.samples).toBe(2);
    const cdi = report.zones.find((z) => z.zone === 'cdi')?.functions.find((f) => f.function === 'heating');
    expect(cdi?.situations?.find((s) => s.situation === 'occupied')?.measured?.max_measured_c).toBe(21.5);
  });

  it('the dashboard page is a printable French report', async () => {
    const res = await fetch(`${service.url}/tableau-de-bord/${DEMO_UAI}/conformite?${query}`, {
      headers: { Authorization: `Bearer ${auditor}`, Accept: 'text/html' },
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<html lang="fr">');
    expect(html).toContain('<h1>Rapport de conformité — Lycée des Tilleuls (démonstration)</h1>');
    expect(html).toContain('du 2026-11-23 au 2026-11-29 inclus');
    expect(html).toContain(CDI_EXCEPTION.reference);
    expect(html).toContain('au-delà, sous exception approuvée');
    expect(html).toContain('Chauffage : températures mesurées et plafond légal');
    expect(html).toContain('Températures mesurées : 2 relevé(s) valide(s)');
    expect(html).toContain('<td class="nombre">21,5 °C</td>');
    expect(html).toContain(
      `href="/tableau-de-bord/${DEMO_UAI}/conformite?from=2026-11-23&amp;to=2026-11-29&amp;format=csv"`,
    );
    expect(html).toMatch(
      /<label for="from">Du<\/label>\s*<input id="from" name="from" type="date" value="2026-11-23" required/,
    );
    // A bad period is the French error page, naming the field.
    const bad = await fetch(
      `${service.url}/tableau-de-bord/${DEMO_UAI}/conformite?from=2026-11-29&to=2026-11-23`,
      {
        headers: { Authorization: `Bearer ${auditor}` },
      },
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('to : to is before from');
  });

  const noChromium = chromiumOrSkipReason();
  it.skipIf(noChromium !== null)(
    'in Chromium: captions and header cells, keyboard, print layout',
    async () => {
      const browser = await launchChromium();
      try {
        const context = await browser.newContext({
          extraHTTPHeaders: { Authorization: `Bearer ${auditor}` },
        });
        const page = await context.newPage();
        await page.goto(`${service.url}/tableau-de-bord/${DEMO_UAI}/conformite?${query}`);
        expect(await page.title()).toBe(
          'Rapport de conformité — Lycée des Tilleuls (démonstration) · scope-energie',
        );
        // Every table has a caption and column headers; every row header is a th.
        const tables = await page.$$eval('table', (all) =>
          all.map((t) => ({
            caption: t.querySelector('caption')?.textContent?.trim() ?? '',
            columns: t.querySelectorAll('thead th[scope=col]').length,
            rowsWithoutHeader: [...t.querySelectorAll('tbody tr')].filter(
              (r) => !r.querySelector('th[scope=row]') && !r.querySelector('td'),
            ).length,
          })),
        );
        expect(tables.length).toBeGreaterThan(10);
        expect(tables.every((t) => t.caption !== '' && t.columns >= 2 && t.rowsWithoutHeader === 0)).toBe(
          true,
        );
        // The keyboard reaches the skip link first, then the period's fields by their labels.
        await page.keyboard.press('Tab');
        expect((await page.locator(':focus').textContent())?.trim()).toBe('Aller au contenu');
        expect(await page.getByLabel('Du').inputValue()).toBe(PERIOD.from);
        expect(await page.getByLabel('Au (inclus, 93 jours au plus)').inputValue()).toBe(PERIOD.to);
        // Printed: no navigation, no form, the tables stay.
        await page.emulateMedia({ media: 'print' });
        expect(await page.locator('header.site').isVisible()).toBe(false);
        expect(await page.locator('form.periode').isVisible()).toBe(false);
        expect(await page.locator('table').first().isVisible()).toBe(true);
        await saveScreenshot(page, 'compliance-print');
        const pdf = await page.pdf({ format: 'A4' });
        expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      } finally {
        await browser.close();
      }
    },
  );
});
