/**
 * The gateway's decision, without MQTT: highest rev wins; after valid_until the schedule, then the
 * fallback, never comfort.
 */
import { describe, expect, it } from 'vitest';
import type { DesiredPayload, SchedulePayload } from '../../src/contract/topics.js';
import { ZoneController } from '../../src/gateway/zone-controller.js';

const at = (iso: string) => Date.parse(iso);

function desired(
  rev: number,
  mode: DesiredPayload['mode'],
  setpoint: number | undefined,
  validUntil: string,
): DesiredPayload {
  return {
    rev,
    mode,
    ...(setpoint !== undefined ? { setpoint_c: setpoint } : {}),
    valid_until: validUntil,
    reason: { rule: 'R241-26' },
    issued_at: '2026-03-02T06:00:00.000Z',
  };
}

const SCHEDULE: SchedulePayload = {
  issued_at: '2026-03-02T06:00:00.000Z',
  valid_until: '2026-03-02T20:00:00.000Z',
  entries: [
    { from: '2026-03-02T07:00:00.000Z', mode: 'comfort', setpoint_c: 19 },
    { from: '2026-03-02T12:00:00.000Z', mode: 'eco', setpoint_c: 16 },
    { from: '2026-03-02T13:00:00.000Z', mode: 'comfort', setpoint_c: 19 },
  ],
  fallback_mode: 'frost',
};

describe('ZoneController', () => {
  it('applies the highest rev and ignores older and equal ones', () => {
    const zone = new ZoneController('heating');
    expect(zone.offerDesired(desired(5, 'comfort', 19, '2026-03-02T12:00:00.000Z'))).toBe('applied');
    expect(zone.offerDesired(desired(4, 'off', undefined, '2026-03-02T12:00:00.000Z'))).toBe('older');
    expect(zone.offerDesired(desired(5, 'eco', 16, '2026-03-02T12:00:00.000Z'))).toBe('duplicate');
    expect(zone.commandAt(at('2026-03-02T08:00:00Z'))).toEqual({
      mode: 'comfort',
      setpointC: 19,
      source: 'bridge',
      basis: 'desired',
      appliedRev: 5,
    });
    expect(zone.offerDesired(desired(6, 'eco', 16, '2026-03-02T12:00:00.000Z'))).toBe('applied');
    expect(zone.commandAt(at('2026-03-02T08:00:00Z'))).toMatchObject({
      mode: 'eco',
      setpointC: 16,
      appliedRev: 6,
    });
  });

  it('after valid_until follows the schedule, then its fallback mode, never comfort', () => {
    const zone = new ZoneController('heating');
    zone.offerDesired(desired(3, 'comfort', 19, '2026-03-02T09:00:00.000Z'));
    zone.offerSchedule(SCHEDULE);
    const command = (iso: string) => zone.commandAt(at(iso));
    expect(command('2026-03-02T08:59:59.999Z')).toEqual({
      mode: 'comfort',
      setpointC: 19,
      source: 'bridge',
      basis: 'desired',
      appliedRev: 3,
    });
    expect(command('2026-03-02T12:30:00Z')).toEqual({
      mode: 'eco',
      setpointC: 16,
      source: 'bridge',
      basis: 'schedule',
      appliedRev: 3,
    });
    expect(command('2026-03-02T19:59:00Z')).toMatchObject({ mode: 'comfort', basis: 'schedule' });
    expect(command('2026-03-02T20:00:00Z')).toEqual({
      mode: 'frost',
      setpointC: 8,
      source: 'local',
      basis: 'fallback',
      appliedRev: 3,
    });
    expect(zone.nextChangeAfter(at('2026-03-02T08:00:00Z'))).toBe(at('2026-03-02T09:00:00Z'));
    expect(zone.nextChangeAfter(at('2026-03-02T12:00:00Z'))).toBe(at('2026-03-02T13:00:00Z'));
    expect(zone.nextChangeAfter(at('2026-03-02T20:00:00Z'))).toBeUndefined();
  });

  it('falls back to eco 16 °C with neither desired nor schedule, and switches lighting off', () => {
    expect(new ZoneController('heating').commandAt(at('2026-03-02T08:00:00Z'))).toEqual({
      mode: 'eco',
      setpointC: 16,
      source: 'local',
      basis: 'fallback',
      appliedRev: 0,
    });
    expect(new ZoneController('lighting').commandAt(at('2026-03-02T08:00:00Z'))).toEqual({
      mode: 'off',
      source: 'local',
      basis: 'fallback',
      appliedRev: 0,
    });
  });

  it('before the first schedule entry, with desired expired, uses the fallback', () => {
    const zone = new ZoneController('heating');
    zone.offerSchedule(SCHEDULE);
    expect(zone.commandAt(at('2026-03-02T06:30:00Z'))).toMatchObject({ mode: 'frost', basis: 'fallback' });
  });

  it('keeps the newest schedule by issued_at', () => {
    const zone = new ZoneController('heating');
    zone.offerSchedule(SCHEDULE);
    const older: SchedulePayload = {
      ...SCHEDULE,
      issued_at: '2026-03-02T05:00:00.000Z',
      entries: [{ from: '2026-03-02T07:00:00.000Z', mode: 'off' }],
    };
    expect(zone.offerSchedule(older)).toBe('older');
    expect(zone.commandAt(at('2026-03-02T08:00:00Z'))).toMatchObject({ mode: 'comfort', basis: 'schedule' });
  });
});
