/**
 * What `audit verify --against FILE` compares the log with: a checkpoint file, a JSON export
 * (entries, head, signed checkpoint) or a CSV export (its entries' seqs and hashes, the last one
 * as the anchor, unsigned). Pure: text in, anchor out; throws `InputError` naming the file.
 */
import { z } from 'zod';
import { InputError } from '../domain/problems.js';
import type { AuditAnchor } from '../store/audit-repository.js';
import { CSV_BOM } from './audit-csv.js';
import { CHECKPOINT_FORMAT, type Checkpoint, checkpointSchema } from './checkpoint.js';

export interface AnchorFile {
  kind: 'checkpoint' | 'json-export' | 'csv-export';
  anchor: AuditAnchor;
  /** The signed checkpoint, when the file holds one. */
  checkpoint?: Checkpoint;
}

const exportSchema = z.object({
  entries: z.array(z.object({ seq: z.int(), hash: z.string() })),
  head: z.object({ seq: z.int().min(0), hash: z.string() }).optional(),
  checkpoint: checkpointSchema.optional(),
});

export function parseAnchorFile(text: string, where: string): AnchorFile {
  const body = text.startsWith(CSV_BOM) ? text.slice(1) : text;
  if (body.startsWith('seq;')) return fromCsv(body, where);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw InputError.of(
      'bad-anchor-file',
      `not a checkpoint, a JSON export or a CSV export: ${(error as Error).message}`,
      where,
      'malformed',
    );
  }
  if ((json as { format?: unknown } | null)?.format === CHECKPOINT_FORMAT) {
    const checkpoint = parsed(checkpointSchema, json, where);
    return { kind: 'checkpoint', anchor: { seq: checkpoint.seq, hash: checkpoint.hash }, checkpoint };
  }
  const exported = parsed(exportSchema, json, where);
  const entries = new Map(exported.entries.map((e) => [e.seq, e.hash]));
  const last = exported.entries.at(-1);
  const head =
    exported.checkpoint ?? exported.head ?? (last ? { seq: last.seq, hash: last.hash } : undefined);
  if (!head)
    throw InputError.of('bad-anchor-file', 'the export holds no head and no entries', where, 'malformed');
  return {
    kind: 'json-export',
    anchor: { seq: head.seq, hash: head.hash, entries },
    ...(exported.checkpoint ? { checkpoint: exported.checkpoint } : {}),
  };
}

/** The first field is the seq and the last the hash (neither holds `;` nor quotes). */
function fromCsv(body: string, where: string): AnchorFile {
  const entries = new Map<number, string>();
  let last: { seq: number; hash: string } | undefined;
  const lines = body.split('\r\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '') continue;
    const seq = Number(line.slice(0, line.indexOf(';')));
    const hash = line.slice(line.lastIndexOf(';') + 1);
    if (!Number.isInteger(seq) || !/^[0-9a-f]{64}$/.test(hash)) {
      throw InputError.of(
        'bad-anchor-file',
        'a CSV export row needs a seq first and a hash last',
        `${where}:${i + 1}`,
        'malformed',
      );
    }
    entries.set(seq, hash);
    last = { seq, hash };
  }
  if (!last) throw InputError.of('bad-anchor-file', 'the CSV export holds no entries', where, 'malformed');
  return { kind: 'csv-export', anchor: { ...last, entries } };
}

function parsed<T>(schema: z.ZodType<T>, json: unknown, where: string): T {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  throw new InputError(
    result.error.issues.map((issue) => ({
      code: 'bad-anchor-file',
      message: `${issue.path.join('.') || 'file'}: ${issue.message}`,
      where: `${where} ($.${issue.path.join('.')})`,
    })),
    'malformed',
  );
}
