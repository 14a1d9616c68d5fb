/**
 * Commands from Home Assistant become overrides (docs/adapters.md, "Home Assistant"): a target
 * temperature, a preset, an hvac mode or an on/off sent on an entity's command topic is handed to
 * the overrides service like a manager's request — capped at the legal maximum (Code de
 * l'énergie R241-26), at most 14 days, ending at the next planned change by default, audited
 * with Home Assistant (and its gateway) as the author.
 *
 * A command that cannot become an override (unreadable payload, a refusal of the service) is
 * logged and the zone's current `desired` is published again, so the entity (non-optimistic)
 * snaps back to the state that holds instead of showing what was asked.
 */

import { HEATING_MODES } from '../contract/topics.js';
import type { ZoneFunction } from '../devices/schema.js';
import { InputError } from '../domain/problems.js';
import type { MqttConnection } from '../mqtt/connection.js';
import { type MqttLogger, silentLogger } from '../mqtt/logger.js';
import {
  HA_MAX_TEMP_C,
  HA_MIN_TEMP_C,
  type HaCommandKind,
  haCommandTopics,
} from './adapters/homeassistant.js';
import { ADAPTERS_BY_NAME, type ZoneTarget } from './adapters/index.js';
import type { OverridesService } from './overrides-service.js';

/** Home Assistant sends a number, a preset name or ON/OFF: anything longer is not a command. */
const MAX_COMMAND_BYTES = 64;
/** The override's end when the plan does not change within 14 days: the 14-day limit itself. */
const FALLBACK_DURATION = 'P14D';

export interface HaCommandsOptions {
  connection: Pick<MqttConnection, 'subscribe'>;
  overrides: Pick<OverridesService, 'create'>;
  /** Publishes the held `desired` of a zone function again (the entity snaps back). */
  republish: (uai: string, zone: string, fn: ZoneFunction) => Promise<unknown>;
  /** Whether this instance holds the school (only the lease holder acts on a command). */
  owns?: (uai: string) => boolean;
  logger?: MqttLogger;
}

interface Route {
  target: ZoneTarget;
  function: ZoneFunction;
  kind: HaCommandKind;
}

/** What a command asks, as an override body without its end and reason; or why it is unreadable. */
export function overrideOfCommand(
  kind: HaCommandKind,
  text: string,
): { ok: true; mode: string; setpoint_c?: number; capped?: number } | { ok: false; problem: string } {
  const value = text.trim();
  switch (kind) {
    case 'temperature': {
      const asked = Number(value);
      if (value === '' || !Number.isFinite(asked))
        return { ok: false, problem: `"${value}" is not a temperature` };
      // Legal cap (R241-26) and the override floor; to the nearest 0.5 °C (the entity's temp_step).
      const bounded = Math.min(HA_MAX_TEMP_C, Math.max(HA_MIN_TEMP_C, Math.round(asked * 2) / 2));
      return {
        ok: true,
        mode: 'comfort',
        setpoint_c: bounded,
        ...(bounded !== asked ? { capped: asked } : {}),
      };
    }
    case 'preset':
      if ((HEATING_MODES as readonly string[]).includes(value) && value !== 'off')
        return { ok: true, mode: value };
      return {
        ok: false,
        problem: `"${value}" is not a preset (${HEATING_MODES.filter((m) => m !== 'off').join(', ')})`,
      };
    case 'mode':
      if (value === 'off') return { ok: true, mode: 'off' };
      if (value === 'heat') return { ok: true, mode: 'comfort' };
      return { ok: false, problem: `"${value}" is not an hvac mode (heat, off)` };
    case 'switch':
      if (value === 'ON') return { ok: true, mode: 'on' };
      if (value === 'OFF') return { ok: true, mode: 'off' };
      return { ok: false, problem: `"${value}" is not ON or OFF` };
  }
}

export class HomeAssistantCommands {
  private routes = new Map<string, Route>();
  private readonly subscriptions = new Map<string, { unsubscribe(): Promise<void> }>();
  private readonly logger: MqttLogger;

  constructor(private readonly options: HaCommandsOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  /** Follows the Home Assistant zones of devices/: at start and after every reload. */
  async updateTargets(targets: readonly ZoneTarget[]): Promise<void> {
    const routes = new Map<string, Route>();
    const filters = new Set<string>();
    for (const target of targets) {
      if (target.adapter !== 'homeassistant') continue;
      for (const command of haCommandTopics(target)) {
        routes.set(command.topic, { target, function: command.function, kind: command.kind });
      }
      // The bridge's own rights name the filters: subscribe to exactly those.
      for (const filter of ADAPTERS_BY_NAME.homeassistant.bridgeAcl(target).subscribe) {
        if (filter.endsWith('_set') || filter.endsWith('/set')) filters.add(filter);
      }
    }
    this.routes = routes;
    for (const [filter, subscription] of [...this.subscriptions]) {
      if (filters.has(filter)) continue;
      this.subscriptions.delete(filter);
      await subscription.unsubscribe();
    }
    for (const filter of filters) {
      if (this.subscriptions.has(filter)) continue;
      const subscription = await this.options.connection.subscribe(filter, (message) => {
        void this.handle(message.topic, message.payload).catch((error: unknown) =>
          this.logger.error(
            { topic: message.topic, error: (error as Error).message },
            'home assistant command failed',
          ),
        );
      });
      this.subscriptions.set(filter, subscription);
    }
  }

  async stop(): Promise<void> {
    const held = [...this.subscriptions.values()];
    this.subscriptions.clear();
    await Promise.all(held.map((s) => s.unsubscribe()));
  }

  /** One command message; resolves once the override is stored or the refusal answered. */
  async handle(topic: string, payload: Buffer): Promise<void> {
    const route = this.routes.get(topic);
    if (!route) return; // a zone that left devices/, or another node's entity
    const { target } = route;
    if (this.options.owns && !this.options.owns(target.uai)) return;
    const refuse = async (problem: string, code: string): Promise<void> => {
      this.logger.warn(
        { topic, uai: target.uai, zone: target.zone, function: route.function, code, problem },
        'home assistant command refused: state re-published',
      );
      await this.options.republish(target.uai, target.zone, route.function);
    };
    if (payload.length > MAX_COMMAND_BYTES) return refuse(`${payload.length} bytes`, 'too-large');
    const asked = overrideOfCommand(route.kind, payload.toString('utf8'));
    if (!asked.ok) return refuse(asked.problem, 'unreadable');
    const what =
      asked.setpoint_c === undefined
        ? `${route.kind} ${asked.mode}`
        : asked.capped === undefined
          ? `target ${asked.setpoint_c} °C`
          : `target ${asked.capped} °C, held at ${asked.setpoint_c} °C (${HA_MIN_TEMP_C}–${HA_MAX_TEMP_C} °C, Code de l'énergie R241-26)`;
    const body = {
      uai: target.uai,
      zone: target.zone,
      function: route.function,
      mode: asked.mode,
      ...(asked.setpoint_c === undefined ? {} : { setpoint_c: asked.setpoint_c }),
      until: 'next-change',
      reason: `Home Assistant: ${what}`,
    };
    const author = `Home Assistant (${target.uai}/${target.gateway})`;
    try {
      try {
        await this.options.overrides.create(body, author);
      } catch (error) {
        // No planned change within 14 days: the override lasts the 14-day limit.
        if (!(error instanceof InputError) || !error.problems.some((p) => p.code === 'no-next-change'))
          throw error;
        const { until: _until, ...rest } = body;
        await this.options.overrides.create({ ...rest, duration: FALLBACK_DURATION }, author);
      }
      this.logger.info(
        {
          uai: target.uai,
          zone: target.zone,
          function: route.function,
          mode: asked.mode,
          setpoint_c: asked.setpoint_c,
        },
        'home assistant command: override created',
      );
    } catch (error) {
      const problems = error instanceof InputError ? error.problems : [];
      await refuse(
        problems.map((p) => p.message).join('; ') || (error as Error).message,
        problems[0]?.code ?? 'failed',
      );
    }
  }
}
