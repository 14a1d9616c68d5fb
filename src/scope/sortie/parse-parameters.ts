/**
 * Path and query parameters through their zod schema: every problem becomes a 400 naming the
 * parameter (`from (query)`), with a code a client can test (`parameter-missing`, `bad-range`…).
 * The mapping is the documented routes' own (src/http/openapi-route.ts).
 */
import type { z } from 'zod';
import { InputError } from '../../domain/problems.js';
import { type ParameterLocation, parameterProblems } from '../../http/openapi-route.js';

export type { ParameterLocation };

export function parseParameters<Schema extends z.ZodType>(
  schema: Schema,
  values: Record<string, string | undefined>,
  location: ParameterLocation,
): z.infer<Schema> {
  const result = schema.safeParse(values);
  if (result.success) return result.data;
  throw new InputError(parameterProblems(result.error.issues, values, location), 'malformed');
}
