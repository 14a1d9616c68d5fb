/**
 * Managers' overrides (docs/rules.md, "Overrides"; docs/regulation.md, "Control practice"): hold
 * a zone's function in a mode until an instant, for a duration, or until the next planned change,
 * never longer than 14 days, with author, reason, creation time and expiry. The newest of two
 * overlapping overrides wins and the other is listed as shadowed. Every start, cancellation and
 * expiry is recorded as an event. An override's end is a segment boundary of the plan, so the
 * dispatcher's timer switches back at the exact instant; the expiry timer here only records the
 * event and tells planning (which replans, harmlessly).
 */

import { randomUUID } from 'node:crypto';
import { DateTime, Duration } from 'luxon';
import { z } from 'zod';
import { ZONE_FUNCTIONS, type Zone, type ZoneFunction } from '../devices/schema.js';
import type { Clock } from '../domain/clock.js';
import { instantParameterProblem } from '../domain/dates.js';
import { InputError, type Problem } from '../domain/problems.js';
import { describeUaiProblem, normaliseUai } from '../domain/uai.js';
import type { Part } from '../lifecycle/part.js';
import {
  OVERRIDE_MAX_DURATION_MS,
  type Override,
  overrideSchema,
  shadowedOverrides,
} from '../rules/overrides.js';
import type { TimeRange } from '../rules/planner.js';
import { resolveZoneRules } from '../rules/resolve.js';
import { HEATING_MODES, LEGAL_CAPS, SWITCH_MODES } from '../rules/schema.js';
import type { Site } from '../site/load-site.js';
import type {
  OverrideEvent,
  OverrideRepository,
  OverrideRequest,
  StoredOverride,
} from '../store/override-repository.js';
import type { AuditSink } from './audit-events.js';

/** ISO 8601 durations luxon reads, without fractions or years/months (whose length varies). */
const ISO_DURATION = /^P(?!$)(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/;

/** Body of `POST /api/overrides`: exactly one of `until` (an instant, or "next-change") and `duration`. */
export const createOverrideBodySchema = z
  .strictObject({
    uai: z.string().min(1),
    zone: z.string().min(1),
    function: z.enum(ZONE_FUNCTIONS),
    mode: z.enum([...HEATING_MODES, ...SWITCH_MODES]),
    setpoint_c: z.number().min(5).max(30).optional(),
    until: z
      .string({ error: 'expected an instant with its offset (2026-01-13T20:00:00Z) or "next-change"' })
      .superRefine((text, ctx) => {
        if (text === 'next-change') return;
        // A date parameter like any other (issue 13): `invalid-date` or `date-out-of-range`.
        const problem = instantParameterProblem(text, '$.until');
        if (problem) {
          ctx.addIssue({
            code: 'custom',
            message:
              problem.code === 'invalid-date'
                ? 'expected an instant with its offset (2026-01-13T20:00:00Z, 2026-01-13T21:00:00+01:00) or "next-change"'
                : problem.message,
            params: { code: problem.code },
          });
        }
      })
      .optional(),
    duration: z
      .union([z.int().positive(), z.string()], {
        error: 'expected minutes (a positive whole number) or an ISO 8601 duration such as PT2H, PT90M, P3D',
      })
      .refine((value) => typeof value === 'number' || ISO_DURATION.test(value), {
        message:
          'expected minutes (a positive whole number) or an ISO 8601 duration such as PT2H, PT90M, P3D',
        params: { code: 'bad-duration' },
      })
      .optional(),
    reason: z.string().trim().min(1, 'say why (it is shown in the plan and the audit)').max(500),
  })
  .superRefine((body, ctx) => {
    const given = [body.until, body.duration].filter((v) => v !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [body.until === undefined ? 'until' : 'duration'],
        message:
          given === 0
            ? 'say when the override ends: until (an instant or "next-change") or duration'
            : 'give until or duration, not both',
        params: { code: given === 0 ? 'end-missing' : 'end-ambiguous' },
      });
    }
  })
  // The same rule for the published schema (a refinement has no JSON Schema of its own).
  .meta({ oneOf: [{ required: ['until'] }, { required: ['duration'] }] });
export type CreateOverrideBody = z.infer<typeof createOverrideBodySchema>;

/** An override as the API shows it. */
export interface OverrideView {
  id: string;
  uai: string;
  zone: string;
  function: ZoneFunction;
  mode: string;
  setpoint_c?: number;
  /** ISO 8601 UTC. */
  from: string;
  /** Effective end (the cancellation instant once cancelled). */
  until: string;
  requested: OverrideRequest;
  requested_until: string;
  author: string;
  reason: string;
  created_at: string;
  status: 'active' | 'scheduled' | 'expired' | 'cancelled';
  cancelled_at?: string;
  cancelled_by?: string;
  /** Where a newer override hides this one. */
  shadowed_by: Array<{ override_id: string; from: string; to: string }>;
}

export interface OverridesServiceOptions {
  repository: OverrideRepository;
  site: { readonly current: Site };
  clock: Clock;
  /** "next-change": the next planned change of the zone's function after `at` (`nextPlannedChange`, planning.ts). */
  nextChange: (uai: string, zone: string, fn: ZoneFunction, at: number, withinMs: number) => number | null;
  logger?: { error(obj: object, msg?: string): void };
  /** The audit log: refused requests are recorded there (issue 21). */
  audit?: AuditSink | undefined;
}

/** Longest wait of the expiry timer before it looks again (clock jumps, setTimeout's 24.8-day limit). */
const MAX_TIMER_MS = 3_600_000;

export class OverridesService implements Part {
  private readonly listeners = new Set<(uai: string) => void>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly options: OverridesServiceOptions) {}

  /** Records expiries missed while stopped, then arms the expiry timer. */
  async start(): Promise<void> {
    this.running = true;
    await this.recordExpired();
    await this.arm();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  onChange(listener: (uai: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Validates and stores an override by `author` (the principal's client id). Throws `InputError`:
   * `malformed` (400) for a body of the wrong shape, `invalid` (422) for a rule it breaks; a school
   * without devices file or an unknown zone is a `not-found` problem (the route answers 404).
   */
  async create(input: unknown, author: string): Promise<OverrideView> {
    const parsed = createOverrideBodySchema.safeParse(input);
    if (!parsed.success) throw new InputError(parsed.error.issues.map(problemOf), 'malformed');
    const body = parsed.data;
    const uai = normaliseUai(body.uai);
    const uaiProblem = describeUaiProblem(uai);
    if (uaiProblem) throw InputError.of('bad-uai', uaiProblem, '$.uai', 'malformed');
    const devices = this.options.site.current.devices.get(uai);
    if (!devices) throw new NotFoundError(`establishment ${uai}`, '$.uai');
    const zone = devices.value.zones.find((z) => z.id === body.zone);
    if (!zone) throw new NotFoundError(`zone ${body.zone} of ${uai}`, '$.zone');
    if (!zone.functions.includes(body.function)) {
      throw InputError.of(
        'function-not-in-zone',
        `zone ${zone.id} has no ${body.function} (it has ${zone.functions.join(', ')})`,
        '$.function',
      );
    }
    if (body.setpoint_c !== undefined) {
      if (body.function !== 'heating') {
        throw InputError.of('setpoint-not-applicable', `${body.function} takes no setpoint`, '$.setpoint_c');
      }
      // Code de l'énergie R241-26: 19 °C at most on average in occupied teaching premises; an
      // override is a manager's call, not a written exception (rules.md: only a rule file's
      // `exception` may go above a cap), so no override heats above it.
      const cap = LEGAL_CAPS.occupied;
      if (body.setpoint_c > cap.max_c) {
        const message = `${body.setpoint_c} °C is above the legal cap of ${cap.max_c} °C (${cap.basis}); an exception belongs in the rule file, with its justification`;
        // Issue 21: a refused request leaves a trace, with who asked and why it was refused.
        this.options.audit?.([
          {
            kind: 'override',
            at: this.options.clock.now(),
            actor: author,
            uai,
            zone: zone.id,
            detail: { event: 'refused', code: 'setpoint-above-legal-cap', refusal: message, requested: body },
          },
        ]);
        throw InputError.of('setpoint-above-legal-cap', message, '$.setpoint_c');
      }
    }

    const setpoint = body.setpoint_c ?? this.ruleSetpoint(uai, zone, body.function, body.mode);

    const now = this.options.clock.now();
    const { until, requested, where } = this.resolveEnd(body, uai, devices.value.school.timezone, now);
    if (until <= now) {
      throw InputError.of(
        'until-not-future',
        `the override would end at ${iso(until)}, not after now (${iso(now)})`,
        where,
      );
    }
    if (until - now > OVERRIDE_MAX_DURATION_MS) {
      throw InputError.of(
        'override-too-long',
        `an override lasts at most 14 days (rules.md, "Overrides"); this one would end at ${iso(until)}`,
        where,
      );
    }
    const override: StoredOverride = {
      id: randomUUID(),
      uai,
      zone: zone.id,
      function: body.function,
      mode: body.mode,
      ...(setpoint === undefined ? {} : { setpoint_c: setpoint }),
      from: now,
      until,
      author,
      reason: body.reason,
      created_at: now,
      requested,
      requestedUntil: until,
      cancelledAt: null,
      cancelledBy: null,
      endRecordedAt: null,
    };
    // The planner's own check (mode per function, interval, cap): one definition of a valid override.
    const checked = overrideSchema.safeParse(plainOverride(override));
    if (!checked.success) throw new InputError(checked.error.issues.map(problemOf), 'invalid');

    await this.options.repository.create(override);
    this.changed(uai);
    return this.view(override);
  }

  /** The override, or null. */
  async get(id: string): Promise<OverrideView | null> {
    const override = await this.options.repository.get(id);
    return override ? this.view(override) : null;
  }

  async getStored(id: string): Promise<StoredOverride | null> {
    return this.options.repository.get(id);
  }

  /** Overrides of these schools, newest first; `active` keeps those in force now. */
  async list(filter: { uais?: readonly string[]; active?: boolean }): Promise<OverrideView[]> {
    const now = this.options.clock.now();
    const all = await this.options.repository.list(filter.uais ? { uais: filter.uais } : {});
    const kept = filter.active === undefined ? all : all.filter((o) => isActive(o, now) === filter.active);
    const views = await Promise.all(kept.map((o) => this.view(o)));
    return views.reverse();
  }

  /** Ends an override now; `null` when unknown, `already-ended` when it had expired or was cancelled. */
  async cancel(
    id: string,
    by: string,
  ): Promise<{ status: 'cancelled' | 'already-ended'; override: OverrideView } | null> {
    const result = await this.options.repository.cancel(id, this.options.clock.now(), by);
    if (result.status === 'not-found') return null;
    if (result.status === 'cancelled') {
      this.changed(result.override.uai);
    }
    return { status: result.status, override: await this.view(result.override) };
  }

  /** Overrides of a school overlapping `range`, for the planner. */
  async overridesFor(uai: string, range: TimeRange): Promise<Override[]> {
    const stored = await this.options.repository.list({ uais: [uai], overlapping: range });
    return stored.map(plainOverride);
  }

  events(filter: { overrideId?: string; uai?: string } = {}): Promise<OverrideEvent[]> {
    return this.options.repository.events(filter);
  }

  /** Records the expiry of every override that ran out by now; tells planning. */
  async recordExpired(): Promise<StoredOverride[]> {
    const ended = await this.options.repository.recordExpired(this.options.clock.now());
    for (const uai of new Set(ended.map((o) => o.uai))) this.changed(uai);
    return ended;
  }

  private changed(uai: string): void {
    for (const listener of this.listeners) listener(uai);
    if (this.running) void this.arm();
  }

  private async arm(): Promise<void> {
    clearTimeout(this.timer);
    if (!this.running) return;
    const now = this.options.clock.now();
    const next = await this.options.repository.nextEnd(now);
    const delay = Math.min(MAX_TIMER_MS, next === null ? MAX_TIMER_MS : Math.max(0, next - now));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.recordExpired()
        .catch((error: unknown) =>
          this.options.logger?.error({ err: error }, 'recording override expiries failed'),
        )
        .finally(() => void this.arm());
    }, delay);
    this.timer.unref();
  }

  /**
   * The comfort setpoint the rules give this zone, for a `comfort` override without one: the
   * gateway then heats to the zone's occupied comfort value, not to whatever it last had (issue
   * 13). Taken at creation, so the override keeps the value it was shown with if the rules change
   * meanwhile. Other modes keep no setpoint unless one is given, as before.
   */
  private ruleSetpoint(uai: string, zone: Zone, fn: ZoneFunction, mode: string): number | undefined {
    if (fn !== 'heating' || mode !== 'comfort') return undefined;
    const heating = resolveZoneRules(this.options.site.current.ruleSet, uai, zone).heating;
    const entries = [
      heating.occupied,
      heating.unoccupied_under_24h,
      heating.unoccupied_24h_to_48h,
      heating.unoccupied_48h_or_more,
    ];
    return entries.find((entry) => entry.mode === 'comfort' && entry.setpoint_c !== undefined)?.setpoint_c;
  }

  private resolveEnd(
    body: CreateOverrideBody,
    uai: string,
    timezone: string,
    now: number,
  ): { until: number; requested: OverrideRequest; where: string } {
    if (body.until === 'next-change') {
      const next = this.options.nextChange(uai, body.zone, body.function, now, OVERRIDE_MAX_DURATION_MS);
      if (next === null) {
        throw InputError.of(
          'no-next-change',
          `the plan of ${body.zone} ${body.function} does not change within 14 days: give an instant or a duration`,
          '$.until',
        );
      }
      return { until: next, requested: { next_change: true }, where: '$.until' };
    }
    if (body.until !== undefined) {
      return { until: Date.parse(body.until), requested: { until: body.until }, where: '$.until' };
    }
    const duration =
      typeof body.duration === 'number'
        ? Duration.fromObject({ minutes: body.duration })
        : Duration.fromISO(body.duration ?? '');
    if (!duration.isValid)
      throw InputError.of('bad-duration', `"${body.duration}" is not a duration`, '$.duration', 'malformed');
    // Added on the school's wall clock: "P1D" across a DST night is the same time tomorrow, not 24 h.
    const until = DateTime.fromMillis(now, { zone: timezone }).plus(duration).toMillis();
    return {
      until,
      requested: {
        duration: typeof body.duration === 'number' ? `PT${body.duration}M` : (body.duration as string),
      },
      where: '$.duration',
    };
  }

  private async view(o: StoredOverride): Promise<OverrideView> {
    const now = this.options.clock.now();
    const siblings = await this.options.repository.list({
      uais: [o.uai],
      overlapping: { from: o.from, to: o.until },
    });
    const shadowed = shadowedOverrides(siblings.map(plainOverride), o.zone, o.function, {
      from: o.from,
      to: o.until,
    })
      .filter((s) => s.override_id === o.id)
      .map((s) => ({ override_id: s.by, from: iso(s.from), to: iso(s.to) }));
    return {
      id: o.id,
      uai: o.uai,
      zone: o.zone,
      function: o.function,
      mode: o.mode,
      ...(o.setpoint_c === undefined ? {} : { setpoint_c: o.setpoint_c }),
      from: iso(o.from),
      until: iso(o.until),
      requested: o.requested,
      requested_until: iso(o.requestedUntil),
      author: o.author,
      reason: o.reason,
      created_at: iso(o.created_at),
      status:
        o.cancelledAt !== null
          ? 'cancelled'
          : o.until <= now
            ? 'expired'
            : o.from > now
              ? 'scheduled'
              : 'active',
      ...(o.cancelledAt === null ? {} : { cancelled_at: iso(o.cancelledAt) }),
      ...(o.cancelledBy === null ? {} : { cancelled_by: o.cancelledBy }),
      shadowed_by: shadowed,
    };
  }
}

/** A school or zone the caller may not see or that does not exist: the route answers 404. */
export class NotFoundError extends Error {
  constructor(
    readonly what: string,
    readonly where: string,
  ) {
    super(`${what} not found`);
    this.name = 'NotFoundError';
  }
}

function isActive(o: StoredOverride, now: number): boolean {
  return o.cancelledAt === null && o.from <= now && now < o.until;
}

export function plainOverride(o: StoredOverride): Override {
  return {
    id: o.id,
    zone: o.zone,
    function: o.function,
    mode: o.mode,
    ...(o.setpoint_c === undefined ? {} : { setpoint_c: o.setpoint_c }),
    from: o.from,
    until: o.until,
    author: o.author,
    reason: o.reason,
    created_at: o.created_at,
  };
}

/** A zod issue as a problem naming its JSON path (`$.field`) and a stable code. */
export function problemOf(issue: z.core.$ZodIssue): Problem {
  const params = (issue as { params?: { code?: unknown } }).params;
  const code =
    typeof params?.code === 'string'
      ? params.code
      : issue.code === 'unrecognized_keys'
        ? 'field-unknown'
        : issue.code === 'invalid_type' && issue.input === undefined
          ? 'field-missing'
          : issue.code === 'custom'
            ? 'field-invalid'
            : `field-${issue.code.replaceAll('_', '-')}`;
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  const keys = issue.code === 'unrecognized_keys' ? `.${issue.keys[0]}` : '';
  return { code, message: issue.message, where: `$${path}${keys}` };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
