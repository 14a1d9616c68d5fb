/**
 * The savings chart of a school's week (issue 7, dashboard): per zone, two horizontal bars, the
 * baseline schedule's heat and the plan's (src/savings, an estimate), on one kWh scale, each bar
 * labelled with its figure so the chart reads without colour. Pure: figures in, markup out.
 */
import { escapeXml, formatNumber } from './labels.js';

export interface SavingsChartZone {
  name: string;
  baselineKwh: number;
  planKwh: number;
}

export interface SavingsChartInput {
  /** Prefix of the ids inside the SVG (unique on the page). */
  id: string;
  title: string;
  zones: readonly SavingsChartZone[];
}

export const SAVINGS_CHART = {
  width: 760,
  left: 320,
  barArea: 340,
  top: 28,
  rowHeight: 40,
  barHeight: 14,
  baselineColour: '#595959',
  planColour: '#1f5fa8',
} as const;

export function savingsSvg(input: SavingsChartInput): string {
  const c = SAVINGS_CHART;
  const height = c.top + input.zones.length * c.rowHeight + 8;
  const max = Math.max(0, ...input.zones.flatMap((z) => [z.baselineKwh, z.planKwh]));
  const width = (kwh: number) => (max > 0 ? round2((Math.max(0, kwh) / max) * c.barArea) : 0);
  const id = escapeXml(input.id);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 ${c.width} ${height}" width="${c.width}" height="${height}" class="economies" aria-labelledby="${id}-titre ${id}-desc">`,
    `<title id="${id}-titre">${escapeXml(input.title)}</title>`,
    `<desc id="${id}-desc">${escapeXml(savingsSummary(input.zones))}</desc>`,
    `<rect x="${c.left}" y="6" width="12" height="12" fill="${c.baselineColour}"/>`,
    `<text x="${c.left + 16}" y="17">Référence (sans pilotage)</text>`,
    `<rect x="${c.left + 220}" y="6" width="12" height="12" fill="${c.planColour}"/>`,
    `<text x="${c.left + 236}" y="17">Plan piloté</text>`,
  ];
  input.zones.forEach((zone, i) => {
    const y = c.top + i * c.rowHeight;
    const bars: Array<[number, number, string, string]> = [
      [y + 2, zone.baselineKwh, c.baselineColour, 'Référence'],
      [y + 2 + c.barHeight + 4, zone.planKwh, c.planColour, 'Plan'],
    ];
    parts.push(
      `<text x="${c.left - 8}" y="${y + c.barHeight + 6}" text-anchor="end">${escapeXml(zone.name)}</text>`,
    );
    for (const [barY, kwh, colour, what] of bars) {
      const w = width(kwh);
      parts.push(
        `<rect x="${c.left}" y="${barY}" width="${w}" height="${c.barHeight}" fill="${colour}"><title>${escapeXml(`${zone.name}, ${what} : ${kwhText(kwh)}`)}</title></rect>`,
        `<text x="${round2(c.left + w + 6)}" y="${barY + 11}">${escapeXml(kwhText(kwh))}</text>`,
      );
    }
  });
  parts.push('</svg>');
  return parts.join('');
}

/** One sentence per zone: baseline, plan, saving and its share. */
export function savingsSummary(zones: readonly SavingsChartZone[]): string {
  if (zones.length === 0) return 'Aucune zone chauffée estimable.';
  return zones
    .map((z) => {
      const saving = z.baselineKwh - z.planKwh;
      const share = z.baselineKwh > 0 ? ` (${formatNumber((saving / z.baselineKwh) * 100, 1)} %)` : '';
      return `${z.name} : référence ${kwhText(z.baselineKwh)}, plan ${kwhText(z.planKwh)}, économie ${kwhText(saving)}${share}.`;
    })
    .join(' ');
}

export function kwhText(kwh: number): string {
  return `${formatNumber(kwh, 1)} kWh`;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
