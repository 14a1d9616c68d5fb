/**
 * Bearer tokens → principals. Two kinds (docs/api.md, "Roles and purposes: who sees what"):
 * - static tokens we generated: looked up by SHA-256 in a Map (O(1), no scrypt per request);
 * - JWTs we issued at `POST /oauth/token` (HS256 with the service key): `iss`, `aud`, `exp` and
 *   `nbf` are checked, and the client must still exist, be enabled and hold the same role and
 *   purpose; its UAIs are those of the token that the client still has.
 */
import { createHash, createSecretKey, type KeyObject, randomUUID, timingSafeEqual } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { type Clock, systemClock } from '../domain/clock.js';
import { isValidUai, normaliseUai } from '../domain/uai.js';
import { ALL_UAIS, type Client } from './clients.js';
import { type Principal, PURPOSES, type Purpose, ROLES, type Role } from './principal.js';
import { sha256Hex, verifySecretAsync } from './secrets.js';

export interface AuthenticatorOptions {
  clients: readonly Client[];
  /** HS256 key, ≥ 32 bytes (signing-key.ts). */
  signingKey: Uint8Array;
  issuer: string;
  audience: string;
  tokenTtlSeconds: number;
  clock?: Clock;
  /** Allowed clock difference between instances sharing the key when checking `exp`/`nbf`. */
  clockToleranceSeconds?: number;
  /** How long a verified client secret is remembered; 0 disables it. */
  secretCacheMs?: number;
  /**
   * Where logged-out sessions are kept until they expire: the store, so that every instance
   * refuses them (session-revocations.ts). Default: this process's memory.
   */
  sessionRevocations?: SessionRevocations;
}

/** Revoked session ids (`sid` claims) until the expiry of their token. */
export interface SessionRevocations {
  revoke(sid: string, expiresAtMs: number): Promise<void>;
  isRevoked(sid: string): Promise<boolean>;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  /** Present when the token was narrowed by a requested scope. */
  scope?: string;
}

/** RFC 6749 §5.2 error codes this service returns. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unsupported_grant_type'
  | 'invalid_scope';

export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}

export type BearerFailure = 'unknown-token' | 'expired' | 'invalid-token' | 'client-revoked' | 'logged-out';

export type BearerResult = { ok: true; principal: Principal } | { ok: false; reason: BearerFailure };

/** Scope values: `uai:<UAI>` narrows a token to some of the client's UAIs. */
const UAI_SCOPE_PREFIX = 'uai:';

export class Authenticator {
  private readonly clients = new Map<string, Client>();
  private readonly staticTokens = new Map<string, string>();
  /** clientId → SHA-256 of the last verified secret and until when it stands. */
  private readonly verifiedSecrets = new Map<string, { digest: Buffer; until: number }>();
  private readonly clock: Clock;
  /** Imported once: jose would otherwise import a raw key on every verification. */
  private readonly key: KeyObject;
  private readonly revocations: SessionRevocations;

  constructor(private readonly options: AuthenticatorOptions) {
    this.clock = options.clock ?? systemClock;
    this.key = createSecretKey(options.signingKey);
    this.revocations = options.sessionRevocations ?? memorySessionRevocations(this.clock);
    this.replaceClients(options.clients);
  }

  /**
   * The clients from now on (a reload of the clients files, docs/api.md "Clients"): a removed or
   * disabled client's static tokens, JWTs and sessions are refused from the next request, since
   * every check reads these maps; a remembered secret stands only while its hash is unchanged.
   */
  replaceClients(clients: readonly Client[]): void {
    const previous = new Map(this.clients);
    this.clients.clear();
    this.staticTokens.clear();
    for (const client of clients) {
      this.clients.set(client.id, client);
      if (client.disabled) continue;
      for (const hash of client.token_hashes) {
        // `sha256$<hex>` → `<hex>`, the key looked up per request.
        this.staticTokens.set(hash.slice('sha256$'.length), client.id);
      }
    }
    for (const id of [...this.verifiedSecrets.keys()]) {
      const now = this.clients.get(id);
      if (!now || now.disabled || now.secret_hash !== previous.get(id)?.secret_hash)
        this.verifiedSecrets.delete(id);
    }
  }

  /** The principal behind `token`, or null for any token that is not valid now. */
  async authenticateBearer(token: string): Promise<Principal | null> {
    const result = await this.verifyBearer(token);
    return result.ok ? result.principal : null;
  }

  /** Like `authenticateBearer`, with why a token was refused (for the 401 message). */
  async verifyBearer(token: string): Promise<BearerResult> {
    if (looksLikeJwt(token)) return this.verifyJwt(token);
    const clientId = this.staticTokens.get(sha256Hex(token));
    const client = clientId === undefined ? undefined : this.clients.get(clientId);
    if (!client) return { ok: false, reason: 'unknown-token' };
    return { ok: true, principal: principalOf(client) };
  }

  /**
   * OAuth2 `client_credentials`: checks the secret (scrypt) and issues a JWT.
   * Throws `OAuthError` `invalid_client` for an unknown, disabled or secret-less client or a wrong
   * secret, `invalid_scope` for a scope outside the client's UAIs.
   */
  async issueToken(clientId: string, secret: string, requestedScope?: string): Promise<TokenResponse> {
    return this.sign(await this.checkSecret(clientId, secret), requestedScope);
  }

  /**
   * A page session for `principal` (login): a JWT like a bearer token with the principal's UAIs
   * and a `sid` that logout revokes (`revokeSession`). It never outlives `notAfterMs` (the expiry
   * of a token the session was opened with: a session does not lengthen a token's life).
   */
  async issueSession(principal: Principal, notAfterMs?: number): Promise<TokenResponse> {
    const client = this.clients.get(principal.clientId);
    if (!client || client.disabled) throw new OAuthError('invalid_client', 'unknown or disabled client');
    const nowSeconds = Math.floor(this.clock.now() / 1000);
    const ttl = Math.min(
      this.options.tokenTtlSeconds,
      notAfterMs === undefined ? Number.POSITIVE_INFINITY : Math.floor(notAfterMs / 1000) - nowSeconds,
    );
    const uais = principal.uais === 'all' ? ALL_UAIS : [...principal.uais];
    return this.signClaims(client, { uais, sid: randomUUID() }, ttl);
  }

  /** The principal of `clientId` when `secret` is its secret; else `OAuthError` `invalid_client`. */
  async authenticateClient(clientId: string, secret: string): Promise<Principal> {
    return principalOf(await this.checkSecret(clientId, secret));
  }

  /**
   * Logout: the session token's `sid` is refused from now on, by every instance sharing the
   * revocations, until the token would have expired anyway. A token that is not a valid session
   * (expired, forged, a bearer token) changes nothing.
   */
  async revokeSession(token: string): Promise<void> {
    if (!looksLikeJwt(token)) return;
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: this.options.issuer,
        audience: this.options.audience,
        currentDate: new Date(this.clock.now()),
        clockTolerance: this.options.clockToleranceSeconds ?? 5,
      }));
    } catch {
      return;
    }
    const sid = payload['sid'];
    const exp = payload['exp'];
    if (typeof sid === 'string' && typeof exp === 'number') await this.revocations.revoke(sid, exp * 1000);
  }

  private async checkSecret(clientId: string, secret: string): Promise<Client> {
    const client = this.clients.get(clientId);
    if (!client || client.disabled || client.secret_hash === undefined) {
      throw new OAuthError('invalid_client', 'unknown client, disabled client or wrong secret');
    }
    if (!(await this.secretMatches(client, secret))) {
      throw new OAuthError('invalid_client', 'unknown client, disabled client or wrong secret');
    }
    return client;
  }

  /**
   * A token for a configured client without its secret: for the composition root's own
   * in-process clients (the embedded bridge reading SORTIE over HTTP). Never exposed over HTTP.
   */
  async mintToken(clientId: string, requestedScope?: string): Promise<TokenResponse> {
    const client = this.clients.get(clientId);
    if (!client || client.disabled) throw new OAuthError('invalid_client', `no enabled client "${clientId}"`);
    return this.sign(client, requestedScope);
  }

  /** The principal of a configured, enabled client. */
  principalFor(clientId: string): Principal | null {
    const client = this.clients.get(clientId);
    return client && !client.disabled ? principalOf(client) : null;
  }

  /**
   * scrypt costs ~40 ms of CPU and 16 MB per check (measured here): a burst of token requests from
   * one client's workers would cost that each time. A success is remembered for `secretCacheMs`
   * (default 60 s) as a SHA-256 of the secret, compared in constant time. Failures are never
   * remembered, so guessing stays at full scrypt cost.
   */
  private async secretMatches(client: Client, secret: string): Promise<boolean> {
    const digest = createHash('sha256').update(secret).digest();
    const now = this.clock.now();
    const cached = this.verifiedSecrets.get(client.id);
    if (cached && cached.until > now && timingSafeEqual(cached.digest, digest)) return true;
    if (!(await verifySecretAsync(secret, client.secret_hash ?? ''))) return false;
    const ttl = this.options.secretCacheMs ?? 60_000;
    if (ttl > 0) this.verifiedSecrets.set(client.id, { digest, until: now + ttl });
    return true;
  }

  private async sign(client: Client, requestedScope: string | undefined): Promise<TokenResponse> {
    const granted = grantedUais(client, requestedScope);
    const token = await this.signClaims(client, { uais: granted.uais }, this.options.tokenTtlSeconds);
    return granted.scope ? { ...token, scope: granted.scope } : token;
  }

  private async signClaims(
    client: Client,
    extra: { uais: string[] | '*'; sid?: string },
    ttl: number,
  ): Promise<TokenResponse> {
    const nowSeconds = Math.floor(this.clock.now() / 1000);
    const claims: Record<string, unknown> = { role: client.role, ...extra };
    if (client.purpose) claims['purpose'] = client.purpose;
    const accessToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(client.id)
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setIssuedAt(nowSeconds)
      .setNotBefore(nowSeconds)
      .setExpirationTime(nowSeconds + ttl)
      .sign(this.key);
    return { access_token: accessToken, token_type: 'Bearer', expires_in: ttl };
  }

  private async verifyJwt(token: string): Promise<BearerResult> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['sub', 'exp', 'iat'],
        currentDate: new Date(this.clock.now()),
        clockTolerance: this.options.clockToleranceSeconds ?? 5,
      }));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return { ok: false, reason: code === 'ERR_JWT_EXPIRED' ? 'expired' : 'invalid-token' };
    }
    const client = typeof payload['sub'] === 'string' ? this.clients.get(payload['sub']) : undefined;
    if (!client || client.disabled) return { ok: false, reason: 'client-revoked' };
    const sid = payload['sid'];
    if (sid !== undefined && (typeof sid !== 'string' || (await this.revocations.isRevoked(sid))))
      return { ok: false, reason: 'logged-out' };
    const role = payload['role'];
    const purpose = payload['purpose'];
    // A token issued before the client's role or purpose changed carries stale rights.
    if (!ROLES.includes(role as Role) || role !== client.role || purpose !== client.purpose) {
      return { ok: false, reason: 'client-revoked' };
    }
    if (purpose !== undefined && !PURPOSES.includes(purpose as Purpose))
      return { ok: false, reason: 'invalid-token' };
    const current = principalOf(client);
    const claimed = payload['uais'];
    let uais: Principal['uais'];
    if (claimed === ALL_UAIS) {
      uais = current.uais;
    } else if (Array.isArray(claimed) && claimed.every((u): u is string => typeof u === 'string')) {
      uais = new Set(claimed.filter((uai) => current.uais === 'all' || current.uais.has(uai)));
    } else {
      return { ok: false, reason: 'invalid-token' };
    }
    return { ok: true, principal: { ...current, uais } };
  }
}

function looksLikeJwt(token: string): boolean {
  return token.split('.').length === 3;
}

export function principalOf(client: Client): Principal {
  const uais = client.uais ?? [];
  return {
    clientId: client.id,
    role: client.role,
    ...(client.purpose ? { purpose: client.purpose } : {}),
    uais: client.role === 'admin' || uais.includes(ALL_UAIS) ? 'all' : new Set(uais),
  };
}

/** The UAIs a token carries: all the client's, or the `uai:` ones requested, each within its list. */
function grantedUais(
  client: Client,
  requestedScope: string | undefined,
): { uais: string[] | '*'; scope?: string } {
  const current = principalOf(client);
  const allOfThem = current.uais === 'all' ? ALL_UAIS : [...current.uais];
  const words = (requestedScope ?? '').split(' ').filter((word) => word !== '');
  if (words.length === 0) return { uais: allOfThem };
  const requested: string[] = [];
  for (const word of words) {
    const uai = word.startsWith(UAI_SCOPE_PREFIX) ? normaliseUai(word.slice(UAI_SCOPE_PREFIX.length)) : '';
    if (!isValidUai(uai)) {
      throw new OAuthError('invalid_scope', `unknown scope "${word}": expected uai:<UAI> values`);
    }
    if (current.uais !== 'all' && !current.uais.has(uai)) {
      throw new OAuthError('invalid_scope', `scope ${word} is outside this client's UAIs`);
    }
    if (!requested.includes(uai)) requested.push(uai);
  }
  return { uais: requested, scope: requested.map((uai) => `${UAI_SCOPE_PREFIX}${uai}`).join(' ') };
}

/** Revocations held by this process only (tests, single instance without a store at hand). */
export function memorySessionRevocations(clock: Clock = systemClock): SessionRevocations {
  const revoked = new Map<string, number>();
  return {
    async revoke(sid, expiresAtMs) {
      const now = clock.now();
      for (const [key, until] of revoked) if (until <= now) revoked.delete(key);
      revoked.set(sid, expiresAtMs);
    },
    async isRevoked(sid) {
      const until = revoked.get(sid);
      return until !== undefined && until > clock.now();
    },
  };
}
