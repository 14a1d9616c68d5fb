/**
 * Room occupancy: what the calendar expansion produces from a timetable version, what SORTIE
 * serves (instants as ISO strings there) and what the planner consumes. Inside, instants are
 * epoch milliseconds UTC (docs/performance.md, "luxon": no luxon in loops).
 */
export interface OccupancyInterval {
  /** Epoch ms, UTC, inclusive. */
  start: number;
  /** Epoch ms, UTC, exclusive; always > start. */
  end: number;
  /** Lesson ids (and `event:<id>`) behind the interval: only for purpose `ent` and audit. */
  source?: string[];
}

export interface RoomOccupancy {
  /** Room id in the timetable. */
  room: string;
  name: string;
  /** Sorted by start, merged (no two intervals overlap or touch). Empty for a room without lessons. */
  intervals: OccupancyInterval[];
}

export interface Occupancy {
  uai: string;
  /** Timetable version number the occupancy was computed from. */
  version: number;
  timezone: string;
  /** Local dates, inclusive range. */
  from: string;
  to: string;
  rooms: RoomOccupancy[];
  /** Occurrences of lessons without a room: counted, never guessed into a room. */
  unassigned: number;
}
