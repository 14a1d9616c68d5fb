/** The shared date-parameter check: calendar dates within 2000-01-01..2099-12-31, named. */
import { describe, expect, it } from 'vitest';
import { dateParameterProblem, instantParameterProblem, parseDateParameter } from '../../src/domain/dates.js';
import { InputError } from '../../src/domain/problems.js';

describe('date parameters', () => {
  it('accepts calendar dates of the supported range, leap days included', () => {
    for (const date of ['2000-01-01', '2024-02-29', '2000-02-29', '2099-12-31']) {
      expect(dateParameterProblem(date, 'date')).toBeNull();
    }
  });

  it('names malformed dates invalid-date', () => {
    for (const text of [
      '2026-02-29',
      '2100-02-29',
      '2026-13-01',
      '2026-04-31',
      '2026-1-01',
      '01/12/2026',
      '',
      'x'.repeat(10_000),
    ]) {
      expect(dateParameterProblem(text, 'from')?.code, text).toBe('invalid-date');
      expect(dateParameterProblem(text, 'from')?.where).toBe('from');
    }
    expect(dateParameterProblem('x'.repeat(10_000), 'from')?.message.length).toBeLessThan(80);
  });

  it('names real dates outside 2000..2099 date-out-of-range (each answered 500 before issue 13)', () => {
    for (const text of ['0020-02-29', '0000-01-01', '9999-12-31', '9999-12-27', '1999-12-31', '2100-01-01']) {
      expect(dateParameterProblem(text, 'semaine'), text).toEqual({
        code: 'date-out-of-range',
        message: `${text} is outside the supported dates 2000-01-01 to 2099-12-31`,
        where: 'semaine',
      });
    }
  });

  it('throws a malformed InputError (400) from parseDateParameter', () => {
    expect(parseDateParameter('2026-11-30', 'jour')).toBe('2026-11-30');
    try {
      parseDateParameter('9999-12-31', 'jour');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).kind).toBe('malformed');
      expect((error as InputError).problems[0]?.code).toBe('date-out-of-range');
    }
  });

  it('checks instants the same way, by their UTC year', () => {
    expect(instantParameterProblem('2026-01-13T20:00:00+01:00', 'until')).toBeNull();
    expect(instantParameterProblem('2026-01-13 20:00', 'until')?.code).toBe('invalid-date');
    expect(instantParameterProblem('2026-02-30T00:00:00Z', 'until')?.code).toBe('invalid-date');
    expect(instantParameterProblem('9999-12-31T23:00:00-05:00', 'until')?.code).toBe('date-out-of-range');
    expect(instantParameterProblem('0000-01-01T00:00:00Z', 'until')?.code).toBe('date-out-of-range');
  });
});
