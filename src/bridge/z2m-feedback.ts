/**
 * What zigbee2mqtt says back, read as the contract's `reported` and gateway status
 * (docs/gateway-contract.md, "zigbee2mqtt zones"): a device's state `{base}/{device}` (JSON, the
 * properties of its exposes: `pilot_wire_mode`, `system_mode`, `current_heating_setpoint`,
 * `local_temperature`…), its `{base}/{device}/availability` (`{"state":"online"}`, or the bare
 * `online` of zigbee2mqtt before 1.22 / `legacy_availability_payload`) and `{base}/bridge/state`
 * (the same two shapes; zigbee2mqtt's birth and Last Will).
 *
 * Only the devices declared in devices/ are routed (one exact topic each, no wildcard), so a
 * device or topic nobody declared costs nothing. Pure: no I/O.
 */

import { MODES_BY_FUNCTION, type OnlineState, type ReportedPayload } from '../contract/topics.js';
import { type DeviceProfile, profileCommand } from '../devices/device-profiles.js';
import type { ZoneFunction } from '../devices/schema.js';
import type { AdapterOptions, ZoneTarget } from './adapters/adapter.js';
import { z2mBaseTopic, z2mDevices, z2mProfile } from './adapters/zigbee2mqtt.js';

/** A zone of devices/ as the gateway tracker follows it; with `options`, a zigbee2mqtt zone is also read from its devices' state. */
export interface TrackedZone {
  uai: string;
  zone: string;
  gateway: string;
  functions: readonly ZoneFunction[];
  adapter?: string;
  options?: AdapterOptions;
  models?: ZoneTarget['models'];
}

export interface Z2mZoneFunction {
  uai: string;
  zone: string;
  gateway: string;
  function: ZoneFunction;
  options: AdapterOptions;
  models?: ZoneTarget['models'];
}

export type Z2mRoute =
  | { kind: 'state'; targets: Z2mZoneFunction[] }
  | { kind: 'availability'; targets: Z2mZoneFunction[] }
  | { kind: 'bridge-state'; gateways: { uai: string; gateway: string }[] };

/** The exact topics to read for the zigbee2mqtt zones among `zones`, and what each one feeds. */
export function z2mRoutes(zones: readonly TrackedZone[]): Map<string, Z2mRoute> {
  const routes = new Map<string, Z2mRoute>();
  const add = (topic: string, kind: 'state' | 'availability', target: Z2mZoneFunction): void => {
    const route = routes.get(topic);
    if (route && route.kind === kind) route.targets.push(target);
    else if (!route) routes.set(topic, { kind, targets: [target] });
  };
  for (const zone of zones) {
    if (zone.adapter !== 'zigbee2mqtt') continue;
    const options = zone.options ?? {};
    const base = z2mBaseTopic({ options });
    const bridge = `${base}/bridge/state`;
    const existing = routes.get(bridge);
    const gateway = { uai: zone.uai, gateway: zone.gateway };
    if (existing?.kind === 'bridge-state') {
      if (!existing.gateways.some((g) => g.uai === gateway.uai && g.gateway === gateway.gateway))
        existing.gateways.push(gateway);
    } else if (!existing) routes.set(bridge, { kind: 'bridge-state', gateways: [gateway] });
    for (const [fn, device] of z2mDevices({ options, functions: zone.functions })) {
      const target: Z2mZoneFunction = {
        uai: zone.uai,
        zone: zone.zone,
        gateway: zone.gateway,
        function: fn,
        options,
        ...(zone.models ? { models: zone.models } : {}),
      };
      add(`${base}/${device}`, 'state', target);
      add(`${base}/${device}/availability`, 'availability', target);
    }
  }
  return routes;
}

/** A zigbee2mqtt payload: a JSON object, or the bare text of legacy payloads; null when unreadable. */
export function parseZ2mPayload(raw: Buffer): Record<string, unknown> | string | null {
  const text = raw.toString('utf8').trim();
  if (text.length === 0) return null;
  if (!text.startsWith('{')) return text;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** `online`/`offline` from `{"state":"online"}` or `online`; null for anything else. */
export function z2mOnlineState(payload: Record<string, unknown> | string | null): OnlineState | null {
  const state = typeof payload === 'string' ? payload : payload?.['state'];
  return state === 'online' || state === 'offline' ? state : null;
}

/**
 * zigbee2mqtt rounds a setpoint to the device's step (0.5 °C on most valves, e.g. Tuya TS0601,
 * Danfoss Ally; zigbee-herdsman-converters exposes `value_step`), so a desired 19.2 comes back 19:
 * closer than one step counts as applied.
 */
export const SETPOINT_TOLERANCE_C = 0.5;

export interface LatestDesired {
  rev: number;
  mode?: string;
  setpoint_c?: number;
}

/** Whether the device's mode value and setpoint are what `desired` sends (setpoint within the tolerance). */
function matchesDesired(
  profile: DeviceProfile,
  fn: ZoneFunction,
  desired: LatestDesired,
  modeValue: unknown,
  setpoint: number | undefined,
): boolean {
  if (desired.mode === undefined) return false;
  const expected = profileCommand(profile, fn, {
    mode: desired.mode,
    ...(desired.setpoint_c === undefined ? {} : { setpoint_c: desired.setpoint_c }),
  });
  const modeProperty = profile.mode?.property;
  const setpointProperty = profile.setpoint?.property;
  const checksMode = modeProperty !== undefined && modeProperty in expected;
  const checksSetpoint = fn === 'heating' && setpointProperty !== undefined && setpointProperty in expected;
  if (!checksMode && !checksSetpoint) return false;
  if (checksMode && expected[modeProperty] !== modeValue) return false;
  if (checksSetpoint) {
    const want = expected[setpointProperty] as number;
    if (setpoint === undefined || Math.abs(setpoint - want) >= SETPOINT_TOLERANCE_C) return false;
  }
  return true;
}

/** The contract modes a device state may stand for (several when modes share a value, e.g. `heat`). */
function candidateModes(
  profile: DeviceProfile,
  fn: ZoneFunction,
  modeValue: unknown,
  setpoint: number | undefined,
): string[] {
  const modes: readonly string[] = MODES_BY_FUNCTION[fn];
  if (profile.mode) {
    const values = profile.mode.values as Record<string, unknown>;
    return modes.filter((mode) => values[mode] === modeValue);
  }
  // A valve without a mode: its off is a setpoint.
  const off = profile.off_setpoint_c;
  if (off !== undefined && setpoint !== undefined && Math.abs(setpoint - off) < SETPOINT_TOLERANCE_C)
    return ['off'];
  return modes.filter((mode) => mode !== 'off');
}

/**
 * The `reported` of one zone function from its device's state, or null when the state says
 * nothing usable about it (no mode property or, for a valve without one, no setpoint; or a value
 * no mode of the profile maps to). The device's profile (z2mProfile) reads the state as the
 * adapter wrote the command:
 * - matches the latest desired (the mode's value and, when the command carries one, the setpoint
 *   within SETPOINT_TOLERANCE_C) → applied at that rev, `source: bridge`;
 * - differs, and was changed at the device → `source: manual`, keeping the rev it had applied.
 *   Changed at the device means: it had matched the latest rev and no longer does (nothing the
 *   bridge sent since explains it), or the device itself says so (`setpoint_change_source:
 *   manual`, Danfoss and Bosch valves: someone turned the knob);
 * - differs otherwise → not yet applied: the earlier applied rev and source stay, so the zone
 *   turns `lagging` after the usual delay.
 */
export function z2mReported(
  target: Z2mZoneFunction,
  state: Record<string, unknown>,
  latest: LatestDesired | undefined,
  previous: ReportedPayload | undefined,
  now: number,
): ReportedPayload | null {
  const fn = target.function;
  const profile = z2mProfile(target, fn);
  const modeProperty = profile.mode?.property;
  const modeValue = modeProperty === undefined ? undefined : state[modeProperty];
  const setpointProperty = fn === 'heating' ? profile.setpoint?.property : undefined;
  const setpointValue = setpointProperty === undefined ? undefined : state[setpointProperty];
  const setpoint =
    typeof setpointValue === 'number' && Number.isFinite(setpointValue) ? setpointValue : undefined;
  if (
    modeProperty !== undefined &&
    (modeValue === undefined || modeValue === null || typeof modeValue === 'object')
  )
    return null;
  if (modeProperty === undefined && setpoint === undefined) return null;
  const measured = state['local_temperature'] ?? state['temperature'];
  let mode: string | undefined;
  let appliedRev: number;
  let source: ReportedPayload['source'];
  if (latest !== undefined && matchesDesired(profile, fn, latest, modeValue, setpoint)) {
    mode = latest.mode;
    appliedRev = latest.rev;
    source = 'bridge';
  } else {
    const candidates = candidateModes(profile, fn, modeValue, setpoint);
    mode = previous && candidates.includes(previous.mode) ? previous.mode : candidates[0];
    appliedRev = previous?.applied_rev ?? 0;
    const changedAtDevice = state['setpoint_change_source'] === 'manual';
    source =
      latest !== undefined && (appliedRev >= latest.rev || changedAtDevice)
        ? 'manual'
        : (previous?.source ?? 'local');
  }
  if (mode === undefined) return null;
  return {
    applied_rev: appliedRev,
    mode: mode as ReportedPayload['mode'],
    ...(setpoint === undefined ? {} : { setpoint_c: setpoint }),
    ...(typeof measured === 'number' && Number.isFinite(measured) ? { measured_c: measured } : {}),
    source,
    ts: new Date(now).toISOString(),
  };
}
