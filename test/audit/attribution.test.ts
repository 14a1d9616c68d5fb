/**
 * Issue 21, "Attribution everywhere": a CLI import, and each school of a bulk import, is in the
 * audit log as `cli:<OS user>` with the version it stored and its path (and an unchanged re-import
 * adds nothing); a refused override (above the
 * legal cap) is in the log with who asked, what, and why it was refused.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/bridge/audit-events.js';
import { OverridesService } from '../../src/bridge/overrides-service.js';
import { buildDemoTimetable, DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { ManualClock } from '../../src/domain/clock.js';
import { InputError } from '../../src/domain/problems.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import { copySite } from '../bridge/bridge-fixtures.js';
import { cli, tempWorkDir } from '../helpers/cli.js';
import { storeBackends } from '../store/backends.js';

const backends = await storeBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

describe('attribution of imports', () => {
  it('a CLI import is logged as cli:<user> with its version, hash and path', async () => {
    const cwd = tempWorkDir();
    writeFileSync(
      join(cwd, 'demo.json'),
      JSON.stringify(buildDemoTimetable(Date.parse('2026-01-12T08:00:00Z'))),
    );
    const imported = await cli(['import', 'demo.json', '--uai', DEMO_UAI, '--json'], { cwd });
    expect(imported.code).toBe(0);
    const report = JSON.parse(imported.stdout);
    expect((await cli(['import', 'demo.json', '--uai', DEMO_UAI], { cwd })).code).toBe(0);

    const exported = await cli(['audit', 'export', '--json', '--kind', 'import'], { cwd });
    expect(exported.code).toBe(0);
    const { entries } = JSON.parse(exported.stdout);
    expect(entries).toEqual([
      expect.objectContaining({
        seq: 1,
        kind: 'import',
        uai: DEMO_UAI,
        actor: `cli:${userInfo().username}`,
        detail: { version: 1, sha256: report.sha256, format: 'json', counts: report.counts, via: 'cli' },
      }),
    ]);
  });

  it('a bulk import is logged per school as cli:<user>, via bulk', async () => {
    const cwd = tempWorkDir();
    mkdirSync(join(cwd, 'exports'));
    writeFileSync(
      join(cwd, 'exports', 'demo.json'),
      JSON.stringify(buildDemoTimetable(Date.parse('2026-01-12T08:00:00Z'))),
    );
    const imported = await cli(['import', '--bulk', 'exports', '--json'], { cwd });
    expect(imported.code).toBe(0);
    const versions = JSON.parse((await cli(['versions', '--uai', DEMO_UAI, '--json'], { cwd })).stdout);
    const exported = await cli(['audit', 'export', '--json', '--kind', 'import'], { cwd });
    const { entries } = JSON.parse(exported.stdout);
    expect(entries).toEqual([
      expect.objectContaining({
        seq: 1,
        kind: 'import',
        uai: DEMO_UAI,
        actor: `cli:${userInfo().username}`,
        detail: expect.objectContaining({
          version: 1,
          sha256: versions.versions[0].sha256,
          format: 'json',
          via: 'bulk',
        }),
      }),
    ]);
  });
});

describe.each(backends)('a refused override on $name', (backend) => {
  it('is logged with the author, the request and the reason of the refusal', async () => {
    const store = await backend.open();
    const clock = new ManualClock(Date.parse('2026-01-12T17:30:00Z'));
    const logged: AuditEvent[] = [];
    const overrides = new OverridesService({
      repository: store.overrides,
      site: new SiteHolder(copySite()),
      clock,
      nextChange: () => null,
      audit: (events) => logged.push(...events),
    });
    const request = {
      uai: DEMO_UAI,
      zone: 'gymnase',
      function: 'heating',
      mode: 'comfort',
      setpoint_c: 21,
      duration: 'PT2H',
      reason: 'Tournoi',
    };
    const refusal = await overrides.create(request, 'demo-manager').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(InputError);
    const [problem] = (refusal as InputError).problems;
    expect(problem).toMatchObject({ code: 'setpoint-above-legal-cap', where: '$.setpoint_c' });
    expect(logged).toEqual([
      {
        kind: 'override',
        at: clock.now(),
        actor: 'demo-manager',
        uai: DEMO_UAI,
        zone: 'gymnase',
        detail: {
          event: 'refused',
          code: 'setpoint-above-legal-cap',
          refusal: problem!.message,
          requested: expect.objectContaining({ setpoint_c: 21, reason: 'Tournoi', zone: 'gymnase' }),
        },
      },
    ]);
    // Through the real log: the entry is chained like any other.
    const [stored] = await store.audit.append(logged);
    expect(stored).toMatchObject({ kind: 'override', actor: 'demo-manager', detail: { event: 'refused' } });
    expect(await store.overrides.list({ uais: [DEMO_UAI] })).toEqual([]);
  });
});
