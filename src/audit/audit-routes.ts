/**
 * `GET /api/audit` (issue 7): the audit log filtered by school, zone, kind and period, as JSON
 * `{entries: […]}` or as CSV for a spreadsheet (audit-csv.ts). Mount after `requireAuth`. An entry
 * whose stored fields no longer give its hash is served with `tampered` (issue 21), and with the
 * self-verification running the answer also carries the chain's last `chain` status.
 *
 * Anchoring (issue 21, docs/audit.md): `GET /api/audit/verify` walks the chain now against the
 * newest checkpoint; `POST /api/audit/checkpoints` signs the head and writes it to the sinks;
 * `GET /api/audit/checkpoints/latest` and `GET /api/audit/public-key` give what an auditor keeps.
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
import type { AuditCheckpointer } from './audit-checkpointer.js';
import { auditCsv } from './audit-csv.js';
import type { AuditMonitor } from './audit-monitor.js';
import { parseAuditQuery } from './audit-query.js';

export interface AuditRoutesDeps {
  audit: Pick<AuditRepository, 'list'>;
  /** The service's self-verification (src/audit/audit-monitor.ts). */
  monitor?: Pick<AuditMonitor, 'verifyNow' | 'status'>;
  checkpointer?: Pick<AuditCheckpointer, 'checkpoint' | 'latest' | 'publicKeyPem' | 'keyId'>;
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
    const chain = deps.monitor?.status();
    return c.json(chain ? { entries, chain } : { entries });
  });

  if (deps.monitor) {
    const monitor = deps.monitor;
    app.get('/api/audit/verify', requireRole('auditor'), async (c) => c.json(await monitor.verifyNow()));
  }

  if (deps.checkpointer) {
    const checkpointer = deps.checkpointer;
    app.post('/api/audit/checkpoints', requireRole('auditor'), async (c) => {
      const result = await checkpointer.checkpoint();
      return c.json(result, 201);
    });
    app.get('/api/audit/checkpoints/latest', requireRole('auditor'), (c) => {
      const latest = checkpointer.latest();
      return latest ? c.json(latest) : notFound(c, 'audit checkpoint', 'checkpoints');
    });
    // Public by nature; behind the bearer check like every route but /healthz and /readyz.
    app.get('/api/audit/public-key', requireRole('editor', 'consumer', 'manager', 'auditor'), (c) =>
      c.json({ algorithm: 'Ed25519', key_id: checkpointer.keyId, public_key_pem: checkpointer.publicKeyPem }),
    );
  }

  return app;
}
