/**
 * The live path of optimum start (issue 17, docs/optimum-start.md): before a school is planned,
 * its learned warm-ups are computed from the telemetry store — the heating samples of the last four
 * weeks, and what the gateway applied (each report's mode and setpoint) as the comfort and setback
 * spans. Computed once per clock hour and school (as of that hour, from samples before it), so
 * replans within one hour get the same snapshot, hence the same plan. A school none of whose zones
 * has learned anything gets no snapshot: its plan, reasons and hash stay those of the fixed preheat.
 */
import {
  type HeatingSpan,
  type LearnedZone,
  learnZone,
  type OptimumStartSnapshot,
  optimumStartSnapshot,
  outdoorAt,
  type SnapshotOutdoor,
  type TemperatureSample,
} from '../rules/optimum-start.js';
import type { TelemetryRepository, TelemetrySample } from '../store/telemetry-repository.js';

const HOUR = 3_600_000;
/** Four weeks of samples: ~20 school days of starts, more than the 5 needed. */
const LEARNING_WINDOW_MS = 28 * 24 * HOUR;

export interface OptimumStartSourceOptions {
  telemetry: Pick<TelemetryRepository, 'samplesOf'>;
  /** The school's outdoor temperature (its normals station); undefined: no optimum start. */
  outdoorOf(uai: string): SnapshotOutdoor | undefined;
}

export class OptimumStartSource {
  private readonly cache = new Map<string, { hour: number; snapshot: OptimumStartSnapshot | undefined }>();

  constructor(private readonly options: OptimumStartSourceOptions) {}

  async snapshotFor(uai: string, now: number): Promise<OptimumStartSnapshot | undefined> {
    const hour = Math.floor(now / HOUR) * HOUR;
    const cached = this.cache.get(uai);
    if (cached && cached.hour === hour) return cached.snapshot;
    const outdoor = this.options.outdoorOf(uai);
    let snapshot: OptimumStartSnapshot | undefined;
    if (outdoor) {
      const samples = await this.options.telemetry.samplesOf(uai, hour - LEARNING_WINDOW_MS, hour);
      const zones = learnSchool(samples, outdoor);
      if (Object.values(zones).some((z) => z.starts > 0 || z.cool_downs > 0)) {
        snapshot = optimumStartSnapshot(hour, outdoor, zones);
      }
    }
    this.cache.set(uai, { hour, snapshot });
    return snapshot;
  }
}

/** Per heated zone, what its heating samples teach. */
export function learnSchool(
  samples: readonly TelemetrySample[],
  outdoor: SnapshotOutdoor,
): Record<string, LearnedZone> {
  const byZone = new Map<string, TelemetrySample[]>();
  for (const s of samples) {
    if (s.function !== 'heating') continue;
    const list = byZone.get(s.zone) ?? [];
    list.push(s);
    byZone.set(s.zone, list);
  }
  const zones: Record<string, LearnedZone> = {};
  for (const [zone, list] of [...byZone].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    list.sort((a, b) => a.ts - b.ts);
    const temperatures: TemperatureSample[] = [];
    const spans: HeatingSpan[] = [];
    for (let k = 0; k < list.length; k++) {
      const s = list[k] as TelemetrySample;
      if (s.measured_c !== null && s.flag === null) temperatures.push({ at: s.ts, c: s.measured_c });
      const to = (list[k + 1] as TelemetrySample | undefined)?.ts ?? s.ts + 1;
      const comfort = s.mode.startsWith('comfort');
      const setpoint_c = s.setpoint_c ?? undefined;
      const last = spans[spans.length - 1];
      if (last && last.comfort === comfort && last.setpoint_c === setpoint_c) last.to = to;
      else spans.push({ from: s.ts, to, comfort, setpoint_c });
    }
    mergeBlips(spans);
    const latest = list[list.length - 1];
    zones[zone] = learnZone({
      samples: temperatures,
      spans,
      outdoorC: (t) => outdoorAt(outdoor, t),
      ...(latest?.flag ? { flagged: latest.flag } : {}),
    });
  }
  return zones;
}

/**
 * A setback shorter than this between two comfort spans at one setpoint is a blip, not a
 * cool-down: a gateway reports its fallback for the instant between one `desired`'s `valid_until`
 * and the next one's arrival. Left in, it would cut one warm-up into two "starts".
 */
const BLIP_MS = 15 * 60_000;

function mergeBlips(spans: HeatingSpan[]): void {
  for (let k = spans.length - 2; k >= 1; k--) {
    const blip = spans[k] as HeatingSpan;
    const before = spans[k - 1] as HeatingSpan;
    const after = spans[k + 1] as HeatingSpan;
    if (
      !blip.comfort &&
      blip.to - blip.from < BLIP_MS &&
      before.comfort &&
      after.comfort &&
      before.setpoint_c === after.setpoint_c
    ) {
      before.to = after.to;
      spans.splice(k, 2);
    }
  }
}
