/**
 * `scope-energie import --bulk DIR|ZIP` (docs/onboarding.md, "Bulk import"): every export of a
 * folder or a zip, one school each with the UAI the file names, through the import pool one
 * after the other, as `import FILE` would. A refused file is reported and the others go on; the
 * exit code says whether any was refused (2) or failed (1).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { importAuditEntry } from '../audit/import-audit.js';
import type { Config } from '../config/schema.js';
import { InputError, isInputError, type Problem } from '../domain/problems.js';
import { readZipEntries } from '../formats/zip.js';
import { DestructiveImportError } from '../scope/entree/destructive-import.js';
import { createImportPool, entreeLimits } from '../scope/entree/import-pool.js';
import { ingestTimetable } from '../scope/entree/ingest.js';
import type { Store } from '../store/store.js';
import { type CommandIo, EXIT, writeJson } from './command.js';

export interface BulkSource {
  /** File name (inside the zip, with its folders), as the summary shows it. */
  name: string;
  /** Read when its turn comes, so that a folder holds one export in memory at a time. */
  read(): Uint8Array;
}

export type BulkStatus = 'imported' | 'unchanged' | 'refused' | 'failed';

export interface BulkResult {
  file: string;
  uai: string | null;
  version: number | null;
  lessons: number | null;
  status: BulkStatus;
  /** The first problem, when refused or failed. */
  error?: Problem;
}

/** Names that are not exports: hidden files and the folders archivers add. */
function isSkipped(name: string): boolean {
  return name.split('/').some((part) => part.startsWith('.') || part === '__MACOSX');
}

/**
 * The exports of a folder (its files, not its sub-folders) or a zip (read with the ENTRÉE zip
 * guards, the entree.max_zip_entries / max_uncompressed_mb limits over the whole archive), by name.
 */
export function bulkSources(path: string, entree: Config['entree']): BulkSource[] {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch (error) {
    throw InputError.of(
      'file-unreadable',
      `cannot read ${path}: ${(error as Error).message}`,
      '--bulk',
      'malformed',
    );
  }
  const byName = (a: BulkSource, b: BulkSource) => a.name.localeCompare(b.name, 'fr', { numeric: true });
  if (stats.isDirectory()) {
    return readdirSync(path, { withFileTypes: true })
      .filter((entry) => entry.isFile() && !isSkipped(entry.name))
      .map((entry) => ({ name: entry.name, read: () => readFileSync(join(path, entry.name)) }))
      .sort(byName);
  }
  const entries = readZipEntries(readFileSync(path), {
    maxEntries: entree.max_zip_entries,
    maxTotalBytes: entree.max_uncompressed_mb * 1024 * 1024,
    maxEntryBytes: entree.max_uncompressed_mb * 1024 * 1024,
  });
  return [...entries]
    .filter(([name]) => !isSkipped(name))
    .map(([name, bytes]) => ({ name, read: () => bytes }))
    .sort(byName);
}

export interface BulkOptions {
  store: Store;
  config: Config;
  sources: readonly BulkSource[];
  format?: string | undefined;
  strict: boolean;
  force: boolean;
  partnerPrivateKeyPem?: string | undefined;
  /** Progress on the terminal; plain lines when piped; none with --json. */
  progress: BulkProgress;
}

export interface BulkProgress {
  /** Fraction of the current file read, 0..1. */
  reading(index: number, name: string, fraction: number): void;
  done(index: number, result: BulkResult): void;
}

export async function importBulk(options: BulkOptions): Promise<BulkResult[]> {
  const { store, config } = options;
  const entree = config.entree;
  const pool = createImportPool({
    threads: 1,
    maxHeapMb: entree.worker.max_heap_mb,
    taskTimeoutMs: entree.worker.task_timeout_s * 1000,
  });
  const importedBy = `cli:${userInfo().username}`;
  const results: BulkResult[] = [];
  try {
    for (const [index, source] of options.sources.entries()) {
      const result = await importOne(source, index);
      results.push(result);
      options.progress.done(index, result);
    }
  } finally {
    await pool.close();
  }
  return results;

  async function importOne(source: BulkSource, index: number): Promise<BulkResult> {
    const empty = { file: source.name, uai: null, version: null, lessons: null };
    try {
      const report = await ingestTimetable(
        store,
        {
          bytes: source.read(),
          format: options.format,
          fileName: basename(source.name),
          importedBy,
          strict: options.strict || entree.strict_json,
          partnerPrivateKeyPem: options.partnerPrivateKeyPem,
          limits: entreeLimits(entree),
          confirmReplace: options.force,
          confirmHint: '--force',
          onProgress: (fraction) => options.progress.reading(index, source.name, fraction),
        },
        Date.now(),
        { runTask: pool.run },
      );
      if (!report.unchanged)
        await store.audit.append([importAuditEntry(report, importedBy, 'bulk', Date.now())]);
      return {
        file: source.name,
        uai: report.uai,
        version: report.version,
        lessons: report.counts.lessons,
        status: report.unchanged ? 'unchanged' : 'imported',
      };
    } catch (error) {
      if (error instanceof DestructiveImportError || isInputError(error)) {
        const first = error.problems[0] ?? { code: 'refused', message: error.message, where: source.name };
        return { ...empty, status: 'refused', error: first };
      }
      const message = error instanceof Error ? error.message : String(error);
      return { ...empty, status: 'failed', error: { code: 'failure', message, where: source.name } };
    }
  }
}

/** A bar on a terminal; one plain line per finished file otherwise; nothing with --json. */
export function bulkProgress(io: CommandIo, total: number, json: boolean): BulkProgress {
  if (json) return { reading: () => {}, done: () => {} };
  const width = 24;
  if (io.stderr.isTTY) {
    let last = '';
    const draw = (done: number, name: string, fraction: number) => {
      const share = Math.min(1, (done + fraction) / Math.max(1, total));
      const filled = Math.round(share * width);
      const line = `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${name}`.slice(
        0,
        100,
      );
      if (line === last) return;
      io.stderr.write(`${line.padEnd(last.length)}`);
      last = line;
    };
    return {
      reading: (index, name, fraction) => draw(index, name, fraction),
      done: (index, result) => {
        draw(index + 1, result.file, 0);
        if (index + 1 === total) io.stderr.write('\n');
      },
    };
  }
  return {
    reading: () => {},
    done: (index, result) =>
      io.stderr.write(
        `${index + 1}/${total} ${result.file}: ${result.status}${result.error ? ` (${result.error.code})` : ''}\n`,
      ),
  };
}

/** The summary for people: one aligned row per file. */
export function bulkSummary(results: readonly BulkResult[]): string {
  const rows = [
    ['file', 'UAI', 'version', 'lessons', 'status'],
    ...results.map((r) => [
      r.file,
      r.uai ?? '-',
      r.version === null ? '-' : String(r.version),
      r.lessons === null ? '-' : String(r.lessons),
      r.error ? `${r.status}: ${r.error.code}: ${r.error.message}` : r.status,
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  const lines = rows.map((row) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
  );
  const count = (status: BulkStatus) => results.filter((r) => r.status === status).length;
  lines.push(
    `${results.length} file(s): ${count('imported')} imported, ${count('unchanged')} unchanged, ${count('refused')} refused, ${count('failed')} failed`,
  );
  return `${lines.join('\n')}\n`;
}

/** 0 all stored or unchanged; 1 any failure; else 2 when any file was refused. */
export function bulkExitCode(results: readonly BulkResult[]): number {
  if (results.some((r) => r.status === 'failed')) return EXIT.failure;
  if (results.some((r) => r.status === 'refused')) return EXIT.invalid;
  return EXIT.ok;
}

export async function runBulk(
  io: CommandIo,
  path: string,
  options: Omit<BulkOptions, 'sources' | 'progress'>,
  json: boolean,
): Promise<number> {
  const sources = bulkSources(resolve(io.cwd, path), options.config.entree);
  if (sources.length === 0)
    throw InputError.of('bulk-empty', `${path} holds no file to import`, '--bulk', 'malformed');
  const results = await importBulk({ ...options, sources, progress: bulkProgress(io, sources.length, json) });
  if (json) writeJson(io, { results, exit: bulkExitCode(results) });
  else io.stdout.write(bulkSummary(results));
  return bulkExitCode(results);
}
