/**
 * A SORTIE occupancy body as one task that can run in a worker (the view pool,
 * src/scope/vue/view-pool.ts): decoding the stored document, expanding it over the range and
 * serialising the answer all cost in proportion to the (untrusted) timetable — 180–300 ms of the
 * event loop for 100,000 lessons (docs/performance.md) — so they leave the control plane's event
 * loop (issue 13). Input and output are plain data: the document as stored (a string, cheap to
 * copy), the calendar's options, the range and shape; out comes the body's text, the same bytes
 * the in-process path would have produced.
 */
import { expandOccupancy, SchoolCalendar, type SchoolCalendarOptions } from '../../calendar/index.js';
import type { Timetable } from '../../domain/timetable.js';
import { decodeDocument } from '../../store/document-codec.js';
import { occupancyBodyText } from './occupancy-bodies.js';
import type { ResponseShape } from './response-shape.js';

export interface OccupancyTaskInput {
  uai: string;
  version: number;
  /** `document_json` of the stored version (document-codec.ts). */
  document: string;
  /**
   * The school's calendar options; its timezone is the timetable's, known only once the document
   * is decoded (as `calendarOf(uai, timetable.timezone)` does in process).
   */
  calendar: Omit<SchoolCalendarOptions, 'timezone'>;
  from: string;
  to: string;
  shape: ResponseShape;
}

export type OccupancyTaskRunner = (input: OccupancyTaskInput) => Promise<string>;

/** A calendar's options without its timezone, to build the same calendar on another thread. */
export function calendarOptionsOf(calendar: SchoolCalendar): OccupancyTaskInput['calendar'] {
  return {
    zone: calendar.zone,
    periods: calendar.periods,
    departement: calendar.departement,
    alsaceMoselle: calendar.alsaceMoselle,
  };
}

export function runOccupancyTask(input: OccupancyTaskInput): string {
  return occupancyText(decodeDocument(input.document), input);
}

/** The body of an already decoded timetable (the task's second half). */
export function occupancyText(timetable: Timetable, input: Omit<OccupancyTaskInput, 'document'>): string {
  const calendar = new SchoolCalendar({ ...input.calendar, timezone: timetable.timezone });
  const occupancy = expandOccupancy(
    timetable,
    input.version,
    input.uai,
    calendar,
    { from: input.from, to: input.to },
    { includeSources: input.shape === 'complet' },
  );
  return occupancyBodyText(occupancy, input.shape);
}

/** The same task on this thread (tests, and apps built without a pool). */
export const inProcessOccupancyRunner: OccupancyTaskRunner = async (input) => runOccupancyTask(input);
