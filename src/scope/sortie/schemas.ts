/**
 * The zod schemas of SCOPE-SORTIE (docs/api.md): what the routes validate
 * (path, query) and what they answer. The OpenAPI document (src/app/openapi.ts) is generated
 * from these same objects, so the published description cannot drift from the validation.
 */
import { z } from 'zod';
import { dayNumberOfIso } from '../../calendar/day-number.js';
import { dateParameterSchema } from '../../domain/dates.js';
import { uaiParameterSchema } from '../../domain/uai.js';

/**
 * Longest occupancy range, both ends included. Two months covers the bridge's 48 h schedule with
 * a wide margin and any monthly report, while bounding one response (a 100-room school over 62 days
 * is about 1.5 MB of JSON) and the work of one request.
 */
export const MAX_RANGE_DAYS = 62;

const localDate = (name: string) =>
  dateParameterSchema(name).describe('Local date of the school, YYYY-MM-DD, included in the range');

export const uaiPathSchema = z.object({ uai: uaiParameterSchema('uai (path)') });

export const occupancyQuerySchema = z
  .object({
    from: localDate('from').describe('First local date of the range, YYYY-MM-DD (included)'),
    to: localDate('to').describe(
      `Last local date of the range, YYYY-MM-DD (included); at most ${MAX_RANGE_DAYS} days after from, counting both`,
    ),
  })
  .superRefine((query, ctx) => {
    const days = dayNumberOfIso(query.to) - dayNumberOfIso(query.from) + 1;
    if (days < 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `"to" (${query.to}) is before "from" (${query.from})`,
        params: { code: 'bad-range' },
      });
    } else if (days > MAX_RANGE_DAYS) {
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `the range ${query.from}..${query.to} spans ${days} days; the cap is ${MAX_RANGE_DAYS} days (from and to included): split the request`,
        params: { code: 'range-too-long' },
      });
    }
  });

export type OccupancyQuery = z.infer<typeof occupancyQuerySchema>;

const utcInstant = z.iso
  .datetime()
  .describe('Instant in UTC, ISO 8601 with Z (2025-09-01T06:00:00Z); start inclusive, end exclusive');

/**
 * What the energy purpose (`sobriete-energetique`) receives: room ids, names and intervals, and
 * nothing else. Strict objects: the route builds the body field by field from this allow-list,
 * and the tests parse every energy response with it, so an extra field fails them.
 */
export const energyIntervalSchema = z.strictObject({ start: utcInstant, end: utcInstant });

export const energyRoomSchema = z.strictObject({
  room: z.string().describe('Room id in the timetable'),
  name: z.string().describe('Room name'),
  intervals: z.array(energyIntervalSchema).describe('Sorted, merged: no two intervals overlap or touch'),
});

export const energyOccupancySchema = z
  .strictObject({
    uai: z.string(),
    version: z.int().describe('Timetable version the occupancy was computed from'),
    timezone: z.string().describe("IANA time zone of the school's local dates"),
    from: z.iso.date(),
    to: z.iso.date(),
    rooms: z.array(energyRoomSchema),
  })
  .describe('Occupancy for the energy purpose: rooms and time intervals only');

/** Purpose `ent`, managers and admin: the same, with the lesson ids behind each interval. */
export const fullOccupancySchema = z
  .strictObject({
    uai: z.string(),
    version: z.int(),
    timezone: z.string(),
    from: z.iso.date(),
    to: z.iso.date(),
    rooms: z.array(
      z.strictObject({
        room: z.string(),
        name: z.string(),
        intervals: z.array(
          z.strictObject({
            start: utcInstant,
            end: utcInstant,
            source: z
              .array(z.string())
              .optional()
              .describe('Lesson ids (and event:<id>) behind the interval; purpose ent only'),
          }),
        ),
      }),
    ),
  })
  .describe('Occupancy with sources (purpose ent, managers, admin)');

export const establishmentsSchema = z.strictObject({
  etablissements: z.array(
    z.strictObject({
      uai: z.string(),
      name: z.string().nullable().describe('School name from the latest import, when known'),
      timezone: z.string(),
      version: z.int().describe('Current timetable version'),
      updated_at: z.iso.datetime().describe('When the current version was imported (UTC)'),
    }),
  ),
});

export type EstablishmentsBody = z.infer<typeof establishmentsSchema>;

/** The error body of every route (src/http/openapi-route.ts). */
export { problemsSchema } from '../../http/openapi-route.js';
