/**
 * What VUE and the dashboard compute from a stored timetable, as one task that can run in a
 * worker (view-pool.ts): decoding the stored document, the week grid and the data-quality
 * findings all cost in proportion to the (untrusted) timetable — 100,000 lessons take ~0.5 s —
 * so they leave the control plane's event loop (issue 13). Input and output are plain data: the
 * document as stored (a string, cheap to copy), the calendar's options, the devices file's text;
 * out comes the week's grid (piles folded, the size of a normal week) and the findings (capped).
 */
import { SchoolCalendar, type SchoolCalendarOptions } from '../../calendar/index.js';
import { loadDevicesFile } from '../../devices/load.js';
import { isInputError, type Problem } from '../../domain/problems.js';
import type { Timetable } from '../../domain/timetable.js';
import { decodeDocument } from '../../store/document-codec.js';
import { type OccupancyTaskInput, runOccupancyTask } from '../sortie/occupancy-task.js';
import {
  assessDataQuality,
  type DevicesState,
  type Finding,
  type FindingCode,
  unknownRoomsFinding,
} from './data-quality.js';
import { type WeekGrid, weekGrid } from './week-grid.js';

/**
 * The devices file as the site holder keeps it, not yet parsed (parsing is part of the task), or
 * the problems of an edit the holder refused.
 */
export type DevicesText =
  | { file: string; text: string }
  | { file: string; absent: true }
  | { file: string; invalid: Problem[] };

export type CalendarSpec = SchoolCalendarOptions;

export type ViewTaskInput =
  | {
      kind: 'week';
      /** `document_json` of the stored version (document-codec.ts). */
      document: string;
      calendar: CalendarSpec;
      devices: DevicesText;
      monday: string;
      highlight?: string | undefined;
      /** A page of one finding's items (VUE's `constat` and `page`). */
      page?: { code: FindingCode; page: number } | undefined;
    }
  | {
      kind: 'unknown-rooms';
      document: string;
      zones: { rooms: string[] }[];
      file: string;
      referenceMonday: string;
    }
  | {
      /** The school year, grid and room names only (the dashboard's calendar and zone-room alerts). */
      kind: 'dates';
      document: string;
    }
  /** SORTIE's occupancy body (src/scope/sortie/occupancy-task.ts), in the same pool. */
  | ({ kind: 'occupancy' } & OccupancyTaskInput);

export type ViewTaskResult =
  | { kind: 'week'; grid: WeekGrid; findings: Finding[]; timezone: string; name: string | null }
  | { kind: 'unknown-rooms'; finding: Finding }
  | { kind: 'dates'; dates: Pick<Timetable, 'school_year' | 'grid' | 'rooms'> }
  | { kind: 'occupancy'; text: string };

/** A calendar's options, to build the same calendar on another thread. */
export function calendarSpecOf(calendar: SchoolCalendar): CalendarSpec {
  return {
    zone: calendar.zone,
    periods: calendar.periods,
    departement: calendar.departement,
    alsaceMoselle: calendar.alsaceMoselle,
    timezone: calendar.timezone,
  };
}

export function devicesStateOf(devices: DevicesText): DevicesState {
  if ('absent' in devices) return { status: 'absent', file: devices.file };
  if ('invalid' in devices) return { status: 'invalid', file: devices.file, problems: devices.invalid };
  try {
    return { status: 'loaded', devices: loadDevicesFile(devices.text, devices.file) };
  } catch (error) {
    if (isInputError(error)) return { status: 'invalid', file: devices.file, problems: error.problems };
    throw error;
  }
}

export function runViewTask(input: ViewTaskInput): ViewTaskResult {
  if (input.kind === 'occupancy') return { kind: 'occupancy', text: runOccupancyTask(input) };
  const timetable = decodeDocument(input.document);
  if (input.kind === 'dates') {
    return {
      kind: 'dates',
      dates: {
        ...(timetable.school_year ? { school_year: timetable.school_year } : {}),
        ...(timetable.grid ? { grid: timetable.grid } : {}),
        // Ids and names only: the zone-room alert needs nothing else of a room.
        rooms: timetable.rooms.map((room) => ({ id: room.id, name: room.name })),
      },
    };
  }
  if (input.kind === 'unknown-rooms') {
    return {
      kind: 'unknown-rooms',
      finding: unknownRoomsFinding(timetable, input.zones, input.file, input.referenceMonday),
    };
  }
  const calendar = new SchoolCalendar(input.calendar);
  return {
    kind: 'week',
    grid: weekGrid(timetable, input.monday, calendar, input.highlight),
    findings: assessDataQuality({
      timetable,
      devices: devicesStateOf(input.devices),
      calendar,
      referenceMonday: input.monday,
      page: input.page,
    }),
    timezone: timetable.timezone,
    name: timetable.name ?? null,
  };
}
