import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * No cycle between the top-level parts of src/ (issue 14; docs/architecture.md draws the order).
 * A part is a top-level folder; each top-level file (the composition roots `service.ts` and
 * `cli.ts`) is a part of its own. Type-only imports count: a cycle of types is still two parts
 * that cannot be understood apart.
 */
const SRC = join(import.meta.dirname, '..', '..', 'src');
const IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(?:ts|tsx|mts|mjs)$/.test(entry.name) ? [path] : [];
  });
}

function partOf(path: string): string {
  const [first, ...rest] = relative(SRC, path).split(sep);
  return rest.length === 0 ? first! : `${first}/`;
}

/** part → part → the files that make the edge. */
function importGraph(): Map<string, Map<string, Set<string>>> {
  const graph = new Map<string, Map<string, Set<string>>>();
  for (const file of sourceFiles(SRC)) {
    const from = partOf(file);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = normalize(join(dirname(file), match[1]!));
      if (relative(SRC, target).startsWith('..')) continue;
      const to = partOf(target);
      if (to === from) continue;
      const edges = graph.get(from) ?? new Map<string, Set<string>>();
      graph.set(from, edges);
      const files = edges.get(to) ?? new Set<string>();
      edges.set(to, files);
      files.add(relative(SRC, file));
    }
  }
  return graph;
}

/** Strongly connected components of more than one part (Tarjan). */
function cycles(graph: Map<string, Map<string, Set<string>>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the import graph between the parts of src/', () => {
  it('finds a cycle when there is one', () => {
    const graph = new Map([
      ['a/', new Map([['b/', new Set(['a/x.ts'])]])],
      ['b/', new Map([['a/', new Set(['b/y.ts'])]])],
      ['c/', new Map([['a/', new Set(['c/z.ts'])]])],
    ]);
    expect(cycles(graph)).toEqual([['a/', 'b/']]);
  });

  it('has no cycle', () => {
    const graph = importGraph();
    const described = cycles(graph).map((component) =>
      component.flatMap((from) =>
        [...(graph.get(from)?.entries() ?? [])]
          .filter(([to]) => component.includes(to))
          .map(([to, files]) => `${from} → ${to} (${[...files].sort().join(', ')})`),
      ),
    );
    expect(described).toEqual([]);
  });
});
