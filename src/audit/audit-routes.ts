/**
 * `GET /api/audit` (issue 7): the audit log filtered by school, zone, kind and period, as JSON
 * `{entries: […]}` or as CSV for a spreadsheet (audit-csv.ts). Mount after `requireAuth`.
 *
 * Who sees what: a manager sees the entries of its schools; an auditor those of its schools and
 * the hub-wide ones (no UAI: configuration reloads), which it needs to follow the rules version
 * behind a plan; admin sees everything. A school outside the caller's list is answered 404, like
 * every other route.
 */
import { Hono } from 'hono';
import { type AuthEnv, requireRole, uaiVisible } from '../auth/middleware.js';
import { isInputError } from '../domain/problems.js';
import { describeUaiProblem } from '../domain/uai.js';
import { inputErrorResponse, notFound, problemResponse } from '../http/problem-response.js';
import type { AuditFilter, AuditRepository } from '../store/audit-repository.js';
import { auditCsv } from './audit-csv.js';
import { parseAuditQuery } from './audit-query.js';

export interface AuditRoutesDeps {
  audit: Pick<AuditRepository, 'list'>;
}

export function auditRoutes(deps: AuditRoutesDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();

  app.get('/api/audit', requireRole('manager', 'auditor'), async (c) => {
    let query: ReturnType<typeof parseAuditQuery>;
    try {
      // Date parameters are named bare (issue 13's contract), the others with their location.
      query = parseAuditQuery(c.req.query(), (name) =>
        name === 'from' || name === 'to' ? name : `${name} (query)`,
      );
    } catch (error) {
      if (isInputError(error)) return inputErrorResponse(c, error);
      throw error;
    }
    const principal = c.get('principal');
    const filter: AuditFilter = {
      limit: query.limit,
      ...(query.zone === undefined ? {} : { zone: query.zone }),
      ...(query.kind === undefined ? {} : { kind: query.kind }),
      ...(query.from === undefined ? {} : { from: query.from }),
      ...(query.to === undefined ? {} : { to: query.to }),
    };
    if (query.uai !== undefined) {
      const problem = describeUaiProblem(query.uai);
      if (problem) {
        return problemResponse(c, 400, [{ code: 'bad-uai', message: problem, where: 'uai (query)' }]);
      }
      if (!uaiVisible(c, query.uai)) return notFound(c, `establishment ${query.uai}`, 'uai (query)');
      filter.uai = query.uai;
    } else if (principal.uais !== 'all') {
      filter.uais = [...principal.uais];
      filter.withoutUai = principal.role !== 'manager';
    } else if (principal.role === 'manager') {
      filter.schoolsOnly = true;
    }
    const entries = await deps.audit.list(filter);
    if (query.format === 'csv') {
      return c.body(auditCsv(entries), 200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': 'attachment; filename="audit.csv"',
      });
    }
    return c.json({ entries });
  });

  return app;
}
