/**
 * Path and query parameters through their zod schema: every problem becomes a 400 naming the
 * parameter (`from (query)`), with a code a client can test (`parameter-missing`, `bad-range`…).
 */
import type { z } from 'zod';
import { InputError, type Problem } from '../../domain/problems.js';

export type ParameterLocation = 'query' | 'path';

export function parseParameters<Schema extends z.ZodType>(
  schema: Schema,
  values: Record<string, string | undefined>,
  location: ParameterLocation,
): z.infer<Schema> {
  const result = schema.safeParse(values);
  if (result.success) return result.data;
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const issue of result.error.issues) {
    const name = String(issue.path[0] ?? '');
    // One problem per parameter: a missing `from` also fails the range check.
    if (seen.has(name)) continue;
    seen.add(name);
    const params =
      issue.code === 'custom' ? (issue.params as { code?: unknown; where?: unknown } | undefined) : undefined;
    const custom = params?.code;
    const code =
      typeof custom === 'string'
        ? custom
        : values[name] === undefined
          ? 'parameter-missing'
          : 'bad-parameter';
    // A date parameter names itself (issue 13's contract: `where` is the parameter's name).
    const where = typeof params?.where === 'string' ? params.where : `${name} (${location})`;
    problems.push({ code, message: issue.message, where });
  }
  throw new InputError(problems, 'malformed');
}
