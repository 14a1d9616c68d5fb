/**
 * YAML files users edit (config/, devices/, rules/) → zod-validated values, with every problem
 * located as `file:line:column (field.path)`. One helper for all of them, so an error in any
 * file reads the same (README.md, "Configuration").
 */
import { isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { InputError, type Problem } from '../domain/problems.js';

export interface ParsedYaml<T> {
  value: T;
  /** Line of a field path, for later cross-file checks that must name a line too. */
  lineOf(path: readonly (string | number)[]): number;
}

/** Formats a location: `devices/0670999L.yaml:12:5 (zones[2].rooms)`. */
export function formatWhere(
  file: string,
  line: number,
  column: number | undefined,
  path: readonly PropertyKey[],
): string {
  const field = formatPath(path);
  return `${file}:${line}${column ? `:${column}` : ''}${field ? ` (${field})` : ''}`;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/**
 * Parses `text` (the content of `file`) and validates it with `schema`.
 * Throws `InputError` listing every YAML syntax error or schema issue with its line.
 */
export function parseYamlFile<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
): ParsedYaml<z.output<S>> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new InputError(
      doc.errors.map((error) => {
        const pos = error.linePos?.[0];
        return {
          code: 'yaml-syntax',
          message: error.message.split('\n')[0] ?? error.message,
          where: formatWhere(file, pos?.line ?? 1, pos?.col, []),
        };
      }),
      'malformed',
    );
  }
  const lineOf = (path: readonly (string | number)[]): number => {
    const node = nearestNode(doc.contents as Node | null, path);
    const offset = node?.range?.[0] ?? 0;
    return lineCounter.linePos(offset).line;
  };
  const columnOf = (path: readonly (string | number)[]): number => {
    const node = nearestNode(doc.contents as Node | null, path);
    return lineCounter.linePos(node?.range?.[0] ?? 0).col;
  };
  const result = schema.safeParse(doc.toJS() ?? {});
  if (!result.success) {
    const problems: Problem[] = result.error.issues.flatMap((issue): Problem[] => {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      const code = issue.code.startsWith('invalid')
        ? issue.code.replace(/_/g, '-')
        : `invalid-${issue.code.replace(/_/g, '-')}`;
      if (issue.code === 'unrecognized_keys') {
        // One problem per unknown key, located at the key itself rather than at its parent.
        return issue.keys.map((key) => {
          const keyPath = [...path, key];
          return {
            code,
            message: `Unrecognized key: "${key}"`,
            where: formatWhere(file, lineOf(keyPath), columnOf(keyPath), keyPath),
          };
        });
      }
      // A refinement may name its own stable code: `refine(fn, {message, params: {code}})`.
      const customCode = issue.code === 'custom' ? issue.params?.['code'] : undefined;
      return [
        {
          code: typeof customCode === 'string' ? customCode : code,
          message: issue.message,
          where: formatWhere(file, lineOf(path), columnOf(path), path),
        },
      ];
    });
    throw new InputError(problems, 'invalid');
  }
  return { value: result.data, lineOf };
}

/** The node at `path`, or the deepest existing ancestor (a missing key is reported at its parent). */
function nearestNode(root: Node | null, path: readonly (string | number)[]): Node | null {
  let node: Node | null = root;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => {
        const k = item.key as { value?: unknown } | null;
        return k !== null && String(k?.value) === String(key);
      });
      if (!pair) return node;
      node = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as Node | undefined;
      if (!item) return node;
      node = item;
    } else {
      return node;
    }
  }
  return node;
}
