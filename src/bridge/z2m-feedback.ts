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

import type { OnlineState, ReportedPayload } from '../contract/topics.js';
import type { ZoneFunction } from '../devices/schema.js';
import type { AdapterOptions } from './adapters/adapter.js';
import {
  deviceValue,
  z2mBaseTopic,
  z2mDevices,
  z2mModesOf,
  z2mProperty,
  z2mSetpointProperty,
} from './adapters/zigbee2mqtt.js';

/** A zone of devices/ as the gateway tracker follows it; with `options`, a zigbee2mqtt zone is also read from its devices' state. */
export interface TrackedZone {
  uai: string;
  zone: string;
  gateway: string;
  functions: readonly ZoneFunction[];
  adapter?: string;
  options?: AdapterOptions;
}

export interface Z2mZoneFunction {
  uai: string;
  zone: string;
  gateway: string;
  function: ZoneFunction;
  options: AdapterOptions;
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
      const target = { uai: zone.uai, zone: zone.zone, gateway: zone.gateway, function: fn, options };
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

/**
 * The `reported` of one zone function from its device's state, or null when the state says
 * nothing usable about it (no mode property, or a value no mode of the zone maps to).
 * Matches the latest desired (mode value and, when the zone names a setpoint property, the
 * setpoint) → applied at that rev, `source: bridge`. Differs after having matched that rev →
 * someone changed it at the device: `source: manual`, same rev. Differs before → not yet
 * applied: the earlier applied rev stays.
 */
export function z2mReported(
  target: Z2mZoneFunction,
  state: Record<string, unknown>,
  latest: LatestDesired | undefined,
  previous: ReportedPayload | undefined,
  now: number,
): ReportedPayload | null {
  const fn = target.function;
  const raw = state[z2mProperty(target, fn)];
  if (typeof raw !== 'string') return null;
  const setpointProperty = fn === 'heating' ? z2mSetpointProperty(target) : undefined;
  const setpointValue = setpointProperty === undefined ? undefined : state[setpointProperty];
  const setpoint = typeof setpointValue === 'number' ? setpointValue : undefined;
  const measured = state['local_temperature'] ?? state['temperature'];
  const matches =
    latest?.mode !== undefined &&
    deviceValue(target, fn, latest.mode) === raw &&
    (setpointProperty === undefined ||
      latest.setpoint_c === undefined ||
      (setpoint !== undefined && Math.abs(setpoint - latest.setpoint_c) < SETPOINT_TOLERANCE_C));
  let mode: string | undefined;
  let appliedRev: number;
  let source: ReportedPayload['source'];
  if (matches && latest?.mode !== undefined) {
    mode = latest.mode;
    appliedRev = latest.rev;
    source = 'bridge';
  } else {
    // Several modes may share a device value (a valve's `heat`): keep the one already reported.
    const candidates = z2mModesOf(target, fn, raw);
    mode = previous && candidates.includes(previous.mode) ? previous.mode : candidates[0];
    appliedRev = previous?.applied_rev ?? 0;
    source = latest !== undefined && appliedRev >= latest.rev ? 'manual' : (previous?.source ?? 'local');
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
