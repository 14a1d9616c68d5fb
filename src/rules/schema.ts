/**
 * The energy rules, `rules/*.yaml`: a policy a collectivité can audit (rules.md). Every value
 * carries its `basis` (an article such as `R241-26`, or `local decision: …`), and a heating
 * setpoint above a legal cap needs an `exception` with a written justification (R241-28/29 cases).
 *
 * Layers, from the most general to the most specific (a later layer replaces a whole entry):
 * `defaults` → `heating_types.{type}` → `categories.{category}` → `schools.{uai}` →
 * (the zone's own `preheat_minutes` in devices/) → `schools.{uai}.zones.{zone}`.
 * A rule id is the YAML path of the entry that decided, e.g. `categories.gym.heating.occupied`.
 */
import { z } from 'zod';
import { HEATING_TYPES, TOPIC_SAFE_ID, ZONE_CATEGORIES } from '../devices/schema.js';
import { describeUaiProblem } from '../domain/uai.js';

/** Heating modes of the MQTT contract: the four legal modes of R241-31-1 and the six fil-pilote orders. */
export const HEATING_MODES = ['comfort', 'comfort_1', 'comfort_2', 'eco', 'frost', 'off'] as const;
export type HeatingMode = (typeof HEATING_MODES)[number];
export const SWITCH_MODES = ['on', 'off'] as const;
export type SwitchMode = (typeof SWITCH_MODES)[number];

/** The four heating situations of rules.md's table, in the order an auditor reads them. */
export const HEATING_SITUATIONS = [
  'occupied',
  'unoccupied_under_24h',
  'unoccupied_24h_to_48h',
  'unoccupied_48h_or_more',
] as const;
export type HeatingSituation = (typeof HEATING_SITUATIONS)[number];

/**
 * Legal ceilings per situation (docs/regulation.md). Below 24 h unoccupied the Code sets no own value;
 * the occupied ceiling of R241-26 bounds it (heating an empty room warmer than an occupied one
 * has no basis).
 */
export const LEGAL_CAPS: Record<HeatingSituation, { max_c: number; basis: string }> = {
  occupied: { max_c: 19, basis: "Code de l'énergie R241-26" },
  unoccupied_under_24h: { max_c: 19, basis: "Code de l'énergie R241-26" },
  unoccupied_24h_to_48h: { max_c: 16, basis: "Code de l'énergie R241-27" },
  unoccupied_48h_or_more: { max_c: 8, basis: "Code de l'énergie R241-27" },
};

const text = z.string().trim().min(1);
const basis = text.describe(
  'Why this value: a legal text (Code de l\'énergie R241-26, arrêté du 27 décembre 2018 art. 2) or "local decision: …" naming the section of the project\'s docs that argues it (docs/regulation.md, Control practice)',
);

/** A required text of an exception, with an error naming what is missing when absent. */
const governance = (what: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? `an exception needs ${what}` : undefined) })
    .trim()
    .min(1, `an exception needs ${what}`);

/**
 * A departure from a legal cap, as an auditor needs it (issue 21; docs/rules.md, "Exceptions"):
 * why, under which text, who approved it, when and by which act. How far it may go above the cap
 * is the configuration's `rules.exception_max_deviation_c` (exception-policy.ts).
 */
export const exceptionSchema = z
  .strictObject({
    justification: governance('a written justification').describe(
      'Why this zone needs more than the legal cap (shown in the audit)',
    ),
    basis: governance('its legal basis').describe(
      'Text allowing the exception (R241-28/29 arrêté, medical prescription…)',
    ),
    approved_by: governance('its approver (approved_by)').describe(
      'Who approved it: the body or office holder (conseil régional, commission permanente, chef d’établissement…)',
    ),
    approved_on: z.iso
      .date({ error: 'an exception needs its approval date (approved_on) as YYYY-MM-DD' })
      .refine(
        // The format check above reports a malformed date; this one only the century.
        (date) => !/^\d{4}-/.test(date) || (date >= '2000-01-01' && date <= '2099-12-31'),
        'approved_on must be within 2000–2099',
      )
      .describe('Date of the approval, YYYY-MM-DD'),
    reference: governance('the reference of the act approving it (délibération or arrêté number)').describe(
      'Number of the délibération or arrêté, e.g. "délibération CP-2026-09-042"',
    ),
  })
  .describe(
    'Required for a setpoint above the legal cap; at most rules.exception_max_deviation_c (configuration) above it',
  );

function heatingEntry(defaultMode: HeatingMode) {
  return z
    .strictObject({
      mode: z.enum(HEATING_MODES).default(defaultMode),
      setpoint_c: z.number().min(5).max(30).optional().describe('Air temperature target, °C'),
      basis,
      exception: exceptionSchema.optional(),
      note: z.string().optional(),
    })
    .refine((entry) => entry.mode === 'off' || entry.setpoint_c !== undefined, {
      message: 'a heating entry needs setpoint_c unless its mode is off',
      path: ['setpoint_c'],
    });
}

function minutesEntry(min: number, max: number, why: string) {
  return z
    .strictObject({
      value: z.int().min(min).max(max).describe(why),
      basis,
      note: z.string().optional(),
    })
    .describe(`${why} (${min}–${max} min)`);
}

const switchEntry = z.strictObject({ mode: z.enum(SWITCH_MODES), basis, note: z.string().optional() });

export const heatingSectionSchema = z.strictObject({
  occupied: heatingEntry('comfort').describe('Occupied (preheat included, minus early stop)'),
  unoccupied_under_24h: heatingEntry('eco').describe(
    'Gaps shorter than 24 h: nights, lunch, Wednesday afternoon',
  ),
  unoccupied_24h_to_48h: heatingEntry('eco').describe('Gaps of 24 h to 48 h (R241-27: 16 °C)'),
  unoccupied_48h_or_more: heatingEntry('frost').describe('Gaps of 48 h or more (R241-27: 8 °C)'),
  merge_gap_minutes: minutesEntry(0, 240, 'Unheated gaps shorter than this stay comfort'),
  preheat_minutes: minutesEntry(15, 180, 'Comfort starts this long before occupancy'),
  early_stop_minutes: minutesEntry(0, 60, 'Comfort ends this long before occupancy ends'),
  optimum_start: z
    .strictObject({
      min_starts: z
        .int()
        .min(1)
        .max(100)
        .default(5)
        .describe('Learned starts a zone needs before its preheat follows the learning'),
      max_preheat_minutes: z
        .int()
        .min(15)
        .max(180)
        .default(180)
        .describe('Longest learned preheat (ASHRAE G36 caps warm-up at 3 h)'),
      basis,
      note: z.string().optional(),
    })
    .optional()
    .describe('Optimum start (docs/optimum-start.md): applies when the bridge has learned the zone'),
  optimum_stop: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe('Set back before occupancy ends when predicted to stay warm'),
      tolerance_c: z
        .number()
        .min(0)
        .max(2)
        .default(0.5)
        .describe('Largest drop below the occupied setpoint allowed by the end of occupancy (K)'),
      max_minutes: z.int().min(0).max(60).default(60).describe('Longest optimum stop'),
      basis,
      note: z.string().optional(),
    })
    .optional()
    .describe('Optimum stop (docs/optimum-start.md): off unless enabled, and only for a learned zone'),
});

export const lightingSectionSchema = z.strictObject({
  occupied: switchEntry,
  unoccupied: switchEntry,
  // Arrêté du 27 décembre 2018 art. 2: on from 1 h before activity, off at most 1 h after.
  lead_minutes: minutesEntry(0, 60, 'Lights on this long before occupancy'),
  lag_minutes: minutesEntry(0, 60, 'Lights stay on this long after occupancy'),
});

export const ventilationSectionSchema = z.strictObject({
  occupied: switchEntry,
  unoccupied: switchEntry,
  purge_before_minutes: minutesEntry(0, 120, 'Ventilation starts this long before occupancy'),
  purge_after_minutes: minutesEntry(0, 120, 'Ventilation runs this long after occupancy'),
});

const partialHeating = heatingSectionSchema.partial();
const partialFunctions = z.strictObject({
  heating: partialHeating.optional(),
  lighting: lightingSectionSchema.partial().optional(),
  ventilation: ventilationSectionSchema.partial().optional(),
});

/** A map whose keys must come from `allowed`; the error points at the bad key's own line. */
function keyedBy<V extends z.ZodType>(
  allowed: readonly string[] | ((key: string) => string | null),
  value: V,
) {
  return z.record(z.string(), value).superRefine((record, ctx) => {
    for (const key of Object.keys(record)) {
      const problem =
        typeof allowed === 'function'
          ? allowed(key)
          : allowed.includes(key)
            ? null
            : `unknown key "${key}"; expected one of: ${allowed.join(', ')}`;
      if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem });
    }
  });
}

const schoolLayer = partialFunctions.extend({
  zones: keyedBy(
    (key) =>
      TOPIC_SAFE_ID.test(key) ? null : `"${key}" is not a zone id (lower-case letters, digits, hyphens)`,
    partialFunctions,
  ).optional(),
});

const wallTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM');

export const fallbackWeekSchema = z
  .strictObject({
    days: z.array(z.int().min(1).max(7)).min(1).describe('ISO weekdays, 1 = Monday'),
    start: wallTime.describe('Local comfort start'),
    end: wallTime.describe('Local comfort end'),
    basis,
  })
  .refine((week) => week.start < week.end, { message: 'end must be after start', path: ['end'] })
  .describe(
    'Conservative week used while a school has never sent a timetable (docs/rules.md, Planner semantics, Fallback)',
  );

export const rulesFileSchema = z.strictObject({
  version: text.describe('Version of this rule set, recorded with every plan hash'),
  name: text.describe('Title of the policy'),
  description: z.string().optional(),
  defaults: z.strictObject({
    heating: heatingSectionSchema,
    lighting: lightingSectionSchema,
    ventilation: ventilationSectionSchema,
  }),
  heating_types: keyedBy(HEATING_TYPES, partialHeating).default({}),
  categories: keyedBy(ZONE_CATEGORIES, partialFunctions).default({}),
  schools: keyedBy(describeUaiProblem, schoolLayer).default({}),
  fallback_week: fallbackWeekSchema.default({
    days: [1, 2, 3, 4, 5],
    start: '07:00',
    end: '18:00',
    basis:
      'local decision: conservative week while no timetable was ever received (docs/rules.md, Planner semantics, Fallback)',
  }),
});

export type RuleException = z.infer<typeof exceptionSchema>;
export type HeatingEntry = z.infer<ReturnType<typeof heatingEntry>>;
export type MinutesEntry = z.infer<ReturnType<typeof minutesEntry>>;
export type OptimumStartEntry = NonNullable<HeatingSection['optimum_start']>;
export type OptimumStopEntry = NonNullable<HeatingSection['optimum_stop']>;
export type SwitchEntry = z.infer<typeof switchEntry>;
export type HeatingSection = z.infer<typeof heatingSectionSchema>;
export type LightingSection = z.infer<typeof lightingSectionSchema>;
export type VentilationSection = z.infer<typeof ventilationSectionSchema>;
export type FallbackWeek = z.infer<typeof fallbackWeekSchema>;
export type RulesFile = z.infer<typeof rulesFileSchema>;

/** JSON Schema of `rules/*.yaml` for editors; the lead writes it to docs/schemas. */
export function rulesJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(rulesFileSchema, { io: 'input' }) as Record<string, unknown>;
}
