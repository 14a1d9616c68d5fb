/**
 * The normalised timetable: what every reader produces, what the store keeps per version and
 * what the native JSON format (`scope-emploi-du-temps/v1`) is. One zod schema is the single
 * source of the TypeScript type, of validation errors and of the published JSON Schema
 * (`npm run schemas` → docs/schemas/scope-emploi-du-temps-v1.json).
 *
 * Times of lessons are local wall-clock times in the school's `timezone`; they become UTC
 * instants only in the calendar expansion (src/calendar). One-off `events` are instants.
 */
import { z } from 'zod';

export const TIMETABLE_FORMAT = 'scope-emploi-du-temps/v1';

const isoDate = z.iso.date().describe('Calendar date, YYYY-MM-DD');
const wallTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a wall-clock time HH:MM (00:00–23:59)')
  .describe('Local wall-clock time, HH:MM');
const instant = z.iso.datetime({ offset: true }).describe('Instant, ISO 8601 with Z or an offset');
const nonEmpty = z.string().trim().min(1);

export const roomSchema = z.strictObject({
  id: nonEmpty.describe("Room identifier, unique in the file (the timetable software's id or the name)"),
  name: nonEmpty.describe('Room name as the school knows it (B012, LABO 1)'),
  building: z.string().optional(),
});

export const lessonSchema = z
  .strictObject({
    id: nonEmpty.describe('Lesson identifier, stable across exports where the source allows it'),
    rooms: z.array(nonEmpty).describe('Room ids; empty for a lesson without a room'),
    day: z.int().min(1).max(7).describe('ISO weekday, 1 = Monday … 7 = Sunday'),
    start: wallTime,
    end: wallTime,
    weeks: z.array(isoDate).optional().describe('Monday of each week the lesson meets'),
    dates: z.array(isoDate).optional().describe('Exact dates the lesson meets (instead of weeks)'),
    subject: z.string().optional().describe('Personal-data-adjacent: never sent to the energy purpose'),
    teachers: z.array(z.string()).optional().describe('Personal data: never sent to the energy purpose'),
    groups: z.array(z.string()).optional().describe('Classes and groups: never sent to the energy purpose'),
  })
  .refine((l) => l.weeks !== undefined || l.dates !== undefined, {
    message: 'a lesson needs weeks or dates',
    path: ['weeks'],
  });

export const cancellationSchema = z.strictObject({
  lesson: nonEmpty.describe('Lesson id'),
  date: isoDate.describe('Local date of the cancelled occurrence'),
});

export const eventSchema = z.strictObject({
  id: z.string().optional(),
  rooms: z.array(nonEmpty).min(1),
  start: instant,
  end: instant,
  label: z.string().optional(),
});

export const gridSchema = z.strictObject({
  days: z.array(z.int().min(1).max(7)).describe('Working days of the grid (ISO weekdays)'),
  places: z
    .array(z.strictObject({ start: wallTime, end: wallTime }))
    .describe('Places (periods) of a day in order'),
});

export const timetableSchema = z.strictObject({
  format: z.literal(TIMETABLE_FORMAT).default(TIMETABLE_FORMAT),
  uai: z.string().optional().describe('UAI of the school; must match the URL when present'),
  name: z.string().optional().describe('School name'),
  school_year: z
    .strictObject({ start: isoDate, end: isoDate })
    .optional()
    .describe('First and last day of the school year'),
  timezone: z.string().default('Europe/Paris'),
  grid: gridSchema.optional(),
  rooms: z.array(roomSchema),
  lessons: z.array(lessonSchema),
  cancellations: z.array(cancellationSchema).default([]),
  events: z.array(eventSchema).default([]),
  source: z
    .strictObject({
      format: z.string(),
      software: z.string().optional(),
      exported_at: z.string().optional(),
    })
    .optional()
    .describe('Where the document came from (set by readers)'),
});

export type Room = z.infer<typeof roomSchema>;
export type Lesson = z.infer<typeof lessonSchema>;
export type Cancellation = z.infer<typeof cancellationSchema>;
export type OneOffEvent = z.infer<typeof eventSchema>;
export type DayGrid = z.infer<typeof gridSchema>;
/** A normalised timetable (after defaults). */
export type Timetable = z.infer<typeof timetableSchema>;
/** What a producer may write (before defaults). */
export type TimetableInput = z.input<typeof timetableSchema>;

/** The import formats ENTRÉE accepts (`?format=` values). */
export const IMPORT_FORMATS = ['json', 'edt', 'edt-chiffre', 'udt', 'sts', 'ics'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
