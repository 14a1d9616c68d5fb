/**
 * The SORTIE JSON body of an occupancy (docs/api.md): instants as ISO strings in
 * UTC without milliseconds (`2025-09-01T06:00:00Z`); `source` only when asked (purpose `ent`).
 */
import type { Occupancy } from '../domain/occupancy.js';

export interface OccupancyBodyInterval {
  start: string;
  end: string;
  source?: string[];
}

export interface OccupancyBody {
  uai: string;
  version: number;
  timezone: string;
  from: string;
  to: string;
  rooms: Array<{ room: string; name: string; intervals: OccupancyBodyInterval[] }>;
}

/** `2025-09-01T06:00:00Z`: whole seconds, as every lesson and event boundary is. */
export function isoInstant(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso;
}

export function toOccupancyBody(
  occupancy: Occupancy,
  options: { includeSources?: boolean } = {},
): OccupancyBody {
  return {
    uai: occupancy.uai,
    version: occupancy.version,
    timezone: occupancy.timezone,
    from: occupancy.from,
    to: occupancy.to,
    rooms: occupancy.rooms.map((room) => ({
      room: room.room,
      name: room.name,
      intervals: room.intervals.map((interval) => ({
        start: isoInstant(interval.start),
        end: isoInstant(interval.end),
        ...(options.includeSources && interval.source ? { source: interval.source } : {}),
      })),
    })),
  };
}
