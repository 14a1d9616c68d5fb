/**
 * Native JSON reader (`scope-emploi-du-temps/v1`): the zod schema in src/domain/timetable.ts is
 * the contract. Unknown fields are refused in strict mode and dropped with a warning otherwise
 * (docs/schemas/scope-emploi-du-temps-v1.json).
 */
import type { z } from 'zod';
import { InputError, type Problem } from '../domain/problems.js';
import type { ReaderOptions, ReadResult } from '../domain/reader.js';
import { timetableSchema } from '../domain/timetable.js';
import { decodeText, detectEncoding } from './encoding.js';

export interface JsonReaderOptions extends ReaderOptions {
  strict?: boolean;
}

export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '$';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `.${String(part)}`;
  return out;
}

export function readNativeJson(bytes: Uint8Array, options: JsonReaderOptions = {}): ReadResult {
  // RFC 8259 §8.1: JSON exchanged between systems is UTF-8; no Windows-1252 guess here.
  const heapBudget = options.limits?.maxJsonHeapBytes;
  // Refused before decoding, so that neither the text nor the parse nears the limit.
  if (heapBudget !== undefined && parsedHeapEstimate(bytes) > heapBudget) throw notEnoughHeap(heapBudget);
  const detected = detectEncoding(bytes);
  const { text } = decodeText(
    bytes,
    detected.from === 'bom' ? detected : { encoding: 'utf-8', from: 'caller', offset: 0 },
  );
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(message)?.[1];
    let where = '$';
    // Node names the offending position, or says the input ended early (then: at the end).
    const at =
      position !== undefined ? Number(position) : /end of JSON/i.test(message) ? text.length : undefined;
    if (at !== undefined) {
      const before = text.slice(0, at);
      const line = before.split('\n').length;
      where = `line ${line}, column ${at - before.lastIndexOf('\n')}`;
    }
    throw InputError.of('json-malformed', `malformed JSON: ${message}`, where, 'malformed');
  }
  const warnings: Problem[] = [];
  let result = timetableSchema.safeParse(data);
  if (!result.success && !options.strict) {
    const unknown = result.error.issues.filter((i) => i.code === 'unrecognized_keys');
    if (unknown.length > 0 && unknown.length === result.error.issues.length) {
      for (const issue of unknown) {
        const owner = resolve(data, issue.path);
        for (const key of issue.keys) {
          if (owner && typeof owner === 'object') delete (owner as Record<string, unknown>)[key];
          warnings.push({
            code: 'field-unknown',
            message: `unknown field "${key}" ignored (refused in strict mode)`,
            where: jsonPath([...issue.path, key]),
          });
        }
      }
      result = timetableSchema.safeParse(data);
    }
  }
  if (!result.success) throw new InputError(issuesToProblems(result.error.issues), 'invalid');
  return { timetable: { ...result.data, source: result.data.source ?? { format: 'json' } }, warnings };
}

export function issuesToProblems(issues: readonly z.core.$ZodIssue[]): Problem[] {
  return issues.slice(0, 50).map((issue) => ({
    code: issue.code === 'unrecognized_keys' ? 'field-unknown' : `json-${issue.code.replace(/_/g, '-')}`,
    message:
      issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
    where: jsonPath(issue.path),
  }));
}

function resolve(data: unknown, path: readonly PropertyKey[]): unknown {
  let node = data;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/**
 * An upper estimate of the heap that decoding and `JSON.parse` take, in one linear pass over the
 * bytes: three bytes per byte (decoding holds about two while it runs, measured in a 64 MB worker:
 * +50 MB for 26.5 MB; parsing copies the strings once more), plus 48 bytes per value: a JS object
 * or array header is 16–32 bytes and each slot that holds it 8. Every value but the first follows
 * a `,`, `:`, `[` or `{` (ASCII, so the same bytes in UTF-8), so their count bounds the values.
 */
export function parsedHeapEstimate(bytes: Uint8Array): number {
  let values = 1;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    // , : [ {
    if (c === 44 || c === 58 || c === 91 || c === 123) values++;
  }
  return 3 * bytes.length + 48 * values;
}

function notEnoughHeap(budget: number): InputError {
  return InputError.of(
    'import-memory-limit',
    `the JSON document would need more than the ${Math.round(budget / 2 ** 20)} MB of heap it may take`,
    'body',
    'too-large',
  );
}
