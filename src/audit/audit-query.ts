/**
 * The filters of an audit read (`GET /api/audit`, `scope-energie audit export`), validated at the
 * edge: each problem names the parameter it comes from.
 */
import { z } from 'zod';
import { AUDIT_KINDS, type AuditKind } from '../domain/audit-entry.js';
import { instantParameterProblem } from '../domain/dates.js';
import { InputError, type Problem } from '../domain/problems.js';
import { normaliseUai, UAI_PATTERN } from '../domain/uai.js';

export const AUDIT_FORMATS = ['json', 'csv'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

/** Default and largest `limit`: a school's publishes over a term fit, a runaway query does not. */
export const AUDIT_DEFAULT_LIMIT = 10_000;
export const AUDIT_MAX_LIMIT = 100_000;

export interface AuditQuery {
  uai?: string;
  zone?: string;
  kind?: AuditKind;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  format: AuditFormat;
  limit: number;
}

/** An instant with its offset (dates.ts): `invalid-date` or `date-out-of-range` otherwise. */
const instant = (name: string) =>
  z
    .string()
    .superRefine((text, ctx) => {
      const problem = instantParameterProblem(text, name);
      if (problem) ctx.addIssue({ code: 'custom', message: problem.message, params: { code: problem.code } });
    })
    .transform((t) => Date.parse(t));

/** The query of `GET /api/audit` as validated and published (src/audit/audit-routes.ts). */
export const auditQuerySchema = z.object({
  uai: z
    .string()
    .min(1)
    .optional()
    .meta({ pattern: UAI_PATTERN, description: 'One school (7 digits and a check letter; else `bad-uai`)' }),
  zone: z.string().min(1).optional(),
  kind: z.enum(AUDIT_KINDS).optional(),
  from: instant('from').optional().meta({
    format: 'date-time',
    description:
      'Inclusive instant with its offset, within 2000–2099 (else `invalid-date`, `date-out-of-range`)',
  }),
  to: instant('to').optional().meta({
    format: 'date-time',
    description:
      'Exclusive instant with its offset, after `from` (else `bad-period`), within 2000–2099 (else `invalid-date`, `date-out-of-range`)',
  }),
  format: z.enum(AUDIT_FORMATS).default('json'),
  limit: z
    .string()
    .regex(/^\d{1,6}$/, 'must be a whole number')
    .transform(Number)
    .refine((n) => n >= 1 && n <= AUDIT_MAX_LIMIT, `must be between 1 and ${AUDIT_MAX_LIMIT}`)
    .optional()
    .meta({
      type: 'integer',
      minimum: 1,
      maximum: AUDIT_MAX_LIMIT,
      description: `Most entries answered (default ${AUDIT_DEFAULT_LIMIT})`,
    }),
});

/** Issues of the audit query as problems: `bad-<name>` unless the issue names its code. */
export function auditQueryProblems(
  issues: readonly z.core.$ZodIssue[],
  whereOf: (name: string) => string,
): Problem[] {
  return issues.map((issue) => {
    const name = String(issue.path[0] ?? 'query');
    const code = (issue as { params?: { code?: unknown } }).params?.code;
    return {
      code: typeof code === 'string' ? code : `bad-${name}`,
      message: `${name}: ${issue.message}`,
      where: whereOf(name),
    };
  });
}

/**
 * Parses raw parameters; `where` names where a parameter comes from, e.g. `(query)` or `--`.
 * Throws `InputError` (malformed) listing every bad parameter.
 */
export function parseAuditQuery(
  raw: Record<string, string | undefined>,
  whereOf: (name: string) => string,
): AuditQuery {
  const result = auditQuerySchema.safeParse(raw);
  if (!result.success) throw new InputError(auditQueryProblems(result.error.issues, whereOf), 'malformed');
  const q = result.data;
  if (q.from !== undefined && q.to !== undefined && q.to <= q.from) {
    throw InputError.of('bad-period', 'to must be after from', whereOf('to'), 'malformed');
  }
  return {
    format: q.format,
    limit: q.limit ?? AUDIT_DEFAULT_LIMIT,
    ...(q.uai === undefined ? {} : { uai: normaliseUai(q.uai) }),
    ...(q.zone === undefined ? {} : { zone: q.zone }),
    ...(q.kind === undefined ? {} : { kind: q.kind }),
    ...(q.from === undefined ? {} : { from: q.from }),
    ...(q.to === undefined ? {} : { to: q.to }),
  };
}
