/**
 * SCOPE-ENTRÉE over HTTP: `PUT /scope/entree/v1/etablissements/{uai}/emploi-du-temps` for
 * editors, plus the version history and diffs (interfaces.md, SCOPE-ENTRÉE).
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AuthEnv } from '../../auth/middleware.js';
import { requireRole, uaiVisible } from '../../auth/middleware.js';
import type { Clock } from '../../domain/clock.js';
import { InputError } from '../../domain/problems.js';
import { diffTimetables } from '../../domain/timetable-diff.js';
import { pathUai } from '../../domain/uai.js';
import { notFound, problemResponse } from '../../http/problem-response.js';
import type { Store } from '../../store/store.js';
import { type ImportReport, ingestTimetable } from './ingest.js';

export interface EntreeDeps {
  store: Store;
  clock: Clock;
  bodyLimitBytes: number;
  strictJson: boolean;
  partnerPrivateKeyPem?: string | undefined;
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
      const report = await ingestTimetable(
        deps.store,
        {
          bytes,
          uai,
          format: c.req.query('format'),
          contentType: c.req.header('Content-Type'),
          fileName: fileNameOf(c.req.header('Content-Disposition')) ?? c.req.query('filename'),
          importedBy: c.get('principal').clientId,
          strictJson: deps.strictJson || c.req.query('strict') === 'true',
          partnerPrivateKeyPem: deps.partnerPrivateKeyPem,
        },
        deps.clock.now(),
      );
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
    return c.json({ uai, from: v, to: w, ...diffTimetables(from.timetable, to.timetable) });
  });

  return app;
}

/** `attachment; filename="0679999E_udt.zip"` → the name (UDT takes the UAI from it). */
function fileNameOf(disposition: string | undefined): string | undefined {
  if (!disposition) return undefined;
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  return match?.[1] ? decodeURIComponent(match[1]) : undefined;
}
