/**
 * One error body everywhere: `{errors: [{code, message, where}]}` (docs/architecture.md, "Errors"), with the
 * status chosen by the kind of input error. Unexpected errors become a 500 without internals.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { InputError, InputErrorKind, Problem } from '../domain/problems.js';

const STATUS: Record<InputErrorKind, ContentfulStatusCode> = {
  malformed: 400,
  invalid: 422,
  unsupported: 415,
  'too-large': 413,
};

export function problemResponse(c: Context, status: ContentfulStatusCode, problems: Problem[]): Response {
  return c.json({ errors: problems }, status);
}

export function notFound(c: Context, what: string, where: string): Response {
  return problemResponse(c, 404, [{ code: 'not-found', message: `${what} not found`, where }]);
}

export function inputErrorResponse(c: Context, error: InputError): Response {
  return problemResponse(c, STATUS[error.kind], error.problems);
}

export function statusOfInputError(error: InputError): ContentfulStatusCode {
  return STATUS[error.kind];
}
