/**
 * Test clients for every role and purpose, with real hashed tokens and a real Authenticator:
 * route tests go through the same bearer check as production.
 */
import { randomBytes } from 'node:crypto';
import { Authenticator } from '../../src/auth/authenticator.js';
import { type Client, clientSchema } from '../../src/auth/clients.js';
import { generateToken, hashToken } from '../../src/auth/secrets.js';
import type { Clock } from '../../src/domain/clock.js';

export interface TestClient {
  id: string;
  token: string;
  client: Client;
}

export interface TestClientSpec {
  id: string;
  role: Client['role'];
  purpose?: Client['purpose'];
  uais?: string[];
  disabled?: boolean;
}

export function makeClients(specs: TestClientSpec[], clock?: Clock) {
  const made = new Map<string, TestClient>();
  for (const spec of specs) {
    const token = generateToken('test');
    const client = clientSchema.parse({ ...spec, token_hashes: [hashToken(token)] });
    made.set(spec.id, { id: spec.id, token, client });
  }
  const authenticator = new Authenticator({
    clients: [...made.values()].map((m) => m.client),
    signingKey: randomBytes(32),
    issuer: 'scope-energie-test',
    audience: 'scope-energie-test',
    tokenTtlSeconds: 300,
    ...(clock ? { clock } : {}),
  });
  const bearer = (id: string): Record<string, string> => {
    const client = made.get(id);
    if (!client) throw new Error(`no test client ${id}`);
    return { Authorization: `Bearer ${client.token}` };
  };
  return { authenticator, clients: made, bearer };
}
