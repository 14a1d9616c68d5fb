/**
 * `GET /api/compliance?uai=&from=&to=[&format=json|csv]` (issue 21): a school's compliance report
 * over local dates `from`..`to` (inclusive, at most 93 days) for `manager`, `auditor` and `admin`.
 * Mount after `requireAuth`: a school outside the caller's list is answered 404, never 403.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { type AuthEnv, requireRole, uaiVisible } from '../auth/middleware.js';
import { occupancyUnavailable } from '../bridge/bridge-routes.js';
import { SortieError } from '../bridge/sortie-client.js';
import { dateParameterSchema } from '../domain/dates.js';
import { InputError, isInputError } from '../domain/problems.js';
import { requireUai, uaiParameterSchema } from '../domain/uai.js';
import { ApiRoutes, createRoute, problemResponses } from '../http/openapi-route.js';
import { inputErrorResponse, notFound } from '../http/problem-response.js';
import { complianceCsv } from './compliance-csv.js';
import { complianceReportSchema } from './compliance-report-schema.js';
import type { ComplianceService } from './compliance-service.js';

/**
 * The declaration of the compliance report. Its parameters are checked by the handler
 * (`handlerValidates`): a missing `uai` is `option-missing`, dates are read after the school.
 */
export const COMPLIANCE_ROUTES = {
  report: createRoute({
    method: 'get',
    path: '/api/compliance',
    summary:
      'Compliance report of a school over a period: hours per tier, maximum setpoint per legal situation against the cap, overrides, exceptions, gateway deviations',
    description:
      'Per zone and function the hours of the period’s plans per tier (occupied, preheat, merged-gap, short-gap, long-gap, holiday, override, fallback) and mode; per heating situation of R241-26/R241-27 the highest setpoint requested against the cap (`within-cap`, `excepted`, `above-cap`); the overrides with their authors and the refused ones; the exceptions applied with approver, date and reference; gateway deviations from the audit log (a rev not applied within 5 min, or applied with another mode or setpoint); with the telemetry, per heating situation the measured temperatures against the same cap (`measured`: hours measured, minutes above the cap and above it plus `comfort.overheat_tolerance_c`, the highest measured and when) and `summary.measured`. CSV: UTF-8 with a BOM, ";", CRLF, one row per fact, the same bytes as `scope-energie compliance --csv` (docs/audit.md, "Compliance report"). Roles: manager, auditor, admin.',
    tags: ['Bridge'],
    security: [{ bearer: [] }],
    request: {
      query: z.object({
        uai: uaiParameterSchema('uai (query)'),
        from: dateParameterSchema('from').describe('First local day'),
        to: dateParameterSchema('to').describe('Last local day (at most 93 days)'),
        format: z.enum(['json', 'csv']).optional().describe('Default json'),
      }),
    },
    responses: {
      200: {
        description: 'The report (JSON) or its CSV',
        content: {
          'application/json': { schema: complianceReportSchema },
          'text/csv': { schema: z.string().describe('UTF-8 with a BOM, ";", CRLF, one row per fact') },
        },
      },
      ...problemResponses(400, 401, 403, 404, [503, 'Occupancy not available from SORTIE']),
    },
  }),
};

export function complianceRoutes(service: ComplianceService): OpenAPIHono<AuthEnv> {
  const routes = new ApiRoutes<AuthEnv>();
  routes.add({
    route: COMPLIANCE_ROUTES.report,
    middleware: [requireRole('manager', 'auditor')],
    handlerValidates: true,
    handler: async (c) => {
      let uai = '';
      try {
        const uaiText = c.req.query('uai');
        if (uaiText === undefined)
          throw InputError.of('option-missing', 'uai is required', 'uai (query)', 'malformed');
        uai = requireUai(uaiText, 'uai (query)');
        const format = c.req.query('format') ?? 'json';
        if (format !== 'json' && format !== 'csv') {
          throw InputError.of(
            'bad-format',
            `format must be json or csv, not "${format}"`,
            'format (query)',
            'malformed',
          );
        }
        if (!uaiVisible(c, uai)) return notFound(c, `establishment ${uai}`, 'uai (query)');
        const report = await service.report(uai, c.req.query('from'), c.req.query('to'), {
          from: 'from (query)',
          to: 'to (query)',
        });
        if (!report) return notFound(c, `establishment ${uai}`, 'uai (query)');
        c.header('Cache-Control', 'private, no-store');
        if (format === 'csv') {
          return c.body(complianceCsv(report), 200, {
            'Content-Type': 'text/csv; charset=utf-8',
            'Content-Disposition': `attachment; filename="conformite-${uai}-${report.from}-${report.to}.csv"`,
          });
        }
        return c.json(report);
      } catch (error) {
        if (isInputError(error)) return inputErrorResponse(c, error);
        if (error instanceof SortieError) return occupancyUnavailable(c, uai, error, 'from (query)');
        throw error;
      }
    },
  });
  return routes.app;
}
