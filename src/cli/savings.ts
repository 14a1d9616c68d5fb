import { InputError } from '../domain/problems.js';
import {
  type BaselineSchedule,
  baselineScheduleSchema,
  DEFAULT_BASELINE,
  zoneComfortSetpoints,
} from '../savings/baseline.js';
import {
  measuredQuery,
  type SchoolMeasuredBody,
  schoolMeasuredSavings,
} from '../savings/school-measured-savings.js';
import {
  estimateSchoolSavings,
  MAX_SAVINGS_DAYS,
  outdoorForSchool,
  type SchoolSavingsBody,
  savingsDates,
} from '../savings/school-savings.js';
import { type Command, type CommandIo, EXIT, type ParsedArgs, stringOption, writeJson } from './command.js';
import { openCommandStore } from './context.js';
import { loadOfflineSchool, planOffline } from './offline-school.js';

export const savingsCommand: Command = {
  name: 'savings',
  summary: "estimate a school's heating savings, plan vs a fixed programme (offline, from the store)",
  help: `Usage: scope-energie savings --uai UAI --from YYYY-MM-DD --to YYYY-MM-DD [--station NAME] [--json]
       scope-energie savings --measured --uai UAI --baseline-from D --baseline-to D --from D --to D
                             [--meter ID,ID] [--model hdd|change-point] [--station NAME] [--json]

ESTIMATE of the heat the plan saves against a baseline schedule, per zone (docs/savings.md):
degree-hours of the setpoints above the outdoor temperature, times the zone's loss coefficient
(devices/ loss_coefficient_w_per_k), steady state, so an upper bound (docs/savings.md, "Model and sources").
The plan is made as \`scope-energie plan\` makes it. Outdoor temperatures: Météo-France monthly
normals of the school's département (Strasbourg, Nancy or Reims).

With --measured: MEASURED savings (IPMVP option C, docs/savings.md, "Measured savings") from the
stored meter readings (scope-energie meters import, MQTT): a baseline model of daily energy
against degree-days fitted on --baseline-from..--baseline-to, applied to --from..--to, with R²,
CV(RMSE), NMBE against ASHRAE Guideline 14 and the savings' uncertainty, beside the estimate of
the same days. Without enough data it names what is missing (exit 1), never a number.

Options:
  --uai UAI                the school (a devices file must exist for it)
  --measured               measured savings instead of the estimate
  --baseline-from, --baseline-to DATE   the baseline period, before the pilot (--measured)
  --meter LIST             meters to sum (default: every meter of the school) (--measured)
  --model NAME             hdd (default) or change-point (--measured)
  --from DATE, --to DATE   first and last local dates, at most ${MAX_SAVINGS_DAYS} days
  --station NAME           strasbourg, nancy or reims (default: the school's département)
  --baseline-days LIST     ISO weekdays of the baseline's comfort, e.g. 1,2,3,4,5 (default)
  --baseline-start HH:MM   start of the baseline's comfort (default 06:00)
  --baseline-end HH:MM     end of the baseline's comfort (default 18:00)
  --baseline-comfort C     comfort setpoint, °C (default 19)
  --baseline-setback C     setback outside the comfort hours, °C (default 16)
  --baseline-holiday C     setpoint on closed days, °C, or "none" for the setback (default 8)`,
  options: {
    uai: { type: 'string' },
    measured: { type: 'boolean' },
    'baseline-from': { type: 'string' },
    'baseline-to': { type: 'string' },
    meter: { type: 'string' },
    model: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    station: { type: 'string' },
    'baseline-days': { type: 'string' },
    'baseline-start': { type: 'string' },
    'baseline-end': { type: 'string' },
    'baseline-comfort': { type: 'string' },
    'baseline-setback': { type: 'string' },
    'baseline-holiday': { type: 'string' },
  },
  async run(args, io) {
    if (args.values['measured'] === true) return runMeasured(args, io);
    const baseline = baselineOf(args);
    const school = loadOfflineSchool(args, io);
    const { devices, calendar, timezone } = school;
    const dates = savingsDates(stringOption(args, 'from'), stringOption(args, 'to'), timezone, {
      from: '--from',
      to: '--to',
    });
    const outdoor = outdoorForSchool(calendar, stringOption(args, 'station'), '--station');
    // One plan over the whole period: planSchool has no range cap (the API's month cap is SORTIE's).
    const plan = await planOffline(school, dates.range);
    const zoneComfort = zoneComfortSetpoints(school.site.ruleSet, school.uai, devices.value.zones);
    const body = estimateSchoolSavings({
      devices,
      calendar,
      plans: [plan],
      dates,
      baseline,
      outdoor,
      zoneComfort,
    });
    if (args.values['json'] === true) writeJson(io, body);
    else io.stdout.write(savingsTable(body));
    return EXIT.ok;
  },
};

async function runMeasured(args: ParsedArgs, io: CommandIo): Promise<number> {
  const query = measuredQuery(
    {
      baselineFrom: stringOption(args, 'baseline-from'),
      baselineTo: stringOption(args, 'baseline-to'),
      from: stringOption(args, 'from'),
      to: stringOption(args, 'to'),
      meter: stringOption(args, 'meter'),
      model: stringOption(args, 'model'),
      station: stringOption(args, 'station'),
    },
    {
      baselineFrom: '--baseline-from',
      baselineTo: '--baseline-to',
      from: '--from',
      to: '--to',
      meter: '--meter',
      model: '--model',
      station: '--station',
    },
  );
  const school = loadOfflineSchool(args, io);
  const store = await openCommandStore(school.context);
  let measured: SchoolMeasuredBody;
  try {
    measured = await schoolMeasuredSavings({
      uai: school.uai,
      timezone: school.timezone,
      departement: school.calendar.departement,
      query,
      meters: store.meters,
    });
  } finally {
    await store.close();
  }
  const json = args.values['json'] === true;
  if (!measured.ok) {
    if (json) writeJson(io, measured);
    else {
      io.stderr.write(`no measured savings for ${school.uai}: data missing\n`);
      for (const m of measured.missing) {
        io.stderr.write(`- ${m.period} ${m.what}: ${m.message}\n`);
        for (const d of m.days ?? []) io.stderr.write(`    ${d.date} ${d.reason}\n`);
      }
    }
    return EXIT.failure;
  }
  // The estimate of the same days beside it, planned like `scope-energie plan`.
  let estimate: Record<string, unknown>;
  try {
    const dates = savingsDates(query.from, query.to, school.timezone, { from: '--from', to: '--to' });
    const outdoor = outdoorForSchool(school.calendar, query.station, '--station');
    const plan = await planOffline(school, dates.range);
    const zoneComfort = zoneComfortSetpoints(school.site.ruleSet, school.uai, school.devices.value.zones);
    const body = estimateSchoolSavings({
      devices: school.devices,
      calendar: school.calendar,
      plans: [plan],
      dates,
      baseline: DEFAULT_BASELINE,
      outdoor,
      zoneComfort,
    });
    estimate = {
      available: true,
      totals: body.totals,
      rules_version: body.rules_version,
      timetable_versions: body.timetable_versions,
    };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    estimate = { available: false, reason: error.message };
  }
  if (json) {
    writeJson(io, { ...measured, estimate });
    return EXIT.ok;
  }
  const m = measured.model;
  const lines = [
    `${school.uai}  MEASURED savings (IPMVP option C), meters ${measured.meters.join(', ')}`,
    `baseline ${measured.baseline.from} to ${measured.baseline.to} (${measured.baseline.days_used}/${measured.baseline.days} days), reporting ${measured.reporting.from} to ${measured.reporting.to} (${measured.reporting.days_used}/${measured.reporting.days} days)`,
    `model: ${m.formula}`,
    `R² ${m.r2}, CV(RMSE) ${m.cv_rmse_percent} % (≤ ${m.ashrae14.cv_rmse_max_percent} %), NMBE ${m.nmbe_percent} % — ASHRAE Guideline 14: ${m.ashrae14.meets ? 'met' : 'NOT met'}`,
    `measured ${measured.reporting.kwh_measured} kWh, baseline model ${measured.reporting.kwh_predicted} kWh`,
    `savings ${measured.savings.kwh} kWh${measured.savings.percent === null ? '' : ` (${measured.savings.percent} %)`}, ${measured.savings.uncertainty.map((u) => `± ${u.kwh} kWh at ${u.confidence} %`).join(', ')}`,
    estimate['available'] === true
      ? `estimate of the same days (docs/savings.md): ${(estimate['totals'] as { saving_kwh: number }).saving_kwh} kWh of heat`
      : `estimate unavailable: ${String(estimate['reason'])}`,
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

function baselineOf(args: ParsedArgs): BaselineSchedule {
  const number = (name: string, fallback: number): number => {
    const text = stringOption(args, name);
    if (text === undefined) return fallback;
    if (!/^-?\d+(\.\d+)?$/.test(text)) {
      throw InputError.of(
        'bad-number',
        `--${name} must be a number of °C, not "${text}"`,
        `--${name}`,
        'malformed',
      );
    }
    return Number(text);
  };
  const daysText = stringOption(args, 'baseline-days');
  const holidayText = stringOption(args, 'baseline-holiday');
  const candidate = {
    days: daysText === undefined ? DEFAULT_BASELINE.days : daysText.split(',').map((d) => Number(d.trim())),
    start: stringOption(args, 'baseline-start') ?? DEFAULT_BASELINE.start,
    end: stringOption(args, 'baseline-end') ?? DEFAULT_BASELINE.end,
    comfort_c: number('baseline-comfort', DEFAULT_BASELINE.comfort_c),
    setback_c: number('baseline-setback', DEFAULT_BASELINE.setback_c),
    holiday_c: holidayText === 'none' ? null : number('baseline-holiday', DEFAULT_BASELINE.holiday_c ?? 8),
  };
  const parsed = baselineScheduleSchema.safeParse(candidate);
  if (!parsed.success) {
    const option: Record<string, string> = {
      days: '--baseline-days',
      start: '--baseline-start',
      end: '--baseline-end',
      comfort_c: '--baseline-comfort',
      setback_c: '--baseline-setback',
      holiday_c: '--baseline-holiday',
    };
    throw new InputError(
      parsed.error.issues.map((issue) => ({
        code: 'bad-baseline',
        message: issue.message,
        where: option[String(issue.path[0])] ?? '--baseline-*',
      })),
      'malformed',
    );
  }
  return parsed.data;
}

/** A table for people: one line per zone, then the totals, labelled as an estimate. */
export function savingsTable(body: SchoolSavingsBody): string {
  const kwh = (n: number | null | undefined) => (n === null || n === undefined ? '—' : n.toFixed(1));
  const percent = (n: number | null) => (n === null ? '—' : `${n.toFixed(1)} %`);
  const lines = [
    `${body.uai}  ${body.name}`,
    `ESTIMATE of heating savings, ${body.from} to ${body.to} (${body.timezone}), plan vs baseline`,
    `baseline: ${body.inputs.baseline.description}`,
    `outdoor: ${describeOutdoor(body.inputs.outdoor)}`,
  ];
  if (body.fallback) lines.push('FALLBACK WEEK: part of the period was planned without a timetable');
  lines.push(
    '',
    `${'zone'.padEnd(20)}${'H W/K'.padStart(7)}${'plan kWh'.padStart(11)}${'base kWh'.padStart(11)}${'saved kWh'.padStart(11)}${'saved'.padStart(9)}`,
  );
  for (const z of body.zones) {
    lines.push(
      `${z.zone.padEnd(20)}${String(z.loss_coefficient_w_per_k ?? '—').padStart(7)}${kwh(z.kwh?.plan).padStart(11)}${kwh(
        z.kwh?.baseline,
      ).padStart(11)}${kwh(z.saving_kwh).padStart(11)}${percent(z.saving_percent).padStart(9)}${
        z.excluded_reason ? `  (${z.excluded_reason})` : ''
      }`,
    );
  }
  const t = body.totals;
  lines.push(
    `${'total'.padEnd(27)}${kwh(t.kwh_plan).padStart(11)}${kwh(t.kwh_baseline).padStart(11)}${kwh(t.saving_kwh).padStart(11)}${percent(
      t.saving_percent,
    ).padStart(9)}`,
    '',
    `method: ${body.method}`,
    ...body.assumptions.map((a) => `- ${a}`),
  );
  return `${lines.join('\n')}\n`;
}

function describeOutdoor(outdoor: Record<string, unknown>): string {
  if (outdoor['kind'] === 'monthly-normals') {
    return `Météo-France monthly normals 1991–2020 of ${String(outdoor['station_name'])} (approximate)`;
  }
  if (outdoor['kind'] === 'constant') return `constant ${String(outdoor['c'])} °C`;
  return 'hourly series';
}
