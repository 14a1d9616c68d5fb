/**
 * The planning service: deterministic live plans for a clock hour, replans on site reloads, the
 * fallback when the held occupancy does not cover the horizon, and the hourly UTC job across the
 * autumn DST night (node-cron under fake timers, as in docs/architecture.md, "node-cron and daylight-saving time").
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import { PlanningService } from '../../src/bridge/planning.js';
import { type Clock, ManualClock } from '../../src/domain/clock.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import { copySite, DEMO_UAI, fixedOccupancy, heldDemo, NO_DATA_UAI } from './bridge-fixtures.js';

const noOverrides = { overridesFor: async () => [], onChange: () => () => {} };

function setup(clock: Clock, held = heldDemo({ from: '2026-01-05', to: '2026-02-02' })) {
  const files = copySite();
  const site = new SiteHolder(files);
  const feed = new MutablePlanFeed();
  const planning = new PlanningService({
    site,
    calendars: new CalendarSource({ zone: 'B', dataDir: files.dir }),
    occupancy: fixedOccupancy({ [DEMO_UAI]: held }),
    overrides: noOverrides,
    feed,
    clock,
  });
  const emitted: string[] = [];
  feed.subscribe((uai) => emitted.push(uai));
  return { files, site, feed, planning, emitted };
}

describe('PlanningService', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('plans every school over whole hours; replans within the hour change nothing', async () => {
    const clock = new ManualClock(Date.parse('2026-01-12T09:20:00Z'));
    const { feed, planning, emitted } = setup(clock);
    await planning.replanAll();
    const first = feed.plan(DEMO_UAI);
    expect(first?.horizon).toEqual({
      from: Date.parse('2026-01-12T08:00:00Z'),
      to: Date.parse('2026-01-14T12:00:00Z'),
    });
    expect([...feed.plans()].map((p) => [p.uai, p.fallback]).sort()).toEqual(
      [
        [NO_DATA_UAI, true],
        [DEMO_UAI, false],
      ].sort(),
    );
    expect(emitted.sort()).toEqual([NO_DATA_UAI, DEMO_UAI].sort());

    clock.set('2026-01-12T09:59:59Z');
    await planning.replanAll();
    expect(feed.plan(DEMO_UAI)?.hash).toBe(first?.hash);
    expect(emitted).toHaveLength(2);

    clock.set('2026-01-12T10:00:00Z');
    await planning.replanAll();
    expect(feed.plan(DEMO_UAI)?.horizon.from).toBe(Date.parse('2026-01-12T09:00:00Z'));
    expect(emitted).toHaveLength(4);
  });

  it('replans when the site reloads: a removed zone and a removed school leave the feed', async () => {
    const clock = new ManualClock(Date.parse('2026-01-12T09:20:00Z'));
    const { files, site, feed, planning } = setup(clock);
    await planning.start();
    expect(feed.plan(DEMO_UAI)?.zones.map((z) => z.zone)).toContain('amphi');

    const demoFile = join(files.devicesDir, `${DEMO_UAI}.yaml`);
    const text = readFileSync(demoFile, 'utf8');
    writeFileSync(demoFile, text.slice(0, text.indexOf('  - id: amphi')));
    rmSync(join(files.devicesDir, `${NO_DATA_UAI}.yaml`));
    expect(site.reload().ok).toBe(true);
    await planning.replanAll(); // the reload listener's replan is not awaited; this one is
    expect(feed.plan(DEMO_UAI)?.zones.map((z) => z.zone)).toEqual([
      'batiment-b-est',
      'batiment-b-ouest',
      'batiment-c',
      'laboratoires',
      'atelier',
      'gymnase',
      'cdi',
    ]);
    expect(feed.plan(NO_DATA_UAI)).toBeUndefined();

    // A broken edit keeps the previous site and plans.
    writeFileSync(demoFile, 'school: [');
    expect(site.reload().ok).toBe(false);
    await planning.replanAll();
    expect(feed.plan(DEMO_UAI)?.zones).toHaveLength(7);
    await planning.stop();
  });

  it('held occupancy that ends inside the horizon is not used: the fallback week plans, flagged', async () => {
    const clock = new ManualClock(Date.parse('2026-01-12T09:20:00Z'));
    const { feed, planning } = setup(clock, heldDemo({ from: '2026-01-05', to: '2026-01-13' }));
    await planning.replanAll();
    expect([feed.plan(DEMO_UAI)?.fallback, feed.plan(DEMO_UAI)?.timetableVersion]).toEqual([true, null]);
    clock.set('2026-01-11T09:20:00Z'); // horizon Sunday 08:00Z → Tuesday 12:00Z: covered
    await planning.replanAll();
    expect([feed.plan(DEMO_UAI)?.fallback, feed.plan(DEMO_UAI)?.timetableVersion]).toEqual([false, 1]);
  });

  it('the hourly replan runs in UTC: every hour of the autumn DST night, none skipped', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(new Date('2026-10-25T00:50:00Z'));
    const { feed, planning } = setup({ now: () => Date.now() });
    await planning.start();
    const horizons: string[] = [];
    feed.subscribe((uai) => {
      if (uai === DEMO_UAI) horizons.push(new Date(feed.plan(DEMO_UAI)?.horizon.from ?? 0).toISOString());
    });
    for (let elapsed = 0; elapsed < 3 * 3600_000; elapsed += 30_000)
      await vi.advanceTimersByTimeAsync(30_000);
    await planning.stop();
    // Runs at 01:00Z, 02:00Z and 03:00Z, each once, although 01:00Z is when 03:00 CEST becomes
    // 02:00 CET; each run plans from the hour before.
    expect(horizons).toEqual([
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T02:00:00.000Z',
    ]);
  });
});
