/**
 * Measured savings (issue 16; IPMVP option C, whole building; docs/savings.md, "Measured
 * savings"): the baseline model fitted on daily energy and degree-days of a baseline period
 * before the pilot, applied to the reporting period's degree-days; savings = Σ predicted − Σ
 * measured over the reporting days. The answer states the model, its coefficients with their
 * standard errors, R², CV(RMSE), NMBE, whether they meet ASHRAE Guideline 14-2014, and the
 * savings with their uncertainty at 68 % and 90 % confidence by Guideline 14's fractional savings
 * uncertainty (Annex B; Reddy & Claridge 2000):
 *
 *   ΔE_save / E_save = t · 1.26 · CV · √( (n / n′) · (1 + 2/n) · (1/m) ) / F
 *
 * with n baseline days, n′ = n (1 − ρ)/(1 + ρ) for the residuals' lag-1 autocorrelation ρ > 0,
 * m reporting days, F = E_save / Σ predicted, t Student's quantile at n − p degrees of freedom.
 * Without enough data it says which data is missing, never a number. Pure.
 */
import jstat from 'jstat';
import { type BaselineModelKind, type FittedModel, fitBaselineModel } from './baseline-model.js';
import { type DayEnergy, type DayOutdoor, HDD_BASE_C } from './daily-series.js';

/** Baseline: at least this many days with both energy and degree-days (about two months of heating). */
export const MIN_BASELINE_DAYS = 60;
/** Baseline: at least this many of them with degree-days above zero (heating days). */
export const MIN_BASELINE_HEATING_DAYS = 30;
/** Reporting: at least a week. */
export const MIN_REPORTING_DAYS = 7;
/** Share of a period's days that must have data: more gaps and the period does not stand for itself. */
export const MIN_COVERAGE = 0.8;
/**
 * ASHRAE Guideline 14-2014, whole-building (option C) baseline model requirements (clause 4.3.2.4
 * of the 2002 edition, kept in 2014): NMBE within ±0.005 %, and CV(RMSE) at most 20 % when less
 * than 12 months of reporting data are used, 25 % for 12 to 60 months, 30 % beyond. The
 * Guideline gives these for the regression of whatever interval the data has (daily here); the
 * 15 %/5 % monthly and 30 %/10 % hourly figures often quoted are its calibrated-simulation
 * (option D) criteria, not these.
 */
export const ASHRAE14_NMBE_MAX = 0.00005;
export function ashrae14CvRmseMax(reportingDays: number): number {
  const months = reportingDays / 30.4375;
  return months < 12 ? 0.2 : months <= 60 ? 0.25 : 0.3;
}
/** Guideline 14: the savings uncertainty should be under 50 % of the savings at 68 % confidence. */
export const ASHRAE14_FSU_MAX_AT_68 = 0.5;
/** Guideline 14, Annex B: empirical factor of the fractional savings uncertainty formula. */
const FSU_FACTOR = 1.26;

export interface MeasuredSavingsInput {
  baseline: { energy: readonly DayEnergy[]; outdoor: readonly DayOutdoor[] };
  reporting: { energy: readonly DayEnergy[]; outdoor: readonly DayOutdoor[] };
  model: BaselineModelKind;
}

export interface MissingData {
  period: 'baseline' | 'reporting';
  /** What is missing: meter readings, outdoor temperatures, or heating degree-days. */
  what: 'meter-readings' | 'outdoor-temperature' | 'degree-days';
  message: string;
  /** The first missing days (at most 20), with why when known. */
  days?: Array<{ date: string; reason: string }>;
  missing_days?: number;
}

export interface UncertaintyBand {
  confidence: number;
  t: number;
  /** ± kWh. */
  kwh: number;
  /** ΔE_save / E_save, fraction; null when the savings are zero. */
  fraction: number | null;
}

export interface MeasuredSavings {
  ok: true;
  method: string;
  method_reference: string;
  model: {
    kind: BaselineModelKind;
    formula: string;
    hdd_base_c: number;
    coefficients: {
      intercept_kwh_per_day: { value: number; standard_error: number };
      kwh_per_degree_day: { value: number; standard_error: number };
      balance_temperature_c?: number;
    };
    n: number;
    parameters: number;
    r2: number;
    cv_rmse_percent: number;
    nmbe_percent: number;
    residual_autocorrelation: number;
    ashrae14: {
      cv_rmse_max_percent: number;
      nmbe_max_percent: number;
      cv_rmse_ok: boolean;
      nmbe_ok: boolean;
      uncertainty_ok: boolean;
      meets: boolean;
      reference: string;
    };
  };
  baseline: PeriodSummary;
  reporting: PeriodSummary & { kwh_measured: number; kwh_predicted: number };
  savings: {
    kwh: number;
    percent: number | null;
    uncertainty: UncertaintyBand[];
  };
  assumptions: string[];
}

interface PeriodSummary {
  from: string;
  to: string;
  days: number;
  days_used: number;
  outdoor_sources: { sensor: number; normals: number };
}

export type MeasuredSavingsResult = MeasuredSavings | { ok: false; missing: MissingData[] };

export const MEASURED_METHOD =
  'Measured, IPMVP option C (whole building): a baseline model of daily metered energy against heating degree-days ' +
  `(base ${HDD_BASE_C} °C) fitted by least squares on the baseline period, applied to the reporting period's degree-days; ` +
  'savings = Σ predicted − Σ measured over the reporting days with data; uncertainty by ASHRAE Guideline 14-2014 Annex B.';

interface Joined {
  date: string;
  kwh: number | null;
  energyMissing?: string;
  hdd: number | null;
  meanC: number | null;
  source: DayOutdoor['source'];
}

function join(energy: readonly DayEnergy[], outdoor: readonly DayOutdoor[]): Joined[] {
  const byDate = new Map(outdoor.map((d) => [d.date, d]));
  return energy.map((e) => {
    const o = byDate.get(e.date);
    return {
      date: e.date,
      kwh: e.kwh,
      ...(e.missing ? { energyMissing: e.missing } : {}),
      hdd: o?.hdd ?? null,
      meanC: o?.meanC ?? null,
      source: o?.source ?? null,
    };
  });
}

function coverageProblems(
  period: 'baseline' | 'reporting',
  days: readonly Joined[],
  minDays: number,
  model: BaselineModelKind,
): MissingData[] {
  const problems: MissingData[] = [];
  const noEnergy = days.filter((d) => d.kwh === null);
  const noOutdoor = days.filter((d) => d.hdd === null);
  const used = days.filter((d) => d.kwh !== null && d.hdd !== null);
  const enough = used.length >= minDays && used.length >= MIN_COVERAGE * days.length;
  if (!enough && noEnergy.length > 0) {
    problems.push({
      period,
      what: 'meter-readings',
      message: `${noEnergy.length} of ${days.length} ${period} days have no metered energy; at least ${minDays} days and ${MIN_COVERAGE * 100} % of the period are needed with both energy and degree-days (${used.length} have)`,
      missing_days: noEnergy.length,
      days: noEnergy.slice(0, 20).map((d) => ({ date: d.date, reason: d.energyMissing ?? 'no-reading' })),
    });
  }
  if (!enough && noOutdoor.length > 0) {
    problems.push({
      period,
      what: 'outdoor-temperature',
      message: `${noOutdoor.length} of ${days.length} ${period} days have no outdoor temperature (no sensor readings and no monthly normals for the school)`,
      missing_days: noOutdoor.length,
      days: noOutdoor.slice(0, 20).map((d) => ({ date: d.date, reason: 'no-outdoor' })),
    });
  }
  if (!enough && problems.length === 0) {
    problems.push({
      period,
      what: 'meter-readings',
      message: `the ${period} period has ${days.length} days; at least ${minDays} days with energy and degree-days are needed`,
    });
  }
  if (model === 'change-point' && used.some((d) => d.source !== 'sensor') && period === 'baseline') {
    problems.push({
      period,
      what: 'outdoor-temperature',
      message:
        'the change-point model needs measured daily outdoor temperatures on every baseline day (monthly normals give one value per month)',
      days: used
        .filter((d) => d.source !== 'sensor')
        .slice(0, 20)
        .map((d) => ({ date: d.date, reason: 'normals-only' })),
    });
  }
  return problems;
}

export function measuredSavings(input: MeasuredSavingsInput): MeasuredSavingsResult {
  const base = join(input.baseline.energy, input.baseline.outdoor);
  const rep = join(input.reporting.energy, input.reporting.outdoor);
  const missing = [
    ...coverageProblems('baseline', base, MIN_BASELINE_DAYS, input.model),
    ...coverageProblems('reporting', rep, MIN_REPORTING_DAYS, input.model),
  ];
  const baseUsed = base.filter((d) => d.kwh !== null && d.hdd !== null);
  const heatingDays = baseUsed.filter((d) => (d.hdd as number) > 0).length;
  if (!missing.some((m) => m.period === 'baseline') && heatingDays < MIN_BASELINE_HEATING_DAYS) {
    missing.push({
      period: 'baseline',
      what: 'degree-days',
      message: `the baseline has ${heatingDays} days with heating degree-days (mean below ${HDD_BASE_C} °C); at least ${MIN_BASELINE_HEATING_DAYS} are needed to fit energy against degree-days`,
    });
  }
  if (missing.length > 0) return { ok: false, missing };

  const points = baseUsed.map((d) => ({
    hdd: d.hdd as number,
    meanC: d.meanC as number,
    kwh: d.kwh as number,
  }));
  const fit = fitBaselineModel(points, input.model);
  if (!fit) {
    return {
      ok: false,
      missing: [
        {
          period: 'baseline',
          what: 'degree-days',
          message:
            'every baseline day has the same degree-days: the model cannot be fitted (daily outdoor data needed)',
        },
      ],
    };
  }
  const repUsed = rep.filter((d) => d.kwh !== null && d.hdd !== null);
  const measured = repUsed.reduce((s, d) => s + (d.kwh as number), 0);
  const predicted = repUsed.reduce(
    (s, d) => s + fit.predict({ hdd: d.hdd as number, meanC: d.meanC as number }),
    0,
  );
  const saving = predicted - measured;
  const uncertainty = [0.68, 0.9].map((confidence) =>
    band(fit, repUsed.length, predicted, saving, confidence),
  );
  const cvMax = ashrae14CvRmseMax(repUsed.length);
  const fsu68 = uncertainty[0]?.fraction ?? null;
  const cvOk = fit.cv_rmse <= cvMax;
  const nmbeOk = Math.abs(fit.nmbe) <= ASHRAE14_NMBE_MAX;
  const uncertaintyOk = fsu68 !== null && fsu68 < ASHRAE14_FSU_MAX_AT_68;
  const sources = (days: readonly Joined[]) => ({
    sensor: days.filter((d) => d.source === 'sensor').length,
    normals: days.filter((d) => d.source === 'normals').length,
  });
  const assumptions = [
    'Whole building: every metered use on the selected meters is in the baseline model (heating, hot water, lighting, kitchens); a change in any of them is counted as savings or losses.',
    'One regressor (degree-days): occupancy, holidays and weekdays are not modelled separately; compare periods with similar calendars.',
    `Degree-days base ${HDD_BASE_C} °C from the daily mean outdoor temperature: the school's outdoor sensor (mean of hourly means, ≥ 18 hours), else the month's normal.`,
  ];
  const normalsDays = sources(baseUsed).normals + sources(repUsed).normals;
  if (normalsDays > 0)
    assumptions.push(
      `${normalsDays} days use monthly normals (one temperature for the whole month): the model then sees the season, not the weather, and its uncertainty grows.`,
    );
  return {
    ok: true,
    method: MEASURED_METHOD,
    method_reference: 'docs/savings.md, "Measured savings"',
    model: {
      kind: fit.kind,
      formula:
        fit.kind === 'hdd'
          ? `E_day = ${r(fit.b0, 3)} + ${r(fit.b1, 4)} × HDD${HDD_BASE_C}`
          : `E_day = ${r(fit.b0, 3)} + ${r(fit.b1, 4)} × max(0, ${fit.balance_c} − T_mean)`,
      hdd_base_c: HDD_BASE_C,
      coefficients: {
        intercept_kwh_per_day: { value: r(fit.b0, 4), standard_error: r(fit.se_b0, 4) },
        kwh_per_degree_day: { value: r(fit.b1, 4), standard_error: r(fit.se_b1, 4) },
        ...(fit.balance_c === undefined ? {} : { balance_temperature_c: fit.balance_c }),
      },
      n: fit.n,
      parameters: fit.p,
      r2: r(fit.r2, 4),
      cv_rmse_percent: r(fit.cv_rmse * 100, 2),
      nmbe_percent: r(fit.nmbe * 100, 4),
      residual_autocorrelation: r(fit.rho, 4),
      ashrae14: {
        cv_rmse_max_percent: cvMax * 100,
        nmbe_max_percent: ASHRAE14_NMBE_MAX * 100,
        cv_rmse_ok: cvOk,
        nmbe_ok: nmbeOk,
        uncertainty_ok: uncertaintyOk,
        meets: cvOk && nmbeOk && uncertaintyOk,
        reference:
          'ASHRAE Guideline 14-2014: whole-building baseline model CV(RMSE) ≤ 20 % (< 12 months of reporting data), 25 % (12–60), 30 % (> 60); NMBE ±0.005 %; savings uncertainty < 50 % of savings at 68 % confidence',
      },
    },
    baseline: {
      from: base[0]?.date ?? '',
      to: base.at(-1)?.date ?? '',
      days: base.length,
      days_used: baseUsed.length,
      outdoor_sources: sources(baseUsed),
    },
    reporting: {
      from: rep[0]?.date ?? '',
      to: rep.at(-1)?.date ?? '',
      days: rep.length,
      days_used: repUsed.length,
      outdoor_sources: sources(repUsed),
      kwh_measured: r(measured, 3),
      kwh_predicted: r(predicted, 3),
    },
    savings: {
      kwh: r(saving, 3),
      percent: predicted > 0 ? r((saving / predicted) * 100, 2) : null,
      uncertainty,
    },
    assumptions,
  };
}

/** Guideline 14 Annex B, in absolute form: ΔE_save = t · 1.26 · CV · Σŷ · √((n/n′)(1 + 2/n)/m). */
function band(
  fit: FittedModel,
  m: number,
  predicted: number,
  saving: number,
  confidence: number,
): UncertaintyBand {
  const t = jstat.jStat.studentt.inv(1 - (1 - confidence) / 2, fit.n - fit.p);
  const nPrime = fit.rho > 0 ? (fit.n * (1 - fit.rho)) / (1 + fit.rho) : fit.n;
  const kwh =
    t * FSU_FACTOR * fit.cv_rmse * predicted * Math.sqrt((fit.n / nPrime) * (1 + 2 / fit.n) * (1 / m));
  return {
    confidence: confidence * 100,
    t: r(t, 4),
    kwh: r(kwh, 3),
    fraction: saving !== 0 ? r(kwh / Math.abs(saving), 4) : null,
  };
}

function r(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
