/**
 * The baseline model of measured savings (IPMVP option C, whole building; docs/savings.md,
 * "Measured savings"): daily energy against heating degree-days, fitted by ordinary least
 * squares with an intercept, E = b0 + b1 · HDD₁₈, or the three-parameter heating change-point
 * model E = b0 + b1 · max(0, Tb − T) with the balance temperature Tb searched on a 0.5 °C grid
 * (ASHRAE RP-1050 "3P heating" model, Kissock, Haberl, Claridge 2003). Goodness of fit as
 * ASHRAE Guideline 14-2014 defines it, with n − p degrees of freedom:
 *
 *   CV(RMSE) = √(Σ(y − ŷ)² / (n − p)) / ȳ        NMBE = Σ(y − ŷ) / ((n − p) · ȳ)
 *
 * Pure: numbers in, numbers out.
 */

export type BaselineModelKind = 'hdd' | 'change-point';

export interface BaselinePoint {
  /** The regressor: HDD (hdd model) or the daily mean outdoor temperature (change-point). */
  hdd: number;
  meanC: number;
  kwh: number;
}

export interface FittedModel {
  kind: BaselineModelKind;
  /** Number of parameters: 2 (hdd), 3 (change-point: b0, b1, Tb). */
  p: number;
  n: number;
  /** Intercept, kWh per day. */
  b0: number;
  /** kWh per degree-day. */
  b1: number;
  se_b0: number;
  se_b1: number;
  /** Change-point only: balance temperature °C. */
  balance_c?: number;
  r2: number;
  /** Fractions, not percents. */
  cv_rmse: number;
  nmbe: number;
  /** Lag-1 autocorrelation of the residuals, in date order. */
  rho: number;
  /** √(SSE / (n − p)), kWh per day. */
  rmse: number;
  mean_kwh: number;
  predict(point: Pick<BaselinePoint, 'hdd' | 'meanC'>): number;
}

/** Balance temperatures tried by the change-point model (°C). */
export const CHANGE_POINT_GRID_C = Array.from({ length: 21 }, (_, i) => 10 + i * 0.5);

/** Fits the model; null when the regressor has no spread (every day the same degree-days). */
export function fitBaselineModel(
  points: readonly BaselinePoint[],
  kind: BaselineModelKind,
): FittedModel | null {
  if (kind === 'hdd') return ols(points, (p) => p.hdd, 'hdd', 2);
  let best: FittedModel | null = null;
  for (const tb of CHANGE_POINT_GRID_C) {
    const fit = ols(points, (p) => Math.max(0, tb - p.meanC), 'change-point', 3, tb);
    if (fit && (best === null || fit.rmse < best.rmse)) best = fit;
  }
  return best;
}

function ols(
  points: readonly BaselinePoint[],
  regressor: (p: Pick<BaselinePoint, 'hdd' | 'meanC'>) => number,
  kind: BaselineModelKind,
  p: number,
  balance?: number,
): FittedModel | null {
  const n = points.length;
  if (n <= p) return null;
  let sx = 0;
  let sy = 0;
  for (const point of points) {
    sx += regressor(point);
    sy += point.kwh;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const point of points) {
    const dx = regressor(point) - mx;
    const dy = point.kwh - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (!(sxx > 1e-9)) return null;
  const b1 = sxy / sxx;
  const b0 = my - b1 * mx;
  let sse = 0;
  let bias = 0;
  let lagged = 0;
  let previous: number | undefined;
  for (const point of points) {
    const r = point.kwh - (b0 + b1 * regressor(point));
    sse += r * r;
    bias += r;
    if (previous !== undefined) lagged += r * previous;
    previous = r;
  }
  const s2 = sse / (n - p);
  const rmse = Math.sqrt(s2);
  return {
    kind,
    p,
    n,
    b0,
    b1,
    se_b0: Math.sqrt(s2 * (1 / n + (mx * mx) / sxx)),
    se_b1: Math.sqrt(s2 / sxx),
    ...(balance === undefined ? {} : { balance_c: balance }),
    r2: syy > 0 ? 1 - sse / syy : 0,
    cv_rmse: my !== 0 ? rmse / my : Number.POSITIVE_INFINITY,
    nmbe: my !== 0 ? bias / ((n - p) * my) : 0,
    rho: sse > 0 ? lagged / sse : 0,
    rmse,
    mean_kwh: my,
    predict: (point) => b0 + b1 * regressor(point),
  };
}
