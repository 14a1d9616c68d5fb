/**
 * `GET /api/compliance?uai=&from=&to=[&format=json|csv]` (issue 21): a school's compliance report
 * over local dates `from`..`to` (inclusive, at most 93 days) for `manager`, `auditor` and `admin`.
 * Mount after `requireAuth`: a school outside the caller's list is answered 404, never 403.
 */
import { Hono } from 'hono';
import { type AuthEnv, requireRole, uaiVisible } from '../auth/middleware.js';
import { occupancyUnavailable } from '../bridge/bridge-routes.js';
import { SortieError } from '../bridge/sortie-client.js';
import { InputError, isInputError } from '../domain/problems.js';
import { requireUai } from '../domain/uai.js';
import { inputErrorResponse, notFound } from '../http/problem-response.js';
import { complianceCsv } from './compliance-csv.js';
import type { ComplianceService } from './compliance-service.js';

export function complianceRoutes(service: ComplianceService): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.get('/api/compliance', requireRole('manager', 'auditor'), async (c) => {
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
  });
  return app;
}
