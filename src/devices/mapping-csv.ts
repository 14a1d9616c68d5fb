/**
 * The room → zone → gateway output mapping as a spreadsheet (`scope-energie devices export` /
 * `devices import --format csv`; docs/onboarding.md): one row per room of a zone, with every zone
 * field a building-automation integrator fills in, so that export then import gives back the same
 * zones. French spreadsheet conventions, as the audit CSV (src/audit/audit-csv.ts): UTF-8 with a
 * byte-order mark, `;` between fields, CRLF, RFC 4180 quoting, decimal comma accepted.
 *
 * Reading names every problem by line and column and applies nothing when any is found. Pure:
 * text in, zones or text out.
 */
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { formatWhere } from '../config/yaml-file.js';
import { InputError, type Problem } from '../domain/problems.js';
import { loadDevicesFile } from './load.js';
import { type DevicesFile, type Zone, zoneSchema } from './schema.js';

/** Columns, in the order written; the zone-level ones repeat on each of the zone's rows. */
export const MAPPING_CSV_COLUMNS = [
  'room',
  'zone',
  'zone_name',
  'gateway',
  'functions',
  'category',
  'heating_type',
  'adapter',
  'device',
  'adapter_options',
  'topic',
  'loss_coefficient_w_per_k',
  'time_constant_h',
  'preheat_minutes',
] as const;
export type MappingColumn = (typeof MAPPING_CSV_COLUMNS)[number];

/** What each column means, for `--help` and docs/onboarding.md. */
export const MAPPING_CSV_HELP: Record<MappingColumn, string> = {
  room: 'timetable room id or name (empty: a zone without rooms, or with `zone` empty a room in no zone)',
  zone: 'zone id (topic-safe); empty leaves the room in no zone',
  zone_name: 'zone name for people',
  gateway: 'gateway id, one of devices/{uai}.yaml gateways',
  functions: 'heating, lighting, ventilation, separated by commas',
  category: 'rule category (classroom, laboratory, workshop, gym, office, …)',
  heating_type: 'hydronic, electric, underfloor or air (required with heating)',
  adapter: "native, zigbee2mqtt, homeassistant, template (empty: the gateway's)",
  device: 'device model or point address the output drives (adapter_options.device)',
  adapter_options: 'other adapter options as a JSON object, e.g. {"base_topic":"z2m"}',
  topic: "overrides the zone's part of the MQTT topics",
  loss_coefficient_w_per_k: 'heat loss coefficient in W/K, for the savings estimate',
  time_constant_h: 'thermal time constant in hours, for the savings estimate',
  preheat_minutes: 'measured preheat lead, 15–180 minutes',
};

const BOM = '\uFEFF';

export interface RoomRef {
  id: string;
  name: string;
}

/** The zones of a devices file as CSV rows, then the timetable rooms no zone claims (zone empty). */
export function mappingCsv(devices: DevicesFile, rooms: readonly RoomRef[] = []): string {
  const rows: string[][] = [[...MAPPING_CSV_COLUMNS]];
  const claimed = new Set<string>();
  for (const zone of devices.zones) {
    const cells = zoneCells(zone);
    for (const room of zone.rooms.length > 0 ? zone.rooms : ['']) {
      claimed.add(room);
      rows.push([room, ...cells]);
    }
  }
  for (const room of rooms) {
    if (claimed.has(room.id) || claimed.has(room.name)) continue;
    rows.push([room.id, ...MAPPING_CSV_COLUMNS.slice(1).map(() => '')]);
  }
  return `${BOM}${stringify(rows, { delimiter: ';', record_delimiter: '\r\n' })}`;
}

function zoneCells(zone: Zone): string[] {
  const { device, ...others } = zone.adapter_options ?? {};
  const deviceCell = typeof device === 'string' ? device : '';
  const rest = typeof device === 'string' || device === undefined ? others : (zone.adapter_options ?? {});
  return [
    zone.id,
    zone.name,
    zone.gateway,
    zone.functions.join(','),
    zone.category,
    zone.heating_type ?? '',
    zone.adapter ?? '',
    deviceCell,
    Object.keys(rest).length > 0 ? JSON.stringify(rest) : '',
    zone.topic ?? '',
    numberCell(zone.loss_coefficient_w_per_k),
    numberCell(zone.time_constant_h),
    numberCell(zone.preheat_minutes),
  ];
}

/** Decimal comma, as French spreadsheets write numbers (`;` separates fields, so no quoting). */
function numberCell(value: number | undefined): string {
  return value === undefined ? '' : String(value).replace('.', ',');
}

export interface MappingContext {
  /** Gateway ids of the school's devices file. */
  gateways: readonly string[];
  /** The timetable's rooms, when there is one: rooms named in the CSV must be among them. */
  rooms?: readonly RoomRef[] | undefined;
}

interface Row {
  line: number;
  cells: Record<MappingColumn, string>;
}

/**
 * The zones a mapping CSV describes, in the order of their first row. Throws `InputError`
 * naming `file:line:column (column name)` for every problem found.
 */
export function readMappingCsv(text: string, file: string, context: MappingContext): Zone[] {
  const problems: Problem[] = [];
  const at = (line: number, column: MappingColumn | undefined, index?: number) =>
    formatWhere(
      file,
      line,
      column === undefined ? index : MAPPING_CSV_COLUMNS.indexOf(column) + 1,
      column ? [column] : [],
    );
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      delimiter: ';',
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (error) {
    const e = error as Error & { lines?: number };
    throw InputError.of(
      'csv-malformed',
      e.message,
      formatWhere(file, e.lines ?? 1, undefined, []),
      'malformed',
    );
  }
  const header = records[0];
  if (!header)
    throw InputError.of(
      'csv-empty',
      'the file is empty: expected a header row',
      formatWhere(file, 1, undefined, []),
      'malformed',
    );
  // The columns may come in any order: integrators rearrange them.
  const positions = new Map<MappingColumn, number>();
  header.record.forEach((name, i) => {
    const column = name.trim() as MappingColumn;
    if (!MAPPING_CSV_COLUMNS.includes(column)) {
      problems.push({
        code: 'csv-column-unknown',
        message: `unknown column "${name}"; expected ${MAPPING_CSV_COLUMNS.join(';')}`,
        where: formatWhere(file, 1, i + 1, []),
      });
    } else if (positions.has(column)) {
      problems.push({
        code: 'csv-column-duplicate',
        message: `column ${column} appears twice`,
        where: formatWhere(file, 1, i + 1, [column]),
      });
    } else positions.set(column, i);
  });
  for (const column of MAPPING_CSV_COLUMNS) {
    if (!positions.has(column))
      problems.push({
        code: 'csv-column-missing',
        message: `the header has no ${column} column (${MAPPING_CSV_HELP[column]})`,
        where: formatWhere(file, 1, undefined, []),
      });
  }
  if (problems.length > 0) throw new InputError(problems, 'malformed');

  const rows: Row[] = [];
  for (const { record, info } of records.slice(1)) {
    if (record.length !== header.record.length) {
      problems.push({
        code: 'csv-field-count',
        message: `${record.length} field(s) where the header has ${header.record.length} (a missing or extra ";"?)`,
        where: formatWhere(file, info.lines, undefined, []),
      });
      continue;
    }
    const cells = Object.fromEntries(
      MAPPING_CSV_COLUMNS.map((c) => [c, (record[positions.get(c) as number] ?? '').trim()]),
    ) as Record<MappingColumn, string>;
    if (MAPPING_CSV_COLUMNS.every((c) => cells[c] === '')) continue;
    rows.push({ line: info.lines, cells });
  }

  const roomIds = new Map<string, string>();
  for (const room of context.rooms ?? []) {
    roomIds.set(room.id, room.id);
    roomIds.set(room.name, room.id);
  }
  const gateways = new Set(context.gateways);
  const zones = new Map<string, { first: Row; rooms: { name: string; line: number }[] }>();
  for (const row of rows) {
    const { cells } = row;
    if (cells.room !== '' && context.rooms && !roomIds.has(cells.room)) {
      problems.push({
        code: 'room-unknown',
        message: `room "${cells.room}" is not in the school's timetable (neither an id nor a name)`,
        where: at(row.line, 'room'),
      });
    }
    if (cells.zone === '') {
      const filled = MAPPING_CSV_COLUMNS.slice(2).find((c) => cells[c] !== '');
      if (filled)
        problems.push({
          code: 'zone-missing',
          message: `${filled} is given but zone is empty: name the zone, or clear the row's zone fields`,
          where: at(row.line, 'zone'),
        });
      continue;
    }
    const known = zones.get(cells.zone);
    if (!known) {
      zones.set(cells.zone, { first: row, rooms: cells.room ? [{ name: cells.room, line: row.line }] : [] });
      continue;
    }
    if (cells.room) known.rooms.push({ name: cells.room, line: row.line });
    // Zone fields repeat on each row; an empty cell repeats the first row's value.
    for (const column of MAPPING_CSV_COLUMNS.slice(2)) {
      const value = cells[column];
      const first = known.first.cells[column];
      if (value !== '' && value !== first) {
        problems.push({
          code: 'zone-row-mismatch',
          message: `zone ${cells.zone}: ${column} is "${value}" here but "${first}" on line ${known.first.line}; give the same value or leave the cell empty`,
          where: at(row.line, column),
        });
      }
    }
  }
  if (rows.length > 0 && zones.size === 0 && problems.length === 0) {
    problems.push({
      code: 'mapping-empty',
      message: 'no row names a zone: importing it would remove every zone',
      where: formatWhere(file, 1, undefined, []),
    });
  }

  const out: Zone[] = [];
  /** Room id → zones and functions already claiming it, for rooms driven twice. */
  const claimed = new Map<string, { zone: string; functions: readonly string[] }[]>();
  for (const [id, { first, rooms }] of zones) {
    const candidate = zoneOf(first, id, rooms, problems, at);
    if (!candidate) continue;
    const parsed = zoneSchema.safeParse(candidate);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const [field, index, option] = issue.path;
        const column = columnOf(field, option);
        const line =
          field === 'rooms' && typeof index === 'number' ? (rooms[index]?.line ?? first.line) : first.line;
        problems.push({
          code: 'zone-invalid',
          message: `zone ${id}: ${issue.message}`,
          where: at(line, column),
        });
      }
      continue;
    }
    const zone = parsed.data;
    if (!gateways.has(zone.gateway)) {
      problems.push({
        code: 'gateway-undefined',
        message: `unknown gateway "${zone.gateway}"; devices file defines ${[...gateways].join(', ') || 'none'}`,
        where: at(first.line, 'gateway'),
      });
    }
    zone.rooms.forEach((name, j) => {
      const roomId = roomIds.get(name) ?? name;
      const others = claimed.get(roomId) ?? [];
      for (const other of others) {
        const shared = zone.functions.filter((f) => other.functions.includes(f));
        if (shared.length > 0)
          problems.push({
            code: 'room-in-two-zones',
            message: `room ${name} is in zones ${other.zone} and ${zone.id}, which both drive ${shared.join(', ')}`,
            where: at(rooms[j]?.line ?? first.line, 'room'),
          });
      }
      claimed.set(roomId, [...others, { zone: zone.id, functions: zone.functions }]);
    });
    out.push(zone);
  }
  if (problems.length > 0) throw new InputError(problems, 'invalid');
  return out;
}

function columnOf(
  field: PropertyKey | undefined,
  option: PropertyKey | undefined,
): MappingColumn | undefined {
  switch (field) {
    case 'id':
      return 'zone';
    case 'name':
      return 'zone_name';
    case 'rooms':
      return 'room';
    case 'adapter_options':
      return option === 'device' ? 'device' : 'adapter_options';
    case undefined:
      return undefined;
    default:
      return MAPPING_CSV_COLUMNS.includes(field as MappingColumn) ? (field as MappingColumn) : undefined;
  }
}

/** The zone object of a zone's first row (before the schema), or null after naming problems. */
function zoneOf(
  row: Row,
  id: string,
  rooms: { name: string }[],
  problems: Problem[],
  at: (line: number, column: MappingColumn) => string,
): Record<string, unknown> | null {
  const { cells } = row;
  let ok = true;
  const number = (column: MappingColumn): number | undefined => {
    const cell = cells[column];
    if (cell === '') return undefined;
    const value = Number(cell.replace(',', '.'));
    if (!Number.isFinite(value) || /^\s*$/.test(cell)) {
      problems.push({
        code: 'csv-number',
        message: `${column} "${cell}" is not a number`,
        where: at(row.line, column),
      });
      ok = false;
    }
    return value;
  };
  let options: Record<string, unknown> | undefined;
  if (cells.adapter_options !== '') {
    try {
      const parsed: unknown = JSON.parse(cells.adapter_options);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      options = parsed as Record<string, unknown>;
    } catch {
      problems.push({
        code: 'csv-adapter-options',
        message: 'adapter_options must be a JSON object such as {"base_topic":"z2m"}',
        where: at(row.line, 'adapter_options'),
      });
      ok = false;
    }
  }
  if (cells.device !== '') {
    if (options && 'device' in options) {
      problems.push({
        code: 'csv-adapter-options',
        message: 'device is given twice: in the device column and in adapter_options',
        where: at(row.line, 'device'),
      });
      ok = false;
    }
    options = { device: cells.device, ...options };
  }
  const zone: Record<string, unknown> = {
    id,
    name: cells.zone_name,
    gateway: cells.gateway,
    rooms: rooms.map((r) => r.name),
    functions:
      cells.functions === ''
        ? []
        : cells.functions
            .split(',')
            .map((f) => f.trim())
            .filter((f) => f !== ''),
    category: cells.category,
  };
  const optional: [string, unknown][] = [
    ['heating_type', cells.heating_type || undefined],
    ['preheat_minutes', number('preheat_minutes')],
    ['loss_coefficient_w_per_k', number('loss_coefficient_w_per_k')],
    ['time_constant_h', number('time_constant_h')],
    ['topic', cells.topic || undefined],
    ['adapter', cells.adapter || undefined],
    ['adapter_options', options],
  ];
  for (const [key, value] of optional) if (value !== undefined) zone[key] = value;
  return ok ? zone : null;
}

/** Zone keys in the order the schema documents them, for zones the import adds. */
const ZONE_KEYS = [
  'id',
  'name',
  'gateway',
  'rooms',
  'functions',
  'category',
  'heating_type',
  'preheat_minutes',
  'loss_coefficient_w_per_k',
  'time_constant_h',
  'topic',
  'adapter',
  'adapter_options',
] as const satisfies readonly (keyof Zone)[];

/**
 * The devices file's text with its zones replaced by `zones`: a zone kept by id keeps its node,
 * comments and layout, and only the fields that changed are rewritten, so an unchanged mapping
 * gives back the same text. The result is validated as the service would load it.
 */
export function withZones(text: string, file: string, zones: readonly Zone[]): string {
  const current = loadDevicesFile(text, file);
  // Unchanged: the file as it was, byte for byte (re-printing could restyle untouched lines).
  if (isDeepStrictEqual(current.value.zones, zones)) return text;
  const doc = parseDocument(text);
  const seq = doc.get('zones', true);
  if (!isSeq(seq)) throw InputError.of('devices-layout', 'zones must be a YAML sequence', file);
  const nodes = new Map<string, { node: YAMLMap; value: Zone }>();
  seq.items.forEach((node, i) => {
    const value = current.value.zones[i];
    if (isMap(node) && value) nodes.set(value.id, { node, value });
  });
  seq.items = zones.map((zone) => {
    const known = nodes.get(zone.id);
    if (!known) {
      const node = doc.createNode(
        Object.fromEntries(ZONE_KEYS.flatMap((k) => (zone[k] === undefined ? [] : [[k, zone[k]]]))),
        { aliasDuplicateObjects: false },
      ) as YAMLMap;
      for (const key of ['rooms', 'functions']) {
        const list = node.get(key, true);
        if (isSeq(list)) list.flow = true;
      }
      return node;
    }
    for (const key of ZONE_KEYS) {
      const value = zone[key];
      if (isDeepStrictEqual(value, known.value[key])) continue;
      if (value === undefined) {
        known.node.delete(key);
        continue;
      }
      const previous = known.node.get(key, true);
      const node = doc.createNode(value, { aliasDuplicateObjects: false });
      if (isSeq(node) && isSeq(previous)) node.flow = previous.flow ?? false;
      known.node.set(key, node);
    }
    return known.node;
  });
  const out = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  loadDevicesFile(out, file);
  return out;
}
