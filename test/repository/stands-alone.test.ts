/**
 * The repository stands on its own: no tracked file may point at the background folders the
 * project was started from (the design and research notes, the shared data folder). What the
 * code relies on is written in docs/ with its public sources (docs/formats.md,
 * docs/regulation.md, docs/savings.md, docs/performance.md…), and tests use fixtures under
 * test/fixtures/.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SELF = 'test/repository/stands-alone.test.ts';

// The notes' file names; built from parts so that no other file needs to spell them out.
const RESEARCH_NOTES = ['anchors', 'building', 'dependencies', 'formats', 'performance'];
const DESIGN_NOTES = ['architecture', 'interfaces', 'rules'];
const FORBIDDEN: { name: string; pattern: RegExp }[] = [
  { name: 'a path to ../shared', pattern: /\.\.\/shared\b/ },
  { name: 'the shared research folder', pattern: /shared\/research\b/ },
  { name: 'the shared design folder', pattern: /shared\/design\b/ },
  { name: 'the shared data folder', pattern: /shared\/data\b/ },
  {
    name: 'a research note',
    pattern: new RegExp(`(^|[^\\w/.-])research/(${RESEARCH_NOTES.join('|')})\\.md`),
  },
  {
    name: 'a design note',
    pattern: new RegExp(`(^|[^\\w/.-])design/(${DESIGN_NOTES.join('|')})\\.md`),
  },
  // Bare names of notes that have no file of that name in the repository.
  {
    name: 'a note that is not in the repository',
    pattern: /\b(anchors|building|interfaces|dependencies)\.md\b/,
  },
];

function trackedFiles(): string[] | null {
  try {
    return execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 })
      .split('\0')
      .filter((path) => path !== '' && path !== SELF);
  } catch {
    return null;
  }
}

const files = trackedFiles();
if (files === null) {
  console.warn('[stands-alone] not a git checkout (git ls-files failed): the guard is skipped');
}

describe.skipIf(files === null)('the repository stands on its own', () => {
  it('lists the tracked files', () => {
    expect(files!.length).toBeGreaterThan(100);
    expect(files).toContain('docs/formats.md');
  });

  it('has no tracked file that points at the background notes or the shared data', () => {
    const hits: string[] = [];
    for (const path of files!) {
      let text: string;
      try {
        text = readFileSync(`${ROOT}/${path}`, 'utf8');
      } catch {
        continue; // deleted in the working tree but still in the index
      }
      if (text.includes('\0')) continue; // binary
      text.split('\n').forEach((line, index) => {
        for (const { name, pattern } of FORBIDDEN) {
          if (pattern.test(line)) hits.push(`${path}:${index + 1}: ${name}: ${line.trim().slice(0, 120)}`);
        }
      });
    }
    expect(hits).toEqual([]);
  });

  it('catches each kind of reference (the patterns themselves work)', () => {
    const samples = [
      '@see ../../../shared/research/formats.md §1.1',
      'see shared/design/interfaces.md',
      "new URL('../../../shared/data/export.xml')",
      'method: research/building.md §5',
      '(design/interfaces.md, MQTT contract v1)',
      'as in anchors.md §2',
    ];
    for (const sample of samples) {
      expect(
        FORBIDDEN.some(({ pattern }) => pattern.test(sample)),
        sample,
      ).toBe(true);
    }
    for (const fine of ['docs/formats.md, "UAI"', 'docs/performance.md, "Brokers"', 'docs/rules.md']) {
      expect(
        FORBIDDEN.some(({ pattern }) => pattern.test(fine)),
        fine,
      ).toBe(false);
    }
  });
});
