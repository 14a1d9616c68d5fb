import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { bulkProgress } from '../../src/cli/bulk-import.js';
import { buildDemoTimetable } from '../../src/demo/demo-lycee.js';
import { cli, tempWorkDir } from '../helpers/cli.js';

const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url));
const COLLEGE = fixture('edt/college-0139999Y.xml');
const EXAMPLE = fixture('edt/exemple-0679999E.xml');
const BROKEN = '<?xml version="1.0"?><ExportEmploiDuTemps>\n<Salles></ExportEmploiDuTemps>';

async function versionsOf(cwd: string, uai: string): Promise<number> {
  const run = await cli(['versions', '--uai', uai, '--json'], { cwd });
  return (JSON.parse(run.stdout) as { versions: unknown[] }).versions.length;
}

describe('scope-energie import --bulk', () => {
  it('imports a folder, refuses the bad file without stopping the others, and says so in the exit code', async () => {
    const cwd = tempWorkDir();
    const dir = join(cwd, 'exports');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a-college.xml'), COLLEGE);
    writeFileSync(join(dir, 'b-broken.xml'), BROKEN);
    writeFileSync(join(dir, 'c-demo.json'), JSON.stringify(buildDemoTimetable(Date.now())));
    writeFileSync(join(dir, 'd-exemple.xml'), EXAMPLE);
    writeFileSync(join(dir, '.DS_Store'), 'not an export');
    const run = await cli(['import', '--bulk', 'exports'], { cwd });
    expect(run.code).toBe(2);
    const rows = run.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^file +UAI +version +lessons +status$/);
    expect(rows[1]).toMatch(/^a-college\.xml +0139999Y +1 +12 +imported$/);
    expect(rows[2]).toMatch(/^b-broken\.xml +- +- +- +refused: xml-malformed: /);
    expect(rows[3]).toMatch(/^c-demo\.json +0670999X +1 +\d+ +imported$/);
    expect(rows[4]).toMatch(/^d-exemple\.xml +0679999E +1 +5 +imported$/);
    expect(rows[5]).toBe('4 file(s): 3 imported, 0 unchanged, 1 refused, 0 failed');
    // Not a terminal: one plain line per file on stderr, no bar.
    expect(run.stderr.split('\n')).toEqual([
      '1/4 a-college.xml: imported',
      '2/4 b-broken.xml: refused (xml-malformed)',
      '3/4 c-demo.json: imported',
      '4/4 d-exemple.xml: imported',
      '',
    ]);
    expect(await versionsOf(cwd, '0139999Y')).toBe(1);
    expect(await versionsOf(cwd, '0679999E')).toBe(1);

    // The same folder again: nothing new, the bad file still refused.
    const again = await cli(['import', '--bulk', 'exports', '--json'], { cwd });
    expect(again.code).toBe(2);
    const { results } = JSON.parse(again.stdout) as { results: { file: string; status: string }[] };
    expect(results.map((r) => r.status)).toEqual(['unchanged', 'refused', 'unchanged', 'unchanged']);
  });

  it('imports a zip of exports through the safe unzip and refuses an unsafe archive as a whole', async () => {
    const cwd = tempWorkDir();
    writeFileSync(
      join(cwd, 'exports.zip'),
      zipSync({
        'region/college.xml': COLLEGE,
        'region/exemple.xml': EXAMPLE,
        '__MACOSX/region/._college.xml': new Uint8Array(4),
      }),
    );
    const run = await cli(['import', '--bulk', 'exports.zip', '--json'], { cwd });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      exit: 0,
      results: [
        { file: 'region/college.xml', uai: '0139999Y', version: 1, lessons: 12, status: 'imported' },
        { file: 'region/exemple.xml', uai: '0679999E', version: 1, lessons: 5, status: 'imported' },
      ],
    });

    writeFileSync(join(cwd, 'slip.zip'), zipSync({ '../evil.xml': COLLEGE }));
    const slip = await cli(['import', '--bulk', 'slip.zip'], { cwd });
    expect(slip.code).toBe(2);
    expect(slip.stderr).toContain('error zip-unsafe-path: entry name "../evil.xml" is refused');
  });

  it('refuses FILE or --uai with --bulk', async () => {
    const cwd = tempWorkDir();
    const run = await cli(['import', '--bulk', 'x', '--uai', '0670999X'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error option-invalid: --bulk reads every file of DIR or ZIP');
  });
});

describe('bulkProgress', () => {
  it('draws one bar on a terminal, redrawn in place, ended by a newline', () => {
    let text = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    const stderr = Object.assign(sink, { isTTY: true });
    const progress = bulkProgress({ stdout: stderr, stderr, env: {}, cwd: '/' }, 2, false);
    progress.reading(0, 'a.xml', 0.5);
    progress.done(0, { file: 'a.xml', uai: null, version: null, lessons: null, status: 'refused' });
    progress.done(1, { file: 'b.xml', uai: '0670999X', version: 1, lessons: 3, status: 'imported' });
    expect(text.split('\r').filter(Boolean)).toEqual([
      '[######..................] 0/2 a.xml',
      '[############............] 1/2 a.xml',
      '[########################] 2/2 b.xml\n',
    ]);
  });
});
