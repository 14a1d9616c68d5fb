import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseYamlFile } from '../../src/config/yaml-file.js';
import { InputError } from '../../src/domain/problems.js';

const schema = z.strictObject({
  zones: z.array(z.strictObject({ id: z.string() })),
  even: z.int().refine((n) => n % 2 === 0, { message: 'must be even', params: { code: 'odd-number' } }),
});

function problemsOf(text: string) {
  try {
    parseYamlFile(text, 'devices/x.yaml', schema);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).problems;
  }
  throw new Error('expected an InputError');
}

describe('parseYamlFile', () => {
  it('reports each unknown key on its own line, and a refinement under its own code', () => {
    const text = 'zones:\n  - id: a\n  - id: b\n    romos: [1]\n    extra: 2\neven: 3\n';
    expect(problemsOf(text)).toEqual([
      {
        code: 'invalid-unrecognized-keys',
        message: 'Unrecognized key: "romos"',
        where: 'devices/x.yaml:4:12 (zones[1].romos)',
      },
      {
        code: 'invalid-unrecognized-keys',
        message: 'Unrecognized key: "extra"',
        where: 'devices/x.yaml:5:12 (zones[1].extra)',
      },
      { code: 'odd-number', message: 'must be even', where: 'devices/x.yaml:6:7 (even)' },
    ]);
  });
});
