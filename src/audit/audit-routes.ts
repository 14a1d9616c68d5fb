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
import { z } from 'zod';
import { type AuthEnv, requireRole, uaiVisible } from '../auth/middleware.js';
import { AUDIT_KINDS } from '../domain/audit-entry.js';
import { InputError, isInputError } from '../domain/problems.js';
import { describeUaiProblem } from '../domain/uai.js';
import { ApiRoutes, createRoute, jsonResponse, problemResponses } from '../http/openapi-route.js';
import { inputErrorResponse, notFound, problemResponse } from '../http/problem-response.js';
import type { AuditFilter, AuditRepository } from '../store/audit-repository.js';
import type { AuditCheckpointer } from './audit-checkpointer.js';
import { auditCsv } from './audit-csv.js';
import type { AuditMonitor } from './audit-monitor.js';
import { auditQueryProblems, auditQuerySchema, parseAuditQuery } from './audit-query.js';
import { checkpointSchema } from './checkpoint.js';

export interface AuditRoutesDeps {
  audit: Pick<AuditRepository, 'list'>;
  /** The service's self-verification (src/audit/audit-monitor.ts). */
  monitor?: Pick<AuditMonitor, 'verifyNow' | 'status'>;
  checkpointer?: Pick<AuditCheckpointer, 'checkpoint' | 'latest' | 'publicKeyPem' | 'keyId'>;
}

const TAG = 'Audit';
const security = [{ bearer: [] }];
/** Date parameters are named bare (issue 13's contract), the others with their location. */
const whereOf = (name: string) => (name === 'from' || name === 'to' ? name : `${name} (query)`);
const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const instant = z.iso.datetime();
const head = z.strictObject({ seq: z.int(), hash: hex64 });

const chainStatusSchema = z
  .strictObject({
    ok: z.boolean(),
    checked: z.int().describe('Entries found good (from seq 1)'),
    firstBad: z
      .strictObject({
        seq: z.int(),
        reason: z.string().describe('hash-mismatch, seq-gap, rewritten, head-moved-back, unattested-purge…'),
      })
      .optional(),
    head: head.optional(),
    anchor: z
      .strictObject({
        seq: z.int(),
        hash: hex64,
        source: z.enum(['checkpoint', 'last-verification']),
        at: instant.optional(),
      })
      .optional(),
    purged: z
      .strictObject({ seq: z.int(), hash: hex64, purgeSeq: z.int() })
      .optional()
      .describe('After a retention purge: the anchor the walk started from and the seq of the purge entry'),
    scope: z.enum(['full', 'incremental']),
    verifiedAt: instant,
  })
  .meta({ id: 'AuditChainStatus' });

const auditEntrySchema = z
  .strictObject({
    seq: z.int(),
    at: instant,
    kind: z.enum(AUDIT_KINDS),
    uai: z.string().nullable(),
    zone: z.string().nullable(),
    actor: z.string().describe('Client id, `cli:<user>` or `system`'),
    detail: z.unknown().describe('Kind-specific facts (docs/audit.md)'),
    prevHash: hex64,
    hash: hex64,
    tampered: z
      .string()
      .optional()
      .describe('The stored fields no longer give the hash (hash-mismatch, prev-hash-mismatch)'),
  })
  .meta({ id: 'AuditEntry' });

const Checkpoint = checkpointSchema.meta({ id: 'AuditCheckpoint' });

/** The declarations of the audit routes (what they validate, answer and publish). */
export const AUDIT_ROUTES = {
  list: createRoute({
    method: 'get',
    path: '/api/audit',
    summary: 'The hash-chained audit log: imports, plan changes, publishes, overrides, configuration reloads',
    description:
      'Entries in sequence order, each with the hash of the previous one (docs/audit.md); CSV is UTF-8 with a BOM and ";" separators for spreadsheets. Roles: auditor, manager, admin.',
    tags: [TAG],
    security,
    request: { query: auditQuerySchema },
    responses: {
      200: {
        description:
          '`{entries: […], chain?}` or CSV; an entry whose stored fields no longer give its hash carries `tampered`; `chain` is the last self-verification',
        content: {
          'application/json': {
            schema: z.strictObject({
              entries: z.array(auditEntrySchema),
              chain: chainStatusSchema.optional(),
            }),
          },
          'text/csv': { schema: z.string().describe('UTF-8 with a BOM, ";" separators') },
        },
      },
      ...problemResponses(400, 401, 403, 404),
    },
  }),
  verify: createRoute({
    method: 'get',
    path: '/api/audit/verify',
    summary: 'Walk the audit chain now, against the newest signed checkpoint',
    description:
      'Reasons as in docs/audit.md (hash-mismatch, seq-gap, rewritten, head-moved-back, unattested-purge…); `purged` after a retention purge: the walk started from that anchor. 200 whether the chain holds or not. Roles: auditor, admin.',
    tags: [TAG],
    security,
    responses: {
      200: jsonResponse('The verification result', chainStatusSchema),
      ...problemResponses(401, 403),
    },
  }),
  checkpoint: createRoute({
    method: 'post',
    path: '/api/audit/checkpoints',
    summary: 'Sign the audit head now (Ed25519) and write it to the checkpoint sinks',
    description: 'The same as the periodic checkpoint (audit.checkpoint_interval_s). Roles: auditor, admin.',
    tags: [TAG],
    security,
    responses: {
      201: jsonResponse(
        'The signed checkpoint and each sink outcome',
        z.strictObject({
          checkpoint: Checkpoint,
          sinks: z.array(z.strictObject({ sink: z.string(), ok: z.boolean(), error: z.string().optional() })),
        }),
      ),
      ...problemResponses(401, 403),
    },
  }),
  latestCheckpoint: createRoute({
    method: 'get',
    path: '/api/audit/checkpoints/latest',
    summary: 'The newest signed checkpoint this instance knows',
    description: 'Roles: auditor, admin.',
    tags: [TAG],
    security,
    responses: {
      200: jsonResponse('A checkpoint', Checkpoint),
      ...problemResponses(401, 403, [404, 'No checkpoint yet']),
    },
  }),
  publicKey: createRoute({
    method: 'get',
    path: '/api/audit/public-key',
    summary: 'The Ed25519 public key that signs audit checkpoints (to pin for `audit verify --public-key`)',
    description: 'Roles: editor, consumer, manager, auditor, admin.',
    tags: [TAG],
    security,
    responses: {
      200: jsonResponse(
        'The key',
        z.strictObject({ algorithm: z.literal('Ed25519'), key_id: z.string(), public_key_pem: z.string() }),
      ),
      ...problemResponses(401),
    },
  }),
};

export function auditRoutes(deps: AuditRoutesDeps): ApiRoutes<AuthEnv>['app'] {
  const routes = new ApiRoutes<AuthEnv>();

  routes.add({
    route: AUDIT_ROUTES.list,
    middleware: [requireRole('manager', 'auditor')],
    errors: (issues) => new InputError(auditQueryProblems(issues, whereOf), 'malformed'),
    handler: async (c) => {
      let query: ReturnType<typeof parseAuditQuery>;
      try {
        // Validated by the declaration; parsed again for the period check and the defaults.
        query = parseAuditQuery(c.req.query(), whereOf);
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
    },
  });

  if (deps.monitor) {
    const monitor = deps.monitor;
    routes.add({
      route: AUDIT_ROUTES.verify,
      middleware: [requireRole('auditor')],
      handler: async (c) => c.json(await monitor.verifyNow()),
    });
  }

  if (deps.checkpointer) {
    const checkpointer = deps.checkpointer;
    routes.add({
      route: AUDIT_ROUTES.checkpoint,
      middleware: [requireRole('auditor')],
      handler: async (c) => c.json(await checkpointer.checkpoint(), 201),
    });
    routes.add({
      route: AUDIT_ROUTES.latestCheckpoint,
      middleware: [requireRole('auditor')],
      handler: (c) => {
        const latest = checkpointer.latest();
        return latest ? c.json(latest) : notFound(c, 'audit checkpoint', 'checkpoints');
      },
    });
    // Public by nature; behind the bearer check like every route but /healthz and /readyz.
    routes.add({
      route: AUDIT_ROUTES.publicKey,
      middleware: [requireRole('editor', 'consumer', 'manager', 'auditor')],
      handler: (c) =>
        c.json({
          algorithm: 'Ed25519',
          key_id: checkpointer.keyId,
          public_key_pem: checkpointer.publicKeyPem,
        }),
    });
  }

  return routes.app;
}
