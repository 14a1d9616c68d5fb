/**
 * `audit verify` and `audit export`, run through their command objects (the lead registers them in
 * src/cli.ts) on a real SQLite store in a temporary data directory.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { auditExportCommand, auditVerifyCommand } from '../../src/cli/audit.js';
import { type Command, parseCommandArgs } from '../../src/cli/command.js';
import { openStore } from '../../src/store/store.js';
import { REPO_CONFIG, tempWorkDir } from '../helpers/cli.js';
import { tamper } from '../store/audit-tamper.js';

class Capture extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer | string, _encoding: string, done: () => void) {
    this.chunks.push(Buffer.from(chunk));
    done();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

async function run(command: Command, argv: string[], cwd: string) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await command.run(parseCommandArgs(command, argv), {
    stdout,
    stderr,
    cwd,
    env: { SCOPE_ENERGIE_CONFIG: REPO_CONFIG, SCOPE_ENERGIE_DATA: join(cwd, 'data') },
  });
  return {
    code,
    stdout: stdout.bytes.toString('utf8'),
    stdoutBytes: stdout.bytes,
    stderr: stderr.bytes.toString(),
  };
}

const T0 = Date.parse('2026-11-30T07:00:00.000Z');

async function seeded(): Promise<string> {
  const cwd = tempWorkDir();
  const store = await openStore({ dataDir: join(cwd, 'data') });
  await store.audit.append([
    { at: T0, kind: 'import', uai: '0670080Y', actor: 'cli:alice', detail: { version: 1 } },
    {
      at: T0 + 1000,
      kind: 'override',
      uai: '0670080Y',
      zone: 'aile-b',
      actor: 'manager',
      detail: { reason: 'Réunion' },
    },
    { at: T0 + 2000, kind: 'config', actor: 'system', detail: { rules_version: '2026-11' } },
  ]);
  await store.close();
  return cwd;
}

describe('scope-energie audit verify', () => {
  it('exits 0 on an intact chain and 1 naming the first bad seq after tampering', async () => {
    const cwd = await seeded();
    const good = await run(auditVerifyCommand, [], cwd);
    expect(good).toMatchObject({ code: 0, stdout: 'audit chain holds: 3 entries checked\n' });
    expect(JSON.parse((await run(auditVerifyCommand, ['--json'], cwd)).stdout)).toMatchObject({
      ok: true,
      checked: 3,
    });

    const store = await openStore({ dataDir: join(cwd, 'data') });
    await tamper(store, sql`update audit_log set detail_json = '{"reason":"Rien"}' where seq = 2`);
    await store.close();
    const broken = await run(auditVerifyCommand, [], cwd);
    expect(broken).toMatchObject({
      code: 1,
      stdout: 'audit chain broken at seq 2: hash-mismatch (1 entries good before it)\n',
    });
    expect(JSON.parse((await run(auditVerifyCommand, ['--json'], cwd)).stdout)).toEqual({
      ok: false,
      checked: 1,
      firstBad: { seq: 2, reason: 'hash-mismatch' },
    });
  });
});

describe('scope-energie audit export', () => {
  it('prints CSV with a BOM and accents, filtered by school and period', async () => {
    const cwd = await seeded();
    const out = await run(
      auditExportCommand,
      [
        '--format',
        'csv',
        '--uai',
        '0670080y',
        '--from',
        '2026-11-30T07:00:01Z',
        '--to',
        '2026-11-30T07:00:02Z',
      ],
      cwd,
    );
    expect(out.code).toBe(0);
    expect([...out.stdoutBytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = out.stdout.split('\r\n');
    expect(lines[0]).toBe('\uFEFFseq;at;kind;uai;zone;actor;detail;prev_hash;hash');
    expect(lines[1]).toMatch(
      /^2;2026-11-30T07:00:01\.000Z;override;0670080Y;aile-b;manager;"\{""reason"":""Réunion""\}";[0-9a-f]{64};[0-9a-f]{64}$/,
    );
    expect(lines.slice(2)).toEqual(['']);
  });

  it('prints JSON and refuses a bad option with exit 2 naming it', async () => {
    const cwd = await seeded();
    const out = await run(auditExportCommand, ['--format', 'json', '--kind', 'config'], cwd);
    expect(out.code).toBe(0);
    expect(
      JSON.parse(out.stdout).entries.map((e: { seq: number; actor: string }) => [e.seq, e.actor]),
    ).toEqual([[3, 'system']]);
    const bad = await run(auditExportCommand, ['--json', '--kind', 'coffee'], cwd);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).errors).toEqual([
      {
        code: 'bad-kind',
        message: expect.stringMatching(/^kind: /),
        where: '--kind',
      },
    ]);
  });
});
