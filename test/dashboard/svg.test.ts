/**
 * The dashboard's SVG charts as pure functions, on hand-made plans: exact geometry (x from the
 * real length of the range, so a 23 h DST day keeps the width and loses its 2 h tick), the
 * merged heating segments, labels, legend and the text alternative.
 */
import { describe, expect, it } from 'vitest';
import { SAVINGS_CHART, savingsSummary, savingsSvg } from '../../src/dashboard/savings-svg.js';
import {
  mergedSegments,
  TIMELINE,
  type TimelineInput,
  timelineSummary,
  timelineSvg,
  timelineTicks,
} from '../../src/dashboard/timeline-svg.js';

const H = 3_600_000;
const at = (iso: string) => Date.parse(iso);
/** Attributes of every `<rect class="…">` of a class, in order. */
const rects = (svg: string, cls: string) =>
  [...svg.matchAll(new RegExp(`<rect class="${cls}" x="([\\d.]+)" y="(\\d+)" width="([\\d.]+)"`, 'g'))].map(
    (m) => ({ x: Number(m[1]), y: Number(m[2]), width: Number(m[3]) }),
  );

// Sunday 29 March 2026 in Paris: 02:00 → 03:00, a 23 h day (22:00Z on the 28th → 22:00Z on the 29th).
const dstDay: TimelineInput = {
  id: 'frise-jour-cdi',
  title: 'CDI, dimanche 29/03/2026',
  kind: 'day',
  range: { from: at('2026-03-28T23:00:00Z'), to: at('2026-03-29T22:00:00Z') },
  timezone: 'Europe/Paris',
  occupancy: [{ start: at('2026-03-29T06:00:00Z'), end: at('2026-03-29T10:00:00Z') }],
  heating: [
    { from: at('2026-03-28T20:00:00Z'), to: at('2026-03-29T04:00:00Z'), mode: 'eco', setpoint_c: 16 },
    // The plan splits comfort by reason (preheat, occupied): one bar on the chart.
    { from: at('2026-03-29T04:00:00Z'), to: at('2026-03-29T06:00:00Z'), mode: 'comfort', setpoint_c: 19 },
    { from: at('2026-03-29T06:00:00Z'), to: at('2026-03-29T16:00:00Z'), mode: 'comfort', setpoint_c: 19 },
    { from: at('2026-03-29T16:00:00Z'), to: at('2026-03-30T04:00:00Z'), mode: 'eco', setpoint_c: 16 },
  ],
  now: at('2026-03-29T08:00:00Z'),
};

describe('day timeline', () => {
  it('maps the 23 h DST day onto the full width and merges equal consecutive segments', () => {
    const svg = timelineSvg(dstDay);
    // x = 100 + (t − from) / 23 h × 640.
    expect(rects(svg, 'mode-eco')).toEqual([
      { x: 100, y: TIMELINE.heatingY, width: 139.13 },
      { x: 573.04, y: TIMELINE.heatingY, width: 166.96 },
    ]);
    expect(rects(svg, 'mode-comfort')).toEqual([{ x: 239.13, y: TIMELINE.heatingY, width: 333.91 }]);
    expect(rects(svg, 'occupe')).toEqual([{ x: 294.78, y: TIMELINE.occupancyY, width: 111.31 }]);
    expect(svg).toContain('<title>Confort 19 °C 06:00–18:00</title>');
    expect(svg).toContain('<title>Réduit 16 °C 18:00–24:00</title>');
    expect(svg).toContain('<title>Occupé 08:00–12:00</title>');
    // The "now" marker at 10:00 local (9 h after midnight on this day).
    expect(svg).toContain('<line class="maintenant" x1="350.43" y1="2" x2="350.43" y2="60"');
  });

  it('puts one tick on each hour of the wall clock: none at 2 h, labels every 3 h', () => {
    const ticks = timelineTicks(dstDay);
    expect(ticks).toHaveLength(23);
    const labelled = ticks.filter((t) => t.label !== undefined);
    expect(labelled.map((t) => t.label)).toEqual([
      '0 h',
      '3 h',
      '6 h',
      '9 h',
      '12 h',
      '15 h',
      '18 h',
      '21 h',
    ]);
    // 3 h comes 2 real hours after midnight.
    expect(labelled[1]?.at).toBe(at('2026-03-29T01:00:00Z'));
    const svg = timelineSvg(dstDay);
    expect(svg).toContain('<text x="155.65" y="78" text-anchor="middle">3 h</text>');
    expect(svg).toContain('<text x="656.52" y="78" text-anchor="middle">21 h</text>');
  });

  it('is an accessible image: role, title, description and a legend in words', () => {
    const svg = timelineSvg(dstDay);
    expect(svg).toMatch(
      /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" role="img" viewBox="0 0 760 116" width="760" height="116" class="frise" aria-labelledby="frise-jour-cdi-titre frise-jour-cdi-desc">/,
    );
    expect(svg).toContain('<title id="frise-jour-cdi-titre">CDI, dimanche 29/03/2026</title>');
    expect(svg).toContain(
      '<desc id="frise-jour-cdi-desc">Occupée : 08:00–12:00. Chauffage : Réduit 16 °C 00:00–06:00 ; Confort 19 °C 06:00–18:00 ; Réduit 16 °C 18:00–24:00.</desc>',
    );
    const legend = [...svg.matchAll(/<text x="(\d+)" y="105">([^<]+)<\/text>/g)].map((m) => [
      Number(m[1]),
      m[2],
    ]);
    expect(legend).toEqual([
      [116, 'Occupé'],
      [196, 'Confort'],
      [284, 'Réduit'],
    ]);
    expect(timelineSummary(dstDay)).toEqual({
      occupancy: 'Occupée : 08:00–12:00.',
      heating: 'Chauffage : Réduit 16 °C 00:00–06:00 ; Confort 19 °C 06:00–18:00 ; Réduit 16 °C 18:00–24:00.',
    });
  });

  it('says when the occupancy is unknown and escapes every text', () => {
    const svg = timelineSvg({ ...dstDay, occupancy: null, title: 'Salle <B&C>', heating: [] });
    expect(svg).toContain('<title id="frise-jour-cdi-titre">Salle &lt;B&amp;C&gt;</title>');
    expect(svg).toContain('inconnue (pas d’emploi du temps)</text>');
    expect(svg).toContain('Occupation inconnue (pas d’emploi du temps). Chauffage : aucun plan.');
    expect(svg).not.toContain('class="occupe"');
  });
});

describe('week timeline', () => {
  // Monday 23 to Sunday 29 March 2026: 167 h (the Sunday has 23).
  const week: TimelineInput = {
    ...dstDay,
    id: 'frise-semaine-cdi',
    kind: 'week',
    range: { from: at('2026-03-22T23:00:00Z'), to: at('2026-03-29T22:00:00Z') },
    occupancy: [{ start: at('2026-03-23T07:00:00Z'), end: at('2026-03-23T11:00:00Z') }],
    heating: [{ from: at('2026-03-22T23:00:00Z'), to: at('2026-03-29T22:00:00Z'), mode: 'frost' }],
  };

  it('draws a gridline at each local midnight and names each day in its middle', () => {
    const ticks = timelineTicks(week);
    expect(ticks.map((t) => t.label)).toEqual([
      'lun. 23/03',
      'mar. 24/03',
      'mer. 25/03',
      'jeu. 26/03',
      'ven. 27/03',
      'sam. 28/03',
      'dim. 29/03',
      undefined,
    ]);
    const svg = timelineSvg(week);
    // Sunday starts 144 h in: 100 + 144/167 × 640; its label sits 11.5 h later.
    expect(svg).toContain('<line x1="651.86" y1="6" x2="651.86" y2="66" stroke="#111"/>');
    expect(svg).toContain('<text x="695.93" y="78" text-anchor="middle">dim. 29/03</text>');
    expect(svg).toContain('<line x1="740" y1="6" x2="740" y2="63" stroke="#111"/>');
    expect(rects(svg, 'mode-frost')).toEqual([{ x: 100, y: TIMELINE.heatingY, width: 640 }]);
    expect(timelineSummary(week)).toEqual({
      occupancy: 'Occupée : lun. 23/03 08:00–12:00.',
      heating: 'Chauffage : Hors-gel lun. 23/03 00:00 – dim. 29/03 24:00.',
    });
  });

  it('clips segments to the range and keeps different setpoints apart', () => {
    const range = { from: 10 * H, to: 20 * H };
    expect(
      mergedSegments(
        [
          { from: 0, to: 12 * H, mode: 'eco' },
          { from: 12 * H, to: 14 * H, mode: 'eco' },
          { from: 14 * H, to: 16 * H, mode: 'comfort', setpoint_c: 19 },
          { from: 16 * H, to: 30 * H, mode: 'comfort', setpoint_c: 18 },
        ],
        range,
      ),
    ).toEqual([
      { from: 10 * H, to: 14 * H, mode: 'eco' },
      { from: 14 * H, to: 16 * H, mode: 'comfort', setpoint_c: 19 },
      { from: 16 * H, to: 20 * H, mode: 'comfort', setpoint_c: 18 },
    ]);
  });
});

describe('savings chart', () => {
  const input = {
    id: 'economies-graphique',
    title: 'Chaleur fournie par zone',
    zones: [
      { name: 'Gymnase', baselineKwh: 100, planKwh: 60 },
      { name: 'CDI', baselineKwh: 50, planKwh: 50 },
    ],
  };

  it('draws baseline and plan bars on one scale, each with its figure', () => {
    const svg = savingsSvg(input);
    expect(SAVINGS_CHART.left).toBe(320);
    expect(svg).toContain('viewBox="0 0 760 116"');
    const bars = [
      ...svg.matchAll(/<rect x="320" y="(\d+)" width="([\d.]+)" height="14" fill="(#[0-9a-f]+)">/g),
    ].map((m) => [Number(m[1]), Number(m[2]), m[3]]);
    expect(bars).toEqual([
      [30, 340, '#595959'],
      [48, 204, '#1f5fa8'],
      [70, 170, '#595959'],
      [88, 170, '#1f5fa8'],
    ]);
    expect(svg).toContain('<text x="666" y="41">100 kWh</text>');
    expect(svg).toContain('<text x="530" y="59">60 kWh</text>');
    expect(svg).toContain('<text x="312" y="48" text-anchor="end">Gymnase</text>');
    expect(svg).toContain('<title>Gymnase, Plan : 60 kWh</title>');
  });

  it('describes every zone in words', () => {
    expect(savingsSummary(input.zones)).toBe(
      'Gymnase : référence 100 kWh, plan 60 kWh, économie 40 kWh (40 %). CDI : référence 50 kWh, plan 50 kWh, économie 0 kWh (0 %).',
    );
    expect(savingsSvg(input)).toContain(
      `<desc id="economies-graphique-desc">${savingsSummary(input.zones)}</desc>`,
    );
    expect(savingsSummary([])).toBe('Aucune zone chauffée estimable.');
  });
});
