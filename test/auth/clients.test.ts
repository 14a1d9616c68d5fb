import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { combineClientFiles, readClientsFile } from '../../src/auth/clients.js';
import { InputError } from '../../src/domain/problems.js';

const exampleFile = new URL('../../config/clients.example.yaml', import.meta.url).pathname;
const TOKEN_HASH_A = `sha256$${'a'.repeat(64)}`;
const TOKEN_HASH_B = `sha256$${'b'.repeat(64)}`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scope-clients-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(text: string, name = 'clients.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problemsOf(run: () => unknown) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).problems;
  }
  throw new Error('expected an InputError');
}

describe('clients file', () => {
  it('accepts the shipped example', () => {
    const { clients } = readClientsFile(exampleFile);
    expect(clients.map((c) => [c.id, c.role, c.purpose, c.uais, c.disabled])).toEqual([
      ['region-admin', 'admin', undefined, undefined, false],
      ['edt-connecteur', 'editor', undefined, ['0670999X', '0670080Y'], false],
      ['energie-region', 'consumer', 'sobriete-energetique', ['*'], false],
      ['ent-lycees', 'consumer', 'ent', ['0670999X'], false],
      ['gestionnaire-67', 'manager', undefined, ['0670999X', '0670080Y'], false],
      ['audit-collectivite', 'auditor', undefined, ['*'], true],
    ]);
  });

  it('normalises UAIs and defaults token_hashes and disabled', () => {
    const path = file('clients:\n  - id: m\n    role: manager\n    uais: [" 0670999x "]\n');
    expect(readClientsFile(path).clients).toEqual([
      { id: 'm', role: 'manager', uais: ['0670999X'], token_hashes: [], disabled: false },
    ]);
  });

  it('treats a missing optional file as empty and a missing required one as an error', () => {
    const missing = join(dir, 'none.yaml');
    expect(readClientsFile(missing, { optional: true }).clients).toEqual([]);
    expect(problemsOf(() => readClientsFile(missing))).toEqual([
      { code: 'file-not-found', message: `clients file ${missing} does not exist`, where: missing },
    ]);
  });

  it('refuses a clear-text secret, naming the line and the command that hashes it, without echoing it', () => {
    const path = file(
      'clients:\n  - id: edt\n    role: editor\n    uais: [0670999X]\n    secret_hash: hunter2-clear\n',
    );
    const problems = problemsOf(() => readClientsFile(path));
    expect(problems).toEqual([
      {
        code: 'clear-text-secret',
        message:
          'secret_hash must be a scrypt hash (scrypt$N$r$p$salt$hash), not a clear-text secret: run `scope-energie hash-secret` and paste its output here',
        where: `${path}:5:18 (clients[0].secret_hash)`,
      },
    ]);
    expect(JSON.stringify(problems)).not.toContain('hunter2');
  });

  it('refuses a clear-text static token and a sha256 hash given as secret_hash', () => {
    const path = file(
      [
        'clients:',
        '  - id: ent',
        '    role: consumer',
        '    purpose: ent',
        '    uais: [0670999X]',
        '    token_hashes:',
        '      - se_cleartoken',
        `    secret_hash: ${TOKEN_HASH_A}`,
        '',
      ].join('\n'),
    );
    expect(problemsOf(() => readClientsFile(path)).map((p) => [p.code, p.where])).toEqual([
      ['clear-text-secret', `${path}:8:18 (clients[0].secret_hash)`],
      ['clear-text-secret', `${path}:7:9 (clients[0].token_hashes[0])`],
    ]);
  });

  it('checks purposes, UAIs and wildcards per role', () => {
    const path = file(
      [
        'clients:',
        '  - id: c1', // clients[0], line 2
        '    role: consumer',
        '    uais: [0670999X]',
        '  - id: m1', // clients[1], line 5
        '    role: manager',
        '    purpose: ent',
        '    uais: [0670999A, "67"]',
        '  - id: e1', // clients[2], line 9
        "    role: editor\n    uais: ['*']",
        '  - id: a1', // clients[3], line 12
        "    role: auditor\n    uais: ['*', 0670999X]",
        '  - id: e2', // clients[4], line 15
        '    role: editor',
        '',
      ].join('\n'),
    );
    expect(problemsOf(() => readClientsFile(path))).toEqual([
      {
        code: 'missing-purpose',
        message: 'a consumer needs a purpose: ent or sobriete-energetique',
        where: `${path}:2:5 (clients[0].purpose)`,
      },
      {
        code: 'bad-uai',
        message: 'UAI 0670999A has a wrong check letter: expected 0670999X',
        where: `${path}:8:12 (clients[1].uais[0])`,
      },
      {
        code: 'bad-uai',
        message: '"67" is not a UAI: expected 7 digits and a check letter',
        where: `${path}:8:22 (clients[1].uais[1])`,
      },
      {
        code: 'unexpected-purpose',
        message: 'only a consumer has a purpose; a manager does not',
        where: `${path}:7:14 (clients[1].purpose)`,
      },
      {
        code: 'wildcard-refused',
        message: "an editor may not have '*': list its UAIs",
        where: `${path}:11:11 (clients[2].uais)`,
      },
      {
        code: 'wildcard-not-alone',
        message: "'*' already means every UAI: write it alone",
        where: `${path}:14:11 (clients[3].uais)`,
      },
      {
        code: 'missing-uais',
        message: "an editor lists the UAIs it may use (or ['*'] for all)",
        where: `${path}:15:5 (clients[4].uais)`,
      },
    ]);
  });

  it('refuses a client id or token hash used twice, in one file or across files', () => {
    const one = file(
      `clients:\n  - id: x\n    role: admin\n    token_hashes: [${TOKEN_HASH_A}]\n  - id: x\n    role: admin\n    token_hashes: [${TOKEN_HASH_A}]\n`,
    );
    expect(problemsOf(() => readClientsFile(one)).map((p) => [p.code, p.where])).toEqual([
      ['duplicate-client', `${one}:5:9 (clients[1].id)`],
      ['duplicate-token', `${one}:7:20 (clients[1].token_hashes[0])`],
    ]);

    const a = readClientsFile(
      file(`clients:\n  - id: x\n    role: admin\n    token_hashes: [${TOKEN_HASH_A}]\n`, 'a.yaml'),
    );
    const b = file(`clients:\n  - id: y\n    role: admin\n  - id: x\n    role: admin\n`, 'b.yaml');
    expect(problemsOf(() => combineClientFiles([a, readClientsFile(b)]))).toEqual([
      {
        code: 'duplicate-client',
        message: `client id "x" is also defined in ${a.file}`,
        where: `${b}:4 (clients[1].id)`,
      },
    ]);
    const c = file(
      `clients:\n  - id: z\n    role: admin\n    token_hashes: [${TOKEN_HASH_B}, ${TOKEN_HASH_A}]\n`,
      'c.yaml',
    );
    expect(problemsOf(() => combineClientFiles([a, readClientsFile(c)]))).toEqual([
      {
        code: 'duplicate-token',
        message: 'this token hash is already given to client "x"',
        where: `${c}:4 (clients[0].token_hashes[1])`,
      },
    ]);
  });
});
