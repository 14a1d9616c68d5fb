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

// Every name below is built from parts, so that this file does not itself spell out the
// references it forbids (other checks read it too).
const SHARED = 'shared';
const FOLDERS = { research: ['re', 'search'].join(''), design: ['de', 'sign'].join(''), data: 'data' };
const RESEARCH_NOTES = ['anchors', 'building', 'dependencies', 'formats', 'performance'];
const DESIGN_NOTES = ['architecture', 'interfaces', 'rules'];
/** Notes that have no file of that name in the repository, so their bare name is a pointer too. */
const ABSENT_NOTES = ['anchors', 'building', 'interfaces', 'dependencies'];
const FORBIDDEN: { name: string; pattern: RegExp }[] = [
  { name: 'a path to the shared folder', pattern: new RegExp(`\\.\\./${SHARED}\\b`) },
  { name: 'the shared research folder', pattern: new RegExp(`${SHARED}/${FOLDERS.research}\\b`) },
  { name: 'the shared design folder', pattern: new RegExp(`${SHARED}/${FOLDERS.design}\\b`) },
  { name: 'the shared data folder', pattern: new RegExp(`${SHARED}/${FOLDERS.data}\\b`) },
  {
    name: 'a research note',
    pattern: new RegExp(`(^|[^\\w/.-])${FOLDERS.research}/(${RESEARCH_NOTES.join('|')})\\.md`),
  },
  {
    name: 'a design note',
    pattern: new RegExp(`(^|[^\\w/.-])${FOLDERS.design}/(${DESIGN_NOTES.join('|')})\\.md`),
  },
  {
    name: 'a note that is not in the repository',
    pattern: new RegExp(`\\b(${ABSENT_NOTES.join('|')})\\.md\\b`),
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
    const up = `../../../${SHARED}`;
    const samples = [
      `@see ${up}/${FOLDERS.research}/formats.md §1.1`,
      `see ${SHARED}/${FOLDERS.design}/interfaces.md`,
      `new URL('${up}/${FOLDERS.data}/export.xml')`,
      `method: ${FOLDERS.research}/${ABSENT_NOTES[1]}.md §5`,
      `(${FOLDERS.design}/${ABSENT_NOTES[2]}.md, MQTT contract v1)`,
      `as in ${ABSENT_NOTES[0]}.md §2`,
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
