/**
 * Publishes the bridge's current state (desired + schedule of every zone function, adapter
 * commands and announcements) through `MqttConnection`: the same code path for the embedded aedes
 * broker and an external one.
 *
 * - It HOLDS the current state: `apply()` records it and publishes it; on every (re)connect the
 *   whole state is re-published from here (docs/mqtt.md: never rely on broker persistence;
 *   docs/mqtt.md, "Why broker persistence is never relied upon").
 * - Flow control: QoS 1 with at most `window` publishes awaiting their PUBACK. Mosquitto's
 *   defaults (max_inflight_messages 20, max_queued_messages 1000) silently DROP QoS 1 messages
 *   past them: 36 % of an unpaced burst was lost (docs/performance.md, "Brokers"). A window below 20
 *   keeps a full region republication inside those limits.
 * - Nothing is queued while offline: `apply()` only records the state then, and the next connect
 *   re-publishes it (stale setpoints must not land late, mqttjs/MQTT.js#1129).
 * - Order: a message's bytes are read from the current state at the moment it gets its slot,
 *   and slots are granted first come first served, so a republication never sends an older state
 *   of a zone after a newer one.
 * - Payloads are validated against the contract once, when applied; republications send the
 *   stored bytes.
 * - Fencing (issue 8): `mayPublish(uai)` is asked when each message gets its slot, right before
 *   it goes out; a school whose lease lapsed (this process was paused, the store unreachable) is
 *   skipped, including in the re-publication after a reconnect.
 */

import {
  type DesiredPayload,
  encodePayload,
  type MqttTopics,
  type SchedulePayload,
} from '../contract/topics.js';
import type { ZoneFunction } from '../devices/schema.js';
import type { Part } from '../lifecycle/part.js';
import type { MqttConnection, PublishOutcome } from '../mqtt/connection.js';
import { type MqttLogger, silentLogger } from '../mqtt/logger.js';
import type { AdapterContext, AdapterMessage, ZoneTarget } from './adapters/adapter.js';
import { ADAPTERS_BY_NAME } from './adapters/index.js';
import { AdaptiveWindow, type AdaptiveWindowOptions } from './adaptive-window.js';
import { EchoGuard } from './echo-guard.js';

/** A window of 16 stays under Mosquitto's default 20 in-flight messages (docs/performance.md, "Brokers"). */
export const DEFAULT_PUBLISH_WINDOW = 16;
/**
 * The window alone bounds what the broker holds from US, not what it queues for a slow
 * subscriber: Mosquitto forwards at most 20 unacknowledged messages to each subscriber and drops
 * QoS 1 messages once 1,000 more are queued. A wildcard subscriber on a loaded 2-core machine
 * fell 1,500 behind at ~20k msg/s (bench/bridge-publish.ts), so the default rate leaves it
 * headroom: a region (84,000 messages) then takes about 8.4 s.
 */
export const DEFAULT_MAX_MESSAGES_PER_SECOND = 10_000;

export type PublisherConnection = Pick<MqttConnection, 'publish' | 'onConnect' | 'subscribe' | 'isConnected'>;

export interface PublisherOptions {
  connection: PublisherConnection;
  topics: MqttTopics;
  /** The service version (Home Assistant discovery `origin`). */
  version: string;
  /** Adapter settings per zone (`zoneTargetsOf(devices)`); a zone without one gets only the contract messages. */
  targets?: readonly ZoneTarget[];
  /** Publishes awaiting their PUBACK at once; default 16 (with `adaptive`, the largest window). */
  window?: number;
  /**
   * Adapt the window to the broker from PUBACK round trips (adaptive-window.ts), between 1 and
   * `window`; options override the rule's constants. Absent or false: a fixed window.
   */
  adaptive?: boolean | AdaptiveWindowOptions;
  /** Cap on messages per second (token bucket, 100 ms bursts); default 10,000; 0 = none. */
  maxMessagesPerSecond?: number;
  /**
   * Keep at most this many `desired`/`schedule` messages not yet received back through the
   * publisher's own wildcard subscription (echo-guard.ts): zero loss to any subscriber as fast as
   * the bridge, whatever the broker's queue limits. 0 or absent: off (the window and rate only).
   */
  echoLimit?: number;
  /** Whether this instance may publish for a school now (its lease); default always. */
  mayPublish?: (uai: string) => boolean;
  /** Where people reach the service (dashboard links in Home Assistant discovery). */
  publicUrl?: string;
  logger?: MqttLogger;
}

/** A new state for one zone function; an absent field keeps what is held. */
export interface StateChange {
  uai: string;
  zone: string;
  function: ZoneFunction;
  desired?: DesiredPayload;
  schedule?: SchedulePayload;
}

export interface PublishTally {
  sent: number;
  dropped: number;
  interrupted: number;
}

export interface PublisherStats extends PublishTally {
  /** Messages not sent because this instance no longer held the school's lease. */
  fenced: number;
  /** Connect-time republications completed. */
  republications: number;
  /** Duration of the last complete republication, ms. */
  lastRepublishMs: number | null;
  /** Messages of the last complete republication. */
  lastRepublishMessages: number;
  /** Echo guard (`echoLimit`): most messages seen not yet received back, and its stalls. */
  echo?: { maxInFlight: number; stalls: number; disabled: boolean };
  /** Adaptive window (`adaptive`): its size now, base and smoothed PUBACK round trips (ms), back-offs. */
  adaptive?: {
    window: number;
    baseRttMs: number | null;
    currentRttMs: number | null;
    smoothedRttMs: number | null;
    backoffs: number;
  };
}

interface Encoded<P> {
  topic: string;
  payload: P;
  bytes: Buffer;
}

interface HeldState {
  uai: string;
  zone: string;
  function: ZoneFunction;
  desired?: Encoded<DesiredPayload>;
  schedule?: Encoded<SchedulePayload>;
}

const keyOf = (uai: string, zone: string, fn: string): string => `${uai}/${zone}/${fn}`;
const RETAINED_QOS1 = { retain: true, qos: 1 } as const;

/** Spaces messages to a rate: bursts of a tenth of a second, then waits for the next tenth. */
class RateLimit {
  private windowStart = 0;
  private sentInWindow = 0;
  private readonly perTick: number;
  constructor(perSecond: number) {
    this.perTick = Math.max(1, Math.floor(perSecond / 10));
  }

  /** Resolves when one more message may go; undefined (no wait) in the common case. */
  take(): Promise<void> | undefined {
    const now = performance.now();
    if (now - this.windowStart >= 100) {
      this.windowStart = now;
      this.sentInWindow = 0;
    }
    if (this.sentInWindow < this.perTick) {
      this.sentInWindow += 1;
      return undefined;
    }
    const wait = 100 - (now - this.windowStart);
    return new Promise((resolve) => setTimeout(resolve, wait)).then(() => this.take());
  }
}

/**
 * First come, first served slots: bounds the publishes awaiting a PUBACK. The size is read at
 * each grant, so an adaptive window (adaptive-window.ts) that shrinks lets the excess drain first.
 */
class PublishWindow {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly size: () => number) {}

  /** Takes a free slot now, without waiting a microtask (the common case of a republication). */
  tryAcquire(): boolean {
    if (this.active < this.size() && this.waiting.length === 0) {
      this.active += 1;
      return true;
    }
    return false;
  }

  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    this.active -= 1;
    while (this.waiting.length > 0 && this.active < this.size()) {
      this.active += 1;
      this.waiting.shift()?.();
    }
  }
}

export class BridgePublisher implements Part {
  private readonly held = new Map<string, HeldState>();
  /** Removed zone functions whose retained topics are still to be emptied (`clear`). */
  private readonly pendingClears = new Map<string, { uai: string; zone: string; function: ZoneFunction }>();
  private readonly targetsByZone = new Map<string, ZoneTarget>();
  private readonly window: PublishWindow;
  private readonly adaptive: AdaptiveWindow | undefined;
  private readonly rate: RateLimit | undefined;
  private echo: EchoGuard | undefined;
  private echoSubscription: { unsubscribe(): Promise<void> } | undefined;
  private readonly logger: MqttLogger;
  private readonly context: AdapterContext;
  private readonly tally: PublishTally = { sent: 0, dropped: 0, interrupted: 0 };
  private republications = 0;
  private fenced = 0;
  private lastRepublishMs: number | null = null;
  private lastRepublishMessages = 0;
  private unregister: (() => void) | undefined;
  /** Birth topic → its subscription. */
  private readonly births = new Map<string, { unsubscribe(): Promise<void> }>();

  constructor(private readonly options: PublisherOptions) {
    const size = options.window ?? DEFAULT_PUBLISH_WINDOW;
    if (!Number.isInteger(size) || size < 1)
      throw new Error(`publish window must be a positive integer, got ${size}`);
    if (options.adaptive) {
      const adaptive = new AdaptiveWindow({
        max: size,
        ...(typeof options.adaptive === 'object' ? options.adaptive : {}),
      });
      this.adaptive = adaptive;
      this.window = new PublishWindow(() => adaptive.limit);
    } else {
      this.window = new PublishWindow(() => size);
    }
    const rate = options.maxMessagesPerSecond ?? DEFAULT_MAX_MESSAGES_PER_SECOND;
    this.rate = rate > 0 ? new RateLimit(rate) : undefined;
    this.echo = options.echoLimit ? new EchoGuard({ limit: options.echoLimit }) : undefined;
    this.logger = options.logger ?? silentLogger;
    this.context = {
      topics: options.topics,
      version: options.version,
      ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    };
    for (const target of options.targets ?? [])
      this.targetsByZone.set(`${target.uai}/${target.zone}`, target);
  }

  /** Registers the connect-time republication and the consumers' birth topics. Call before `connection.start()`. */
  async start(): Promise<void> {
    if (this.echo && !this.echoSubscription) {
      const echo = this.echo;
      const desired = `${this.options.topics.prefix}/+/+/+/desired`;
      const schedule = `${this.options.topics.prefix}/+/+/+/schedule`;
      try {
        const onEcho = (message: { topic: string; retain: boolean }) => {
          if (!message.retain) echo.received(message.topic);
        };
        const subscriptions = [
          await this.options.connection.subscribe(desired, onEcho),
          await this.options.connection.subscribe(schedule, onEcho),
        ];
        this.echoSubscription = {
          unsubscribe: async () => {
            await Promise.all(subscriptions.map((s) => s.unsubscribe()));
          },
        };
      } catch (error) {
        // Refused by the ACL: nothing would come back, so the guard is dropped (window and rate remain).
        this.echo = undefined;
        this.logger.error(
          { error: (error as Error).message },
          'echo subscription refused: pacing by window and rate only',
        );
      }
    }
    this.unregister ??= this.options.connection.onConnect(async (event) => {
      this.echo?.reset();
      this.adaptive?.reset();
      const tally = await this.republishAll();
      this.logger.info({ ...event, ...tally, ms: this.lastRepublishMs }, 'bridge state re-published');
    });
    await this.followBirthTopics();
  }

  async stop(): Promise<void> {
    this.unregister?.();
    this.unregister = undefined;
    await this.echoSubscription?.unsubscribe();
    this.echoSubscription = undefined;
    const held = [...this.births.values()];
    this.births.clear();
    await Promise.all(held.map((s) => s.unsubscribe()));
  }

  /**
   * Subscribes to the birth topic of every zone's consumer (Home Assistant's `homeassistant/status`)
   * and drops the ones no zone needs any more: at start and after each devices/ reload, so a
   * reload adding the first Home Assistant zone also listens for its birth.
   */
  private async followBirthTopics(): Promise<void> {
    const wanted = new Map<string, string>();
    for (const target of this.targetsByZone.values()) {
      for (const birth of ADAPTERS_BY_NAME[target.adapter].birthTopics(target))
        wanted.set(birth.topic, birth.payload);
    }
    for (const [topic, subscription] of [...this.births]) {
      if (wanted.has(topic)) continue;
      this.births.delete(topic);
      await subscription.unsubscribe();
    }
    for (const [topic, payload] of wanted) {
      if (this.births.has(topic)) continue;
      const subscription = await this.options.connection.subscribe(topic, (message) => {
        if (message.payload.toString('utf8') !== payload) return;
        // The targets whose consumer announces itself here, as they are when the birth arrives.
        const targets = [...this.targetsByZone.values()].filter((t) =>
          ADAPTERS_BY_NAME[t.adapter].birthTopics(t).some((b) => b.topic === topic),
        );
        this.logger.info(
          { topic, zones: targets.length },
          'consumer birth message: re-publishing announcements',
        );
        void this.publishAll(
          targets.flatMap((t) => this.announcementsOf(t).map((m) => () => this.fence(t.uai, m))),
        ).catch((error: unknown) =>
          this.logger.error({ error: (error as Error).message }, 'announcement re-publication failed'),
        );
      });
      this.births.set(topic, subscription);
    }
  }

  /**
   * Records the new states (validated against the contract; throws on a bug) and, when connected,
   * publishes them with the adapters' commands. Offline, they wait for the next connect.
   */
  async apply(changes: readonly StateChange[]): Promise<PublishTally> {
    const sends: (() => AdapterMessage | EncodedMessage | undefined)[] = [];
    for (const change of changes) {
      const key = keyOf(change.uai, change.zone, change.function);
      const state = this.held.get(key) ?? { uai: change.uai, zone: change.zone, function: change.function };
      this.pendingClears.delete(key);
      if (change.desired) {
        const topic = this.options.topics.desired(change.uai, change.zone, change.function);
        state.desired = {
          topic: topic.topic,
          payload: change.desired,
          bytes: encodePayload(topic, change.desired),
        };
      }
      if (change.schedule) {
        const topic = this.options.topics.schedule(change.uai, change.zone, change.function);
        state.schedule = {
          topic: topic.topic,
          payload: change.schedule,
          bytes: encodePayload(topic, change.schedule),
        };
      }
      this.held.set(key, state);
      const uai = change.uai;
      if (change.desired) {
        sends.push(() => this.fence(uai, this.held.get(key)?.desired));
        const commandCount = this.commandsOf(state).length;
        for (let index = 0; index < commandCount; index++)
          sends.push(() => this.fence(uai, this.commandAt(key, index)));
      }
      if (change.schedule) sends.push(() => this.fence(uai, this.held.get(key)?.schedule));
    }
    if (!this.options.connection.isConnected()) return { sent: 0, dropped: 0, interrupted: 0 };
    return this.publishAll(sends);
  }

  /**
   * New adapter settings after a devices/ reload: announcements of zones that left (or changed
   * adapter, options or functions) are withdrawn — an empty retained payload on each of their
   * retained topics, so Home Assistant removes the entity instead of keeping a ghost — then
   * `between()` runs (the broker's rights are changed there: withdrawals go out under the old
   * rights, announcements under the new ones, issue 15), then the new or changed zones are
   * announced and the birth topics followed. Commands follow the new settings from the next state.
   */
  async updateTargets(
    next: readonly ZoneTarget[],
    between?: () => Promise<void> | void,
  ): Promise<PublishTally> {
    const nextByZone = new Map<string, ZoneTarget>(next.map((t) => [`${t.uai}/${t.zone}`, t]));
    const same = (a: ZoneTarget | undefined, b: ZoneTarget | undefined) =>
      a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b);
    const withdrawn: AdapterMessage[] = [];
    for (const [key, old] of this.targetsByZone) {
      const replacement = nextByZone.get(key);
      if (same(old, replacement)) continue;
      const keep = new Set(replacement ? this.announcementsOf(replacement).map((m) => m.topic) : []);
      for (const message of this.announcementsOf(old)) {
        if (message.retain && !keep.has(message.topic))
          withdrawn.push({ topic: message.topic, payload: '', retain: true, qos: message.qos });
      }
    }
    const announced = [...nextByZone]
      .filter(([key, t]) => !same(this.targetsByZone.get(key), t))
      .map(([, t]) => t);
    const tally: PublishTally = { sent: 0, dropped: 0, interrupted: 0 };
    const add = (part: PublishTally) => {
      tally.sent += part.sent;
      tally.dropped += part.dropped;
      tally.interrupted += part.interrupted;
    };
    if (this.options.connection.isConnected()) add(await this.publishAll(withdrawn.map((m) => () => m)));
    this.targetsByZone.clear();
    for (const [key, target] of nextByZone) this.targetsByZone.set(key, target);
    await between?.();
    await this.followBirthTopics();
    if (this.options.connection.isConnected()) {
      add(
        await this.publishAll(
          announced.flatMap((t) => this.announcementsOf(t).map((m) => () => this.fence(t.uai, m))),
        ),
      );
    }
    return tally;
  }

  /**
   * Sends the held `desired` of one zone function again (retained, same bytes): a consumer that
   * showed a refused change (Home Assistant's slider) snaps back to the state that holds.
   */
  async republishDesired(uai: string, zone: string, fn: ZoneFunction): Promise<PublishTally> {
    const key = keyOf(uai, zone, fn);
    if (!this.options.connection.isConnected()) return { sent: 0, dropped: 0, interrupted: 0 };
    return this.publishAll([() => this.fence(uai, this.held.get(key)?.desired)]);
  }

  /**
   * Empties a removed zone function's retained `desired` and `schedule` (issue 20): an empty
   * retained payload deletes the retained message (MQTT 3.1.1 §3.3.1.3, MQTT 5 §3.3.1.3), on
   * aedes and an external broker alike, so a gateway subscribing with a wildcard no longer gets a
   * zone devices/ dropped. Fenced like every message; the state stops being held either way. The
   * tally's `sent` is 2 only when both went out and were acknowledged; until then the clear is
   * pending and goes out again with the next connect's re-publication (a restart's first
   * evaluation runs before the link is up), unless the zone function is applied again meanwhile.
   */
  async clear(uai: string, zone: string, fn: ZoneFunction): Promise<PublishTally> {
    this.forget(uai, zone, fn);
    const key = keyOf(uai, zone, fn);
    this.pendingClears.set(key, { uai, zone, function: fn });
    if (!this.options.connection.isConnected()) return { sent: 0, dropped: 2, interrupted: 0 };
    const tally = await this.publishAll(this.clearsOf(uai, zone, fn));
    if (tally.sent === 2) this.pendingClears.delete(key);
    return tally;
  }

  private clearsOf(uai: string, zone: string, fn: ZoneFunction): (() => AdapterMessage | undefined)[] {
    return [
      this.options.topics.desired(uai, zone, fn).topic,
      this.options.topics.schedule(uai, zone, fn).topic,
    ].map(
      (topic) => () =>
        this.fence<AdapterMessage>(uai, { topic, payload: '', retain: true, qos: RETAINED_QOS1.qos }),
    );
  }

  /** Stops holding (and re-publishing) a school, a zone or a zone function. Retained messages stay. */
  forget(uai: string, zone?: string, fn?: ZoneFunction): void {
    for (const [key, state] of this.held) {
      if (
        state.uai === uai &&
        (zone === undefined || state.zone === zone) &&
        (fn === undefined || state.function === fn)
      ) {
        this.held.delete(key);
      }
    }
  }

  /**
   * Sends again the adapter commands of the held zone functions whose target `select` admits
   * (not `desired`/`schedule`: retained, the broker still holds them). For a consumer that came
   * back without having seen what was sent while it was away: zigbee2mqtt's `bridge/state`
   * turning online. Fenced like every message; nothing when offline (the next connect sends all).
   */
  async resendCommands(select: (target: ZoneTarget) => boolean): Promise<PublishTally> {
    if (!this.options.connection.isConnected()) return { sent: 0, dropped: 0, interrupted: 0 };
    const sends: (() => AdapterMessage | undefined)[] = [];
    for (const [key, state] of this.held) {
      const target = this.targetsByZone.get(`${state.uai}/${state.zone}`);
      if (!target || !select(target)) continue;
      const commandCount = this.commandsOf(state).length;
      for (let index = 0; index < commandCount; index++)
        sends.push(() => this.fence(state.uai, this.commandAt(key, index)));
    }
    return this.publishAll(sends);
  }

  /** What is held for one zone function. */
  current(
    uai: string,
    zone: string,
    fn: ZoneFunction,
  ): { desired?: DesiredPayload; schedule?: SchedulePayload } | undefined {
    const state = this.held.get(keyOf(uai, zone, fn));
    if (!state) return undefined;
    return {
      ...(state.desired ? { desired: state.desired.payload } : {}),
      ...(state.schedule ? { schedule: state.schedule.payload } : {}),
    };
  }

  /** Every held zone function. */
  *entries(): Iterable<{ uai: string; zone: string; function: ZoneFunction; desired?: DesiredPayload }> {
    for (const state of this.held.values()) {
      yield {
        uai: state.uai,
        zone: state.zone,
        function: state.function,
        ...(state.desired ? { desired: state.desired.payload } : {}),
      };
    }
  }

  /**
   * Re-publishes everything held: desired, schedule and commands of every zone function, then the
   * adapters' announcements. Stops early when the link drops (the next connect starts over).
   */
  async republishAll(): Promise<PublishTally> {
    const started = performance.now();
    const sends: (() => AdapterMessage | EncodedMessage | undefined)[] = [];
    const clears = [...this.pendingClears];
    for (const [, c] of clears) sends.push(...this.clearsOf(c.uai, c.zone, c.function));
    for (const [key, state] of this.held) {
      const uai = state.uai;
      sends.push(() => this.fence(uai, this.held.get(key)?.desired));
      sends.push(() => this.fence(uai, this.held.get(key)?.schedule));
      const commandCount = this.commandsOf(state).length;
      for (let index = 0; index < commandCount; index++)
        sends.push(() => this.fence(uai, this.commandAt(key, index)));
    }
    for (const target of this.targetsByZone.values()) {
      for (const message of this.announcementsOf(target)) sends.push(() => this.fence(target.uai, message));
    }
    const tally = await this.publishAll(sends);
    if (tally.dropped === 0 && tally.interrupted === 0) {
      for (const [key] of clears) this.pendingClears.delete(key);
      this.republications += 1;
      this.lastRepublishMs = Math.round(performance.now() - started);
      this.lastRepublishMessages = tally.sent;
    }
    return tally;
  }

  stats(): PublisherStats {
    return {
      ...this.tally,
      fenced: this.fenced,
      republications: this.republications,
      lastRepublishMs: this.lastRepublishMs,
      lastRepublishMessages: this.lastRepublishMessages,
      ...(this.echo
        ? {
            echo: {
              maxInFlight: this.echo.maxInFlight,
              stalls: this.echo.stalls,
              disabled: this.echo.disabled,
            },
          }
        : {}),
      ...(this.adaptive
        ? {
            adaptive: {
              window: this.adaptive.limit,
              baseRttMs: this.adaptive.baseRtt ?? null,
              smoothedRttMs: this.adaptive.smoothedRtt ?? null,
              backoffs: this.adaptive.backoffs,
              currentRttMs: this.adaptive.currentRtt ?? null,
            },
          }
        : {}),
    };
  }

  /** The message, unless this instance lost the school's lease (then nothing goes out). */
  private fence<M>(uai: string, message: M | undefined): M | undefined {
    if (message === undefined || !this.options.mayPublish || this.options.mayPublish(uai)) return message;
    this.fenced += 1;
    return undefined;
  }

  private commandsOf(state: HeldState): AdapterMessage[] {
    const target = this.targetsByZone.get(`${state.uai}/${state.zone}`);
    if (!target || !state.desired) return [];
    return ADAPTERS_BY_NAME[target.adapter].commands(
      target,
      state.function,
      state.desired.payload,
      this.context,
    );
  }

  private commandAt(key: string, index: number): AdapterMessage | undefined {
    const state = this.held.get(key);
    return state ? this.commandsOf(state)[index] : undefined;
  }

  private announcementsOf(target: ZoneTarget): AdapterMessage[] {
    return ADAPTERS_BY_NAME[target.adapter].announcements(target, this.context);
  }

  /**
   * Sends each message through the window. `read` runs when the slot is granted, so the newest
   * state is what goes out; it may return undefined (nothing held any more).
   */
  private async publishAll(
    reads: readonly (() => AdapterMessage | EncodedMessage | undefined)[],
  ): Promise<PublishTally> {
    const tally: PublishTally = { sent: 0, dropped: 0, interrupted: 0 };
    const inFlight: Promise<void>[] = [];
    for (const read of reads) {
      const pause = this.rate?.take();
      if (pause) await pause;
      const echoWait = this.echo?.admit();
      if (echoWait) await echoWait;
      if (!this.window.tryAcquire()) await this.window.acquire();
      if (!this.options.connection.isConnected()) {
        this.window.release();
        tally.dropped += 1;
        break;
      }
      const message = read();
      if (!message) {
        this.window.release();
        continue;
      }
      let outcome: Promise<PublishOutcome>;
      const handedAt = this.adaptive ? performance.now() : 0;
      try {
        if ('bytes' in message) this.echo?.sent(message.topic);
        outcome =
          'bytes' in message
            ? this.options.connection.publish(message.topic, message.bytes, RETAINED_QOS1)
            : this.options.connection.publish(message.topic, message.payload, {
                retain: message.retain,
                qos: message.qos,
              });
      } catch (error) {
        this.window.release();
        throw error;
      }
      inFlight.push(
        outcome.then(
          (result) => {
            if (this.adaptive) {
              if (result === 'sent') this.adaptive.acked(performance.now() - handedAt);
              else this.adaptive.failed();
            }
            this.window.release();
            tally[result] += 1;
            this.tally[result] += 1;
          },
          (error: unknown) => {
            this.adaptive?.failed();
            this.window.release();
            tally.interrupted += 1;
            this.tally.interrupted += 1;
            this.logger.error({ topic: message.topic, error: (error as Error).message }, 'publish failed');
          },
        ),
      );
    }
    await Promise.all(inFlight);
    return tally;
  }
}

type EncodedMessage = Encoded<unknown>;
