/**
 * The panel of zone types issue 17's simulation is judged on (light and heavy, heater oversized
 * and undersized, τ from 0.5 h to 48 h), all following one demo classroom's timetable so that only
 * the physics differs, and the demo lycée's occupancy for a period.
 */

import { expandOccupancy } from '../calendar/expand-occupancy.js';
import { SchoolCalendar } from '../calendar/index.js';
import { buildDemoTimetable, DEMO_UAI } from '../demo/demo-lycee.js';
import type { Zone } from '../devices/schema.js';
import type { OccupancyInterval } from '../domain/occupancy.js';
import { timetableSchema } from '../domain/timetable.js';
import type { ThermalParameters } from '../gateway/thermal-model.js';
import { DEFAULT_DAILY_AMPLITUDE_K, type SnapshotOutdoor } from '../rules/optimum-start.js';
import { zoneOccupancy } from '../rules/planner.js';
import { resolveZoneRules } from '../rules/resolve.js';
import type { RuleSet } from '../rules/rule-set.js';
import { monthlyNormals } from '../savings/outdoor.js';
import { simulateZone, type ZoneSimulation } from './optimum-start-simulation.js';

/** The daily cycle's amplitude of docs/optimum-start.md (rules/optimum-start.ts). */
export const DAILY_AMPLITUDE_K = DEFAULT_DAILY_AMPLITUDE_K;

export interface PanelZone {
  id: string;
  label: string;
  thermal: ThermalParameters;
}

/**
 * Heater sizes as kelvins of design gap (the default is 40 K, thermal-model.ts): 25 K is an
 * undersized heater (it holds 19 °C only down to −6 °C outside), 80 K an oversized one.
 */
export const ZONE_PANEL: readonly PanelZone[] = [
  {
    id: 'prefab-light',
    label: 'light prefab, τ 0.5 h, 40 K',
    thermal: { lossCoefficientWPerK: 100, timeConstantH: 0.5, maxHeatingPowerW: 4_000 },
  },
  {
    id: 'light-oversized',
    label: 'light, τ 2 h, oversized 80 K',
    thermal: { lossCoefficientWPerK: 150, timeConstantH: 2, maxHeatingPowerW: 12_000 },
  },
  {
    id: 'classroom',
    label: 'classroom, τ 12 h, 40 K',
    thermal: { lossCoefficientWPerK: 150, timeConstantH: 12, maxHeatingPowerW: 6_000 },
  },
  {
    id: 'classroom-undersized',
    label: 'classroom, τ 12 h, undersized 25 K',
    thermal: { lossCoefficientWPerK: 150, timeConstantH: 12, maxHeatingPowerW: 3_750 },
  },
  {
    id: 'heavy',
    label: 'heavy, τ 48 h, 40 K',
    thermal: { lossCoefficientWPerK: 400, timeConstantH: 48, maxHeatingPowerW: 16_000 },
  },
  {
    id: 'heavy-oversized',
    label: 'heavy, τ 48 h, oversized 80 K',
    thermal: { lossCoefficientWPerK: 400, timeConstantH: 48, maxHeatingPowerW: 32_000 },
  },
];

/** The demo classroom whose timetable every panel zone follows. */
export const PANEL_ROOM = 'B101';

/** A heating zone of the panel (hydronic classroom rules). */
export function panelZone(id: string): Zone {
  return {
    id,
    name: id,
    gateway: 'simulation',
    rooms: [PANEL_ROOM],
    functions: ['heating'],
    category: 'classroom',
    heating_type: 'hydronic',
  };
}

/** The demo lycée's occupancy of `zone` over local dates `[from, to]` (its built-in timetable for the year of `from`). */
export function demoZoneOccupancy(zone: Zone, from: string, to: string): OccupancyInterval[] {
  const timetable = timetableSchema.parse(buildDemoTimetable(Date.parse(`${from}T12:00:00Z`)));
  const calendar = SchoolCalendar.forSchool({ uai: DEMO_UAI });
  const occupancy = expandOccupancy(timetable, 1, DEMO_UAI, calendar, { from, to }, { includeSources: true });
  return zoneOccupancy(occupancy.rooms, zone);
}

/** The panel's row of the learned strategy with optimum stop on. */
export const LEARNED_WITH_STOP = 'learned + optimum stop';

export interface PanelRun {
  zone: string;
  label: string;
  strategy: string;
  result: ZoneSimulation;
}

/**
 * The panel over `[from, to)` (UTC dates) under each strategy: `fixed` with each of
 * `fixedMinutes`, then `learned` (whose fallback is the rules' 60 min), then `learned + optimum
 * stop` (the rule setting `heating.optimum_stop` on; unless `optimumStop` is false). Occupancy is
 * the demo classroom's; the outdoor temperature Strasbourg's normals with a ±3 K daily cycle.
 */
export function runPanel(
  ruleSet: RuleSet,
  from: string,
  to: string,
  options: {
    fixedMinutes?: readonly number[];
    learned?: boolean;
    optimumStop?: boolean;
    seed?: number;
    zones?: readonly PanelZone[];
  } = {},
): PanelRun[] {
  const outdoor = strasbourgOutdoor();
  const margin = 10 * 86_400_000;
  const occupancyFrom = new Date(Date.parse(`${from}T00:00:00Z`) - margin).toISOString().slice(0, 10);
  const occupancyTo = new Date(Date.parse(`${to}T00:00:00Z`) + margin).toISOString().slice(0, 10);
  const runs: PanelRun[] = [];
  for (const p of options.zones ?? ZONE_PANEL) {
    const zone = panelZone(p.id);
    const rules = resolveZoneRules(ruleSet, DEMO_UAI, zone);
    const occupancy = demoZoneOccupancy(zone, occupancyFrom, occupancyTo);
    const base = {
      from: Date.parse(`${from}T00:00:00Z`),
      to: Date.parse(`${to}T00:00:00Z`),
      outdoor,
      seed: options.seed ?? 17,
    };
    const input = { zone, rules, thermal: p.thermal, occupancy };
    for (const minutes of options.fixedMinutes ?? [60, 120]) {
      const result = simulateZone(input, { ...base, strategy: 'fixed', preheatMinutes: minutes });
      runs.push({ zone: p.id, label: p.label, strategy: `fixed ${minutes} min`, result });
    }
    if (options.learned !== false) {
      runs.push({
        zone: p.id,
        label: p.label,
        strategy: 'learned',
        result: simulateZone(input, { ...base, strategy: 'learned' }),
      });
      if (options.optimumStop !== false) {
        runs.push({
          zone: p.id,
          label: p.label,
          strategy: LEARNED_WITH_STOP,
          result: simulateZone(input, { ...base, strategy: 'learned', optimumStop: true }),
        });
      }
    }
  }
  return runs;
}

/** Strasbourg's monthly normals (the demo lycée's station) with a ±3 K daily cycle. */
export function strasbourgOutdoor(): SnapshotOutdoor {
  return {
    source: 'normals',
    station: 'strasbourg',
    monthly_mean_c: [...monthlyNormals('strasbourg')],
    daily_amplitude_k: DAILY_AMPLITUDE_K,
  };
}

/** The table of issue 17: per zone type and strategy, energy, cold starts and cold minutes (Markdown). */
export function panelTable(runs: readonly PanelRun[]): string[] {
  const lines = [
    '| zone type | strategy | heating kWh | cold starts | occupied cold min | mean arrival °C | after 5 days within 0.5 °C |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of runs) {
    const x = r.result;
    lines.push(
      `| ${r.label} | ${r.strategy} | ${x.heating_kwh.toFixed(1)} | ${x.cold_starts}/${x.starts} | ${x.occupied_cold_minutes} | ${x.mean_arrival_c ?? '–'} | ${x.after_learning.within_tolerance}/${x.after_learning.starts} |`,
    );
  }
  return lines;
}
