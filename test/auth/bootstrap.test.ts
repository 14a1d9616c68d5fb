import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Authenticator } from '../../src/auth/authenticator.js';
import {
  ensureBootstrapClients,
  GENERATED_CLIENTS_FILE,
  INITIAL_CREDENTIALS_FILE,
} from '../../src/auth/bootstrap.js';
import { clientSchema, readClientsFile } from '../../src/auth/clients.js';
import { loadClients } from '../../src/auth/load-clients.js';
import { hashToken } from '../../src/auth/secrets.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scope-bootstrap-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const NOW = new Date('2026-03-02T08:00:00Z');

describe('ensureBootstrapClients', () => {
  it('generates an admin and one demo client per role, storing only token hashes', async () => {
    const dataDir = join(dir, 'data');
    const result = ensureBootstrapClients(dataDir, [], { now: NOW });
    expect(result.created.map(({ token: _token, ...rest }) => rest)).toEqual([
      { id: 'admin', role: 'admin' },
      { id: 'demo-editor', role: 'editor' },
      { id: 'demo-energie', role: 'consumer', purpose: 'sobriete-energetique' },
      { id: 'demo-ent', role: 'consumer', purpose: 'ent' },
      { id: 'demo-manager', role: 'manager' },
      { id: 'demo-auditor', role: 'auditor' },
    ]);
    for (const { token } of result.created) expect(token).toMatch(/^se_[A-Za-z0-9_-]{43}$/);
    expect(new Set(result.created.map((c) => c.token)).size).toBe(6);

    const credentialsFile = join(dataDir, INITIAL_CREDENTIALS_FILE);
    expect(result.credentialsFile).toBe(credentialsFile);
    expect(statSync(credentialsFile).mode & 0o777).toBe(0o600);
    const credentials = readFileSync(credentialsFile, 'utf8');
    expect(credentials).toContain('# scope-energie initial credentials, generated 2026-03-02T08:00:00.000Z.');
    for (const c of result.created) {
      expect(
        credentials
          .split('\n')
          .find((line) => line.startsWith(`${c.id} `))
          ?.endsWith(c.token),
      ).toBe(true);
    }

    const generatedFile = join(dataDir, GENERATED_CLIENTS_FILE);
    const generatedText = readFileSync(generatedFile, 'utf8');
    for (const c of result.created) {
      expect(generatedText).not.toContain(c.token);
      expect(generatedText).toContain(hashToken(c.token));
    }
    const stored = readClientsFile(generatedFile).clients;
    expect(stored.map((c) => [c.id, c.role, c.purpose, c.uais])).toEqual([
      ['admin', 'admin', undefined, ['*']],
      ['demo-editor', 'editor', undefined, ['0670999X']],
      ['demo-energie', 'consumer', 'sobriete-energetique', ['0670999X']],
      ['demo-ent', 'consumer', 'ent', ['0670999X']],
      ['demo-manager', 'manager', undefined, ['0670999X']],
      ['demo-auditor', 'auditor', undefined, ['0670999X']],
    ]);
    expect(result.clients).toEqual(stored);

    const auth = new Authenticator({
      clients: stored,
      signingKey: new Uint8Array(32).fill(1),
      issuer: 'i',
      audience: 'a',
      tokenTtlSeconds: 60,
    });
    const editor = result.created.find((c) => c.id === 'demo-editor')!;
    expect(await auth.authenticateBearer(editor.token)).toEqual({
      clientId: 'demo-editor',
      role: 'editor',
      uais: new Set(['0670999X']),
    });
  });

  it('is idempotent: a second call creates nothing and returns the stored clients', () => {
    const first = ensureBootstrapClients(dir, [], { now: NOW });
    const credentials = readFileSync(join(dir, INITIAL_CREDENTIALS_FILE), 'utf8');
    const generated = readFileSync(join(dir, GENERATED_CLIENTS_FILE), 'utf8');
    const second = ensureBootstrapClients(dir, [], { now: new Date('2026-03-03T08:00:00Z') });
    expect(second.created).toEqual([]);
    expect(second.credentialsFile).toBeNull();
    expect(second.clients).toEqual(first.clients);
    expect(readFileSync(join(dir, INITIAL_CREDENTIALS_FILE), 'utf8')).toBe(credentials);
    expect(readFileSync(join(dir, GENERATED_CLIENTS_FILE), 'utf8')).toBe(generated);
  });

  it('generates nothing when a configured client is an enabled admin', () => {
    const admin = clientSchema.parse({ id: 'ops', role: 'admin', token_hashes: [hashToken('se_x')] });
    expect(ensureBootstrapClients(dir, [admin])).toEqual({ created: [], credentialsFile: null, clients: [] });
    expect(existsSync(join(dir, GENERATED_CLIENTS_FILE))).toBe(false);
    expect(existsSync(join(dir, INITIAL_CREDENTIALS_FILE))).toBe(false);
  });

  it('generates only the admin without demo, renaming it past a disabled configured admin', () => {
    const disabled = clientSchema.parse({ id: 'admin', role: 'admin', disabled: true });
    const result = ensureBootstrapClients(dir, [disabled], { demo: false });
    expect(result.created.map((c) => [c.id, c.role])).toEqual([['admin-generated', 'admin']]);
  });
});

describe('loadClients', () => {
  it('joins the configured file and the bootstrap clients, once', () => {
    const clientsFile = join(dir, 'clients.yaml');
    writeFileSync(
      clientsFile,
      'clients:\n  - id: ent\n    role: consumer\n    purpose: ent\n    uais: [0670080Y]\n',
    );
    const dataDir = join(dir, 'data');
    const first = loadClients({ clientsFile, dataDir });
    expect(first.clients.map((c) => c.id)).toEqual([
      'ent',
      'admin',
      'demo-editor',
      'demo-energie',
      'demo-ent',
      'demo-manager',
      'demo-auditor',
    ]);
    expect(first.created).toHaveLength(6);
    expect(first.credentialsFile).toBe(join(dataDir, INITIAL_CREDENTIALS_FILE));
    const second = loadClients({ clientsFile, dataDir });
    expect(second.clients).toEqual(first.clients);
    expect(second.created).toEqual([]);
    expect(second.credentialsFile).toBeNull();
  });

  it('neither writes nor needs files when bootstrap is off', () => {
    const dataDir = join(dir, 'data');
    expect(loadClients({ clientsFile: join(dir, 'none.yaml'), dataDir, bootstrap: false })).toEqual({
      clients: [],
      created: [],
      credentialsFile: null,
    });
    expect(existsSync(dataDir)).toBe(false);
  });
});
