import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
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
