/**
 * Scheduled events are occupancy (docs/events.md): planned through the same planFromHeld as the
 * live plan, with the shipped rules and the demo lycée's CDI (hydronic: 60 min preheat, gaps under
 * 90 min merged; lighting 10 min lead and lag). Paris is UTC+1 until 2026-03-29, UTC+2 after.
 */
import { describe, expect, it } from 'vitest';
import { type HeldOccupancy, planFromHeld } from '../../src/bridge/planning.js';
import type { SchoolPlan } from '../../src/bridge/school-plan.js';
import type { OccupancyInterval } from '../../src/domain/occupancy.js';
import { expandEvents } from '../../src/events/expand-events.js';
import type { ScheduledEvent } from '../../src/events/scheduled-event.js';
import type { Segment } from '../../src/rules/segment.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import { copySite, DEMO_UAI } from '../bridge/bridge-fixtures.js';

const t = (iso: string) => Date.parse(iso);
const files = copySite();
const site = new SiteHolder(files).current;
const calendars = new CalendarSource({ zone: 'B', dataDir: files.dir });
const devices = site.devices.get(DEMO_UAI);
if (!devices) throw new Error('demo devices missing');

function event(
  fields: Partial<ScheduledEvent> & Pick<ScheduledEvent, 'id' | 'start' | 'end'>,
): ScheduledEvent {
  return {
    uai: DEMO_UAI,
    title: 'Réunion parents',
    target: { zone: 'cdi' },
    source: 'manual',
    created_by: 'demo-manager',
    created_at: 0,
    updated_by: 'demo-manager',
    updated_at: 0,
    ...fields,
  };
}

/** Held occupancy over the dates with the CDI's lessons only (other rooms empty). */
function held(from: string, to: string, cdi: OccupancyInterval[] = []): HeldOccupancy {
  return {
    from,
    to,
    occupancy: {
      uai: DEMO_UAI,
      version: 1,
      timezone: 'Europe/Paris',
      from,
      to,
      rooms: [{ room: 'CDI', name: 'CDI', intervals: cdi }],
      unassigned: 0,
    },
  };
}

function plan(events: ScheduledEvent[], horizon: { from: string; to: string }, h: HeldOccupancy): SchoolPlan {
  return planFromHeld({
    site,
    devices: devices as NonNullable<typeof devices>,
    calendars,
    horizon: { from: t(horizon.from), to: t(horizon.to) },
    held: h,
    overrides: [],
    events,
  });
}

function cdi(p: SchoolPlan, fn: 'heating' | 'lighting'): Segment[] {
  return p.zones.find((z) => z.zone === 'cdi')?.functions[fn] ?? [];
}

const span = (s: Segment) => [new Date(s.from).toISOString(), new Date(s.to).toISOString(), s.reason.kind];

describe('scheduled events in the plan', () => {
  const weekly = event({
    id: 'ev-jeudi',
    title: 'Cours du soir',
    start: '2026-03-19T18:00',
    end: '2026-03-19T21:00',
    recurrence: { weekdays: [4], until: '2026-04-09', except: ['2026-04-02'] },
  });

  it('expands a weekly evening event across the spring switch at the same wall-clock time, minus its exception', () => {
    const occurrences = expandEvents(
      [weekly],
      { from: t('2026-03-01T00:00:00Z'), to: t('2026-05-01T00:00:00Z') },
      'Europe/Paris',
    );
    expect(
      occurrences.map((o) => [o.date, new Date(o.start).toISOString(), new Date(o.end).toISOString()]),
    ).toEqual([
      ['2026-03-19', '2026-03-19T17:00:00.000Z', '2026-03-19T20:00:00.000Z'],
      ['2026-03-26', '2026-03-26T17:00:00.000Z', '2026-03-26T20:00:00.000Z'],
      ['2026-04-09', '2026-04-09T16:00:00.000Z', '2026-04-09T19:00:00.000Z'],
    ]);
  });

  it('gives a weekly evening event preheat and lighting lead like a lesson, on both sides of the DST switch', () => {
    const p = plan(
      [weekly],
      { from: '2026-03-19T00:00:00Z', to: '2026-04-11T00:00:00Z' },
      held('2026-03-10', '2026-04-20'),
    );
    const heating = cdi(p, 'heating').filter((s) => s.mode === 'comfort');
    expect(heating.map(span)).toEqual([
      ['2026-03-19T16:00:00.000Z', '2026-03-19T17:00:00.000Z', 'preheat'],
      ['2026-03-19T17:00:00.000Z', '2026-03-19T20:00:00.000Z', 'occupied'],
      ['2026-03-26T16:00:00.000Z', '2026-03-26T17:00:00.000Z', 'preheat'],
      ['2026-03-26T17:00:00.000Z', '2026-03-26T20:00:00.000Z', 'occupied'],
      // 2026-04-02 is an exception: nothing that Thursday.
      ['2026-04-09T15:00:00.000Z', '2026-04-09T16:00:00.000Z', 'preheat'],
      ['2026-04-09T16:00:00.000Z', '2026-04-09T19:00:00.000Z', 'occupied'],
    ]);
    expect(heating.every((s) => s.setpoint_c === 19)).toBe(true);
    for (const s of heating) {
      expect(s.reason.events).toEqual([{ id: 'ev-jeudi', title: 'Cours du soir' }]);
      expect(s.reason.lessons).toEqual(['scheduled-event:ev-jeudi']);
    }
    const lighting = cdi(p, 'lighting').filter((s) => s.mode === 'on');
    expect(lighting.map(span)).toEqual([
      ['2026-03-19T16:50:00.000Z', '2026-03-19T17:00:00.000Z', 'preheat'],
      ['2026-03-19T17:00:00.000Z', '2026-03-19T20:00:00.000Z', 'occupied'],
      ['2026-03-19T20:00:00.000Z', '2026-03-19T20:10:00.000Z', 'occupied'],
      ['2026-03-26T16:50:00.000Z', '2026-03-26T17:00:00.000Z', 'preheat'],
      ['2026-03-26T17:00:00.000Z', '2026-03-26T20:00:00.000Z', 'occupied'],
      ['2026-03-26T20:00:00.000Z', '2026-03-26T20:10:00.000Z', 'occupied'],
      ['2026-04-09T15:50:00.000Z', '2026-04-09T16:00:00.000Z', 'preheat'],
      ['2026-04-09T16:00:00.000Z', '2026-04-09T19:00:00.000Z', 'occupied'],
      ['2026-04-09T19:00:00.000Z', '2026-04-09T19:10:00.000Z', 'occupied'],
    ]);
    expect(lighting[2]?.reason.rule).toBe('defaults.lighting.lag_minutes');
  });

  it('merges an event with an adjacent lesson by the same gap rule (under 90 min on hydronic), and not beyond it', () => {
    // Tuesday 2026-01-13: a lesson in the CDI until 17:00 local (16:00Z).
    const lesson = { start: t('2026-01-13T13:00:00Z'), end: t('2026-01-13T16:00:00Z') };
    const h = held('2026-01-01', '2026-01-31', [lesson]);
    const horizon = { from: '2026-01-13T00:00:00Z', to: '2026-01-14T00:00:00Z' };

    // 18:30 local: the uncovered gap before the event's preheat is 30 min, under 90: kept comfort.
    const close = event({ id: 'ev-1830', start: '2026-01-13T18:30', end: '2026-01-13T20:00' });
    const merged = cdi(plan([close], horizon, h), 'heating').filter((s) => s.mode === 'comfort');
    expect(merged.map(span)).toEqual([
      ['2026-01-13T12:00:00.000Z', '2026-01-13T13:00:00.000Z', 'preheat'],
      ['2026-01-13T13:00:00.000Z', '2026-01-13T16:00:00.000Z', 'occupied'],
      ['2026-01-13T16:00:00.000Z', '2026-01-13T16:30:00.000Z', 'merged-gap'],
      ['2026-01-13T16:30:00.000Z', '2026-01-13T17:30:00.000Z', 'preheat'],
      ['2026-01-13T17:30:00.000Z', '2026-01-13T19:00:00.000Z', 'occupied'],
    ]);
    expect(merged[4]?.reason.events).toEqual([{ id: 'ev-1830', title: 'Réunion parents' }]);
    // Exactly what a lesson at the same instants would give.
    const asLesson = cdi(
      plan(
        [],
        horizon,
        held('2026-01-01', '2026-01-31', [
          lesson,
          { start: t('2026-01-13T17:30:00Z'), end: t('2026-01-13T19:00:00Z') },
        ]),
      ),
      'heating',
    );
    expect(
      cdi(plan([close], horizon, h), 'heating').map((s) => [
        s.from,
        s.to,
        s.mode,
        s.setpoint_c,
        s.reason.kind,
      ]),
    ).toEqual(asLesson.map((s) => [s.from, s.to, s.mode, s.setpoint_c, s.reason.kind]));

    // 20:00 local: a two-hour uncovered gap, over 90 min: the short-gap setback, then its own preheat.
    const far = event({ id: 'ev-20h', start: '2026-01-13T20:00', end: '2026-01-13T21:00' });
    const apart = cdi(plan([far], horizon, h), 'heating');
    expect(
      apart.filter((s) => s.from >= t('2026-01-13T16:00:00Z') && s.to <= t('2026-01-13T20:00:00Z')).map(span),
    ).toEqual([
      ['2026-01-13T16:00:00.000Z', '2026-01-13T18:00:00.000Z', 'short-gap'],
      ['2026-01-13T18:00:00.000Z', '2026-01-13T19:00:00.000Z', 'preheat'],
      ['2026-01-13T19:00:00.000Z', '2026-01-13T20:00:00.000Z', 'occupied'],
    ]);
  });

  it('heats only its own slot and preheat on a holiday; the rest of the day stays at the holiday tier', () => {
    // Wednesday 2026-02-18: zone B winter holidays (2026-02-14 to 2026-03-02), no lessons.
    const exam = event({
      id: 'ev-exam',
      title: 'Concours',
      start: '2026-02-18T10:00',
      end: '2026-02-18T12:00',
    });
    const p = plan(
      [exam],
      { from: '2026-02-17T23:00:00Z', to: '2026-02-18T23:00:00Z' },
      held('2026-02-01', '2026-03-10'),
    );
    const heating = cdi(p, 'heating');
    expect(heating.map((s) => [...span(s), s.setpoint_c])).toEqual([
      ['2026-02-17T23:00:00.000Z', '2026-02-18T08:00:00.000Z', 'holiday', 8],
      ['2026-02-18T08:00:00.000Z', '2026-02-18T09:00:00.000Z', 'preheat', 19],
      ['2026-02-18T09:00:00.000Z', '2026-02-18T11:00:00.000Z', 'occupied', 19],
      ['2026-02-18T11:00:00.000Z', '2026-02-18T23:00:00.000Z', 'holiday', 8],
    ]);
  });
});
