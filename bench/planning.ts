/**
 * Planning benchmark (issue 5): plan a whole region — 350 lycées × 40 zones (heating, lighting,
 * ventilation), 7 days — and print the time as a ratio to the occupancy expansion of the same
 * data (the same 21 local days: the 7-day horizon plus the planner's ±7-day margin, which is what
 * a plan needs). Goal: planning costs less than the expansion. Deterministic; each side is timed
 * as the best of BENCH_ROUNDS (default 5) rounds.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { occupancyDatesFor, planSchool, type SchoolPlan } from '../src/bridge/school-plan.js';
import { expandOccupancy, SchoolCalendar } from '../src/calendar/index.js';
import type { LoadedDevices } from '../src/devices/load.js';
import { devicesFileSchema, type ZoneFunction } from '../src/devices/schema.js';
import type { Occupancy } from '../src/domain/occupancy.js';
import { type Timetable, type TimetableInput, timetableSchema } from '../src/domain/timetable.js';
import { uaiCheckLetter } from '../src/domain/uai.js';
import { segmentCount } from '../src/rules/compact-plan.js';
import { loadRulesFile } from '../src/rules/rule-set.js';

const SCHOOLS = Number(process.env.BENCH_SCHOOLS ?? 350);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ZONES = 40;
const ROOMS_PER_ZONE = 2;
const HORIZON = { from: Date.parse('2026-01-11T23:00:00Z'), to: Date.parse('2026-01-18T23:00:00Z') };
const SLOTS = [
  ['08:00', '08:55'],
  ['08:55', '09:50'],
  ['10:05', '11:00'],
  ['11:00', '11:55'],
  ['13:30', '14:25'],
  ['14:25', '15:20'],
  ['15:35', '16:30'],
  ['16:30', '17:25'],
] as const;

function mondays(from: string, to: string): string[] {
  const out: string[] = [];
  for (
    let d = new Date(`${from}T00:00:00Z`);
    d <= new Date(`${to}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + 7)
  ) {
    out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

function school(i: number, weeks: string[]): { uai: string; timetable: Timetable; devices: LoadedDevices } {
  const digits = String(670_000 + i).padStart(7, '0');
  const uai = `${digits}${uaiCheckLetter(digits)}`;
  const rooms = Array.from({ length: ZONES * ROOMS_PER_ZONE }, (_, r) => ({ id: `R${r}`, name: `R${r}` }));
  const lessons: TimetableInput['lessons'] = [];
  let n = 0;
  for (const room of rooms) {
    for (let day = 1; day <= 5; day++) {
      SLOTS.forEach(([start, end], s) => {
        // About three quarters of the slots are busy, varying by room and day.
        if ((n++ * 7 + s + day + i) % 4 === 0) return;
        if (day === 3 && s >= 4) return;
        lessons.push({ id: `${room.id}-${day}-${s}`, rooms: [room.id], day, start, end, weeks });
      });
    }
  }
  const timetable = timetableSchema.parse({ uai, rooms, lessons });
  const value = devicesFileSchema.parse({
    school: { uai, name: `Lycée ${i}`, timezone: 'Europe/Paris' },
    gateways: [
      {
        id: 'gw',
        username: `gw-${uai}`,
        password_hash:
          'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      },
    ],
    zones: Array.from({ length: ZONES }, (_, z) => ({
      id: `z${z}`,
      name: `Zone ${z}`,
      gateway: 'gw',
      rooms: rooms.slice(z * ROOMS_PER_ZONE, (z + 1) * ROOMS_PER_ZONE).map((r) => r.id),
      functions: ['heating', 'lighting', 'ventilation'],
      category: z % 10 === 0 ? 'gym' : 'classroom',
      heating_type: z % 3 === 0 ? 'electric' : 'hydronic',
    })),
  });
  return { uai, timetable, devices: { file: `${uai}.yaml`, value, lineOf: () => 1 } };
}

const MB = 1024 * 1024;

export async function benchPlanning(report: (line: string) => void): Promise<void> {
  const rulesPath = fileURLToPath(new URL('../rules/default.yaml', import.meta.url));
  const ruleSet = loadRulesFile(readFileSync(rulesPath, 'utf8'), 'rules/default.yaml');
  const weeks = mondays('2025-09-01', '2026-06-29');
  const schools = Array.from({ length: SCHOOLS }, (_, i) => school(i, weeks));
  const range = occupancyDatesFor(HORIZON, 'Europe/Paris');
  const calendars = schools.map((s) => SchoolCalendar.forSchool({ uai: s.uai }));
  // Warm-up: compile every timetable once (cached per version, as the service does).
  schools.forEach((s, i) => {
    expandOccupancy(s.timetable, 1, s.uai, calendars[i]!, range);
  });

  // Each side is timed as the best of ROUNDS consecutive rounds: the machine is shared and
  // noisy, the first round warms up the JIT, and running the sides apart (not interleaved)
  // keeps each one's garbage collection charged to itself (the expansion's compile step is
  // warmed up above).
  let occupancies: Occupancy[] = [];
  let expandMs = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    const expandStart = performance.now();
    occupancies = schools.map((s, i) => expandOccupancy(s.timetable, 1, s.uai, calendars[i]!, range));
    expandMs = Math.min(expandMs, performance.now() - expandStart);
  }

  let planMs = Number.POSITIVE_INFINITY;
  let segments = 0;
  let plans: SchoolPlan[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    segments = 0;
    plans = [];
    const planStart = performance.now();
    schools.forEach((s, i) => {
      const plan = planSchool({
        devices: s.devices,
        ruleSet,
        calendar: calendars[i]!,
        occupancy: occupancies[i]!,
        overrides: [],
        horizon: HORIZON,
      });
      plans.push(plan);
      // Counted without building the segments (compact-plan.ts): reading them is timed apart below.
      for (const zone of plan.zones)
        for (const fn of Object.keys(zone.functions) as ZoneFunction[])
          segments += segmentCount(zone.functions, fn);
    });
    planMs = Math.min(planMs, performance.now() - planStart);
  }
  report(
    `planning: region ${SCHOOLS} schools × ${ZONES} zones × 3 functions, 7 days: plan ${planMs.toFixed(0)} ms (${segments} segments) vs expansion of the same ${range.from}…${range.to} ${expandMs.toFixed(0)} ms (best of ${ROUNDS} each) → planning/expansion ${(planMs / expandMs).toFixed(2)} (goal < 1)`,
  );
  // What one instance holds for a region at once: its timetables, their week's occupancy and the
  // plans of every zone function (the service also holds the publisher's encoded messages).
  globalThis.gc?.();
  const memory = process.memoryUsage();
  const peak = process.resourceUsage().maxRSS * 1024;
  report(
    `memory, this process holding the region (${schools.length} timetables, ${occupancies.length} occupancies, ${plans.length} plans): RSS ${(memory.rss / MB).toFixed(0)} MB after GC (heap ${(memory.heapUsed / MB).toFixed(0)} MB), peak RSS ${(peak / MB).toFixed(0)} MB (goal < 512 MB per instance)`,
  );
  // Plans keep their segments compact until a function is read (src/rules/compact-plan.ts): what
  // reading every segment of the region once costs, and holds, as a consumer reading all would.
  const readStart = performance.now();
  let read = 0;
  for (const plan of plans)
    for (const zone of plan.zones)
      for (const list of Object.values(zone.functions)) read += list?.length ?? 0;
  const readMs = performance.now() - readStart;
  globalThis.gc?.();
  const afterRead = process.memoryUsage();
  report(
    `reading every segment of the region's plans once (${read} Segment objects built): ${readMs.toFixed(0)} ms; RSS then ${(afterRead.rss / MB).toFixed(0)} MB after GC (heap ${(afterRead.heapUsed / MB).toFixed(0)} MB, still holding ${schools.length} timetables and ${occupancies.length} occupancies)`,
  );
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) await benchPlanning((line) => console.log(line));
