import { describe, expect, it } from 'vitest';
import { type Z2mZoneFunction, z2mReported } from '../../src/bridge/z2m-feedback.js';

const NOW = Date.parse('2026-12-03T08:00:00Z');
const danfoss: Z2mZoneFunction = {
  uai: '0670999X',
  zone: 'salle-b101',
  gateway: 'gw-z2m',
  function: 'heating',
  options: { device: 'vanne-b101' },
  models: { heating: '014G2461' },
};

describe('z2mReported through a device profile', () => {
  it('acknowledges a valve without a mode by its setpoint, off by its off setpoint', () => {
    const state = {
      occupied_heating_setpoint: 16,
      occupied_heating_setpoint_scheduled: 16,
      local_temperature: 18.2,
    };
    expect(z2mReported(danfoss, state, { rev: 3, mode: 'eco', setpoint_c: 16 }, undefined, NOW)).toEqual({
      applied_rev: 3,
      mode: 'eco',
      setpoint_c: 16,
      measured_c: 18.2,
      source: 'bridge',
      ts: '2026-12-03T08:00:00.000Z',
    });
    expect(
      z2mReported(
        danfoss,
        { occupied_heating_setpoint_scheduled: 5 },
        { rev: 4, mode: 'off' },
        undefined,
        NOW,
      ),
    ).toMatchObject({ applied_rev: 4, mode: 'off', setpoint_c: 5, source: 'bridge' });
  });

  it('reads manual when the device says the change was made at it, even before it applied the latest rev', () => {
    const previous = {
      applied_rev: 2,
      mode: 'eco' as const,
      setpoint_c: 16,
      source: 'bridge' as const,
      ts: '',
    };
    const latest = { rev: 3, mode: 'comfort', setpoint_c: 19 };
    // Not yet applied, no sign of a local change: the earlier rev and source stay (lagging later).
    expect(
      z2mReported(
        danfoss,
        { occupied_heating_setpoint_scheduled: 16, setpoint_change_source: 'externally' },
        latest,
        previous,
        NOW,
      ),
    ).toMatchObject({ applied_rev: 2, mode: 'eco', source: 'bridge' });
    // Someone turned the knob.
    expect(
      z2mReported(
        danfoss,
        { occupied_heating_setpoint_scheduled: 22, setpoint_change_source: 'manual' },
        latest,
        previous,
        NOW,
      ),
    ).toMatchObject({ applied_rev: 2, mode: 'eco', setpoint_c: 22, source: 'manual' });
  });

  it("maps a mode value back through the profile (Bosch's pause is off)", () => {
    const bosch: Z2mZoneFunction = { ...danfoss, models: { heating: 'BTH-RA' } };
    expect(
      z2mReported(
        bosch,
        { operating_mode: 'pause', occupied_heating_setpoint: 12 },
        { rev: 5, mode: 'off' },
        undefined,
        NOW,
      ),
    ).toMatchObject({ applied_rev: 5, mode: 'off', source: 'bridge' });
    // A state without the mode property says nothing about the mode.
    expect(
      z2mReported(bosch, { occupied_heating_setpoint: 12 }, { rev: 5, mode: 'off' }, undefined, NOW),
    ).toBeNull();
  });
});
