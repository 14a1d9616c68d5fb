/**
 * A gateway with simulated rooms, for the demo and the tests: the reference `GatewayClient` drives
 * one first-order thermal model per heated zone (thermal-model.ts), reports the measured
 * temperatures and integrates the heating energy.
 *
 * Time: the contract runs on the injected clock (valid_until, schedule entries, report `ts`), so
 * the gateway stays in step with the bridge; `speed` only speeds up the rooms' physics (one clock
 * minute is `speed` simulated minutes of heating and cooling), so a demo shows rooms warming up in
 * minutes without the gateway falling back early. Elapsed time is integrated piecewise between the
 * instants at which a command changes, so results do not depend on how often `tick()` runs.
 */

import { LOCAL_SETPOINT_C } from '../contract/local-setpoints.js';
import type { HeatingMode } from '../contract/topics.js';
import type { Zone } from '../devices/schema.js';
import { type Clock, systemClock } from '../domain/clock.js';
import { type MqttLogger, silentLogger } from '../mqtt/logger.js';
import { GatewayClient, type ZoneFunctionState } from './gateway-client.js';
import { type RoomState, stepRoom, type ThermalParameters, thermalParametersOf } from './thermal-model.js';
import type { ZoneCommand } from './zone-controller.js';

/**
 * Outdoor temperature when none is given: about the January mean in Strasbourg (Météo-France
 * normals 1991–2020, ~2 °C) rounded up to a mild heating-season day. Assumption for the demo.
 */
export const DEFAULT_OUTDOOR_C = 5;
/** Rooms start at the setback temperature of the default rules (eco 16 °C). */
export const DEFAULT_INITIAL_C = 16;
/**
 * docs/gateway-contract.md, "Reporting": every zone function every 5 minutes, and on change. The
 * telemetry store holds a measurement 15 minutes (`telemetry.hold_minutes`): two lost reports in a
 * row still leave no unmeasured time.
 */
export const DEFAULT_REPORT_EVERY_MS = 5 * 60_000;

export type SimulatedZone = Pick<Zone, 'id' | 'functions'> &
  Partial<Pick<Zone, 'name' | 'gateway' | 'loss_coefficient_w_per_k' | 'time_constant_h' | 'heater_power_w'>>;

export interface SimulatedGatewayOptions {
  url: string;
  uai: string;
  gateway: string;
  username: string;
  password: string;
  /** devices/ zones; those with another `gateway` are left out. */
  zones: readonly SimulatedZone[];
  prefix?: string;
  clock?: Clock;
  /** Simulated physics per clock time, default 1. */
  speed?: number;
  outdoorC?: number;
  /**
   * Outdoor temperature at a clock instant (e.g. monthly normals with a daily cycle,
   * `outdoorAt` of src/rules/optimum-start.ts); wins over `outdoorC`, read every 15 clock minutes.
   */
  outdoor?: (at: number) => number;
  initialC?: number;
  logger?: MqttLogger;
  /** Real milliseconds between simulation steps, default 1000; 0 = none (the caller calls tick()). */
  tickMs?: number;
  /**
   * Clock milliseconds between full reports with measurements, default 5 minutes
   * (DEFAULT_REPORT_EVERY_MS); a change of command is reported at once besides.
   */
  reportEveryMs?: number;
  reconnectPeriodMs?: number;
  clientId?: string;
}

export interface SimulatedRoomState {
  zone: string;
  name?: string;
  temperatureC: number;
  energyKWh: number;
  parameters: ThermalParameters;
}

export interface SimulatedGatewayState {
  connected: boolean;
  /** The clock's instant, ISO 8601 UTC. */
  at: string;
  outdoorC: number;
  speed: number;
  rooms: SimulatedRoomState[];
  zones: ZoneFunctionState[];
}

export interface SimulatedGateway {
  /** Publishes `offline`, disconnects, stops the timer. */
  stop(): Promise<void>;
  state(): SimulatedGatewayState;
  /** One simulation step at the clock's instant: integrate, apply due changes, report. */
  tick(): Promise<void>;
}

/** The heating setpoint a command asks for; undefined when heating is off. */
export function heatingSetpointOf(command: ZoneCommand): number | undefined {
  if (command.mode === 'off') return undefined;
  return command.setpointC ?? LOCAL_SETPOINT_C[command.mode as HeatingMode];
}

export async function startSimulatedGateway(options: SimulatedGatewayOptions): Promise<SimulatedGateway> {
  const clock = options.clock ?? systemClock;
  const speed = options.speed ?? 1;
  if (!(speed > 0)) throw new RangeError(`speed must be positive, got ${speed}`);
  const fixedOutdoorC = options.outdoorC ?? DEFAULT_OUTDOOR_C;
  const outdoorAt = options.outdoor ?? (() => fixedOutdoorC);
  const OUTDOOR_STEP_MS = 15 * 60_000;
  const zones = options.zones.filter(
    (zone) => zone.gateway === undefined || zone.gateway === options.gateway,
  );
  const rooms = new Map<string, { name?: string; parameters: ThermalParameters; state: RoomState }>();
  for (const zone of zones) {
    if (!zone.functions.includes('heating')) continue;
    rooms.set(zone.id, {
      ...(zone.name !== undefined ? { name: zone.name } : {}),
      parameters: thermalParametersOf(zone),
      state: { temperatureC: options.initialC ?? DEFAULT_INITIAL_C, energyKWh: 0 },
    });
  }

  let integratedTo = clock.now();
  let client: GatewayClient;
  const advanceTo = (now: number): void => {
    while (integratedTo < now) {
      const commands = client.commandsAt(integratedTo);
      let until = Math.min(client.nextChangeAfter(integratedTo) ?? now, now);
      if (options.outdoor) until = Math.min(until, integratedTo + OUTDOOR_STEP_MS);
      const hours = ((until - integratedTo) / 3_600_000) * speed;
      const outdoorC = outdoorAt((integratedTo + until) / 2);
      for (const [zone, room] of rooms) {
        const command = commands.get(`${zone}/heating`);
        const setpointC = command ? heatingSetpointOf(command) : undefined;
        room.state = stepRoom(room.parameters, room.state, { setpointC, outdoorC }, hours);
      }
      integratedTo = until;
    }
  };

  client = new GatewayClient({
    url: options.url,
    uai: options.uai,
    gateway: options.gateway,
    username: options.username,
    password: options.password,
    zones: zones.map((zone) => ({ id: zone.id, functions: zone.functions })),
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
    ...(options.clientId !== undefined ? { clientId: options.clientId } : {}),
    ...(options.reconnectPeriodMs !== undefined ? { reconnectPeriodMs: options.reconnectPeriodMs } : {}),
    clock,
    logger: options.logger ?? silentLogger,
    measure: (zone) => rooms.get(zone)?.state.temperatureC,
    beforeChange: advanceTo,
  });
  await client.start();

  const reportEveryMs = options.reportEveryMs ?? DEFAULT_REPORT_EVERY_MS;
  let lastFullReport = clock.now();
  let running: Promise<void> | undefined;
  const tick = async (): Promise<void> => {
    // One step at a time: a slow publish must not let two steps integrate the same interval.
    while (running) await running;
    running = (async () => {
      await client.evaluate();
      const now = clock.now();
      if (now - lastFullReport >= reportEveryMs) {
        lastFullReport = now;
        await client.reportAll();
      }
    })();
    try {
      await running;
    } finally {
      running = undefined;
    }
  };
  const tickMs = options.tickMs ?? 1000;
  const timer = tickMs > 0 ? setInterval(() => void tick().catch(() => {}), tickMs) : undefined;

  return {
    async stop() {
      if (timer) clearInterval(timer);
      await running;
      await client.stop();
    },
    state() {
      return {
        connected: client.isConnected(),
        at: new Date(clock.now()).toISOString(),
        outdoorC: outdoorAt(clock.now()),
        speed,
        rooms: [...rooms].map(([zone, room]) => ({
          zone,
          ...(room.name !== undefined ? { name: room.name } : {}),
          temperatureC: room.state.temperatureC,
          energyKWh: room.state.energyKWh,
          parameters: room.parameters,
        })),
        zones: client.state(),
      };
    },
    tick,
  };
}
