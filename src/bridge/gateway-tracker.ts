/**
 * What the gateways say back (docs/mqtt.md, "Topics"): `reported` per zone function
 * (applied rev, mode, measured temperature, source) and each gateway's `status`. Every message is
 * validated against the contract; an invalid one is logged and counted, never fatal (a gateway's
 * bug must not take the bridge down). Valid ones are stored, so `GET /api/gateways` survives a
 * restart.
 *
 * A zone function is LAGGING when the bridge issued a rev more than `lagDelayMs` ago (default
 * 5 min) and the gateway has not reported applying it (or anything newer).
 *
 * Gateways are not trusted with the bridge's memory or store (docs/mqtt.md, "Limits"): a
 * `reported` is accepted only for a zone and function that `devices/` declares for that school
 * (checked on the topic, before the payload is parsed), at most `reportedMaxPerMinute` live ones
 * per gateway (the zone's gateway in devices/), and a payload is parsed only under
 * `MAX_GATEWAY_PAYLOAD_BYTES`. What is dropped is counted by reason, never stored nor audited.
 */

import type { MqttTopics, OnlineState, ReportedPayload } from '../contract/topics.js';
import type { ZoneFunction } from '../devices/schema.js';
import { type Clock, systemClock } from '../domain/clock.js';
import type { Part } from '../lifecycle/part.js';
import type { MqttConnection, ReceivedMessage, Subscription } from '../mqtt/connection.js';
import { type MqttLogger, silentLogger } from '../mqtt/logger.js';
import type {
  BridgeStateRepository,
  StoredGatewayStatus,
  StoredReported,
} from '../store/bridge-state-repository.js';
import type { DispatcherPublisher } from './dispatcher.js';
import { TokenBuckets } from './token-buckets.js';
import {
  parseZ2mPayload,
  type TrackedZone,
  type Z2mRoute,
  type Z2mZoneFunction,
  z2mOnlineState,
  z2mReported,
  z2mRoutes,
} from './z2m-feedback.js';

export const DEFAULT_LAG_DELAY_MS = 5 * 60_000;
/** `mqtt.reported_max_per_minute`. */
export const DEFAULT_REPORTED_MAX_PER_MINUTE = 600;
/**
 * A `reported` is ~150 bytes and a status ~20 (docs/mqtt.md); 4 KiB leaves room for unknown keys
 * a newer gateway may add, and bounds what one message costs to parse.
 */
export const MAX_GATEWAY_PAYLOAD_BYTES = 4 * 1024;

/** Why a gateway message was dropped before it was parsed (`scope_energie_reported_rejected_total`). */
export type ReportedRejection = 'undeclared-zone' | 'rate-limited' | 'too-large';

export interface GatewayTrackerOptions {
  connection: Pick<MqttConnection, 'subscribe'>;
  topics: MqttTopics;
  repository: BridgeStateRepository;
  /**
   * The latest rev the bridge issued for a zone function (`Dispatcher.latest`). Reports keep what
   * it answered until something of the school changes: when its answer changes, call
   * `latestChanged` (bridge.ts does on each of the dispatcher's publications).
   */
  latest: (
    uai: string,
    zone: string,
    fn: ZoneFunction,
  ) => { rev: number; issuedAt: number; mode?: string; setpoint_c?: number } | undefined;
  /**
   * The zones each gateway drives, from devices/ (so `reported` updates the gateway's last-seen
   * instant and zones appear before their first report).
   */
  zones?: readonly TrackedZone[];
  clock?: Clock;
  lagDelayMs?: number;
  /** Live `reported` messages accepted per gateway and minute (default 600). */
  reportedMaxPerMinute?: number;
  /**
   * A gateway acknowledged a new rev (a live `reported` whose `applied_rev` changed; periodic
   * measurement reports and retained replays are not acknowledgements): for the audit log.
   */
  onAcknowledged?: (ack: {
    uai: string;
    zone: string;
    function: ZoneFunction;
    gateway?: string;
    payload: ReportedPayload;
  }) => void;
  logger?: MqttLogger;
  /**
   * A zigbee2mqtt instance announced itself online, live (`{base}/bridge/state`, not a retained
   * replay): it may have missed `/set` commands while it was down, so its zones' commands are sent
   * again (docs/adapters.md, "zigbee2mqtt").
   */
  onZ2mOnline?: (baseTopic: string) => void;
  /**
   * Every `reported` kept for a school this instance owns (live or retained), for the telemetry
   * store (issue 16): it places each at its `ts`, so a retained replay is a no-op there.
   */
  onReported?: (row: StoredReported) => void;
  /**
   * Several instances (issue 8): every instance keeps the whole picture in memory, but only the
   * holder of a school's lease stores its reports and audits its acknowledgements (once, not N
   * times). Default: every school.
   */
  owns?: (uai: string) => boolean;
}

export interface ZoneFunctionReport {
  zone: string;
  function: ZoneFunction;
  /** The latest rev the bridge issued, or null when it has issued none. */
  latest_rev: number | null;
  /** The rev the gateway last reported applying; null before its first report. */
  applied_rev: number | null;
  mode: string | null;
  setpoint_c: number | null;
  measured_c: number | null;
  source: ReportedPayload['source'] | null;
  /** The gateway's own timestamp of the report. */
  reported_at: string | null;
  lagging: boolean;
  /** zigbee2mqtt zones: the device's `availability`, once it said one. */
  available?: OnlineState;
}

export interface GatewayReport {
  uai: string;
  gateway: string;
  /** `unknown` until the gateway has published a status. */
  state: OnlineState | 'unknown';
  last_seen: string | null;
  zones: ZoneFunctionReport[];
}

export interface GatewayTrackerStats {
  /** Messages received on `reported` and gateway `status` topics. */
  received: number;
  /** Of which refused by the contract schemas (logged). */
  invalid: number;
  /** Writes to the store (a report, a status, a last-seen update). */
  stored: number;
  /** Dropped before parsing, by reason (not counted in `invalid`). */
  rejected: Record<ReportedRejection, number>;
}

const keyOf = (uai: string, zone: string, fn: string): string => `${uai}/${zone}/${fn}`;

/**
 * `String.prototype.localeCompare`'s order (the default locale, default options) without building
 * a collator at each call: a region's report sorts 28,000 zone functions.
 */
const compare = new Intl.Collator().compare;

/** A zone function devices/ declares, as a report lists it. */
interface Slot {
  key: string;
  zone: string;
  function: ZoneFunction;
  gateway: string;
}

const bySlotOrder = (a: Slot, b: Slot): number => compare(a.zone, b.zone) || compare(a.function, b.function);

/** What the tracker holds of one school, so that its report reads that school alone. */
interface SchoolEntries {
  /** Its zone functions from devices/, in the report's order (sorted once per devices/ load). */
  slots: Slot[];
  /** Its kept `reported`, by `uai/zone/function`. */
  reported: Map<string, StoredReported>;
  /** Its gateways' statuses, by `uai/gateway`. */
  statuses: Map<string, StoredGatewayStatus>;
}

/**
 * A school's report as last built, and the clock range over which it holds: it changes with the
 * clock only when a zone function that is not lagging yet becomes lagging (`lagDelayMs` after
 * its rev was issued).
 */
interface KeptReport {
  gateways: GatewayReport[];
  from: number;
  until: number;
}

export class GatewayTracker implements Part {
  private readonly clock: Clock;
  private readonly logger: MqttLogger;
  private readonly lagDelayMs: number;
  private readonly reported = new Map<string, StoredReported>();
  private readonly statuses = new Map<string, StoredGatewayStatus>();
  private readonly gatewayOfZone = new Map<string, string>();
  private readonly subscriptions: Subscription[] = [];
  private writes: Promise<void> = Promise.resolve();
  private zones: NonNullable<GatewayTrackerOptions['zones']> = [];
  /** `uai/zone/function` of every zone function devices/ declares. */
  private readonly declared = new Set<string>();
  private readonly rates: TokenBuckets;
  /** zigbee2mqtt topics of declared devices → what they feed; and their subscriptions. */
  private z2m = new Map<string, Z2mRoute>();
  private readonly z2mSubscriptions = new Map<string, Subscription>();
  private readonly availability = new Map<string, OnlineState>();
  /** The same rows as `zones`, `reported` and `statuses`, per school. */
  private readonly bySchool = new Map<string, SchoolEntries>();
  /**
   * Each school's report, kept until the school's zones, reports, statuses, availability or
   * latest revs change, or the clock reaches a lag: the dashboard's overview asks for every
   * school's at each view (issue 18), and a region's report built afresh walked 28,000 zone
   * functions.
   */
  private readonly kept = new Map<string, KeptReport>();
  private started = false;
  private z2mSync: Promise<void> = Promise.resolve();
  private readonly counters = {
    received: 0,
    invalid: 0,
    stored: 0,
    rejected: { 'undeclared-zone': 0, 'rate-limited': 0, 'too-large': 0 },
  };

  constructor(private readonly options: GatewayTrackerOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.lagDelayMs = options.lagDelayMs ?? DEFAULT_LAG_DELAY_MS;
    this.rates = new TokenBuckets(
      options.reportedMaxPerMinute ?? DEFAULT_REPORTED_MAX_PER_MINUTE,
      this.clock,
    );
    this.updateZones(options.zones ?? []);
  }

  /**
   * The zones of devices/ after a reload: new zones are listed before their first report, and
   * from now on only these zones' reports are accepted.
   */
  updateZones(zones: NonNullable<GatewayTrackerOptions['zones']>): void {
    this.zones = zones;
    this.gatewayOfZone.clear();
    this.declared.clear();
    for (const entries of this.bySchool.values()) entries.slots = [];
    for (const zone of zones) {
      this.gatewayOfZone.set(`${zone.uai}/${zone.zone}`, zone.gateway);
      const slots = this.entriesOf(zone.uai).slots;
      for (const fn of zone.functions) {
        const key = keyOf(zone.uai, zone.zone, fn);
        // A zone function declared twice is listed once, as a report keyed by it is.
        if (this.declared.has(key)) continue;
        this.declared.add(key);
        slots.push({ key, zone: zone.zone, function: fn, gateway: zone.gateway });
      }
    }
    for (const entries of this.bySchool.values()) entries.slots.sort(bySlotOrder);
    this.kept.clear();
    const gateways = new Set(zones.map((zone) => `${zone.uai}/${zone.gateway}`));
    this.rates.retain((key) => gateways.has(key));
    this.z2m = z2mRoutes(zones);
    for (const key of this.availability.keys()) if (!this.declared.has(key)) this.availability.delete(key);
    if (this.started) void this.syncZ2mSubscriptions();
  }

  /** Subscribes to the zigbee2mqtt topics of declared devices, and drops those of devices that left. */
  private syncZ2mSubscriptions(): Promise<void> {
    this.z2mSync = this.z2mSync
      .then(async () => {
        for (const [topic, subscription] of this.z2mSubscriptions) {
          if (this.z2m.has(topic)) continue;
          this.z2mSubscriptions.delete(topic);
          await subscription.unsubscribe();
        }
        for (const topic of this.z2m.keys()) {
          if (this.z2mSubscriptions.has(topic)) continue;
          this.z2mSubscriptions.set(
            topic,
            await this.options.connection.subscribe(topic, (message) => this.receiveZ2m(message)),
          );
        }
      })
      .catch((error: unknown) =>
        this.logger.error({ error: (error as Error).message }, 'zigbee2mqtt subscriptions failed'),
      );
    return this.z2mSync;
  }

  /** Loads what was stored, then subscribes to every `reported` and gateway `status`. */
  async start(): Promise<void> {
    for (const row of await this.options.repository.loadReported()) this.keepReported(row);
    for (const row of await this.options.repository.loadGatewayStatuses()) this.keepStatus(row);
    const handler = (message: ReceivedMessage): void => this.receive(message);
    this.subscriptions.push(
      await this.options.connection.subscribe(this.options.topics.allReportedFilter(), handler),
    );
    this.subscriptions.push(
      await this.options.connection.subscribe(this.options.topics.allGatewayStatusFilter(), handler),
    );
    this.started = true;
    await this.syncZ2mSubscriptions();
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.z2mSync;
    const z2m = [...this.z2mSubscriptions.values()];
    this.z2mSubscriptions.clear();
    await Promise.all([...this.subscriptions.splice(0), ...z2m].map((s) => s.unsubscribe()));
    await this.writes;
  }

  stats(): GatewayTrackerStats {
    return { ...this.counters, rejected: { ...this.counters.rejected } };
  }

  /** Resolves once every message received so far is stored. */
  flushed(): Promise<void> {
    return this.writes;
  }

  /**
   * Every known gateway (from devices/ or from its messages) with its zones, for the UAIs
   * `visible` admits, by UAI then gateway. The reports are kept between calls (`schoolReport`):
   * read them, do not change them.
   */
  report(visible: (uai: string) => boolean = () => true): GatewayReport[] {
    const uais = [...this.bySchool.keys()].filter(visible).sort(compare);
    const out: GatewayReport[] = [];
    for (const uai of uais) out.push(...this.schoolReport(uai));
    return out;
  }

  /**
   * `report` of one school, built from that school's rows alone and kept until one of them, its
   * latest revs (`latestChanged`) or its lags change. Read it, do not change it.
   */
  schoolReport(uai: string): GatewayReport[] {
    const now = this.clock.now();
    const kept = this.kept.get(uai);
    if (kept && kept.from <= now && now < kept.until) return kept.gateways;
    const entries = this.bySchool.get(uai);
    if (!entries) return [];
    let until = Number.POSITIVE_INFINITY;
    const gateways = new Map<string, GatewayReport>();
    const gatewayEntry = (gateway: string): GatewayReport => {
      let entry = gateways.get(gateway);
      if (!entry) {
        const status = entries.statuses.get(`${uai}/${gateway}`);
        entry = {
          uai,
          gateway,
          state: status?.state ?? 'unknown',
          last_seen: status ? new Date(status.lastSeen).toISOString() : null,
          zones: [],
        };
        gateways.set(gateway, entry);
      }
      return entry;
    };
    // Reports of a declared zone whose function devices/ no longer lists are still shown.
    let slots = entries.slots;
    const extra: Slot[] = [];
    for (const [key, row] of entries.reported) {
      if (this.declared.has(key)) continue;
      const gateway = this.gatewayOfZone.get(`${uai}/${row.zone}`);
      if (gateway !== undefined) extra.push({ key, zone: row.zone, function: row.function, gateway });
    }
    if (extra.length > 0) slots = [...slots, ...extra].sort(bySlotOrder);
    for (const status of entries.statuses.values()) gatewayEntry(status.gateway);
    for (const slot of slots) {
      const reported = entries.reported.get(slot.key)?.payload;
      const latest = this.options.latest(uai, slot.zone, slot.function);
      const applied = reported?.applied_rev ?? null;
      const behind = latest !== undefined && (applied ?? 0) < latest.rev;
      const lagging = behind && now - latest.issuedAt > this.lagDelayMs;
      // Not lagging yet: it will be from the first millisecond past the delay.
      if (behind && !lagging) until = Math.min(until, latest.issuedAt + this.lagDelayMs + 1);
      const zone: ZoneFunctionReport = {
        zone: slot.zone,
        function: slot.function,
        latest_rev: latest?.rev ?? null,
        applied_rev: applied,
        mode: reported?.mode ?? null,
        setpoint_c: reported?.setpoint_c ?? null,
        measured_c: reported?.measured_c ?? null,
        source: reported?.source ?? null,
        reported_at: reported?.ts ?? null,
        lagging,
      };
      const available = this.availability.get(slot.key);
      if (available !== undefined) zone.available = available;
      gatewayEntry(slot.gateway).zones.push(zone);
    }
    const sorted = [...gateways.values()].sort((a, b) => compare(a.gateway, b.gateway));
    this.kept.set(uai, { gateways: sorted, from: now, until });
    return sorted;
  }

  /**
   * What `latest` answers for the school changed (a new rev issued, a zone function forgotten);
   * without a UAI, for every school.
   */
  latestChanged(uai?: string): void {
    if (uai === undefined) this.kept.clear();
    else this.kept.delete(uai);
  }

  private entriesOf(uai: string): SchoolEntries {
    let entries = this.bySchool.get(uai);
    if (!entries) {
      entries = { slots: [], reported: new Map(), statuses: new Map() };
      this.bySchool.set(uai, entries);
    }
    return entries;
  }

  private keepReported(row: StoredReported): void {
    const key = keyOf(row.uai, row.zone, row.function);
    this.reported.set(key, row);
    this.entriesOf(row.uai).reported.set(key, row);
    this.kept.delete(row.uai);
  }

  private keepStatus(row: StoredGatewayStatus): void {
    const id = `${row.uai}/${row.gateway}`;
    this.statuses.set(id, row);
    this.entriesOf(row.uai).statuses.set(id, row);
    this.kept.delete(row.uai);
  }

  private receive(message: ReceivedMessage): void {
    this.counters.received += 1;
    const topic = this.options.topics.parse(message.topic);
    if (topic?.kind === 'reported') {
      const key = keyOf(topic.uai, topic.zone, topic.function);
      if (!this.declared.has(key)) {
        this.reject('undeclared-zone', { topic: message.topic });
        return;
      }
      const gateway = `${topic.uai}/${this.gatewayOfZone.get(`${topic.uai}/${topic.zone}`)}`;
      // Retained copies are replayed once per topic when the bridge subscribes: not the
      // gateway's traffic, and at most one per declared zone function.
      if (!message.retain && !this.rates.take(gateway)) {
        this.reject('rate-limited', { gateway });
        return;
      }
    }
    if (message.payload.length > MAX_GATEWAY_PAYLOAD_BYTES) {
      this.reject('too-large', { topic: message.topic, bytes: message.payload.length });
      return;
    }
    const decoded = this.options.topics.decode(message.topic, message.payload);
    if (!decoded.ok) {
      this.counters.invalid += 1;
      this.logger.warn({ topic: message.topic, problem: decoded.problem }, 'invalid gateway message ignored');
      return;
    }
    // An empty retained payload clears a topic: nothing to record.
    if (decoded.payload === null) return;
    const now = this.clock.now();
    const parsed = decoded.parsed;
    if (parsed.kind === 'reported') {
      this.record(
        {
          uai: parsed.uai,
          zone: parsed.zone,
          function: parsed.function,
          payload: decoded.payload as ReportedPayload,
          receivedAt: now,
        },
        message.retain,
      );
    } else if (parsed.kind === 'gateway-status') {
      this.seen(
        parsed.uai,
        parsed.gateway,
        (decoded.payload as { state: OnlineState }).state,
        now,
        message.retain,
      );
    }
  }

  /**
   * A zigbee2mqtt message of a declared device or instance (z2m-feedback.ts): device state
   * becomes the zone function's `reported`, availability is kept per zone function, and
   * `bridge/state` is the status of the gateway running that zigbee2mqtt. Same bounds as
   * `reported`: size cap before parsing, the gateway's rate for live device messages.
   */
  private receiveZ2m(message: ReceivedMessage): void {
    const route = this.z2m.get(message.topic);
    if (!route) return;
    this.counters.received += 1;
    if (message.payload.length > MAX_GATEWAY_PAYLOAD_BYTES) {
      this.reject('too-large', { topic: message.topic, bytes: message.payload.length });
      return;
    }
    const payload = parseZ2mPayload(message.payload);
    // An empty retained payload clears a topic: nothing to record.
    if (payload === null && message.payload.length === 0) return;
    const now = this.clock.now();
    if (route.kind === 'bridge-state') {
      const state = z2mOnlineState(payload);
      if (state === null) {
        this.invalidZ2m(message.topic, 'expected {"state":"online"|"offline"}');
        return;
      }
      for (const { uai, gateway } of route.gateways) this.seen(uai, gateway, state, now, message.retain);
      // A retained `online` is the broker's replay to the bridge's own (re)subscription: the
      // bridge's connect-time republication already covers it.
      if (state === 'online' && !message.retain)
        this.options.onZ2mOnline?.(message.topic.slice(0, -'/bridge/state'.length));
      return;
    }
    const gateway = route.targets[0]!;
    if (!message.retain && !this.rates.take(`${gateway.uai}/${gateway.gateway}`)) {
      this.reject('rate-limited', { gateway: `${gateway.uai}/${gateway.gateway}` });
      return;
    }
    if (route.kind === 'availability') {
      const state = z2mOnlineState(payload);
      if (state === null) {
        this.invalidZ2m(message.topic, 'expected {"state":"online"|"offline"}');
        return;
      }
      for (const target of route.targets) {
        this.availability.set(keyOf(target.uai, target.zone, target.function), state);
        this.kept.delete(target.uai);
      }
      return;
    }
    if (payload === null || typeof payload === 'string') {
      this.invalidZ2m(message.topic, 'expected a JSON object of device properties');
      return;
    }
    let used = false;
    for (const target of route.targets)
      used = this.recordZ2mState(target, payload, now, message.retain) || used;
    if (!used) this.invalidZ2m(message.topic, 'no mode property of the zone in the device state');
  }

  private recordZ2mState(
    target: Z2mZoneFunction,
    state: Record<string, unknown>,
    now: number,
    retained: boolean,
  ): boolean {
    const key = keyOf(target.uai, target.zone, target.function);
    const payload = z2mReported(
      target,
      state,
      this.options.latest(target.uai, target.zone, target.function),
      this.reported.get(key)?.payload,
      now,
    );
    if (payload === null) return false;
    this.record(
      { uai: target.uai, zone: target.zone, function: target.function, payload, receivedAt: now },
      retained,
    );
    return true;
  }

  private invalidZ2m(topic: string, problem: string): void {
    this.counters.invalid += 1;
    this.logger.warn({ topic, problem }, 'invalid zigbee2mqtt message ignored');
  }

  /** Keeps a `reported`, audits a live change of applied rev, stores it under the school's lease. */
  private record(row: StoredReported, retained: boolean): void {
    const key = keyOf(row.uai, row.zone, row.function);
    const previous = this.reported.get(key);
    this.keepReported(row);
    const gateway = this.gatewayOfZone.get(`${row.uai}/${row.zone}`);
    const ours = this.options.owns?.(row.uai) ?? true;
    if (ours && !retained && previous?.payload.applied_rev !== row.payload.applied_rev) {
      this.options.onAcknowledged?.({
        uai: row.uai,
        zone: row.zone,
        function: row.function,
        ...(gateway === undefined ? {} : { gateway }),
        payload: row.payload,
      });
    }
    if (gateway !== undefined) this.seen(row.uai, gateway, undefined, row.receivedAt, retained);
    if (ours) {
      this.write(() => this.options.repository.saveReported(row));
      this.options.onReported?.(row);
    }
  }

  /** Counts a dropped message; logs the 1st, 2nd, 4th, 8th… of each reason so a flood cannot flood the log. */
  private reject(reason: ReportedRejection, details: Record<string, unknown>): void {
    const count = ++this.counters.rejected[reason];
    if ((count & (count - 1)) === 0) {
      this.logger.warn({ reason, count, ...details }, 'gateway message dropped');
    }
  }

  /**
   * A retained message replayed by the broker on (re)subscription is old news: it may set the
   * state but does not move last-seen when the gateway was already known.
   */
  private seen(
    uai: string,
    gateway: string,
    state: OnlineState | undefined,
    at: number,
    retained: boolean,
  ): void {
    const id = `${uai}/${gateway}`;
    const previous = this.statuses.get(id);
    const lastSeen = retained && previous ? previous.lastSeen : at;
    this.keepStatus({ uai, gateway, state: state ?? previous?.state ?? 'online', lastSeen });
    if (this.options.owns && !this.options.owns(uai)) return;
    this.write(() =>
      this.options.repository.saveGatewayStatus({ uai, gateway, lastSeen, ...(state ? { state } : {}) }),
    );
  }

  /** Writes in arrival order; a failed write is logged, the in-memory view stays current. */
  private write(work: () => Promise<void>): void {
    this.writes = this.writes.then(work).then(
      () => {
        this.counters.stored += 1;
      },
      (error: unknown) => this.logger.error({ error: (error as Error).message }, 'gateway state not stored'),
    );
  }
}

/**
 * The dispatcher's publisher, telling `changed` of each school whose latest revs it publishes or
 * forgets: the dispatcher has set what `latest` answers by then, so a tracker's kept report of
 * that school is built again at its next read (`GatewayTracker.latestChanged`).
 */
export function telling(publisher: DispatcherPublisher, changed: (uai: string) => void): DispatcherPublisher {
  const clear = publisher.clear?.bind(publisher);
  return {
    apply: (changes) => {
      for (const uai of new Set(changes.map((change) => change.uai))) changed(uai);
      return publisher.apply(changes);
    },
    forget: (uai, ...rest) => {
      changed(uai);
      publisher.forget(uai, ...rest);
    },
    ...(clear ? { clear } : {}),
  };
}
