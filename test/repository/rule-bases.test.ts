import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * Every `basis` in the shipped rule files names a legal text or a section of the project's own
 * docs (issue 14: an auditor reading a `desired` payload must be able to follow the reason
 * without files that are not in the repository).
 */
const ROOT = join(import.meta.dirname, '..', '..');
const LEGAL = /Code de l'énergie|Code de la construction|arrêté|décret|plan de sobriété/i;
const PROJECT_DOC = /\bdocs\/[a-z0-9-]+\.md\b/;

function bases(node: unknown, path: string, found: Array<{ path: string; basis: string }>): void {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) bases(item, `${path}[${i}]`, found);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'basis' && typeof value === 'string') found.push({ path: `${path}.${key}`, basis: value });
      else bases(value, `${path}.${key}`, found);
    }
  }
}

describe('rule bases', () => {
  it('each names a legal text or a section of docs/ that exists', () => {
    const found: Array<{ path: string; basis: string }> = [];
    for (const name of readdirSync(join(ROOT, 'rules')).filter((n) => n.endsWith('.yaml'))) {
      bases(parse(readFileSync(join(ROOT, 'rules', name), 'utf8')), `rules/${name}`, found);
    }
    expect(found.length).toBeGreaterThan(10);
    const unsourced = found.filter(({ basis }) => !LEGAL.test(basis) && !PROJECT_DOC.test(basis));
    expect(unsourced).toEqual([]);
    const missingDocs = found
      .flatMap(({ path, basis }) =>
        [...basis.matchAll(new RegExp(PROJECT_DOC, 'g'))].map((m) => ({ path, doc: m[0] })),
      )
      .filter(({ doc }) => {
        try {
          readFileSync(join(ROOT, doc));
          return false;
        } catch {
          return true;
        }
      });
    expect(missingDocs).toEqual([]);
  });
});
