import { decodeJwt, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { Authenticator, OAuthError } from '../../src/auth/authenticator.js';
import { type Client, type ClientInput, clientSchema } from '../../src/auth/clients.js';
import { hashSecret, hashToken } from '../../src/auth/secrets.js';
import { ManualClock } from '../../src/domain/clock.js';

const KEY = new TextEncoder().encode('0123456789abcdef0123456789abcdef-test-key');
const OTHER_KEY = new TextEncoder().encode('fedcba9876543210fedcba9876543210-other-key');
const START = Date.parse('2026-03-02T08:00:00Z');
const START_S = START / 1000;
const ENT_TOKEN = 'se_ent-static-token-for-tests';
const DISABLED_TOKEN = 'se_disabled-static-token';
const SECRET = 'correct horse battery staple';

let SECRET_HASH: string;
beforeAll(() => {
  SECRET_HASH = hashSecret(SECRET);
});

function client(input: ClientInput): Client {
  return clientSchema.parse(input);
}

function clients(overrides: Partial<Record<string, Partial<ClientInput>>> = {}): Client[] {
  const base: ClientInput[] = [
    {
      id: 'ent',
      role: 'consumer',
      purpose: 'ent',
      uais: ['0670999X', '0670080Y'],
      token_hashes: [hashToken(ENT_TOKEN)],
    },
    {
      id: 'energie',
      role: 'consumer',
      purpose: 'sobriete-energetique',
      uais: ['0670999X', '0670080Y'],
      secret_hash: SECRET_HASH,
    },
    {
      id: 'old',
      role: 'manager',
      uais: ['0670999X'],
      token_hashes: [hashToken(DISABLED_TOKEN)],
      disabled: true,
    },
    { id: 'bridge', role: 'consumer', purpose: 'sobriete-energetique', uais: ['*'] },
    { id: 'root', role: 'admin', secret_hash: SECRET_HASH },
  ];
  return base.map((c) => client({ ...c, ...overrides[c.id] }));
}

function authenticator(
  options: { list?: Client[]; clock?: ManualClock; audience?: string; key?: Uint8Array } = {},
) {
  return new Authenticator({
    clients: options.list ?? clients(),
    signingKey: options.key ?? KEY,
    issuer: 'scope-energie',
    audience: options.audience ?? 'scope-energie',
    tokenTtlSeconds: 3600,
    clock: options.clock ?? new ManualClock(START),
    clockToleranceSeconds: 0,
  });
}

describe('static bearer tokens', () => {
  it('maps a known token to its client', async () => {
    expect(await authenticator().authenticateBearer(ENT_TOKEN)).toEqual({
      clientId: 'ent',
      role: 'consumer',
      purpose: 'ent',
      uais: new Set(['0670999X', '0670080Y']),
    });
  });

  it('refuses an unknown token and a disabled client’s token', async () => {
    const auth = authenticator();
    expect(await auth.verifyBearer(`${ENT_TOKEN}x`)).toEqual({ ok: false, reason: 'unknown-token' });
    expect(await auth.verifyBearer(DISABLED_TOKEN)).toEqual({ ok: false, reason: 'unknown-token' });
    expect(await auth.authenticateBearer('')).toBeNull();
  });
});

describe('client_credentials JWTs', () => {
  it('issues a JWT with the client’s rights, accepted until it expires', async () => {
    const clock = new ManualClock(START);
    const auth = authenticator({ clock });
    const response = await auth.issueToken('energie', SECRET);
    expect(response.token_type).toBe('Bearer');
    expect(response.expires_in).toBe(3600);
    expect(response.scope).toBeUndefined();
    expect(decodeJwt(response.access_token)).toEqual({
      sub: 'energie',
      iss: 'scope-energie',
      aud: 'scope-energie',
      iat: START_S,
      nbf: START_S,
      exp: START_S + 3600,
      role: 'consumer',
      purpose: 'sobriete-energetique',
      uais: ['0670999X', '0670080Y'],
    });
    const expected = {
      clientId: 'energie',
      role: 'consumer',
      purpose: 'sobriete-energetique',
      uais: new Set(['0670999X', '0670080Y']),
    };
    expect(await auth.authenticateBearer(response.access_token)).toEqual(expected);
    clock.set(START + 3599_000);
    expect(await auth.authenticateBearer(response.access_token)).toEqual(expected);
    clock.set(START + 3600_000);
    expect(await auth.verifyBearer(response.access_token)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a wrong secret, an unknown client, a disabled one, and one without a secret', async () => {
    const auth = authenticator();
    for (const [id, secret] of [
      ['energie', 'wrong'],
      ['nobody', SECRET],
      ['old', SECRET],
      ['bridge', SECRET],
    ] as const) {
      const error = await auth.issueToken(id, secret).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OAuthError);
      expect((error as OAuthError).error).toBe('invalid_client');
    }
  });

  it('still checks the secret after a successful, remembered verification', async () => {
    const auth = authenticator();
    await auth.issueToken('energie', SECRET);
    expect((await auth.issueToken('energie', SECRET)).token_type).toBe('Bearer');
    await expect(auth.issueToken('energie', `${SECRET} `)).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('refuses a tampered payload and a tampered signature', async () => {
    const auth = authenticator();
    const { access_token } = await auth.issueToken('energie', SECRET);
    const [header, payload, signature] = access_token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...claims, uais: '*' })).toString('base64url');
    expect(await auth.verifyBearer(`${header}.${forged}.${signature}`)).toEqual({
      ok: false,
      reason: 'invalid-token',
    });
    const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
    expect(await auth.verifyBearer(`${header}.${payload}.${flipped}`)).toEqual({
      ok: false,
      reason: 'invalid-token',
    });
  });

  it('refuses a token for another audience, from another issuer or signed with another key', async () => {
    const { access_token } = await authenticator().issueToken('energie', SECRET);
    expect(await authenticator({ audience: 'other-hub' }).verifyBearer(access_token)).toEqual({
      ok: false,
      reason: 'invalid-token',
    });
    expect(await authenticator({ key: OTHER_KEY }).verifyBearer(access_token)).toEqual({
      ok: false,
      reason: 'invalid-token',
    });
    const foreign = await new SignJWT({ role: 'consumer', purpose: 'sobriete-energetique', uais: '*' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('energie')
      .setIssuer('someone-else')
      .setAudience('scope-energie')
      .setIssuedAt(START_S)
      .setExpirationTime(START_S + 60)
      .sign(KEY);
    expect(await authenticator().verifyBearer(foreign)).toEqual({ ok: false, reason: 'invalid-token' });
  });

  it('refuses a token not valid yet and one with another algorithm', async () => {
    const claims = { role: 'consumer', purpose: 'sobriete-energetique', uais: '*' };
    const early = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('energie')
      .setIssuer('scope-energie')
      .setAudience('scope-energie')
      .setIssuedAt(START_S)
      .setNotBefore(START_S + 60)
      .setExpirationTime(START_S + 3600)
      .sign(KEY);
    expect(await authenticator().verifyBearer(early)).toEqual({ ok: false, reason: 'invalid-token' });
    const hs512 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('energie')
      .setIssuer('scope-energie')
      .setAudience('scope-energie')
      .setIssuedAt(START_S)
      .setExpirationTime(START_S + 3600)
      .sign(new Uint8Array(64).fill(7));
    expect(await authenticator().verifyBearer(hs512)).toEqual({ ok: false, reason: 'invalid-token' });
  });

  it('refuses the JWTs of a client since disabled, removed, or given another role', async () => {
    const { access_token } = await authenticator().issueToken('energie', SECRET);
    const revoked = { ok: false, reason: 'client-revoked' };
    expect(
      await authenticator({ list: clients({ energie: { disabled: true } }) }).verifyBearer(access_token),
    ).toEqual(revoked);
    expect(
      await authenticator({ list: clients().filter((c) => c.id !== 'energie') }).verifyBearer(access_token),
    ).toEqual(revoked);
    expect(
      await authenticator({ list: clients({ energie: { purpose: 'ent' } }) }).verifyBearer(access_token),
    ).toEqual(revoked);
  });

  it('keeps only the UAIs the client still has', async () => {
    const { access_token } = await authenticator().issueToken('energie', SECRET);
    const narrowed = authenticator({ list: clients({ energie: { uais: ['0670080Y'] } }) });
    expect((await narrowed.authenticateBearer(access_token))?.uais).toEqual(new Set(['0670080Y']));
  });

  it('narrows a token to the requested uai: scopes, and refuses others', async () => {
    const auth = authenticator();
    const response = await auth.issueToken('energie', SECRET, 'uai:0670080y');
    expect(response.scope).toBe('uai:0670080Y');
    expect((await auth.authenticateBearer(response.access_token))?.uais).toEqual(new Set(['0670080Y']));
    await expect(auth.issueToken('energie', SECRET, 'uai:0750654D')).rejects.toMatchObject({
      error: 'invalid_scope',
      description: "scope uai:0750654D is outside this client's UAIs",
    });
    await expect(auth.issueToken('energie', SECRET, 'openid')).rejects.toMatchObject({
      error: 'invalid_scope',
      description: 'unknown scope "openid": expected uai:<UAI> values',
    });
  });

  it('gives an admin every UAI, and mints tokens for in-process clients without a secret', async () => {
    const auth = authenticator();
    const admin = await auth.issueToken('root', SECRET);
    expect(decodeJwt(admin.access_token).uais).toBe('*');
    expect(await auth.authenticateBearer(admin.access_token)).toEqual({
      clientId: 'root',
      role: 'admin',
      uais: 'all',
    });
    const bridge = await auth.mintToken('bridge');
    expect(await auth.authenticateBearer(bridge.access_token)).toEqual({
      clientId: 'bridge',
      role: 'consumer',
      purpose: 'sobriete-energetique',
      uais: 'all',
    });
    await expect(auth.mintToken('old')).rejects.toMatchObject({ error: 'invalid_client' });
  });
});

describe('replaceClients (a reload of the clients files)', () => {
  it('refuses a removed client’s static token and JWT from the next request, and admits a new one', async () => {
    const auth = authenticator();
    const jwt = (await auth.issueToken('energie', SECRET)).access_token;
    expect((await auth.verifyBearer(jwt)).ok).toBe(true);
    const newcomer = client({ id: 'kleber', role: 'manager', uais: ['0670999X'], secret_hash: SECRET_HASH });
    auth.replaceClients([...clients().filter((c) => c.id !== 'ent' && c.id !== 'energie'), newcomer]);
    expect(await auth.verifyBearer(ENT_TOKEN)).toEqual({ ok: false, reason: 'unknown-token' });
    expect(await auth.verifyBearer(jwt)).toEqual({ ok: false, reason: 'client-revoked' });
    const kleber = (await auth.issueToken('kleber', SECRET)).access_token;
    expect(await auth.authenticateBearer(kleber)).toMatchObject({ clientId: 'kleber', role: 'manager' });
  });

  it('forgets a remembered secret when the client’s secret hash changes', async () => {
    const auth = authenticator();
    await auth.issueToken('energie', SECRET);
    // Within the cache's minute, the old secret would pass without scrypt: not after a new hash.
    auth.replaceClients(clients({ energie: { secret_hash: hashSecret('a new secret') } }));
    await expect(auth.issueToken('energie', SECRET)).rejects.toBeInstanceOf(OAuthError);
    expect((await auth.issueToken('energie', 'a new secret')).token_type).toBe('Bearer');
  });
});
