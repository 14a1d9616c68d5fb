/**
 * `clients add` / the admin API's file edit: the client is appended with a hash only, the file's
 * comments survive, and a refused request writes nothing.
 */
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addClient } from '../../src/auth/add-client.js';
import { readClientsFile } from '../../src/auth/clients.js';
import { verifySecret } from '../../src/auth/secrets.js';
import { isInputError } from '../../src/domain/problems.js';
import { REPO_ROOT, tempWorkDir } from '../helpers/cli.js';

const example = () => {
  const dir = tempWorkDir();
  const file = join(dir, 'clients.yaml');
  copyFileSync(join(REPO_ROOT, 'config/clients.example.yaml'), file);
  return file;
};

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (isInputError(error)) return error.problems;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('addClient', () => {
  it('appends a manager with a scrypt hash, keeps every comment, and the secret verifies', async () => {
    const file = example();
    const before = readFileSync(file, 'utf8');
    const added = await addClient(
      { role: 'manager', uais: ['0670999x', '0670080Y'], name: 'Gestionnaire Lycée Kléber', id: 'kleber' },
      { file, comment: 'added by test' },
    );
    const after = readFileSync(file, 'utf8');
    // Everything the operator wrote is still there, byte for byte, before the new entry.
    expect(after.startsWith(before.trimEnd())).toBe(true);
    expect(after.slice(before.trimEnd().length)).toMatch(/^\n\n {2}# added by test\n {2}- id: kleber\n/);
    expect(after).not.toContain(added.credential.value);
    const kleber = readClientsFile(file).clients.find((c) => c.id === 'kleber');
    expect(kleber).toMatchObject({ role: 'manager', uais: ['0670999X', '0670080Y'], disabled: false });
    expect(verifySecret(added.credential.value, kleber?.secret_hash ?? '')).toBe(true);
    expect(added.credential.kind).toBe('secret');
  });

  it('creates a missing file (mode 0600) and can issue a static token instead', async () => {
    const file = join(tempWorkDir(), 'clients.yaml');
    const added = await addClient({ role: 'auditor', uais: ['*'], credential: 'token' }, { file });
    expect(added.client.id).toMatch(/^auditor-[0-9a-f]{8}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const [client] = readClientsFile(file).clients;
    expect(client?.token_hashes).toHaveLength(1);
    expect(verifySecret(added.credential.value, client?.token_hashes[0] ?? '')).toBe(true);
  });

  it('refuses a taken id (also in the generated file), an editor for every school, a consumer without purpose; writes nothing', async () => {
    const file = example();
    const generated = join(tempWorkDir(), 'clients.generated.yaml');
    writeFileSync(
      generated,
      `clients:\n  - id: demo-manager\n    role: manager\n    uais: ['0670999X']\n    token_hashes: ['sha256$${'a'.repeat(64)}']\n`,
    );
    const before = readFileSync(file, 'utf8');
    expect(
      await refusal(addClient({ role: 'manager', uais: ['0670999X'], id: 'gestionnaire-67' }, { file })),
    ).toEqual([
      expect.objectContaining({
        code: 'duplicate-client',
        where: expect.stringMatching(/clients\.yaml:\d+/),
      }),
    ]);
    expect(
      await refusal(
        addClient(
          { role: 'manager', uais: ['0670999X'], id: 'demo-manager' },
          { file, otherFiles: [generated] },
        ),
      ),
    ).toEqual([expect.objectContaining({ code: 'duplicate-client' })]);
    expect(await refusal(addClient({ role: 'editor', uais: ['*'] }, { file }))).toEqual([
      expect.objectContaining({ code: 'wildcard-refused', where: '$.uais' }),
    ]);
    expect(await refusal(addClient({ role: 'consumer', uais: ['0670999X'] }, { file }))).toEqual([
      expect.objectContaining({ code: 'missing-purpose', where: '$.purpose' }),
    ]);
    expect(await refusal(addClient({ role: 'manager', uais: ['0670999A'] }, { file }))).toEqual([
      expect.objectContaining({ code: 'bad-uai', where: '$.uais.0' }),
    ]);
    expect(await refusal(addClient({ role: 'boss' }, { file }))).toEqual([
      expect.objectContaining({ code: 'bad-field', where: '$.role' }),
    ]);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('refuses to build on a broken file, naming its line', async () => {
    const file = join(tempWorkDir(), 'clients.yaml');
    writeFileSync(
      file,
      'clients:\n  - id: x\n    role: manager\n    uais: [0670999X]\n    secret_hash: hunter2\n',
    );
    const before = readFileSync(file, 'utf8');
    expect(await refusal(addClient({ role: 'admin' }, { file }))).toEqual([
      expect.objectContaining({
        code: 'clear-text-secret',
        where: expect.stringContaining('clients.yaml:5'),
      }),
    ]);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(existsSync(`${file}.tmp`)).toBe(false);
  });
});
