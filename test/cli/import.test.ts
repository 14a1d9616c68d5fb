import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { generateSyntheticEdt } from '../fixtures/edt/synthetic.js';
import { cli, REPO_ROOT, tempWorkDir } from '../helpers/cli.js';

const EXAMPLE = readFileSync(new URL('../fixtures/edt/exemple-0679999E.xml', import.meta.url));

describe('scope-energie import', () => {
  it('imports a file, reports JSON, is idempotent, and lists versions', async () => {
    const cwd = tempWorkDir();
    writeFileSync(join(cwd, 'edt.xml'), EXAMPLE);
    const first = await cli(['import', 'edt.xml', '--json'], { cwd });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report).toMatchObject({
      uai: '0679999E',
      version: 1,
      unchanged: false,
      format: 'edt',
      counts: { rooms: 2 },
    });

    const again = await cli(['import', 'edt.xml', '--json'], { cwd });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ version: 1, unchanged: true });

    const versions = await cli(['versions', '--uai', '0679999E', '--json'], { cwd });
    expect(versions.code).toBe(0);
    const list = JSON.parse(versions.stdout);
    expect(list.versions).toHaveLength(1);
    expect(list.versions[0].importedBy).toMatch(/^cli:/);
  });

  it('exits 2 with {errors} for invalid input and stores nothing', async () => {
    const cwd = tempWorkDir();
    writeFileSync(join(cwd, 'edt.xml'), EXAMPLE);
    const mismatch = await cli(['import', 'edt.xml', '--uai', '0670080Y', '--json'], { cwd });
    expect(mismatch.code).toBe(2);
    expect(JSON.parse(mismatch.stdout).errors[0]).toMatchObject({
      code: 'uai-mismatch',
      where: 'UAI in the file',
    });

    const wrongLetter = await cli(['import', 'edt.xml', '--uai', '0679999A'], { cwd });
    expect(wrongLetter.code).toBe(2);
    expect(wrongLetter.stderr).toContain(
      'error bad-uai: UAI 0679999A has a wrong check letter: expected 0679999E',
    );

    writeFileSync(
      join(cwd, 'broken.xml'),
      '<?xml version="1.0"?><ExportEmploiDuTemps>\n<Salles></ExportEmploiDuTemps>',
    );
    const malformed = await cli(['import', 'broken.xml', '--json'], { cwd });
    expect(malformed.code).toBe(2);
    expect(JSON.parse(malformed.stdout).errors[0]).toMatchObject({
      code: 'xml-malformed',
      where: expect.stringMatching(/^line 2/),
    });

    const missing = await cli(['import', 'nope.xml'], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('error file-unreadable');

    const unknownOption = await cli(['import', 'edt.xml', '--colour'], { cwd });
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("Unknown option '--colour'");

    const versions = await cli(['versions', '--uai', '0679999E', '--json'], { cwd });
    expect(JSON.parse(versions.stdout).versions).toEqual([]);
  });

  it('refuses a destructive import with the diff (exit 2) unless --force, with or without --uai', async () => {
    const cwd = tempWorkDir();
    writeFileSync(join(cwd, 'edt.xml'), EXAMPLE);
    expect((await cli(['import', 'edt.xml'], { cwd })).code).toBe(0);
    // Every event ends before it starts: nothing left of the timetable.
    writeFileSync(
      join(cwd, 'envers.ics'),
      [
        'BEGIN:VCALENDAR',
        'VERSION:2.0',
        'X-WR-CALNAME:Emploi du temps 0679999E',
        'BEGIN:VEVENT',
        'UID:envers',
        'DTSTART:20250901T090000Z',
        'DTEND:20250901T080000Z',
        'LOCATION:B012',
        'END:VEVENT',
        'END:VCALENDAR',
        '',
      ].join('\r\n'),
    );
    const refused = await cli(['import', 'envers.ics', '--uai', '0679999E', '--json'], { cwd });
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout)).toEqual({
      errors: [
        {
          code: 'destructive-import',
          message:
            'this import would replace 5 lesson(s) by none; nothing was stored: check the export, or confirm with --force',
          where: 'body',
        },
      ],
      diff: {
        rooms_before: 2,
        rooms_after: 0,
        lessons_before: 5,
        lessons_after: 0,
        rooms_removed: ['B012', 'LABO 1'],
      },
    });
    // The school named by the file only: the same check, in the CLI's own thread.
    const byFile = await cli(['import', 'envers.ics'], { cwd });
    expect(byFile.code).toBe(2);
    expect(byFile.stderr).toContain(
      'error destructive-import: this import would replace 5 lesson(s) by none',
    );
    expect(byFile.stderr).toContain('rooms 2 → 0, lessons 5 → 0; rooms removed: B012, LABO 1');
    let versions = await cli(['versions', '--uai', '0679999E', '--json'], { cwd });
    expect(JSON.parse(versions.stdout).versions).toHaveLength(1);

    const forced = await cli(['import', 'envers.ics', '--force', '--json'], { cwd });
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({
      version: 2,
      counts: { lessons: 0 },
      warnings: [{ code: 'ics-event-ends-before-start' }],
      warnings_total: 1,
    });
    versions = await cli(['versions', '--uai', '0679999E', '--json'], { cwd });
    expect(JSON.parse(versions.stdout).versions[0]).toMatchObject({ version: 2, warnings_total: 1 });
  });

  it('reads in a worker with the configured limits: time budget and bounds exit 2, nothing stored', async () => {
    const cwd = tempWorkDir();
    writeFileSync(join(cwd, 'big.xml'), generateSyntheticEdt({ lessons: 60_000, rooms: 200, seed: 5 }));
    const slow = await cli(['import', 'big.xml', '--json'], {
      cwd,
      env: {
        SCOPE_ENERGIE_ENTREE__WORKER__TASK_TIMEOUT_S: '0.2',
        SCOPE_ENERGIE_ENTREE__MAX_OCCURRENCES: '100000000',
      },
    });
    expect(slow.code).toBe(2);
    expect(JSON.parse(slow.stdout).errors).toEqual([
      {
        code: 'import-time-limit',
        message:
          'reading the import took longer than 0.2 s (entree.worker.task_timeout_s) and was stopped; nothing was stored',
        where: 'body',
      },
    ]);
    const bounded = await cli(['import', 'big.xml', '--json'], { cwd });
    expect(bounded.code).toBe(2);
    expect(JSON.parse(bounded.stdout).errors[0]).toMatchObject({ code: 'too-many-occurrences' });

    writeFileSync(
      join(cwd, 'latin1.xml'),
      EXAMPLE.toString('utf8').replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'),
    );
    const strict = await cli(['import', 'latin1.xml', '--strict', '--json'], { cwd });
    expect([strict.code, JSON.parse(strict.stdout).errors[0].code]).toEqual([2, 'encoding-mismatch']);
    const versions = await cli(['versions', '--uai', '0679999E', '--json'], { cwd });
    expect(JSON.parse(versions.stdout).versions).toEqual([]);

    const warned = await cli(['import', 'latin1.xml'], { cwd });
    expect(warned.code).toBe(0);
    expect(warned.stdout).toContain('warning encoding-mismatch: the file declares ISO-8859-1/Windows-1252');
    expect(warned.stdout).toContain('  at line 10\n');
  });

  it('prints --help for every command and exits 0', async () => {
    const cwd = tempWorkDir();
    const top = await cli(['--help'], { cwd });
    expect(top.code).toBe(0);
    const names = [...top.stdout.matchAll(/^ {2}([a-z][a-z -]*?) {2,}/gm)].map((m) => m[1]!.trim());
    expect(names).toContain('import');
    for (const name of names) {
      const help = await cli([...name.split(' '), '--help'], { cwd });
      expect(help.code, name).toBe(0);
      expect(help.stdout, name).toContain(`Usage: scope-energie ${name}`);
      expect(help.stdout, name).toContain('Exit codes: 0 done, 1 failure, 2 invalid input or configuration.');
    }
    const unknown = await cli(['frobnicate'], { cwd });
    expect(unknown.code).toBe(2);
  });

  it('runs as the installed bin (real process, exit code)', async () => {
    const cwd = tempWorkDir();
    const run = promisify(execFile);
    const result = await run(
      process.execPath,
      [join(REPO_ROOT, 'bin/scope-energie.js'), 'hash-secret', 's3cret'],
      {
        cwd,
        env: { ...process.env, SCOPE_ENERGIE_FROM_SOURCE: '1' },
      },
    );
    expect(result.stdout).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+\n$/);
    await expect(
      run(process.execPath, [join(REPO_ROOT, 'bin/scope-energie.js'), 'import', 'missing.xml'], {
        cwd,
        env: { ...process.env, SCOPE_ENERGIE_DATA: join(cwd, 'data'), DATABASE_URL: '' },
      }),
    ).rejects.toMatchObject({ code: 2 });
  });
});

describe('the command registry', () => {
  it("lists each command with its module's own name and summary", async () => {
    const { COMMANDS } = await import('../../src/cli.js');
    for (const entry of COMMANDS) {
      const command = await entry.load();
      expect([command.name, command.summary]).toEqual([entry.name, entry.summary]);
    }
  });
});
