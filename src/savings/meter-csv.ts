/**
 * Meter readings from a CSV file (`scope-energie meters import`; docs/savings.md, "Meters", which
 * documents the columns). Three shapes, recognised from the header row (preamble lines before it
 * are skipped, as supplier exports start with a few lines about the delivery point):
 *
 * - native: `ts;index_kwh` (a cumulative index) or `from;to;kwh` (the energy of an interval),
 *   optional `meter`;
 * - Enedis (electricity, the customer-area and SGE exports): `Horodate;Valeur` with `Unité`,
 *   `Grandeur physique` (EA energy in Wh/kWh, PA mean power in W) and `Pas` (ISO 8601 duration
 *   of the interval, PT30M…P1D); `Horodate` is the END of the interval (the load curve's first
 *   half-hour of a day is stamped 00:30);
 * - GRDF (gas, the customer-area export): `Date de relevé` and `Energie consommée (kWh)`; a row
 *   is the gas day ("journée gazière", 06:00 to 06:00 local) ending at 06:00 on that date.
 *
 * `;` or `,` separators (`,` only when the header has no `;`: French decimals use the comma),
 * French decimals (`1 234,5`), ISO 8601 instants, `YYYY-MM-DD[ HH:MM[:SS]]` and
 * `DD/MM/YYYY[ HH:MM[:SS]]` local times of the school. Every problem names its line and column;
 * one problem and nothing is returned. Pure.
 */
import { parse } from 'csv-parse/sync';
import { DateTime, Duration } from 'luxon';
import { InputError, type Problem } from '../domain/problems.js';
import { detectEncoding } from '../formats/encoding.js';
import type { StoredMeterReading } from '../store/meter-repository.js';

export type MeterCsvShape = 'native-index' | 'native-interval' | 'enedis' | 'grdf';

/** A supplier's yearly export of half-hours is ~17 500 rows; ten years of them fit. */
export const MAX_METER_CSV_BYTES = 32 * 1024 * 1024;
export const MAX_METER_CSV_ROWS = 200_000;
/** Lines searched for the header row. */
const MAX_PREAMBLE_LINES = 20;

export interface MeterCsv {
  shape: MeterCsvShape;
  readings: StoredMeterReading[];
  /** The line of each reading, for errors reported after parsing (store conflicts). */
  lines: number[];
}

export interface MeterCsvOptions {
  timezone: string;
  /** `--meter`: the meter of every row, required unless the file has a `meter` column. */
  meter?: string;
  /** File name shown in errors. */
  file: string;
}

const normalise = (header: string) =>
  header
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();

const METER_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export function readMeterCsv(bytes: Uint8Array, options: MeterCsvOptions): MeterCsv {
  const where = (line: number, column?: string) =>
    `${options.file} line ${line}${column === undefined ? '' : `, column "${column}"`}`;
  if (bytes.length > MAX_METER_CSV_BYTES) {
    throw InputError.of(
      'file-too-large',
      `the file is ${bytes.length} bytes; at most ${MAX_METER_CSV_BYTES}`,
      options.file,
      'malformed',
    );
  }
  const encoding = detectEncoding(bytes);
  const text = new TextDecoder(encoding.encoding).decode(bytes.subarray(encoding.offset));
  const lines = text.split(/\r?\n/);
  let headerIndex = -1;
  let shape: MeterCsvShape | undefined;
  let delimiter = ';';
  for (let i = 0; i < Math.min(lines.length, MAX_PREAMBLE_LINES); i++) {
    const line = lines[i] as string;
    delimiter = line.includes(';') ? ';' : ',';
    const cells = line.split(delimiter).map((c) => normalise(c.replace(/^"|"$/g, '')));
    shape = shapeOf(cells);
    if (shape) {
      headerIndex = i;
      break;
    }
  }
  if (!shape || headerIndex < 0) {
    throw InputError.of(
      'meter-csv-header',
      'no header row found in the first 20 lines: expected "ts;index_kwh", "from;to;kwh" (native), "Horodate;Valeur" (Enedis) or "Date de relevé;…;Energie consommée (kWh)" (GRDF)',
      options.file,
      'malformed',
    );
  }
  let records: string[][];
  try {
    records = parse(lines.slice(headerIndex).join('\n'), {
      delimiter,
      relax_column_count: true,
      skip_empty_lines: false,
      trim: true,
      bom: true,
    }) as string[][];
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    throw InputError.of(
      'meter-csv-malformed',
      (error as Error).message,
      line === undefined ? options.file : where(headerIndex + line),
      'malformed',
    );
  }
  const header = (records[0] ?? []).map(normalise);
  const rawHeader = records[0] ?? [];
  const col = (...names: string[]) => {
    for (const name of names) {
      const i = header.indexOf(normalise(name));
      if (i >= 0) return i;
    }
    return -1;
  };
  const meterColumn = col('meter', 'compteur');
  if (meterColumn < 0 && options.meter === undefined) {
    throw InputError.of(
      'option-missing',
      'the file has no "meter" column: name the meter with --meter',
      '--meter',
      'malformed',
    );
  }
  if (options.meter !== undefined && !METER_ID.test(options.meter)) {
    throw InputError.of(
      'bad-meter',
      `"${options.meter}" is not a meter id (letters, digits, _ . -, at most 64)`,
      '--meter',
      'malformed',
    );
  }
  const problems: Problem[] = [];
  const readings: StoredMeterReading[] = [];
  const readingLines: number[] = [];
  const rows = records.length - 1;
  if (rows > MAX_METER_CSV_ROWS) {
    throw InputError.of(
      'too-many-rows',
      `${rows} rows; at most ${MAX_METER_CSV_ROWS}`,
      options.file,
      'malformed',
    );
  }
  const source = `csv:${shape}`;
  for (let r = 1; r < records.length; r++) {
    const cells = records[r] as string[];
    const line = headerIndex + r + 1;
    if (cells.every((c) => c === '')) continue;
    if (problems.length >= 50) break;
    const cell = (i: number) => (i >= 0 ? (cells[i] ?? '') : '');
    const name = (i: number) => String(rawHeader[i] ?? i + 1);
    const fail = (i: number, code: string, message: string) =>
      problems.push({ code, message, where: where(line, i >= 0 ? name(i) : undefined) });
    const meter = meterColumn >= 0 && cell(meterColumn) !== '' ? cell(meterColumn) : options.meter;
    if (meter === undefined || !METER_ID.test(meter)) {
      fail(
        meterColumn,
        'bad-meter',
        `"${meter ?? ''}" is not a meter id (letters, digits, _ . -, at most 64)`,
      );
      continue;
    }
    const number = (i: number): number | undefined => {
      const value = frenchNumber(cell(i));
      if (value === undefined) fail(i, 'bad-number', `"${cell(i)}" is not a number`);
      return value;
    };
    const instant = (i: number, defaultTime?: string): number | undefined => {
      const value = instantOf(cell(i), options.timezone, defaultTime);
      if (value === undefined)
        fail(i, 'bad-date', `"${cell(i)}" is not a date (ISO 8601, YYYY-MM-DD HH:MM or DD/MM/YYYY HH:MM)`);
      return value;
    };
    const push = (reading: Omit<StoredMeterReading, 'meter' | 'source'>) => {
      if (!(reading.valueKwh >= 0)) {
        problems.push({
          code: 'negative-energy',
          message: 'energy and index must be ≥ 0',
          where: where(line),
        });
        return;
      }
      readings.push({ ...reading, meter, source });
      readingLines.push(line);
    };
    switch (shape) {
      case 'native-index': {
        const ts = instant(col('ts'));
        const value = number(col('index_kwh'));
        if (ts !== undefined && value !== undefined)
          push({ ts, kind: 'index', valueKwh: value, periodFrom: null });
        break;
      }
      case 'native-interval': {
        const from = instant(col('from'));
        const to = instant(col('to'));
        const value = number(col('kwh'));
        if (from !== undefined && to !== undefined && to <= from) {
          fail(col('to'), 'bad-period', 'to must be after from');
          break;
        }
        if (from !== undefined && to !== undefined && value !== undefined)
          push({ ts: to, kind: 'interval', valueKwh: value, periodFrom: from });
        break;
      }
      case 'enedis': {
        const end = instant(col('horodate'));
        const value = number(col('valeur'));
        const stepText = cell(col('pas')) || 'P1D';
        const step = Duration.fromISO(stepText);
        if (!step.isValid || step.as('milliseconds') <= 0) {
          fail(col('pas'), 'bad-step', `"${stepText}" is not an ISO 8601 duration (PT30M, PT1H, P1D)`);
          break;
        }
        const quantity = normalise(cell(col('grandeur physique')) || 'EA').toUpperCase();
        const unit = normalise(cell(col('unite')) || (quantity === 'PA' ? 'W' : 'Wh'));
        let factor: number | undefined;
        if (quantity === 'EA' && unit === 'wh') factor = 1 / 1000;
        else if (quantity === 'EA' && unit === 'kwh') factor = 1;
        else if (quantity === 'PA' && unit === 'w') factor = step.as('hours') / 1000;
        else if (quantity === 'PA' && unit === 'kw') factor = step.as('hours');
        if (factor === undefined) {
          fail(
            col('unite'),
            'bad-unit',
            `"${quantity}" in "${unit}" is not an energy (EA in Wh or kWh) or a mean power (PA in W or kW)`,
          );
          break;
        }
        if (end !== undefined && value !== undefined) {
          const from = DateTime.fromMillis(end, { zone: options.timezone }).minus(step).toMillis();
          push({ ts: end, kind: 'interval', valueKwh: value * factor, periodFrom: from });
        }
        break;
      }
      case 'grdf': {
        const end = instant(col('date de releve'), '06:00');
        const value = number(col('energie consommee (kwh)'));
        if (end !== undefined && value !== undefined) {
          const from = DateTime.fromMillis(end, { zone: options.timezone }).minus({ days: 1 }).toMillis();
          push({ ts: end, kind: 'interval', valueKwh: value, periodFrom: from });
        }
        break;
      }
    }
  }
  if (problems.length > 0) throw new InputError(problems, 'invalid');
  return { shape, readings, lines: readingLines };
}

function shapeOf(cells: readonly string[]): MeterCsvShape | undefined {
  const has = (name: string) => cells.includes(normalise(name));
  if (has('ts') && has('index_kwh')) return 'native-index';
  if (has('from') && has('to') && has('kwh')) return 'native-interval';
  if (has('horodate') && has('valeur')) return 'enedis';
  if (has('date de releve') && has('energie consommee (kwh)')) return 'grdf';
  return undefined;
}

/** `1 234,5`, `1234.5`, `-3`: a number, or undefined. Spaces (also no-break) group thousands. */
export function frenchNumber(text: string): number | undefined {
  const compact = text.replace(/[\s\u00a0\u202f]/g, '');
  if (!/^-?\d+([.,]\d+)?$/.test(compact)) return undefined;
  return Number(compact.replace(',', '.'));
}

/** An ISO 8601 instant, or a local date-time of the school; undefined when unreadable. */
export function instantOf(text: string, timezone: string, defaultTime = '00:00'): number | undefined {
  const t = text.trim();
  if (/[Zz]$|[+-]\d\d:?\d\d$/.test(t) && t.includes('T')) {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? undefined : ms;
  }
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(t);
  const fr = /^(\d{2})\/(\d{2})\/(\d{4})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(t);
  const parts = iso
    ? { year: iso[1], month: iso[2], day: iso[3], hour: iso[4], minute: iso[5], second: iso[6] }
    : fr
      ? { year: fr[3], month: fr[2], day: fr[1], hour: fr[4], minute: fr[5], second: fr[6] }
      : undefined;
  if (!parts) return undefined;
  const [dh, dm] = defaultTime.split(':');
  const value = DateTime.fromObject(
    {
      year: Number(parts.year),
      month: Number(parts.month),
      day: Number(parts.day),
      hour: Number(parts.hour ?? dh),
      minute: Number(parts.minute ?? dm),
      second: Number(parts.second ?? 0),
    },
    { zone: timezone },
  );
  return value.isValid ? value.toMillis() : undefined;
}
