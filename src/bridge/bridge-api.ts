/**
 * The response bodies of the bridge API (overrides, plans, events) as zod schemas: the routes
 * declare them (bridge-routes.ts, events-routes.ts), `/openapi.json` publishes them, and the
 * route tests parse every body with them (test/helpers/documented.ts).
 */
import { z } from 'zod';
import { ZONE_FUNCTIONS } from '../devices/schema.js';
import { eventFieldsSchema } from '../events/scheduled-event.js';
import { HEATING_MODES, SWITCH_MODES } from '../rules/schema.js';

const instant = z.iso.datetime().describe('Instant in UTC, ISO 8601');

export const overrideViewSchema = z
  .strictObject({
    id: z.string(),
    uai: z.string(),
    zone: z.string(),
    function: z.enum(ZONE_FUNCTIONS),
    mode: z.string(),
    setpoint_c: z.number().optional(),
    from: instant,
    until: instant.describe('Effective end (the cancellation instant once cancelled)'),
    requested: z
      .union([
        z.strictObject({ until: z.string() }),
        z.strictObject({ duration: z.string() }),
        z.strictObject({ next_change: z.literal(true) }),
      ])
      .describe('The end as requested'),
    requested_until: instant,
    author: z.string().describe('Client id of the author'),
    reason: z.string(),
    created_at: instant,
    status: z.enum(['active', 'scheduled', 'expired', 'cancelled']),
    cancelled_at: instant.optional(),
    cancelled_by: z.string().optional(),
    shadowed_by: z
      .array(z.strictObject({ override_id: z.string(), from: instant, to: instant }))
      .describe('Where a newer override hides this one'),
  })
  .meta({ id: 'Override' });

export const overrideListSchema = z.strictObject({ overrides: z.array(overrideViewSchema) });

const segmentReasonSchema = z
  .looseObject({
    kind: z
      .string()
      .describe('occupied, preheat, merged-gap, short-gap, long-gap, holiday, override, fallback…'),
    rule: z.string().describe('Rule id (YAML path in the rule file, `override:{id}` for an override)'),
    temperature_rule: z.string().optional(),
    basis: z.string().describe('The legal text or section of the project’s docs behind the rule'),
    lessons: z.array(z.string()).optional(),
    events: z.array(z.strictObject({ id: z.string(), title: z.string() })).optional(),
    gap_hours: z.number().optional(),
    gap_open_ended: z.literal(true).optional(),
    override_id: z.string().optional(),
    exception: z.unknown().optional(),
  })
  .meta({ id: 'SegmentReason' });

export const planBodySchema = z
  .strictObject({
    uai: z.string(),
    date: z.iso.date().describe('First local day'),
    days: z.int().min(1).max(31),
    timezone: z.string(),
    rules_version: z.string(),
    timetable_version: z.int().nullable(),
    fallback: z.boolean().describe('Planned from the fallback week (no occupancy covering the dates)'),
    hash: z.string(),
    zones: z.array(
      z.strictObject({
        zone: z.string(),
        name: z.string(),
        segments: z.array(
          z.strictObject({
            from: instant,
            to: instant,
            function: z.enum(ZONE_FUNCTIONS),
            mode: z.enum([...HEATING_MODES, ...SWITCH_MODES]),
            setpoint_c: z.number().optional(),
            reason: segmentReasonSchema,
          }),
        ),
      }),
    ),
  })
  .meta({ id: 'Plan' });

export const eventViewSchema = z
  .strictObject({
    ...eventFieldsSchema.shape,
    id: z.string(),
    uai: z.string(),
    source: z.enum(['manual', 'feed']).describe('A booking feed’s events are read-only'),
    feed_id: z.string().optional(),
    created_by: z.string(),
    created_at: instant,
    updated_by: z.string(),
    updated_at: instant,
  })
  .meta({ id: 'Event' });

/** An event with what the API says about it (docs/events.md, "Conflicts and holidays"). */
export const eventAnswerSchema = z
  .strictObject({
    event: eventViewSchema,
    conflicts: z.array(
      z.strictObject({
        date: z.iso.date(),
        room: z.string(),
        from: instant,
        to: instant,
        with: z.union([
          z.strictObject({ kind: z.literal('lesson') }),
          z.strictObject({ kind: z.literal('event'), id: z.string(), title: z.string() }),
        ]),
      }),
    ),
    conflicts_total: z.int().describe('More conflicts than listed'),
    holidays: z.array(z.strictObject({ date: z.iso.date(), kind: z.string(), name: z.string() })),
    lessons_checked: z
      .strictObject({ from: instant, to: instant })
      .nullable()
      .describe('The window the lessons were compared over; null without timetable'),
  })
  .meta({ id: 'EventAnswer' });

export const eventListSchema = z.strictObject({
  uai: z.string(),
  events: z.array(eventViewSchema),
  occurrences: z
    .array(
      z.strictObject({
        event_id: z.string(),
        title: z.string(),
        date: z.iso.date(),
        start: instant,
        end: instant,
      }),
    )
    .optional()
    .describe('With `from` and `to` only'),
});
