import { describe, expect, it } from 'vitest';
import {
  desiredContentHash,
  desiredContentOf,
  desiredPayload,
  FALLBACK_MODE,
  MAX_REASON_LESSONS,
  nextBoundaryAfter,
  schedulePayload,
  segmentAt,
} from '../../src/contract/desired-state.js';
import { desiredSchema, MAX_SCHEDULE_ENTRIES, scheduleSchema } from '../../src/contract/topics.js';
import { segment, timeline } from './dispatch-fixtures.js';

// Monday 2 March 2026, Europe/Paris = UTC+1: 07:00 local = 06:00Z.
const heating = timeline(
  'heating',
  [
    ['2026-03-01T23:00:00.000Z', 'eco', 16],
    ['2026-03-02T06:00:00.000Z', 'comfort', 19],
    ['2026-03-02T16:30:00.000Z', 'eco', 16],
    ['2026-03-03T06:00:00.000Z', 'comfort', 19],
    ['2026-03-03T16:30:00.000Z', 'eco', 16],
  ],
  '2026-03-05T23:00:00.000Z',
);

describe('segmentAt / nextBoundaryAfter', () => {
  it('finds the segment holding at an instant, start inclusive, end exclusive', () => {
    expect(segmentAt(heating, Date.parse('2026-03-02T06:00:00.000Z'))?.mode).toBe('comfort');
    expect(segmentAt(heating, Date.parse('2026-03-02T05:59:59.999Z'))?.mode).toBe('eco');
    expect(segmentAt(heating, Date.parse('2026-03-02T16:30:00.000Z'))?.mode).toBe('eco');
    expect(segmentAt(heating, Date.parse('2026-03-05T23:00:00.000Z'))).toBeUndefined();
    expect(segmentAt(heating, Date.parse('2026-03-01T22:59:59.999Z'))).toBeUndefined();
  });

  it('gives the next transition, or the start of a plan that begins later', () => {
    expect(nextBoundaryAfter(heating, Date.parse('2026-03-02T07:00:00.000Z'))).toBe(
      Date.parse('2026-03-02T16:30:00.000Z'),
    );
    expect(nextBoundaryAfter(heating, Date.parse('2026-03-01T12:00:00.000Z'))).toBe(
      Date.parse('2026-03-01T23:00:00.000Z'),
    );
    expect(nextBoundaryAfter(heating, Date.parse('2026-03-06T00:00:00.000Z'))).toBeUndefined();
  });
});

describe('desired', () => {
  it('holds the segment: mode, setpoint, valid_until = its end, compact reason', () => {
    const comfort = segment('heating', '2026-03-02T06:00:00.000Z', '2026-03-02T16:30:00.000Z', 'comfort', {
      setpoint: 19,
      kind: 'occupied',
      rule: 'defaults.heating.occupied',
      lessons: ['L1', 'L2'],
    });
    const payload = desiredPayload(desiredContentOf(comfort), 7, Date.parse('2026-03-02T06:00:00.000Z'));
    expect(payload).toEqual({
      rev: 7,
      mode: 'comfort',
      setpoint_c: 19,
      valid_until: '2026-03-02T16:30:00.000Z',
      reason: {
        rule: 'defaults.heating.occupied',
        basis: 'test basis',
        kind: 'occupied',
        lessons: ['L1', 'L2'],
      },
      issued_at: '2026-03-02T06:00:00.000Z',
    });
    expect(desiredSchema('heating').safeParse(payload).success).toBe(true);
  });

  it('keeps gap hours, caps the lessons list and never gives lighting a setpoint', () => {
    const lessons = Array.from({ length: 25 }, (_, i) => `L${i + 1}`);
    const lit = {
      ...segment('lighting', '2026-03-02T06:50:00.000Z', '2026-03-02T16:40:00.000Z', 'on', { lessons }),
      setpoint_c: 19,
    };
    const content = desiredContentOf(lit);
    expect(content).toEqual({
      mode: 'on',
      valid_until: '2026-03-02T16:40:00.000Z',
      reason: {
        rule: 'defaults.lighting.on',
        basis: 'test basis',
        kind: 'occupied',
        lessons: lessons.slice(0, MAX_REASON_LESSONS),
        lessons_total: 25,
      },
    });
    const gap = desiredContentOf(
      segment('heating', '2026-03-02T16:30:00.000Z', '2026-03-03T06:00:00.000Z', 'eco', {
        setpoint: 16,
        gap_hours: 13.5,
      }),
    );
    expect(gap.reason).toEqual({
      rule: 'defaults.heating.eco',
      basis: 'test basis',
      kind: 'short-gap',
      gap_hours: 13.5,
    });
  });

  it('hashes equal content equally and any change differently', () => {
    const a = desiredContentOf(heating[1]!);
    const same = desiredContentOf({ ...heating[1]!, reason: { ...heating[1]!.reason } });
    expect(desiredContentHash(same)).toBe(desiredContentHash(a));
    expect(desiredContentHash(desiredContentOf({ ...heating[1]!, setpoint_c: 18 }))).not.toBe(
      desiredContentHash(a),
    );
    expect(desiredContentHash(desiredContentOf({ ...heating[1]!, to: heating[1]!.to + 60_000 }))).not.toBe(
      desiredContentHash(a),
    );
    expect(
      desiredContentHash(
        desiredContentOf({ ...heating[1]!, reason: { ...heating[1]!.reason, rule: 'other' } }),
      ),
    ).not.toBe(desiredContentHash(a));
  });

  it('gives an override a reason code and its id, never its free text or author', () => {
    const overridden = {
      ...heating[1]!,
      reason: {
        kind: 'override' as const,
        rule: 'override:ov-1',
        basis: 'Réunion parents-profs (m.durand)',
        override_id: 'ov-1',
      },
    };
    const payload = desiredPayload(desiredContentOf(overridden), 2, Date.parse('2026-03-02T06:00:00.000Z'));
    expect(payload.reason).toEqual({
      rule: 'override:ov-1',
      kind: 'override',
      code: 'manual-override',
      override_id: 'ov-1',
    });
    expect(JSON.stringify(payload)).not.toMatch(/Réunion|durand/);
    expect(desiredSchema('heating').parse(payload)).toEqual(payload);
  });

  it('names the temperature rule beside the timing rule, and leaves the exception text to the audit', () => {
    const preheat = {
      ...heating[1]!,
      reason: {
        kind: 'preheat' as const,
        rule: 'defaults.heating.preheat_minutes',
        temperature_rule: 'defaults.heating.occupied',
        basis: 'local decision',
        exception: {
          justification: 'crèche',
          basis: 'R241-29',
          approved_by: 'Conseil régional, commission permanente',
          approved_on: '2026-09-15',
          reference: 'délibération CP-2026-09-042',
        },
      },
    };
    expect(desiredContentOf(preheat).reason).toEqual({
      rule: 'defaults.heating.preheat_minutes',
      basis: 'local decision',
      kind: 'preheat',
      temperature_rule: 'defaults.heating.occupied',
    });
  });

  it('carries the trace into the payload, valid under the contract, without changing the content hash', () => {
    const trace = { plan_hash: 'ab'.repeat(32), timetable_version: 3, rules_version: '2026.1+3f9a0c1d2e4b' };
    const content = desiredContentOf(heating[1]!, trace);
    expect(desiredContentHash(content)).toBe(desiredContentHash(desiredContentOf(heating[1]!)));
    const payload = desiredPayload(content, 4, Date.parse('2026-03-02T06:00:00.000Z'));
    expect(payload.trace).toEqual(trace);
    expect(desiredSchema('heating').parse(payload)).toEqual(payload);
    // A v1 payload (no trace) stays valid; a malformed trace is refused.
    const { trace: _omitted, ...v1 } = payload;
    expect(desiredSchema('heating').safeParse(v1).success).toBe(true);
    expect(
      desiredSchema('heating').safeParse({ ...payload, trace: { ...trace, plan_hash: '' } }).success,
    ).toBe(false);
  });
});

describe('schedule', () => {
  it('covers the next 48 h from the segment holding now, with the fallback mode', () => {
    const at = Date.parse('2026-03-02T07:00:00.000Z');
    const schedule = schedulePayload('heating', heating, at);
    expect(schedule).toEqual({
      issued_at: '2026-03-02T07:00:00.000Z',
      valid_until: '2026-03-04T07:00:00.000Z',
      entries: [
        { from: '2026-03-02T06:00:00.000Z', mode: 'comfort', setpoint_c: 19 },
        { from: '2026-03-02T16:30:00.000Z', mode: 'eco', setpoint_c: 16 },
        { from: '2026-03-03T06:00:00.000Z', mode: 'comfort', setpoint_c: 19 },
        { from: '2026-03-03T16:30:00.000Z', mode: 'eco', setpoint_c: 16 },
      ],
      fallback_mode: 'eco',
    });
    expect(scheduleSchema('heating').safeParse(schedule).success).toBe(true);
  });

  it('ends where the plan ends, merges equal neighbours, and is null outside the plan', () => {
    const lighting = [
      segment('lighting', '2026-03-02T06:50:00.000Z', '2026-03-02T11:00:00.000Z', 'on'),
      segment('lighting', '2026-03-02T11:00:00.000Z', '2026-03-02T16:40:00.000Z', 'on', {
        kind: 'merged-gap',
      }),
      segment('lighting', '2026-03-02T16:40:00.000Z', '2026-03-02T20:00:00.000Z', 'off'),
    ];
    expect(schedulePayload('lighting', lighting, Date.parse('2026-03-02T08:00:00.000Z'))).toEqual({
      issued_at: '2026-03-02T08:00:00.000Z',
      valid_until: '2026-03-02T20:00:00.000Z',
      entries: [
        { from: '2026-03-02T06:50:00.000Z', mode: 'on' },
        { from: '2026-03-02T16:40:00.000Z', mode: 'off' },
      ],
      fallback_mode: 'off',
    });
    expect(schedulePayload('lighting', lighting, Date.parse('2026-03-02T20:00:00.000Z'))).toBeNull();
  });

  it('cuts at 1,000 entries and ends where the first dropped entry starts', () => {
    const start = Date.parse('2026-03-02T00:00:00.000Z');
    const many = Array.from({ length: MAX_SCHEDULE_ENTRIES + 50 }, (_, i) =>
      segment(
        'lighting',
        new Date(start + i * 60_000).toISOString(),
        new Date(start + (i + 1) * 60_000).toISOString(),
        i % 2 === 0 ? 'on' : 'off',
      ),
    );
    const schedule = schedulePayload('lighting', many, start);
    expect(schedule?.entries).toHaveLength(MAX_SCHEDULE_ENTRIES);
    expect(schedule?.valid_until).toBe(new Date(start + MAX_SCHEDULE_ENTRIES * 60_000).toISOString());
    expect(scheduleSchema('lighting').safeParse(schedule).success).toBe(true);
  });

  it('never falls back to a comfort mode', () => {
    expect(FALLBACK_MODE).toEqual({ heating: 'eco', lighting: 'off', ventilation: 'off' });
  });
});
