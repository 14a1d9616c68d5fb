/**
 * What makes a `reported` a fact (issue 16; docs/telemetry.md, "What is stored"). Pure.
 *
 * - Placed at its `ts`: a report up to `maxLateMs` (48 h) old is accepted (a gateway replaying its
 *   buffer after a reconnect); older ones are refused and counted, since the hours they belong to
 *   are aggregated and may be rolled up.
 * - A `ts` in the future (beyond a clock-skew allowance) cannot be placed: refused and counted.
 * - A measured temperature outside −30…60 °C is stored flagged `out-of-range`: no classroom
 *   sensor reads that, the value is a fault (a disconnected probe reads −40 or 85 on common parts).
 * - A sensor stuck on one value for 24 h while the applied mode changed (the plan moved the room
 *   between comfort and setback, so a live room's temperature must have moved) is flagged `stuck`
 *   from the start of that run for as long as the value stays. The value must also have stayed
 *   `STUCK_SETTLE_MS` after the change: a room held at its setback setpoint over a weekend reads
 *   one value for days, and still reads it at the first instant of the comfort period.
 */

export const MEASURED_MIN_C = -30;
export const MEASURED_MAX_C = 60;
/** Issue 16: a gateway's buffer replayed after a reconnect, up to 48 h. */
export const DEFAULT_MAX_LATE_MS = 48 * 3_600_000;
/** Gateways keep time by NTP; a few seconds of skew between clocks is normal, minutes is not. */
export const FUTURE_SKEW_MS = 60_000;
export const STUCK_AFTER_MS = 24 * 3_600_000;
/** A room whose setpoint moved by 3 K moves by tenths of a kelvin within minutes; an hour is ample. */
export const STUCK_SETTLE_MS = 3_600_000;

export type SampleFlag = 'out-of-range' | 'stuck';
export type SampleRefusal = 'future' | 'too-old';

export function refusalOf(ts: number, now: number, maxLateMs: number): SampleRefusal | null {
  if (ts > now + FUTURE_SKEW_MS) return 'future';
  if (ts < now - maxLateMs) return 'too-old';
  return null;
}

export function isOutOfRange(measured: number | undefined): boolean {
  return measured !== undefined && (measured < MEASURED_MIN_C || measured > MEASURED_MAX_C);
}

interface Run {
  value: number;
  since: number;
  last: number;
  mode: string;
  /** First instant in the run at which the mode differed from the run's first one. */
  changedAt: number | undefined;
  flagged: boolean;
}

/** What the detector says about a new sample. */
export interface StuckVerdict {
  /** Flag this sample `stuck`. */
  stuck: boolean;
  /** The run just became stuck: flag the samples already stored from this instant. */
  flagFrom?: number;
}

/**
 * Runs of one measured value per zone function, fed in arrival order. A sample older than the
 * last one fed for its key (a replayed buffer) neither extends nor breaks the run: replays are
 * placed at their `ts` but judged only by range.
 */
export class StuckDetector {
  private readonly runs = new Map<string, Run>();

  feed(key: string, ts: number, measured: number | undefined, mode: string): StuckVerdict {
    if (measured === undefined) return { stuck: false };
    const run = this.runs.get(key);
    if (run && ts <= run.last) return { stuck: run.flagged && ts >= run.since && run.value === measured };
    if (!run || run.value !== measured) {
      this.runs.set(key, {
        value: measured,
        since: ts,
        last: ts,
        mode,
        changedAt: undefined,
        flagged: false,
      });
      return { stuck: false };
    }
    run.last = ts;
    if (run.changedAt === undefined && mode !== run.mode) run.changedAt = ts;
    if (run.flagged) return { stuck: true };
    if (
      ts - run.since >= STUCK_AFTER_MS &&
      run.changedAt !== undefined &&
      ts - run.changedAt >= STUCK_SETTLE_MS
    ) {
      run.flagged = true;
      return { stuck: true, flagFrom: run.since };
    }
    return { stuck: false };
  }

  /** Zone functions no longer declared. */
  retain(keep: (key: string) => boolean): void {
    for (const key of this.runs.keys()) if (!keep(key)) this.runs.delete(key);
  }
}
