/**
 * SORTIE occupancy bodies per response shape. The energy body is built field by field from the
 * allow-list of `energyOccupancySchema` (uai, version, timezone, from, to; per room: room, name,
 * intervals of start and end): a field added to the occupancy type later never reaches the energy
 * purpose by accident, as it would if we copied the object and deleted what we know to be personal.
 */

import type { z } from 'zod';
import { isoInstant, toOccupancyBody } from '../../calendar/occupancy-body.js';
import type { Occupancy } from '../../domain/occupancy.js';
import type { ResponseShape } from './response-shape.js';
import type { energyOccupancySchema } from './schemas.js';

export type EnergyOccupancyBody = z.infer<typeof energyOccupancySchema>;

export function energyOccupancyBody(occupancy: Occupancy): EnergyOccupancyBody {
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
      })),
    })),
  };
}

/** The serialised body of `shape`; the occupancy must carry sources for `complet`. */
export function occupancyBodyText(occupancy: Occupancy, shape: ResponseShape): string {
  return JSON.stringify(
    shape === 'energie'
      ? energyOccupancyBody(occupancy)
      : toOccupancyBody(occupancy, { includeSources: true }),
  );
}
