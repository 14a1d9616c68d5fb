/**
 * French words and number/time formats shared by the dashboard's pages and SVG charts, so a mode
 * reads the same in a chart's legend, its text alternative and the zones table.
 */
import { pad2, wallClock } from './wall-clock.js';

const MODE_LABELS: Record<string, string> = {
  comfort: 'Confort',
  comfort_1: 'Confort −1',
  comfort_2: 'Confort −2',
  eco: 'Réduit',
  frost: 'Hors-gel',
  off: 'Arrêt',
  on: 'Marche',
};

const FUNCTION_LABELS: Record<string, string> = {
  heating: 'Chauffage',
  lighting: 'Éclairage',
  ventilation: 'Ventilation',
};

export function modeLabel(mode: string): string {
  return MODE_LABELS[mode] ?? mode;
}

export function functionLabel(fn: string): string {
  return FUNCTION_LABELS[fn] ?? fn;
}

/** `19,5 °C` (French decimal comma, at most one decimal). */
export function formatCelsius(value: number): string {
  return `${formatNumber(value, 1)} °C`;
}

/** French decimal comma and no grouping: figures stay exact for screen readers and tests. */
export function formatNumber(value: number, decimals: number): string {
  const factor = 10 ** decimals;
  const rounded = Math.round(value * factor) / factor;
  return String(rounded).replace('.', ',');
}

/** `HH:mm` on the school's wall clock. */
export function localTime(ms: number, timezone: string): string {
  const local = wallClock(ms, timezone);
  return `${pad2(local.hour)}:${pad2(local.minute)}`;
}

const WEEKDAY_SHORT = ['lun.', 'mar.', 'mer.', 'jeu.', 'ven.', 'sam.', 'dim.'];
const WEEKDAY_LONG = ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche'];

/** `lun. 30/03` on the school's wall clock. */
export function shortDay(ms: number, timezone: string): string {
  const local = wallClock(ms, timezone);
  return `${WEEKDAY_SHORT[local.weekday - 1]} ${pad2(local.day)}/${pad2(local.month)}`;
}

/** `lundi 30/03/2026` for a local date `YYYY-MM-DD`. */
export function longDate(date: string): string {
  const local = wallClock(Date.parse(`${date}T00:00:00Z`), 'UTC');
  return `${WEEKDAY_LONG[local.weekday - 1]} ${pad2(local.day)}/${pad2(local.month)}/${local.year}`;
}

/** `30/03/2026 14:05` on the school's wall clock. */
export function localDateTime(ms: number, timezone: string): string {
  const local = wallClock(ms, timezone);
  return `${pad2(local.day)}/${pad2(local.month)}/${local.year} ${pad2(local.hour)}:${pad2(local.minute)}`;
}

/** Text for SVG and attribute values built by hand (the JSX pages escape on their own). */
export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
