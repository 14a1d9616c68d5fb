/**
 * The device-profile catalogue, `config/device-profiles.yaml` (docs/adapters.md, "Device
 * profiles"): per zigbee2mqtt model, the property carrying the mode and the value of each
 * contract mode, the property carrying the setpoint with its range and step, the setpoint that
 * stands for `off` on a valve without off, and fixed keys every command carries. Data, not code:
 * a new model is a new entry, checked by the same schema and driven through the real
 * zigbee-herdsman-converters by the tests. One zod schema gives the type, the load errors (with
 * lines) and the docs.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseYamlFile } from '../config/yaml-file.js';
import { ZONE_FUNCTIONS, type ZoneFunction } from './schema.js';

/** The catalogue shipped with the service (one per release: every entry is tested). */
export const DEVICE_PROFILES_FILE = 'config/device-profiles.yaml';

/**
 * Contract modes a profile maps (docs/mqtt.md): the six heating orders, on/off for switches.
 * Restated here rather than imported from src/mqtt so devices/ stays below the MQTT layer.
 */
const HEATING_MODES = ['comfort', 'comfort_1', 'comfort_2', 'eco', 'frost', 'off'] as const;
const SWITCH_MODES = ['on', 'off'] as const;
const PROFILE_MODES = [...new Set([...HEATING_MODES, ...SWITCH_MODES])] as [string, ...string[]];

/** A zigbee2mqtt property name: what follows `{base_topic}/{device}/set` in a JSON key. */
const propertyName = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'expected a zigbee2mqtt property name (lower case, digits, _)');
const scalar = z.union([z.string().min(1), z.number(), z.boolean()]);

const setpointSchema = z
  .strictObject({
    property: propertyName.describe('Property carrying the setpoint in `/set` and in the state'),
    min_c: z.number().describe('Lowest setpoint the device accepts, °C'),
    max_c: z.number().describe('Highest setpoint the device accepts, °C'),
    step_c: z.number().positive().describe('Setpoint step, °C (sent values are rounded to it)'),
  })
  .refine((s) => s.min_c < s.max_c, { message: 'min_c must be below max_c', path: ['max_c'] });

export const deviceProfileSchema = z
  .strictObject({
    vendor: z.string().trim().min(1),
    description: z.string().trim().min(1),
    functions: z
      .array(z.enum(ZONE_FUNCTIONS))
      .min(1)
      .describe('What the device may drive: heating, or lighting and/or ventilation'),
    fingerprint: z
      .strictObject({
        model_id: z.string().min(1).describe("The device's Zigbee modelID, as it reports it"),
        manufacturer_name: z
          .string()
          .min(1)
          .optional()
          .describe('Its manufacturerName, for Tuya TS0601 devices that share one modelID'),
      })
      .describe('How zigbee2mqtt recognises the device (its definition lookup)'),
    mode: z
      .strictObject({
        property: propertyName.describe('Property carrying the mode'),
        values: z
          .partialRecord(z.enum(PROFILE_MODES), scalar)
          .describe('The value sent for each contract mode'),
      })
      .optional()
      .describe('Absent when the device has no mode worth sending: the setpoint then carries the mode'),
    setpoint: setpointSchema.optional(),
    off_setpoint_c: z
      .number()
      .optional()
      .describe('Setpoint sent for `off` by a valve that cannot switch off (its lowest, frost-safe)'),
    fixed: z
      .record(propertyName, scalar)
      .optional()
      .describe('Keys sent first in every command (device_mode: pilot_on, preset: manual…)'),
  })
  .superRefine((profile, ctx) => {
    const heating = profile.functions.includes('heating');
    if (heating && profile.functions.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['functions'],
        message: 'a heating profile drives heating only (switches drive lighting or ventilation)',
      });
    }
    const values = profile.mode?.values ?? {};
    const modes: readonly string[] = heating ? HEATING_MODES : SWITCH_MODES;
    for (const mode of Object.keys(values)) {
      if (!modes.includes(mode)) {
        ctx.addIssue({
          code: 'custom',
          path: ['mode', 'values', mode],
          message: `"${mode}" is no ${heating ? 'heating' : 'switch'} mode; expected ${modes.join(', ')}`,
        });
      }
    }
    // Every contract mode must reach the device one way or another, else a desired mode would
    // silently send nothing (docs/adapters.md, "Device profiles").
    for (const mode of modes) {
      if (values[mode] !== undefined) continue;
      if (heating && mode !== 'off' && profile.setpoint) continue;
      if (heating && mode === 'off' && profile.setpoint && profile.off_setpoint_c !== undefined) continue;
      ctx.addIssue({
        code: 'custom',
        path: profile.mode ? ['mode', 'values'] : ['mode'],
        message: heating
          ? `mode ${mode} reaches the device neither by a mode value nor by ${mode === 'off' ? 'off_setpoint_c' : 'a setpoint'}`
          : `mode ${mode} needs a value`,
      });
    }
    if (!heating && (profile.setpoint || profile.off_setpoint_c !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['setpoint'], message: 'only heating profiles carry a setpoint' });
    }
    const off = profile.off_setpoint_c;
    if (
      off !== undefined &&
      profile.setpoint &&
      (off < profile.setpoint.min_c || off > profile.setpoint.max_c)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['off_setpoint_c'],
        message: `outside the setpoint range ${profile.setpoint.min_c}–${profile.setpoint.max_c} °C`,
      });
    }
    const sent = new Set([profile.mode?.property, profile.setpoint?.property]);
    for (const key of Object.keys(profile.fixed ?? {})) {
      if (sent.has(key))
        ctx.addIssue({
          code: 'custom',
          path: ['fixed', key],
          message: 'already the mode or setpoint property',
        });
    }
  });

export const deviceProfilesFileSchema = z.strictObject({
  profiles: z
    .record(z.string().min(1), deviceProfileSchema)
    .describe('Device profiles by zigbee2mqtt model id'),
});

export type DeviceProfile = z.infer<typeof deviceProfileSchema>;
export type DeviceProfiles = ReadonlyMap<string, DeviceProfile>;

/** Parses a catalogue; throws `InputError` naming file:line for every problem. */
export function loadDeviceProfiles(text: string, file: string): DeviceProfiles {
  const parsed = parseYamlFile(text, file, deviceProfilesFileSchema);
  return new Map(Object.entries(parsed.value.profiles));
}

let shipped: DeviceProfiles | undefined;

/** The shipped catalogue, read once (a bad file fails every load of devices/, as it should). */
export function shippedDeviceProfiles(): DeviceProfiles {
  shipped ??= loadDeviceProfiles(
    readFileSync(new URL(`../../${DEVICE_PROFILES_FILE}`, import.meta.url), 'utf8'),
    DEVICE_PROFILES_FILE,
  );
  return shipped;
}

/** Why `model` cannot drive `fn`, or null when it can. */
export function deviceModelProblem(profiles: DeviceProfiles, model: string, fn: ZoneFunction): string | null {
  const profile = profiles.get(model);
  if (!profile) {
    return `unknown device model "${model}": not in ${DEVICE_PROFILES_FILE} (known: ${[...profiles.keys()].join(', ')})`;
  }
  if (!profile.functions.includes(fn)) {
    return `device model "${model}" (${profile.vendor} ${profile.description}) drives ${profile.functions.join(', ')}, not ${fn}`;
  }
  return null;
}

/** The state of one zone function as a command needs it: a mode and, for heating, a setpoint. */
export interface ProfileDesired {
  mode: string;
  setpoint_c?: number;
}

/**
 * The `/set` payload a profile gives for a desired state: fixed keys first (zigbee2mqtt
 * converts keys in order, and `device_mode` must precede `pilot_wire_mode`), then the mode's
 * value, then the setpoint (rounded to the step, held inside the range). `off` on a valve
 * without off sends `off_setpoint_c`; a mode with a value of its own sends no setpoint for `off`.
 * Keys the profile does not name are never sent. Empty (nothing to send) when neither the mode
 * nor a setpoint reaches the device.
 */
export function profileCommand(
  profile: DeviceProfile,
  fn: ZoneFunction,
  desired: ProfileDesired,
): Record<string, string | number | boolean> {
  const payload: Record<string, string | number | boolean> = {};
  const value = profile.mode?.values[desired.mode as keyof typeof profile.mode.values];
  let setpoint: number | undefined;
  if (fn === 'heating' && profile.setpoint) {
    if (desired.mode === 'off') setpoint = value === undefined ? profile.off_setpoint_c : undefined;
    else setpoint = desired.setpoint_c;
  }
  if (value === undefined && setpoint === undefined) return payload;
  Object.assign(payload, profile.fixed ?? {});
  if (value !== undefined && profile.mode) payload[profile.mode.property] = value;
  if (setpoint !== undefined && profile.setpoint) {
    payload[profile.setpoint.property] = roundSetpoint(setpoint, profile.setpoint);
  }
  return payload;
}

function roundSetpoint(value: number, range: { min_c: number; max_c: number; step_c: number }): number {
  const clamped = Math.min(range.max_c, Math.max(range.min_c, value));
  // Round to the step, then drop binary noise (0.1 + 0.2) at a precision no valve resolves.
  return Number((Math.round(clamped / range.step_c) * range.step_c).toFixed(3));
}
