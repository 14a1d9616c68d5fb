/**
 * SCOPE-ENTRÉE over HTTP: `PUT /scope/entree/v1/etablissements/{uai}/emploi-du-temps` for
 * editors, plus the version history and diffs (docs/api.md, "SCOPE-ENTRÉE imports").
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { AuthEnv } from '../../auth/middleware.js';
import { requireRole, uaiVisible } from '../../auth/middleware.js';
import type { Clock } from '../../domain/clock.js';
import { InputError, isInputError } from '../../domain/problems.js';
import type { InputLimits } from '../../domain/reader.js';
import { IMPORT_FORMATS, lessonSchema, roomSchema, timetableSchema } from '../../domain/timetable.js';
import { diffTimetables } from '../../domain/timetable-diff.js';
import { pathUai, uaiParameterSchema } from '../../domain/uai.js';
import {
  ApiRoutes,
  createRoute,
  jsonResponse,
  problemResponses,
  problemsSchema,
} from '../../http/openapi-route.js';
import { inputErrorResponse, notFound, problemResponse } from '../../http/problem-response.js';
import type { Store } from '../../store/store.js';
import { auditorDiff } from './auditor-diff.js';
import { DestructiveImportError } from './destructive-import.js';
import type { ImportTaskRunner } from './import-pool.js';
import { type ImportReport, ingestTimetable } from './ingest.js';

export interface EntreeDeps {
  store: Store;
  clock: Clock;
  bodyLimitBytes: number;
  strictJson: boolean;
  partnerPrivateKeyPem?: string | undefined;
  /** Bounds of `entree.*` (defaults when absent). */
  limits?: Partial<InputLimits> | undefined;
  /**
   * Runs the import task off the event loop (the service passes its import pool); in-process
   * when absent, for tests of other parts that import trusted fixtures.
   */
  runImportTask?: ImportTaskRunner | undefined;
  /**
   * Called after a new version is stored, with who sent it (the bridge replans within 1 s in
   * embedded mode; the audit log records it). Must not throw.
   */
  onImported?: (report: ImportReport, importedBy: string) => void;
}

const TAG = 'SCOPE-ENTRÉE';
const security = [{ bearer: [] }];

const versionMetaSchema = z.strictObject({
  uai: z.string(),
  version: z.int(),
  sha256: z.string(),
  format: z.string(),
  importedAt: z.iso.datetime(),
  importedBy: z.string().describe('Client id of the editor'),
  counts: z.strictObject({ rooms: z.int(), lessons: z.int(), occurrences: z.int() }),
  warnings: problemsSchema.shape.errors.describe('The first 100 warnings'),
  warnings_total: z.int().describe('How many warnings there were in all'),
});

const entityDiff = <T extends z.ZodType>(entity: T) =>
  z.strictObject({
    added: z.array(entity),
    removed: z.array(entity),
    changed: z.array(
      z.strictObject({
        id: z.string(),
        changes: z.array(z.strictObject({ field: z.string(), before: z.unknown(), after: z.unknown() })),
      }),
    ),
  });

const diffSchema = z.strictObject({
  uai: z.string(),
  from: z.int(),
  to: z.int(),
  rooms: entityDiff(roomSchema),
  lessons: entityDiff(lessonSchema),
  withheld: z
    .strictObject({ lessons: z.array(z.string()) })
    .optional()
    .describe(
      'Auditors only: lesson fields left out (subject, teachers, groups); lessons whose only changes were there are not listed',
    ),
});

/** A version number in a path: 1, 2, … (`bad-version` naming `where` otherwise). */
const versionParameter = (where: string, description: string) =>
  z
    .string()
    .superRefine((text, ctx) => {
      if (!/^[1-9]\d{0,8}$/.test(text))
        ctx.addIssue({
          code: 'custom',
          message: `"${text}" is not a version number`,
          params: { code: 'bad-version', where },
        });
    })
    .meta({ pattern: '^[1-9][0-9]{0,8}$', description });

const uaiPath = z.object({ uai: uaiParameterSchema('uai (path)') });

const importReportSchema = z.strictObject({
  uai: z.string(),
  version: z.int(),
  sha256: z.string().describe('Hex SHA-256 of the bytes received'),
  unchanged: z.boolean().describe('True when the same bytes were already the current version'),
  format: z.enum(IMPORT_FORMATS),
  counts: z.strictObject({ rooms: z.int(), lessons: z.int(), occurrences: z.int() }),
  warnings: problemsSchema.shape.errors.describe('The first 100 warnings'),
  warnings_total: z.int().describe('How many warnings there were in all'),
});

const destructiveImportSchema = problemsSchema.extend({
  diff: z.strictObject({
    rooms_before: z.int(),
    rooms_after: z.int(),
    lessons_before: z.int(),
    lessons_after: z.int(),
    rooms_removed: z.array(z.string()).describe('The first 50 room ids the import would remove'),
  }),
});

const importQuerySchema = z.object({
  // Published as the handler reads them: an unknown format is 415 (not a 400), and any `strict`
  // but `true` is false (issue 14: the spec may not promise a 400 the route does not give).
  format: z
    .string()
    .optional()
    .describe(
      `Format of the body, one of ${IMPORT_FORMATS.join(', ')} (else 415); default from Content-Type, else sniffed`,
    ),
  strict: z
    .string()
    .optional()
    .describe(
      '`true`: refuse unknown fields of native JSON, and UTF-8 text under a Latin-1 declaration (any other value: not strict)',
    ),
  filename: z.string().optional().describe('File name (UDT takes the UAI from it)'),
  confirm: z
    .literal('replace')
    .optional()
    .describe('Accept an import that removes every lesson or more than half of the rooms (else 409)'),
});

const IMPORT_TYPES = [
  'application/xml',
  'text/xml',
  'application/zip',
  'text/calendar',
  'application/octet-stream',
] as const;

/** The declarations of ENTRÉE's routes: the import and the version history. */
export const ENTREE_ROUTES = {
  import: createRoute({
    method: 'put',
    path: '/scope/entree/v1/etablissements/{uai}/emploi-du-temps',
    summary: 'Import a school’s timetable (new version)',
    description:
      'Native JSON (scope-emploi-du-temps/v1), EDT XML, EDT encrypted container, UDT zip, STS-web XML or ICS, read in an import worker within bounds (docs/api.md, "SCOPE-ENTRÉE imports"): 422 xml-too-deep, xml-too-many-elements, too-many-occurrences, ics-rule-too-many-occurrences, import-time-limit; 413 body-too-large, import-memory-limit; 400 bad-content-disposition. Nothing is stored on failure. Roles: editor, admin.',
    tags: [TAG],
    security,
    request: {
      params: uaiPath,
      query: importQuerySchema,
      body: {
        required: true,
        content: {
          'application/json': { schema: timetableSchema.meta({ id: 'TimetableInput' }) },
          ...Object.fromEntries(
            IMPORT_TYPES.map((type) => [
              type,
              {
                schema: z
                  .string()
                  .meta({ contentMediaType: 'application/octet-stream', description: 'timetable export' }),
              },
            ]),
          ),
        },
      },
    },
    responses: {
      201: jsonResponse('New version stored', importReportSchema),
      200: jsonResponse('Same bytes as the current version: unchanged', importReportSchema),
      409: jsonResponse(
        'destructive-import: the import would remove every lesson or more than half of the rooms; confirm with ?confirm=replace',
        destructiveImportSchema,
      ),
      ...problemResponses(
        400,
        401,
        403,
        404,
        [
          413,
          'Body over server.body_limit_mb (`body-too-large`), or the import worker’s memory bound (`import-memory-limit`)',
        ],
        415,
        422,
      ),
    },
  }),
  versions: createRoute({
    method: 'get',
    path: '/scope/entree/v1/etablissements/{uai}/versions',
    summary: 'Version history, newest first',
    description: 'Roles: editor, manager, auditor, admin.',
    tags: [TAG],
    security,
    request: { params: uaiPath },
    responses: {
      200: jsonResponse(
        'Versions',
        z.strictObject({ uai: z.string(), versions: z.array(versionMetaSchema) }),
      ),
      ...problemResponses(400, 401, 403, 404),
    },
  }),
  diff: createRoute({
    method: 'get',
    path: '/scope/entree/v1/etablissements/{uai}/versions/{v}/diff/{w}',
    summary:
      'Rooms and lessons added, removed, changed between two versions (auditors: without subjects, teachers, groups)',
    description: 'Roles: editor, manager, auditor, admin.',
    tags: [TAG],
    security,
    request: {
      params: uaiPath.extend({
        v: versionParameter('v (path)', 'Older version number'),
        w: versionParameter('w (path)', 'Newer version number'),
      }),
    },
    responses: { 200: jsonResponse('Diff', diffSchema), ...problemResponses(400, 401, 403, 404) },
  }),
};

export function entreeRoutes(deps: EntreeDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();

  // The import reads its parameters and body by hand (formats are sniffed; `bad-confirm` and the
  // school's 404 keep their order and codes): declared for the document only.
  const imports = new ApiRoutes<AuthEnv>();
  imports.add({
    route: ENTREE_ROUTES.import,
    handlerValidates: true,
    middleware: [
      requireRole('editor'),
      bodyLimit({
        maxSize: deps.bodyLimitBytes,
        onError: (c) =>
          problemResponse(c, 413, [
            {
              code: 'body-too-large',
              message: `the body is larger than the limit of ${deps.bodyLimitBytes} bytes`,
              where: 'body',
            },
          ]),
      }),
    ],
    handler: async (c) => {
      const uai = pathUai(c.req.param('uai') ?? '');
      if (!uaiVisible(c, uai)) return notFound(c, `establishment ${uai}`, 'uai (path)');
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      if (bytes.length === 0) {
        throw InputError.of('body-empty', 'the body is empty: send the timetable file', 'body', 'malformed');
      }
      const confirm = c.req.query('confirm');
      if (confirm !== undefined && confirm !== 'replace') {
        throw InputError.of(
          'bad-confirm',
          `confirm must be "replace" (to accept an import that loses lessons or rooms), not "${confirm.slice(0, 40)}"`,
          'confirm (query)',
          'malformed',
        );
      }
      const fileName = fileNameOf(c.req.header('Content-Disposition')) ?? c.req.query('filename');
      let report: ImportReport;
      try {
        report = await ingestTimetable(
          deps.store,
          {
            bytes,
            uai,
            format: c.req.query('format'),
            contentType: c.req.header('Content-Type'),
            fileName,
            importedBy: c.get('principal').clientId,
            strict: deps.strictJson || c.req.query('strict') === 'true',
            partnerPrivateKeyPem: deps.partnerPrivateKeyPem,
            limits: deps.limits,
            confirmReplace: confirm === 'replace',
            confirmHint: '?confirm=replace',
          },
          deps.clock.now(),
          { runTask: deps.runImportTask },
        );
      } catch (error) {
        if (error instanceof DestructiveImportError) {
          return c.json({ errors: error.problems, diff: error.diff }, 409);
        }
        throw error;
      }
      if (!report.unchanged) deps.onImported?.(report, c.get('principal').clientId);
      return c.json(report, report.unchanged ? 200 : 201);
    },
  });
  app.route('/', imports.app);

  const history = new ApiRoutes<AuthEnv>();
  const readers: MiddlewareHandler<AuthEnv>[] = [
    requireRole('editor', 'manager', 'auditor'),
    // The school before the version numbers: one outside the caller's list is 404 whatever they are.
    async (c, next) => {
      let uai: string;
      try {
        uai = pathUai(c.req.param('uai') ?? '');
      } catch (error) {
        if (isInputError(error)) return inputErrorResponse(c, error);
        throw error;
      }
      if (!uaiVisible(c, uai)) return notFound(c, `establishment ${uai}`, 'uai (path)');
      await next();
    },
  ];

  history.add({
    route: ENTREE_ROUTES.versions,
    middleware: readers,
    handler: async (c) => {
      const uai = pathUai(c.req.param('uai') ?? '');
      const versions = await deps.store.timetables.listVersions(uai);
      if (versions.length === 0) return notFound(c, `establishment ${uai}`, 'uai (path)');
      return c.json({ uai, versions });
    },
  });

  history.add({
    route: ENTREE_ROUTES.diff,
    middleware: readers,
    handler: async (c) => {
      const uai = pathUai(c.req.param('uai') ?? '');
      const [v, w] = [Number(c.req.param('v')), Number(c.req.param('w'))];
      const [from, to] = await Promise.all([
        deps.store.timetables.getVersion(uai, v),
        deps.store.timetables.getVersion(uai, w),
      ]);
      if (!from) return notFound(c, `version ${v} of ${uai}`, 'v (path)');
      if (!to) return notFound(c, `version ${w} of ${uai}`, 'w (path)');
      const diff = diffTimetables(from.timetable, to.timetable);
      // Auditors get the energy view of lessons (docs/api.md): no teachers, classes or subjects.
      const shown = c.get('principal').role === 'auditor' ? auditorDiff(diff) : diff;
      return c.json({ uai, from: v, to: w, ...shown });
    },
  });
  app.route('/', history.app);

  return app;
}

/**
 * The file name of a `Content-Disposition` header (RFC 6266: `filename`, or the RFC 8187
 * `filename*=UTF-8''…` form, which wins), e.g. `attachment; filename="0679999E_udt.zip"` (UDT
 * takes the UAI from it). Bad syntax or a malformed `%` escape is the client's error: 400
 * `bad-content-disposition`, never a URIError.
 */
export function fileNameOf(disposition: string | undefined): string | undefined {
  if (disposition === undefined || disposition.trim() === '') return undefined;
  const bad = (why: string) =>
    InputError.of(
      'bad-content-disposition',
      `the Content-Disposition header ${why}`,
      'Content-Disposition',
      'malformed',
    );
  const token = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
  const parameter = new RegExp(`^\\s*;\\s*(${token})\\s*=\\s*(?:(${token})|"((?:[^"\\\\]|\\\\.)*)")\\s*`);
  const type = new RegExp(`^\\s*${token}\\s*`).exec(disposition);
  if (!type) throw bad('does not start with a disposition type such as attachment');
  let rest = disposition.slice(type[0].length);
  let plain: string | undefined;
  let extended: string | undefined;
  // A trailing ";" is common and harmless.
  while (!/^\s*;?\s*$/.test(rest)) {
    const match = parameter.exec(rest);
    if (!match) throw bad(`has a malformed parameter near "${rest.slice(0, 40)}"`);
    const name = (match[1] as string).toLowerCase();
    const value = match[2] ?? (match[3] as string).replace(/\\(.)/g, '$1');
    if (name === 'filename') plain = value;
    else if (name === 'filename*') extended = value;
    rest = rest.slice(match[0].length);
  }
  if (extended !== undefined) {
    const ext = /^([A-Za-z0-9!#$&+^_`{}~-]+)'[A-Za-z0-9-]*'(.*)$/.exec(extended);
    if (!ext) throw bad("has a filename* that is not charset'language'value (RFC 8187)");
    if ((ext[1] as string).toLowerCase() !== 'utf-8')
      throw bad(`has a filename* in ${ext[1]}: only UTF-8 is read`);
    try {
      return decodeURIComponent(ext[2] as string);
    } catch {
      throw bad('has a filename* with a malformed % escape');
    }
  }
  return plain;
}
