/**
 * What a gateway applies to one zone and function, from the retained `desired` and `schedule` it
 * has received (docs/mqtt.md, MQTT contract v1; docs/gateway-contract.md). Pure: messages
 * and the instant come in, the command to apply comes out.
 *
 * - `desired` carries a monotonic `rev`: the highest one seen wins; an older or equal rev (a QoS 1
 *   duplicate, a re-publication after a reconnect, a stale retained copy) changes nothing.
 * - Until its `valid_until`, `desired` is applied (`source: bridge`).
 * - After it, with no newer `desired`, the entry of the retained `schedule` holding now is followed
 *   (still the bridge's plan, `source: bridge`), then, once the schedule has run out, its
 *   `fallback_mode` (`source: local`), which the contract forbids to be a comfort mode: the building
 *   keeps running on its own but does not heat empty rooms (décret BACS autonomy).
 */
import { FALLBACK_MODE } from '../contract/desired-state.js';
import { LOCAL_SETPOINT_C } from '../contract/local-setpoints.js';
import type { DesiredPayload, HeatingMode, Mode, SchedulePayload } from '../contract/topics.js';
import type { ZoneFunction } from '../devices/schema.js';

/** Why the command is what it is. */
export type CommandBasis = 'desired' | 'schedule' | 'fallback';

export interface ZoneCommand {
  mode: Mode;
  /** Heating only; undefined for `off` and for lighting and ventilation. */
  setpointC?: number;
  /** `bridge` while following `desired` or `schedule`, `local` for the fallback. */
  source: 'bridge' | 'local';
  basis: CommandBasis;
  /** The highest `rev` accepted, 0 when none yet (the contract's `applied_rev`). */
  appliedRev: number;
}

export type DesiredOutcome = 'applied' | 'older' | 'duplicate';

export class ZoneController {
  private desired: DesiredPayload | undefined;
  private schedule: SchedulePayload | undefined;

  constructor(readonly fn: ZoneFunction) {}

  /** Keeps `payload` when its rev is the highest seen; says why not otherwise. */
  offerDesired(payload: DesiredPayload): DesiredOutcome {
    const current = this.desired?.rev ?? 0;
    if (payload.rev < current) return 'older';
    if (payload.rev === current) return 'duplicate';
    this.desired = payload;
    return 'applied';
  }

  /**
   * Keeps the newest schedule by `issued_at` (a schedule has no rev; a stale retained copy must not
   * replace the plan the bridge sent since).
   */
  offerSchedule(payload: SchedulePayload): 'kept' | 'older' {
    if (this.schedule && Date.parse(payload.issued_at) < Date.parse(this.schedule.issued_at)) return 'older';
    this.schedule = payload;
    return 'kept';
  }

  appliedRev(): number {
    return this.desired?.rev ?? 0;
  }

  hasInstructions(): boolean {
    return this.desired !== undefined || this.schedule !== undefined;
  }

  /** The command in force at `now` (epoch ms). */
  commandAt(now: number): ZoneCommand {
    const appliedRev = this.appliedRev();
    const desired = this.desired;
    if (desired && now < Date.parse(desired.valid_until)) {
      return withSetpoint(
        { mode: desired.mode, source: 'bridge', basis: 'desired', appliedRev },
        desired.setpoint_c,
      );
    }
    const entry = this.scheduleEntryAt(now);
    if (entry) {
      return withSetpoint(
        { mode: entry.mode, source: 'bridge', basis: 'schedule', appliedRev },
        entry.setpoint_c,
      );
    }
    const mode = this.schedule?.fallback_mode ?? FALLBACK_MODE[this.fn];
    const setpoint = this.fn === 'heating' ? LOCAL_SETPOINT_C[mode as HeatingMode] : undefined;
    return withSetpoint({ mode, source: 'local', basis: 'fallback', appliedRev }, setpoint);
  }

  /**
   * The next instant after `now` at which `commandAt` may change without a new message: the end of
   * `desired`, the next schedule entry, or the end of the schedule. Undefined when nothing is due.
   */
  nextChangeAfter(now: number): number | undefined {
    const candidates: number[] = [];
    if (this.desired) candidates.push(Date.parse(this.desired.valid_until));
    if (this.schedule) {
      candidates.push(Date.parse(this.schedule.valid_until));
      for (const entry of this.schedule.entries) candidates.push(Date.parse(entry.from));
    }
    const later = candidates.filter((at) => at > now);
    return later.length > 0 ? Math.min(...later) : undefined;
  }

  private scheduleEntryAt(now: number): SchedulePayload['entries'][number] | undefined {
    const schedule = this.schedule;
    if (!schedule || now >= Date.parse(schedule.valid_until)) return undefined;
    let holding: SchedulePayload['entries'][number] | undefined;
    // Entries are sorted by `from` (the schema refuses anything else); each holds until the next.
    for (const entry of schedule.entries) {
      if (Date.parse(entry.from) > now) break;
      holding = entry;
    }
    return holding;
  }
}

function withSetpoint(command: ZoneCommand, setpointC: number | undefined): ZoneCommand {
  return setpointC === undefined ? command : { ...command, setpointC };
}

/** True when two commands would be reported differently (what the bridge tracks). */
export function sameCommand(a: ZoneCommand, b: ZoneCommand): boolean {
  return (
    a.mode === b.mode &&
    a.setpointC === b.setpointC &&
    a.source === b.source &&
    a.basis === b.basis &&
    a.appliedRev === b.appliedRev
  );
}
