import { describe, expect, it } from 'vitest';
import { type Override, overrideSchema, overrideSlices } from '../../src/rules/overrides.js';
import { t } from './plan-fixtures.js';

const base: Override = {
  id: 'a',
  zone: 'cdi',
  function: 'heating',
  mode: 'comfort',
  setpoint_c: 19,
  from: t('2026-01-13T17:00:00Z'),
  until: t('2026-01-13T20:00:00Z'),
  author: 'm.durand',
  reason: 'conseil de classe',
  created_at: t('2026-01-10T09:00:00Z'),
};

describe('overrides', () => {
  it('on equal creation times the greater id wins, deterministically', () => {
    const b = { ...base, id: 'b', mode: 'eco' as const };
    const slices = overrideSlices([b, base], {
      from: t('2026-01-13T00:00:00Z'),
      to: t('2026-01-14T00:00:00Z'),
    });
    expect(slices.map((s) => [s.from, s.to, s.winner.id, s.shadowed.map((o) => o.id)])).toEqual([
      [t('2026-01-13T17:00:00Z'), t('2026-01-13T20:00:00Z'), 'b', ['a']],
    ]);
  });

  it('schema refuses on/off modes for heating, a backwards interval and more than 14 days', () => {
    const result = overrideSchema.safeParse({ ...base, mode: 'on', until: base.from - 1 });
    expect(result.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['mode', 'mode must be one of comfort, comfort_1, comfort_2, eco, frost, off for heating'],
      ['until', 'until must be after from'],
    ]);
    const long = overrideSchema.safeParse({ ...base, until: base.from + 15 * 86_400_000 });
    expect(long.error?.issues.map((i) => i.message)).toEqual(['an override lasts at most 14 days']);
    expect(
      overrideSchema.parse({ ...base, function: 'lighting', mode: 'on', setpoint_c: undefined }).mode,
    ).toBe('on');
  });
});
