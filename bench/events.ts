/**
 * Scheduled events benchmark (issue 20): the live plan of the demo lycée (8 zones) with the most
 * events a school may hold (MAX_EVENTS_PER_SCHOOL: 200 weekly series over the year and 1,800
 * single evenings), as a ratio to the same plan without events; and the expansion alone. Goal:
 * events add at most a few times the cost of a plan that is itself ~ms. Best of BENCH_ROUNDS.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { occupancyDatesFor, planSchool } from '../src/bridge/school-plan.js';
import { expandOccupancy, SchoolCalendar } from '../src/calendar/index.js';
import { buildDemoTimetable, DEMO_UAI } from '../src/demo/demo-lycee.js';
import { loadDevicesFile } from '../src/devices/load.js';
import { timetableSchema } from '../src/domain/timetable.js';
import { expandEvents } from '../src/events/expand-events.js';
import type { ScheduledEvent } from '../src/events/scheduled-event.js';
import { loadRulesFile } from '../src/rules/rule-set.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const HORIZON = { from: Date.parse('2026-01-12T08:00:00Z'), to: Date.parse('2026-01-14T11:00:00Z') };
const ZONES = [
  'batiment-b-est',
  'batiment-b-ouest',
  'batiment-c',
  'laboratoires',
  'atelier',
  'gymnase',
  'cdi',
  'amphi',
];

function events(): ScheduledEvent[] {
  const out: ScheduledEvent[] = [];
  const base = {
    uai: DEMO_UAI,
    source: 'manual' as const,
    created_by: 'bench',
    created_at: 0,
    updated_by: 'bench',
    updated_at: 0,
  };
  for (let i = 0; i < 200; i++) {
    out.push({
      ...base,
      id: `s${i}`,
      title: `Série ${i}`,
      start: '2025-09-01T18:00',
      end: '2025-09-01T20:00',
      recurrence: { weekdays: [1 + (i % 5)], until: '2026-07-03', except: [] },
      target: { zone: ZONES[i % ZONES.length] as string },
    });
  }
  for (let i = 0; i < 1800; i++) {
    const day = new Date(Date.UTC(2025, 8, 1) + (i % 300) * 86_400_000).toISOString().slice(0, 10);
    out.push({
      ...base,
      id: `e${i}`,
      title: `Soirée ${i}`,
      start: `${day}T19:00`,
      end: `${day}T21:00`,
      target: { zone: ZONES[i % ZONES.length] as string },
    });
  }
  return out;
}

export async function benchEvents(report: (line: string) => void): Promise<void> {
  const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
  const ruleSet = loadRulesFile(readFileSync(root('rules/default.yaml'), 'utf8'), 'rules/default.yaml');
  const devices = loadDevicesFile(
    readFileSync(root(`devices/${DEMO_UAI}.yaml`), 'utf8'),
    `devices/${DEMO_UAI}.yaml`,
  );
  const calendar = SchoolCalendar.forSchool({ uai: DEMO_UAI });
  const timetable = timetableSchema.parse(buildDemoTimetable(Date.parse('2026-01-12T08:00:00Z')));
  const occupancy = expandOccupancy(
    timetable,
    1,
    DEMO_UAI,
    calendar,
    occupancyDatesFor(HORIZON, 'Europe/Paris'),
  );
  const all = events();
  const known = { from: HORIZON.from - 7 * 86_400_000, to: HORIZON.to + 7 * 86_400_000 };
  const best = (work: () => void) => {
    let ms = Number.POSITIVE_INFINITY;
    for (let round = 0; round < ROUNDS; round++) {
      const start = performance.now();
      work();
      ms = Math.min(ms, performance.now() - start);
    }
    return ms;
  };
  const plan = (withEvents: boolean) =>
    planSchool({
      devices,
      ruleSet,
      calendar,
      occupancy,
      overrides: [],
      horizon: HORIZON,
      known,
      ...(withEvents ? { events: expandEvents(all, known, 'Europe/Paris') } : {}),
    });
  const baseline = best(() => plan(false));
  const expandMs = best(() => expandEvents(all, known, 'Europe/Paris'));
  const withEvents = best(() => plan(true));
  const occurrences = expandEvents(all, known, 'Europe/Paris').length;
  report(`events: demo lycée live plan ${baseline.toFixed(2)} ms without events (baseline)`);
  report(
    `events: ${all.length} events → ${occurrences} occurrences in the window, expansion ${(expandMs / baseline).toFixed(2)}× the baseline`,
  );
  report(`events: plan with them ${(withEvents / baseline).toFixed(2)}× the baseline (expansion included)`);
}
