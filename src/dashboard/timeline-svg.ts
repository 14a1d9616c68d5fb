/**
 * A zone's day or week as an SVG strip (issue 7, dashboard): occupancy on the top lane, the
 * heating mode the plan asks for on the bottom lane, a time axis on the school's wall clock, a
 * legend, and a `<title>`/`<desc>` naming every interval in words. Time maps linearly to x over
 * the real length of the range, so a 23 h or 25 h DST day fills the same width and its hour ticks
 * follow the clock change (one tick missing in spring, one repeated in autumn).
 * Pure: segments and intervals in, markup out; every text is escaped here.
 */
import type { TimeRange } from '../rules/planner.js';
import { escapeXml, formatCelsius, formatNumber, localTime, modeLabel, shortDay } from './labels.js';
import { quarters, wallClock } from './wall-clock.js';

export interface TimelineSegment {
  /** Epoch ms UTC, inclusive. */
  from: number;
  /** Epoch ms UTC, exclusive. */
  to: number;
  mode: string;
  setpoint_c?: number;
}

export interface TimelineInput {
  /** Prefix of the ids inside the SVG (unique on the page). */
  id: string;
  /** `Gymnase, lundi 30/03/2026`. */
  title: string;
  kind: 'day' | 'week';
  range: TimeRange;
  timezone: string;
  /** The zone's occupied intervals; null when no occupancy is known (no timetable). */
  occupancy: readonly { start: number; end: number }[] | null;
  heating: readonly TimelineSegment[];
  /** Drawn as a marker when inside the range. */
  now?: number;
  /**
   * The zone's measured temperature (issue 16), drawn in a band under the legend with the plan's
   * setpoint: each valid report holds until the next one, at most `holdMs` (docs/telemetry.md,
   * "Comfort"), so a gap in the line is unmeasured time. Absent: no band.
   */
  temperature?: { samples: readonly TemperaturePoint[]; holdMs: number };
}

/** A valid report of the zone's heating (flagged ones are left out before). */
export interface TemperaturePoint {
  ts: number;
  measured_c: number;
}

/** Layout, in SVG user units (the SVG scales to the page width through its viewBox). */
export const TIMELINE = {
  width: 760,
  height: 116,
  left: 100,
  plotWidth: 640,
  occupancyY: 6,
  heatingY: 34,
  laneHeight: 22,
  axisY: 60,
  legendY: 94,
} as const;

/** The temperature band, under the legend (SVG user units). */
export const TEMPERATURE_BAND = {
  top: 122,
  height: 76,
  /** Total height of an SVG with the band. */
  svgHeight: 228,
  legendY: 210,
  measured: '#111111',
  setpoint: '#1f5fa8',
} as const;

/** Fill per heating mode and for occupancy: each ≥ 3:1 against white (WCAG 1.4.11). */
export const TIMELINE_COLOURS: Record<string, string> = {
  occupied: '#2e7d32',
  comfort: '#a4262c',
  comfort_1: '#b34700',
  comfort_2: '#7a5a00',
  eco: '#1f5fa8',
  frost: '#00707a',
  off: '#6b6b6b',
  on: '#a4262c',
};

const MODE_ORDER = ['comfort', 'comfort_1', 'comfort_2', 'eco', 'frost', 'off', 'on'];

export function timelineSvg(input: TimelineInput): string {
  const { range, timezone } = input;
  const x = (t: number) =>
    round2(TIMELINE.left + ((t - range.from) / (range.to - range.from)) * TIMELINE.plotWidth);
  const span = (from: number, to: number) => spanText(from, to, input);
  const parts: string[] = [];
  const summary = timelineSummary(input);
  const height = input.temperature ? TEMPERATURE_BAND.svgHeight : TIMELINE.height;
  const words = [summary.occupancy, summary.heating, ...(summary.temperature ? [summary.temperature] : [])];

  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 ${TIMELINE.width} ${height}" ` +
      `width="${TIMELINE.width}" height="${height}" class="frise" ` +
      `aria-labelledby="${attr(input.id)}-titre ${attr(input.id)}-desc">`,
    `<title id="${attr(input.id)}-titre">${escapeXml(input.title)}</title>`,
    `<desc id="${attr(input.id)}-desc">${escapeXml(words.join(' '))}</desc>`,
  );
  // Lane labels.
  const labelX = TIMELINE.left - 8;
  const textY = (laneY: number) => laneY + 15;
  parts.push(
    `<text x="${labelX}" y="${textY(TIMELINE.occupancyY)}" text-anchor="end">Occupation</text>`,
    `<text x="${labelX}" y="${textY(TIMELINE.heatingY)}" text-anchor="end">Chauffage</text>`,
    `<rect x="${TIMELINE.left}" y="${TIMELINE.occupancyY}" width="${TIMELINE.plotWidth}" height="${TIMELINE.laneHeight}" fill="none" stroke="#555"/>`,
    `<rect x="${TIMELINE.left}" y="${TIMELINE.heatingY}" width="${TIMELINE.plotWidth}" height="${TIMELINE.laneHeight}" fill="none" stroke="#555"/>`,
  );

  if (input.occupancy === null) {
    parts.push(
      `<text x="${TIMELINE.left + 6}" y="${textY(TIMELINE.occupancyY)}">inconnue (pas d’emploi du temps)</text>`,
    );
  } else {
    for (const interval of clipIntervals(input.occupancy, range)) {
      const left = x(interval.start);
      parts.push(
        `<rect class="occupe" x="${left}" y="${TIMELINE.occupancyY}" width="${round2(x(interval.end) - left)}" height="${TIMELINE.laneHeight}" fill="${TIMELINE_COLOURS['occupied']}">` +
          `<title>${escapeXml(`Occupé ${span(interval.start, interval.end)}`)}</title></rect>`,
      );
    }
  }
  const merged = mergedSegments(input.heating, range);
  for (const segment of merged) {
    const left = x(segment.from);
    parts.push(
      `<rect class="mode-${attr(segment.mode)}" x="${left}" y="${TIMELINE.heatingY}" width="${round2(x(segment.to) - left)}" height="${TIMELINE.laneHeight}" fill="${TIMELINE_COLOURS[segment.mode] ?? '#333'}">` +
        `<title>${escapeXml(`${segmentLabel(segment)} ${span(segment.from, segment.to)}`)}</title></rect>`,
    );
  }

  const axisY = TIMELINE.axisY;
  parts.push(axisMarkup(input, x));
  if (input.now !== undefined && input.now >= range.from && input.now < range.to) {
    const nx = x(input.now);
    parts.push(
      `<line class="maintenant" x1="${nx}" y1="2" x2="${nx}" y2="${axisY}" stroke="#111" stroke-width="2" stroke-dasharray="4 2">` +
        `<title>${escapeXml(`Maintenant : ${localTime(input.now, timezone)}`)}</title></line>`,
    );
  }

  // Legend: occupancy and the modes drawn.
  let lx = TIMELINE.left;
  const legend: Array<[string, string]> = [];
  if (input.occupancy !== null) legend.push(['occupied', 'Occupé']);
  const modes = new Set(merged.map((s) => s.mode));
  for (const mode of MODE_ORDER) if (modes.has(mode)) legend.push([mode, modeLabel(mode)]);
  for (const [key, label] of legend) {
    parts.push(
      `<rect x="${lx}" y="${TIMELINE.legendY}" width="12" height="12" fill="${TIMELINE_COLOURS[key]}"/>`,
      `<text x="${lx + 16}" y="${TIMELINE.legendY + 11}">${escapeXml(label)}</text>`,
    );
    lx += 16 + label.length * 8 + 16;
  }
  if (input.temperature) parts.push(...temperatureBand(input, input.temperature, x));
  parts.push('</svg>');
  return parts.join('');
}

/** The runs of each valid report's hold, clipped to the range: `[from, to)` at one value. */
export function measuredRuns(
  samples: readonly TemperaturePoint[],
  holdMs: number,
  range: TimeRange,
): Array<{ from: number; to: number; c: number }> {
  const sorted = [...samples].sort((a, b) => a.ts - b.ts);
  const runs: Array<{ from: number; to: number; c: number }> = [];
  sorted.forEach((sample, i) => {
    const next = sorted[i + 1]?.ts ?? Number.POSITIVE_INFINITY;
    const from = Math.max(sample.ts, range.from);
    const to = Math.min(next, sample.ts + holdMs, range.to);
    if (to > from) runs.push({ from, to, c: sample.measured_c });
  });
  return runs;
}

function temperatureBand(
  input: TimelineInput,
  temperature: NonNullable<TimelineInput['temperature']>,
  x: (t: number) => number,
): string[] {
  const band = TEMPERATURE_BAND;
  const runs = measuredRuns(temperature.samples, temperature.holdMs, input.range);
  const setpoints = mergedSegments(input.heating, input.range).filter((s) => s.setpoint_c !== undefined);
  const values = [...runs.map((r) => r.c), ...setpoints.map((s) => s.setpoint_c as number)];
  const low = values.length === 0 ? 15 : Math.floor(Math.min(...values) - 0.5);
  const high = values.length === 0 ? 21 : Math.max(low + 2, Math.ceil(Math.max(...values) + 0.5));
  const y = (c: number) => round2(band.top + band.height - ((c - low) / (high - low)) * band.height);
  const out: string[] = [
    `<text x="${TIMELINE.left - 8}" y="${band.top + 12}" text-anchor="end">Température</text>`,
    `<rect x="${TIMELINE.left}" y="${band.top}" width="${TIMELINE.plotWidth}" height="${band.height}" fill="none" stroke="#555"/>`,
    `<text x="${TIMELINE.left - 8}" y="${band.top + 10 + 14}" text-anchor="end" class="echelle">${escapeXml(formatCelsius(high))}</text>`,
    `<text x="${TIMELINE.left - 8}" y="${band.top + band.height}" text-anchor="end" class="echelle">${escapeXml(formatCelsius(low))}</text>`,
  ];
  // Setpoint: a dashed step line over the plan's segments that carry one.
  for (const s of setpoints) {
    const sy = y(s.setpoint_c as number);
    out.push(
      `<line class="consigne" x1="${x(s.from)}" y1="${sy}" x2="${x(s.to)}" y2="${sy}" stroke="${band.setpoint}" stroke-width="2" stroke-dasharray="6 3"/>`,
    );
  }
  // Measured: one step path per unbroken stretch; a gap is time without a measurement in force.
  let path = '';
  let end = Number.NaN;
  const paths: string[] = [];
  for (const run of runs) {
    if (run.from !== end) {
      if (path) paths.push(path);
      path = `M${x(run.from)} ${y(run.c)}`;
    } else path += ` V${y(run.c)}`;
    path += ` H${x(run.to)}`;
    end = run.to;
  }
  if (path) paths.push(path);
  for (const d of paths)
    out.push(`<path class="mesure" d="${d}" fill="none" stroke="${band.measured}" stroke-width="2"/>`);
  out.push(
    `<line x1="${TIMELINE.left}" y1="${band.legendY + 6}" x2="${TIMELINE.left + 20}" y2="${band.legendY + 6}" stroke="${band.measured}" stroke-width="2"/>`,
    `<text x="${TIMELINE.left + 26}" y="${band.legendY + 11}">Température mesurée</text>`,
    `<line x1="${TIMELINE.left + 200}" y1="${band.legendY + 6}" x2="${TIMELINE.left + 220}" y2="${band.legendY + 6}" stroke="${band.setpoint}" stroke-width="2" stroke-dasharray="6 3"/>`,
    `<text x="${TIMELINE.left + 226}" y="${band.legendY + 11}">Consigne</text>`,
  );
  return out;
}

export interface TimelineTick {
  at: number;
  label?: string;
  /** Where the label is centred (the middle of a day on the week view). */
  labelAt?: number;
  /** Drawn across both lanes (midnights on the week view). */
  gridline?: boolean;
}

/**
 * The axis and its ticks, the same for every timeline of one kind, range and time zone: a school
 * page draws 40 zones' day and week timelines on the same two axes, and finding a week's local
 * midnights asks the wall clock 1,300 times (docs/performance.md, "Region dashboard").
 */
function axisMarkup(
  input: Pick<TimelineInput, 'kind' | 'range' | 'timezone'>,
  x: (ms: number) => number,
): string {
  const key = `${input.kind}|${input.range.from}|${input.range.to}|${input.timezone}`;
  const known = axes.get(key);
  if (known !== undefined) return known;
  const axisY = TIMELINE.axisY;
  const parts = [
    `<line x1="${TIMELINE.left}" y1="${axisY}" x2="${TIMELINE.left + TIMELINE.plotWidth}" y2="${axisY}" stroke="#111"/>`,
  ];
  for (const tick of timelineTicks(input)) {
    const tx = x(tick.at);
    parts.push(
      `<line x1="${tx}" y1="${tick.gridline ? TIMELINE.occupancyY : axisY}" x2="${tx}" y2="${axisY + (tick.label ? 6 : 3)}" stroke="#111"/>`,
    );
    if (tick.label !== undefined) {
      const lx = tick.labelAt === undefined ? tx : x(tick.labelAt);
      parts.push(`<text x="${lx}" y="${axisY + 18}" text-anchor="middle">${escapeXml(tick.label)}</text>`);
    }
  }
  const markup = parts.join('');
  // A few axes a day per time zone: bounded all the same.
  if (axes.size >= MAX_AXES) axes.clear();
  axes.set(key, markup);
  return markup;
}

const MAX_AXES = 256;
const axes = new Map<string, string>();

/**
 * Day: every whole local hour in the range, labelled every 3 hours of the wall clock (`0 h`,
 * `3 h`…). Week: every local midnight, the day's name centred between two midnights.
 */
export function timelineTicks(input: Pick<TimelineInput, 'kind' | 'range' | 'timezone'>): TimelineTick[] {
  const { range, timezone } = input;
  const ticks: TimelineTick[] = [];
  if (input.kind === 'day') {
    // The first instant of each local hour (both 02:00 of the autumn switch; none for the
    // spring's missing one), found on the quarter-hour grid every offset change lies on.
    for (const at of quarters(range.from, range.to)) {
      const local = wallClock(at, timezone);
      if (local.minute !== 0) continue;
      ticks.push(local.hour % 3 === 0 ? { at, label: `${local.hour} h` } : { at });
    }
    return ticks;
  }
  // The first instant of each local day in [from, to] (a day may start at 01:00 where DST
  // switches at midnight), its name centred up to the next one.
  const midnights: number[] = [];
  for (const at of quarters(range.from, range.to + 1)) {
    if (wallClock(at, timezone).day !== wallClock(at - QUARTER_MS, timezone).day) midnights.push(at);
  }
  midnights.forEach((at, i) => {
    const next = midnights[i + 1] ?? nextMidnight(at, timezone);
    ticks.push(
      at < range.to
        ? { at, gridline: true, label: shortDay(at, timezone), labelAt: (at + Math.min(next, range.to)) / 2 }
        : { at, gridline: true },
    );
  });
  return ticks;
}

const QUARTER_MS = 15 * 60_000;

/** The first instant of the local day after the one holding `at`. */
function nextMidnight(at: number, timezone: string): number {
  const day = wallClock(at, timezone).day;
  let next = at + QUARTER_MS;
  while (wallClock(next, timezone).day === day) next += QUARTER_MS;
  return next;
}

/** The words of the `<desc>` and of the page's text alternative. */
export function timelineSummary(input: TimelineInput): {
  occupancy: string;
  heating: string;
  temperature?: string;
} {
  const span = (from: number, to: number) => spanText(from, to, input);
  const occupancy =
    input.occupancy === null
      ? 'Occupation inconnue (pas d’emploi du temps).'
      : (() => {
          const intervals = clipIntervals(input.occupancy, input.range);
          return intervals.length === 0
            ? 'Inoccupée.'
            : `Occupée : ${intervals.map((i) => span(i.start, i.end)).join(', ')}.`;
        })();
  const segments = mergedSegments(input.heating, input.range);
  const heating =
    segments.length === 0
      ? 'Chauffage : aucun plan.'
      : `Chauffage : ${segments.map((s) => `${segmentLabel(s)} ${span(s.from, s.to)}`).join(' ; ')}.`;
  if (!input.temperature) return { occupancy, heating };
  const runs = measuredRuns(input.temperature.samples, input.temperature.holdMs, input.range);
  if (runs.length === 0) return { occupancy, heating, temperature: 'Température : aucune mesure.' };
  const measuredMs = runs.reduce((total, r) => total + (r.to - r.from), 0);
  const low = Math.min(...runs.map((r) => r.c));
  const high = Math.max(...runs.map((r) => r.c));
  const hours = formatNumber(measuredMs / 3_600_000, 1);
  const temperature =
    low === high
      ? `Température mesurée : ${formatCelsius(low)} pendant ${hours} h.`
      : `Température mesurée : de ${formatCelsius(low)} à ${formatCelsius(high)}, pendant ${hours} h.`;
  return { occupancy, heating, temperature };
}

/** Consecutive segments of one mode and setpoint joined (the plan splits them by reason), clipped to the range. */
export function mergedSegments(segments: readonly TimelineSegment[], range: TimeRange): TimelineSegment[] {
  const out: TimelineSegment[] = [];
  for (const segment of [...segments].sort((a, b) => a.from - b.from)) {
    const from = Math.max(segment.from, range.from);
    const to = Math.min(segment.to, range.to);
    if (to <= from) continue;
    const last = out[out.length - 1];
    if (last && last.to === from && last.mode === segment.mode && last.setpoint_c === segment.setpoint_c) {
      last.to = to;
    } else {
      out.push({
        from,
        to,
        mode: segment.mode,
        ...(segment.setpoint_c === undefined ? {} : { setpoint_c: segment.setpoint_c }),
      });
    }
  }
  return out;
}

function clipIntervals(
  intervals: readonly { start: number; end: number }[],
  range: TimeRange,
): { start: number; end: number }[] {
  return intervals
    .map((i) => ({ start: Math.max(i.start, range.from), end: Math.min(i.end, range.to) }))
    .filter((i) => i.end > i.start)
    .sort((a, b) => a.start - b.start);
}

function segmentLabel(segment: TimelineSegment): string {
  return segment.setpoint_c === undefined
    ? modeLabel(segment.mode)
    : `${modeLabel(segment.mode)} ${formatCelsius(segment.setpoint_c)}`;
}

/** `06:00–12:00` on a day (the next midnight reads `24:00`); with the day's name on a week. */
function spanText(
  from: number,
  to: number,
  input: Pick<TimelineInput, 'kind' | 'range' | 'timezone'>,
): string {
  const { timezone } = input;
  if (input.kind === 'day') {
    const end = to >= input.range.to ? '24:00' : localTime(to, timezone);
    return `${localTime(from, timezone)}–${end}`;
  }
  const fromDay = shortDay(from, timezone);
  // An interval ending at a midnight belongs to the day before it.
  const toDay = shortDay(to - 1, timezone);
  const endTime = localTime(to, timezone) === '00:00' ? '24:00' : localTime(to, timezone);
  return fromDay === toDay
    ? `${fromDay} ${localTime(from, timezone)}–${endTime}`
    : `${fromDay} ${localTime(from, timezone)} – ${toDay} ${endTime}`;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function attr(text: string): string {
  return escapeXml(text);
}
