/**
 * The device registry of one school, `devices/{uai}.yaml` (docs/rules.md):
 * its gateways (MQTT credentials, adapter) and its zones (timetable rooms grouped by heating
 * circuit or lighting line, with the attributes the rules and the savings estimate need).
 * One zod schema gives the TypeScript type, the load errors (with lines) and the editors' JSON Schema.
 */
import { z } from 'zod';
import { describeUaiProblem } from '../domain/uai.js';

/** Zone functions, also the last MQTT topic level but one (docs/mqtt.md, "Topics"). */
export const ZONE_FUNCTIONS = ['heating', 'lighting', 'ventilation'] as const;
export type ZoneFunction = (typeof ZONE_FUNCTIONS)[number];

/**
 * Zone categories the rules distinguish (rules.md, "Inputs to the planner"). A closed list, so a
 * typo (`gymnase`) is refused instead of silently falling back to the defaults.
 */
export const ZONE_CATEGORIES = [
  'classroom',
  'laboratory',
  'workshop',
  'gym',
  'office',
  'circulation',
  'boarding',
  'library',
  'auditorium',
  'canteen',
  'storage',
] as const;
export type ZoneCategory = (typeof ZONE_CATEGORIES)[number];

/** Heat emitters: they decide how long a setback pays off (merge gap) and how long preheat takes. */
export const HEATING_TYPES = ['hydronic', 'electric', 'underfloor', 'air'] as const;
export type HeatingType = (typeof HEATING_TYPES)[number];

export const ADAPTERS = ['native', 'zigbee2mqtt', 'homeassistant', 'template'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/** MQTT topic levels we build from ids must not contain `/`, `+`, `#` or spaces. */
export const TOPIC_SAFE_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const topicSafeId = z
  .string()
  .regex(TOPIC_SAFE_ID, 'expected a topic-safe id: lower-case letters, digits and single hyphens');

/** Only scrypt (src/auth/secrets.ts): gateway passwords are chosen by people, so a slow hash. */
const SCRYPT_HASH = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;

const nonEmpty = z.string().trim().min(1);

/**
 * PBKDF2-HMAC-SHA256 of a gateway password, for brokers that cannot check scrypt (EMQX's
 * `password_hash_algorithm` is plain, md5, sha*, bcrypt or pbkdf2: docs/mqtt.md, "EMQX"):
 * `pbkdf2-sha256$iterations$salt$hex`, written by `gateway credentials` (src/broker-access/).
 */
export const PBKDF2_HASH = /^pbkdf2-sha256\$\d+\$[A-Za-z0-9_-]+\$[0-9a-f]{64}$/;

const scryptHash = z
  .string()
  .regex(
    SCRYPT_HASH,
    'expected a scrypt hash (scrypt$N$r$p$salt$hash); clear-text passwords are refused: store only the hash',
  );
const pbkdf2Hash = z
  .string()
  .regex(PBKDF2_HASH, 'expected pbkdf2-sha256$iterations$salt$hex, as `gateway credentials` writes it');

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export const schoolSchema = z.strictObject({
  uai: z
    .string()
    .superRefine((uai, ctx) => {
      const problem = describeUaiProblem(uai);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .describe('UAI of the school; must match the file name devices/{uai}.yaml'),
  name: nonEmpty.describe('School name as people know it'),
  timezone: z
    .string()
    .default('Europe/Paris')
    .refine(isTimeZone, 'unknown IANA time zone')
    .describe('IANA time zone of the school'),
  departement: z
    .string()
    .regex(/^(\d{2}|2A|2B|97\d)$/, 'expected a département code: 67, 2A, 974…')
    .optional()
    .describe('Overrides the département derived from the UAI prefix (public holidays, e.g. Alsace-Moselle)'),
});

export const gatewaySchema = z.strictObject({
  id: topicSafeId.describe('Gateway id, used in MQTT topics and by zones'),
  username: nonEmpty.describe('MQTT username the gateway connects with'),
  password_hash: scryptHash.describe(
    'scrypt hash of the gateway MQTT password (src/auth/secrets.ts hashSecret)',
  ),
  emqx_password_hash: pbkdf2Hash
    .optional()
    .describe('The same password hashed for EMQX (PBKDF2-SHA256), written by `gateway credentials`'),
  previous: z
    .strictObject({
      username: nonEmpty.describe('Username of the credential being replaced'),
      password_hash: scryptHash.describe('scrypt hash of the credential being replaced'),
      emqx_password_hash: pbkdf2Hash.optional(),
      valid_until: z.iso
        .datetime({ offset: false })
        .describe('UTC instant after which the replaced credential is refused by every broker'),
    })
    .optional()
    .describe(
      'The credential a rotation replaced, still accepted until valid_until (a second username: Mosquitto and EMQX hold one password per user)',
    ),
  adapter: z.enum(ADAPTERS).default('native').describe('How setpoints are published to this gateway'),
});

/** Adapter settings are adapter-specific (device names, templates): scalars only, checked by the adapter. */
const adapterOptionsSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

export const zoneSchema = z
  .strictObject({
    id: topicSafeId.describe('Zone id, unique in the school; a level of the MQTT topic'),
    name: nonEmpty.describe('Zone name for people (dashboard, audit)'),
    gateway: topicSafeId.describe('Id of the gateway that drives this zone'),
    rooms: z.array(nonEmpty).describe('Timetable room ids or names whose occupancy drives the zone'),
    functions: z.array(z.enum(ZONE_FUNCTIONS)).min(1).describe('What the bridge drives in this zone'),
    category: z.enum(ZONE_CATEGORIES).describe('Kind of space; selects the rules'),
    heating_type: z
      .enum(HEATING_TYPES)
      .optional()
      .describe('Heat emitters; required when functions include heating'),
    preheat_minutes: z
      .int()
      .min(15)
      .max(180)
      .optional()
      .describe(
        'Measured preheat lead of this zone, 15–180 min (docs/regulation.md, "Control practice"); wins over the rules',
      ),
    loss_coefficient_w_per_k: z.number().positive().optional().describe('Heat loss coefficient, for savings'),
    time_constant_h: z.number().positive().optional().describe('Thermal time constant, for savings'),
    heater_power_w: z
      .number()
      .positive()
      .optional()
      .describe(
        'Heating power installed in the zone, W (the simulated room and `simulate`; default 40 K × loss coefficient)',
      ),
    topic: z
      .string()
      .regex(/^[^#+\s]+$/, 'a topic must not contain wildcards (#, +) or spaces')
      .optional()
      .describe('Overrides the zone part of MQTT topics'),
    adapter: z.enum(ADAPTERS).optional().describe("Overrides the gateway's adapter for this zone"),
    adapter_options: adapterOptionsSchema.optional().describe('Adapter settings (device names, templates)'),
    device_models: z
      .partialRecord(z.enum(ZONE_FUNCTIONS), z.string().trim().min(1))
      .optional()
      .describe(
        'Device model per function, a key of config/device-profiles.yaml (zigbee2mqtt model id, e.g. "014G2461"): how the zigbee2mqtt adapter speaks to it (docs/adapters.md)',
      ),
  })
  .superRefine((zone, ctx) => {
    if (zone.functions.includes('heating') && zone.heating_type === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['heating_type'],
        message: 'a zone with heating needs a heating_type (hydronic, electric, underfloor, air)',
      });
    }
    for (const fn of Object.keys(zone.device_models ?? {}) as ZoneFunction[]) {
      if (!zone.functions.includes(fn)) {
        ctx.addIssue({
          code: 'custom',
          path: ['device_models', fn],
          message: `a device model for ${fn}, which the zone does not drive (functions: ${zone.functions.join(', ')})`,
        });
      }
    }
    if (new Set(zone.functions).size !== zone.functions.length) {
      ctx.addIssue({ code: 'custom', path: ['functions'], message: 'a function is listed twice' });
    }
  });

/**
 * A room-booking tool's iCalendar feed (docs/events.md, "Booking feeds"): polled over HTTP with
 * conditional requests, or read from a file; its bookings become the school's events.
 */
export const bookingFeedSchema = z
  .strictObject({
    id: topicSafeId.describe('Feed id, named in events, audit entries and alerts'),
    url: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
      .optional()
      .describe('iCalendar URL, polled with If-None-Match / If-Modified-Since'),
    file: nonEmpty.optional().describe('iCalendar file path, relative to the service directory'),
    poll_minutes: z.int().min(1).max(1440).default(15).describe('How often the feed is read'),
    max_kb: z.int().min(1).max(20_480).default(2048).describe('Largest feed accepted (untrusted input)'),
    rooms: z
      .record(z.string().min(1), z.string().min(1))
      .default({})
      .describe('Booking tool room name → room id or name in this file where they differ'),
  })
  .refine((feed) => (feed.url === undefined) !== (feed.file === undefined), {
    message: 'give url or file, one of them',
    path: ['url'],
  });
export type BookingFeed = z.infer<typeof bookingFeedSchema>;

export const devicesFileSchema = z
  .strictObject({
    school: schoolSchema,
    gateways: z.array(gatewaySchema).min(1),
    zones: z.array(zoneSchema),
    booking_feeds: z
      .array(bookingFeedSchema)
      .max(5)
      .optional()
      .describe('Room-booking feeds (docs/events.md)'),
  })
  .superRefine((file, ctx) => {
    // Structural consistency inside the file: a bad reference must refuse the whole file
    // (a bad file never half-applies: docs/rules.md, "Checks"). Cross-file checks are in src/rules/check.ts.
    const gatewayIds = new Set<string>();
    file.gateways.forEach((gateway, i) => {
      if (gatewayIds.has(gateway.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['gateways', i, 'id'],
          message: `duplicate gateway id "${gateway.id}"`,
        });
      }
      gatewayIds.add(gateway.id);
      if (gateway.previous?.username === gateway.username) {
        ctx.addIssue({
          code: 'custom',
          path: ['gateways', i, 'previous', 'username'],
          message:
            'the replaced credential needs its own username: a broker holds one password per user (gateway credentials --rotate picks one)',
        });
      }
    });
    const zoneIds = new Set<string>();
    file.zones.forEach((zone, i) => {
      if (zoneIds.has(zone.id)) {
        ctx.addIssue({ code: 'custom', path: ['zones', i, 'id'], message: `duplicate zone id "${zone.id}"` });
      }
      zoneIds.add(zone.id);
      if (!gatewayIds.has(zone.gateway)) {
        ctx.addIssue({
          code: 'custom',
          path: ['zones', i, 'gateway'],
          message: `unknown gateway "${zone.gateway}"; defined: ${[...gatewayIds].join(', ')}`,
        });
      }
    });
  });

export type School = z.infer<typeof schoolSchema>;
export type Gateway = z.infer<typeof gatewaySchema>;
export type Zone = z.infer<typeof zoneSchema>;
export type DevicesFile = z.infer<typeof devicesFileSchema>;

/** JSON Schema of `devices/{uai}.yaml` for editors (YAML language server); the lead writes it to docs/schemas. */
export function devicesJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(devicesFileSchema, { io: 'input' }) as Record<string, unknown>;
}
