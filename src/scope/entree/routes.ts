/**
 * SCOPE-ENTRÉE over HTTP: `PUT /scope/entree/v1/etablissements/{uai}/emploi-du-temps` for
 * editors, plus the version history and diffs (docs/api.md, "SCOPE-ENTRÉE imports").
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AuthEnv } from '../../auth/middleware.js';
import { requireRole, uaiVisible } from '../../auth/middleware.js';
import type { Clock } from '../../domain/clock.js';
import { InputError } from '../../domain/problems.js';
import type { InputLimits } from '../../domain/reader.js';
import { diffTimetables } from '../../domain/timetable-diff.js';
import { pathUai } from '../../domain/uai.js';
import { notFound, problemResponse } from '../../http/problem-response.js';
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

const BASE = '/scope/entree/v1/etablissements/:uai';

export function entreeRoutes(deps: EntreeDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();

  app.put(
    `${BASE}/emploi-du-temps`,
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
    async (c) => {
      const uai = pathUai(c.req.param('uai'));
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
  );

  app.get(`${BASE}/versions`, requireRole('editor', 'manager', 'auditor'), async (c) => {
    const uai = pathUai(c.req.param('uai'));
    if (!uaiVisible(c, uai)) return notFound(c, `establishment ${uai}`, 'uai (path)');
    const versions = await deps.store.timetables.listVersions(uai);
    if (versions.length === 0) return notFound(c, `establishment ${uai}`, 'uai (path)');
    return c.json({ uai, versions });
  });

  app.get(`${BASE}/versions/:v/diff/:w`, requireRole('editor', 'manager', 'auditor'), async (c) => {
    const uai = pathUai(c.req.param('uai'));
    if (!uaiVisible(c, uai)) return notFound(c, `establishment ${uai}`, 'uai (path)');
    const [v, w] = [c.req.param('v'), c.req.param('w')].map((text, i) => {
      const n = Number(text);
      if (!Number.isInteger(n) || n < 1) {
        throw InputError.of(
          'bad-version',
          `"${text}" is not a version number`,
          i === 0 ? 'v (path)' : 'w (path)',
          'malformed',
        );
      }
      return n;
    }) as [number, number];
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
  });

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
