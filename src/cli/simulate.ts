import { InputError } from '../domain/problems.js';
import { thermalParametersOf } from '../gateway/thermal-model.js';
import { resolveZoneRules } from '../rules/resolve.js';
import { monthlyNormals, stationOfDepartement } from '../savings/outdoor.js';
import { type Strategy, simulateZone, type ZoneSimulation } from '../simulation/optimum-start-simulation.js';
import { DAILY_AMPLITUDE_K } from '../simulation/zone-panel.js';
import { type Command, EXIT, requireOption, stringOption, writeJson } from './command.js';
import { loadOfflineSchool, planOffline } from './offline-school.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** Two school terms at most: the simulation runs minute by minute. */
const MAX_DAYS = 190;

export const simulateCommand: Command = {
  name: 'simulate',
  summary: "simulate a school's heating with a fixed or learned (optimum start) preheat, in simulated time",
  help: `Usage: scope-energie simulate --uai UAI --from YYYY-MM-DD --to YYYY-MM-DD --strategy fixed|learned
                             [--preheat-minutes N] [--optimum-stop] [--seed N] [--json]

Runs the planner, the reference gateway's zone controller and a first-order room model for each
heated zone of the school (devices/{uai}.yaml: loss_coefficient_w_per_k, time_constant_h,
heater_power_w), minute by minute in simulated time (no waiting), with the occupancy the bridge
would plan from (the store's timetable, else the fallback week), internal gains while occupied
and the outdoor temperature of the school's normals station with a ±${DAILY_AMPLITUDE_K} K daily cycle. With
--strategy learned each day is planned with what the samples so far teach (docs/optimum-start.md);
the fixed preheat applies until a zone has enough starts. Deterministic for a seed. Prints per zone
the heating energy (kWh), occupied cold minutes, cold starts and the mean arrival temperature.

Options:
  --uai UAI              the school (a devices file must exist for it)
  --from DATE, --to DATE first and last simulated UTC dates (at most ${MAX_DAYS} days)
  --strategy S           fixed (the rules' preheat, or --preheat-minutes) or learned
  --preheat-minutes N    the fixed lead, and the learned strategy's fallback (15–180)
  --optimum-stop         with --strategy learned: the rule setting heating.optimum_stop on (off by
                         default; the rules' tolerance and longest stop, else 0.5 K and 60 min)
  --seed N               sensor-noise seed (default 17)`,
  options: {
    uai: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    strategy: { type: 'string' },
    'preheat-minutes': { type: 'string' },
    'optimum-stop': { type: 'boolean' },
    seed: { type: 'string' },
  },
  async run(args, io) {
    const from = requireOption(args, 'from');
    const to = requireOption(args, 'to');
    for (const [name, value] of [
      ['--from', from],
      ['--to', to],
    ] as const) {
      if (!DATE.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
        throw InputError.of(
          'bad-date',
          `${name} must be a date YYYY-MM-DD, not "${value}"`,
          name,
          'malformed',
        );
      }
    }
    const fromMs = Date.parse(`${from}T00:00:00Z`);
    const toMs = Date.parse(`${to}T00:00:00Z`) + 86_400_000;
    const days = (toMs - fromMs) / 86_400_000;
    if (!(days >= 1 && days <= MAX_DAYS)) {
      throw InputError.of(
        'bad-range',
        `--to must be on or after --from, at most ${MAX_DAYS} days`,
        '--to',
        'invalid',
      );
    }
    const strategy = requireOption(args, 'strategy');
    if (strategy !== 'fixed' && strategy !== 'learned') {
      throw InputError.of(
        'bad-strategy',
        `--strategy must be fixed or learned, not "${strategy}"`,
        '--strategy',
        'malformed',
      );
    }
    const optimumStop = args.values['optimum-stop'] === true;
    if (optimumStop && strategy !== 'learned') {
      // A stop needs the learned cool-down: with the fixed strategy the option would do nothing.
      throw InputError.of(
        'bad-option',
        '--optimum-stop needs --strategy learned',
        '--optimum-stop',
        'invalid',
      );
    }
    const preheat = wholeNumber(stringOption(args, 'preheat-minutes'), '--preheat-minutes', 15, 180);
    const seed = wholeNumber(stringOption(args, 'seed'), '--seed', 0, 2 ** 31) ?? 17;
    const school = loadOfflineSchool(args, io);
    const station = stationOfDepartement(school.calendar.departement) ?? 'strasbourg';
    const outdoor = {
      source: 'normals' as const,
      station,
      monthly_mean_c: [...monthlyNormals(station)],
      daily_amplitude_k: DAILY_AMPLITUDE_K,
    };
    // The occupancy the bridge would plan from, over the period ± the planning margin.
    const plan = await planOffline(school, { from: fromMs, to: toMs });
    const results: ZoneSimulation[] = [];
    for (const zone of school.devices.value.zones) {
      if (!zone.functions.includes('heating')) continue;
      const entry = plan.zones.find((z) => z.zone === zone.id);
      results.push(
        simulateZone(
          {
            zone,
            rules: resolveZoneRules(school.site.ruleSet, school.uai, zone),
            thermal: thermalParametersOf(zone),
            occupancy: entry?.occupied ?? [],
          },
          {
            from: fromMs,
            to: toMs,
            strategy: strategy as Strategy,
            ...(preheat !== undefined ? { preheatMinutes: preheat } : {}),
            ...(optimumStop ? { optimumStop } : {}),
            outdoor,
            seed,
          },
        ),
      );
    }
    const body = {
      uai: school.uai,
      from,
      to,
      strategy,
      ...(preheat !== undefined ? { preheat_minutes: preheat } : {}),
      ...(optimumStop ? { optimum_stop: true } : {}),
      seed,
      outdoor: { station, daily_amplitude_k: DAILY_AMPLITUDE_K },
      zones: results.map(({ history: _history, ...rest }) => rest),
    };
    if (args.values['json'] === true) {
      writeJson(io, body);
      return EXIT.ok;
    }
    const lines = [
      `${school.uai}  ${from} → ${to}  strategy ${strategy}${optimumStop ? ' + optimum stop' : ''}${preheat !== undefined ? ` (${preheat} min)` : ''}  seed ${seed}  outdoor ${station} normals ±${DAILY_AMPLITUDE_K} K`,
      'zone                      kWh   cold starts   cold min   mean arrival °C',
    ];
    for (const r of results) {
      lines.push(
        `${r.zone.padEnd(22)} ${r.heating_kwh.toFixed(1).padStart(7)}   ${`${r.cold_starts}/${r.starts}`.padStart(11)}   ${String(r.occupied_cold_minutes).padStart(8)}   ${r.mean_arrival_c ?? '–'}${r.optimum_stop ? `   stops ${r.optimum_stop.stops} (${r.optimum_stop.minutes} min)` : ''}`,
      );
    }
    io.stdout.write(`${lines.join('\n')}\n`);
    return EXIT.ok;
  },
};

function wholeNumber(text: string | undefined, where: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw InputError.of(
      'bad-number',
      `${where} must be a whole number ${min}–${max}, not "${text}"`,
      where,
      'malformed',
    );
  }
  return n;
}
