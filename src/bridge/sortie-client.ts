/**
 * The bridge's HTTP client of a SCOPE-SORTIE (docs/api.md): the embedded one
 * (this service's own server, a token minted in-process) or a remote one (OAuth2 client
 * credentials). The bridge reaches the hub only this way, even in one process (architecture.md,
 * "Data flow"), so the same code works against the Ministry's SORTIE.
 *
 * Each request has a timeout; failures that may pass (network, timeout, 5xx, 429) are retried
 * with exponential backoff and full jitter (delay = random × min(cap, base × 2^attempt)), so a
 * region's bridges restarting together do not hammer a recovering source in step. A 401 gets
 * one retry with a fresh token. Conditional requests: the caller passes the ETag of the body it
 * holds; a 304 means that body is still current.
 */
import { z } from 'zod';
import { type Clock, systemClock } from '../domain/clock.js';
import type { Occupancy } from '../domain/occupancy.js';

export type SortieErrorKind =
  /** No answer within `timeoutMs`. */
  | 'timeout'
  /** Connection refused, reset, DNS…: no HTTP answer at all. */
  | 'network'
  /** 401 even with a fresh token, or 403. */
  | 'unauthorized'
  /** 404: the source has no such school (or hides it from us). */
  | 'not-found'
  /** Another HTTP status. */
  | 'http'
  /** A 200 whose body is not what SORTIE promises. */
  | 'bad-body'
  /** The token endpoint refused or failed. */
  | 'token';

export class SortieError extends Error {
  constructor(
    readonly kind: SortieErrorKind,
    message: string,
    readonly details: { url: string; status?: number; attempts: number },
  ) {
    super(message);
    this.name = 'SortieError';
  }
}

/** Supplies bearer tokens; `invalidate` drops one the server refused. */
export interface TokenProvider {
  getToken(): Promise<string>;
  invalidate?(token: string): void;
}

export interface TokenGrant {
  access_token: string;
  /** Seconds. */
  expires_in: number;
}

/**
 * Caches a token until shortly before it expires (10 % of its life, at most 60 s early) so that a
 * request never leaves with a token that dies in flight.
 */
export class CachingTokenProvider implements TokenProvider {
  private cached: { token: string; refreshAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly fetchGrant: () => Promise<TokenGrant>,
    private readonly clock: Clock = systemClock,
  ) {}

  async getToken(): Promise<string> {
    if (this.cached && this.clock.now() < this.cached.refreshAt) return this.cached.token;
    // Concurrent syncs of many schools share one token request.
    this.pending ??= this.refresh().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async refresh(): Promise<string> {
    const grant = await this.fetchGrant();
    const lifeMs = grant.expires_in * 1000;
    const early = Math.min(60_000, lifeMs / 10);
    this.cached = { token: grant.access_token, refreshAt: this.clock.now() + lifeMs - early };
    return grant.access_token;
  }
}

export interface ClientCredentialsOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** `uai:…` scope values, space-separated; none = all the client's schools. */
  scope?: string;
  timeoutMs: number;
  clock?: Clock;
  fetch?: typeof fetch;
}

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().regex(/^bearer$/i),
  expires_in: z.number().positive(),
});

/** OAuth2 client credentials (RFC 6749 §4.4), the client authenticated with HTTP Basic (§2.3.1). */
export function clientCredentialsTokens(options: ClientCredentialsOptions): CachingTokenProvider {
  const doFetch = options.fetch ?? fetch;
  return new CachingTokenProvider(async () => {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (options.scope) form.set('scope', options.scope);
    // §2.3.1: id and secret are form-urlencoded before being joined for Basic.
    const basic = Buffer.from(
      `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
    ).toString('base64');
    let res: Response;
    try {
      res = await doFetch(options.tokenUrl, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Authorization: `Basic ${basic}`,
          Accept: 'application/json',
        },
        body: form.toString(),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      throw new SortieError('token', `token request to ${options.tokenUrl} failed: ${describe(error)}`, {
        url: options.tokenUrl,
        attempts: 1,
      });
    }
    const text = await res.text();
    if (!res.ok) {
      throw new SortieError(
        'token',
        `token endpoint ${options.tokenUrl} answered ${res.status}: ${text.slice(0, 200)}`,
        { url: options.tokenUrl, status: res.status, attempts: 1 },
      );
    }
    const parsed = tokenResponseSchema.safeParse(safeJson(text));
    if (!parsed.success) {
      throw new SortieError('token', `token endpoint ${options.tokenUrl} answered no bearer token`, {
        url: options.tokenUrl,
        status: res.status,
        attempts: 1,
      });
    }
    return parsed.data;
  }, options.clock);
}

/** What SORTIE answers for the energy purpose; unknown fields (a remote's additions) are dropped. */
const occupancyBodySchema = z.object({
  uai: z.string(),
  version: z.int(),
  timezone: z.string().min(1),
  from: z.iso.date(),
  to: z.iso.date(),
  rooms: z.array(
    z.object({
      room: z.string(),
      name: z.string(),
      intervals: z.array(z.object({ start: z.iso.datetime(), end: z.iso.datetime() })),
    }),
  ),
});
export type SortieOccupancyBody = z.infer<typeof occupancyBodySchema>;

const establishmentsSchema = z.object({
  etablissements: z.array(
    z.object({
      uai: z.string(),
      name: z.string().nullable(),
      timezone: z.string(),
      version: z.int(),
      updated_at: z.string(),
    }),
  ),
});
export type SortieEstablishment = z.infer<typeof establishmentsSchema>['etablissements'][number];

export type OccupancyFetch =
  | { status: 'modified'; body: SortieOccupancyBody; etag: string | null }
  | { status: 'not-modified' };

export interface SortieClientOptions {
  /** Base URL of the SORTIE, ending in `/scope/sortie/v1`. */
  baseUrl: string;
  tokens: TokenProvider;
  /** Per request (config `sortie.timeout_ms`). */
  timeoutMs: number;
  /** Retries after the first attempt (config `sortie.retries`). */
  retries: number;
  /** Backoff base and cap, ms (default 500 ms and 30 s). */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Injectable for tests: uniform in [0, 1). */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}

export class SortieClient {
  private readonly baseUrl: string;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly doFetch: typeof fetch;

  constructor(private readonly options: SortieClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((done) => setTimeout(done, ms)));
    this.doFetch = options.fetch ?? fetch;
  }

  /** The schools this client may read. */
  async establishments(): Promise<SortieEstablishment[]> {
    const url = `${this.baseUrl}/etablissements`;
    const { res, attempts } = await this.request(url, {});
    const parsed = establishmentsSchema.safeParse(await readJson(res, url, attempts));
    if (!parsed.success) throw badBody(url, res.status, attempts, parsed.error);
    return parsed.data.etablissements;
  }

  /**
   * Occupancy of `uai` over local dates `from`..`to` (inclusive). With `etag`, a 304 answers
   * `not-modified`: the body the caller holds for that tag is current.
   */
  async occupancy(
    uai: string,
    range: { from: string; to: string },
    etag?: string | null,
  ): Promise<OccupancyFetch> {
    const query = new URLSearchParams({ from: range.from, to: range.to });
    const url = `${this.baseUrl}/etablissements/${encodeURIComponent(uai)}/occupation?${query}`;
    const { res, attempts } = await this.request(url, etag ? { 'If-None-Match': etag } : {});
    if (res.status === 304) {
      await res.body?.cancel();
      return { status: 'not-modified' };
    }
    const parsed = occupancyBodySchema.safeParse(await readJson(res, url, attempts));
    if (!parsed.success) throw badBody(url, res.status, attempts, parsed.error);
    if (parsed.data.uai !== uai) {
      throw new SortieError('bad-body', `${url} answered the occupancy of ${parsed.data.uai}`, {
        url,
        status: res.status,
        attempts,
      });
    }
    return { status: 'modified', body: parsed.data, etag: res.headers.get('ETag') };
  }

  /** Delay before retry number `attempt` (0-based): full jitter over an exponential cap. */
  backoffDelay(attempt: number): number {
    const base = this.options.backoff?.baseMs ?? 500;
    const cap = this.options.backoff?.maxMs ?? 30_000;
    return Math.floor(this.random() * Math.min(cap, base * 2 ** attempt));
  }

  /** A 2xx or 304, or a SortieError after the retries are spent. */
  private async request(
    url: string,
    headers: Record<string, string>,
  ): Promise<{ res: Response; attempts: number }> {
    let attempts = 0;
    let refreshedToken = false;
    let retry = 0;
    for (;;) {
      attempts++;
      let token: string;
      try {
        token = await this.options.tokens.getToken();
      } catch (error) {
        if (error instanceof SortieError) throw error;
        throw new SortieError('token', `no token for ${url}: ${describe(error)}`, { url, attempts });
      }
      let failure: SortieError;
      try {
        const res = await this.doFetch(url, {
          headers: { Accept: 'application/json', Authorization: `Bearer ${token}`, ...headers },
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        if (res.ok || res.status === 304) return { res, attempts };
        const text = await res.text().catch(() => '');
        if (res.status === 401 && !refreshedToken) {
          // An expired or revoked cached token: one fresh try, not counted as a retry.
          refreshedToken = true;
          this.options.tokens.invalidate?.(token);
          continue;
        }
        failure = httpError(url, res.status, text, attempts);
      } catch (error) {
        failure = isTimeout(error)
          ? new SortieError('timeout', `${url} did not answer within ${this.options.timeoutMs} ms`, {
              url,
              attempts,
            })
          : new SortieError('network', `${url} unreachable: ${describe(error)}`, { url, attempts });
      }
      if (!isRetryable(failure) || retry >= this.options.retries) throw failure;
      await this.sleep(this.backoffDelay(retry));
      retry++;
    }
  }
}

/** SORTIE body (ISO instants) → the planner's occupancy (epoch ms). */
export function occupancyFromBody(body: SortieOccupancyBody): Occupancy {
  return {
    uai: body.uai,
    version: body.version,
    timezone: body.timezone,
    from: body.from,
    to: body.to,
    rooms: body.rooms.map((room) => ({
      room: room.room,
      name: room.name,
      intervals: room.intervals.map((i) => ({ start: Date.parse(i.start), end: Date.parse(i.end) })),
    })),
    // SORTIE does not count lessons without a room; the planner does not use this.
    unassigned: 0,
  };
}

/** Parses a stored body again (the sync cache), with the same checks as a fresh one. */
export function parseOccupancyBody(json: unknown): SortieOccupancyBody {
  return occupancyBodySchema.parse(json);
}

function isRetryable(error: SortieError): boolean {
  if (error.kind === 'timeout' || error.kind === 'network') return true;
  const status = error.details.status ?? 0;
  return error.kind === 'http' && (status >= 500 || status === 429 || status === 408);
}

function httpError(url: string, status: number, text: string, attempts: number): SortieError {
  const kind: SortieErrorKind =
    status === 401 || status === 403 ? 'unauthorized' : status === 404 ? 'not-found' : 'http';
  const detail = problemMessage(text);
  return new SortieError(kind, `${url} answered ${status}${detail ? `: ${detail}` : ''}`, {
    url,
    status,
    attempts,
  });
}

/** The first `{errors:[{message}]}` of our error body, when the source speaks it. */
function problemMessage(text: string): string {
  const json = safeJson(text) as { errors?: Array<{ message?: unknown }> } | undefined;
  const message = json?.errors?.[0]?.message;
  return typeof message === 'string' ? message : text.slice(0, 200);
}

async function readJson(res: Response, url: string, attempts: number): Promise<unknown> {
  const text = await res.text();
  const json = safeJson(text);
  if (json === undefined) {
    throw new SortieError('bad-body', `${url} answered ${res.status} with a body that is not JSON`, {
      url,
      status: res.status,
      attempts,
    });
  }
  return json;
}

function badBody(url: string, status: number, attempts: number, error: z.ZodError): SortieError {
  const issue = error.issues[0];
  const where = issue
    ? `$${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`
    : '$';
  return new SortieError(
    'bad-body',
    `${url} answered an unexpected body at ${where}: ${issue?.message ?? ''}`,
    {
      url,
      status,
      attempts,
    },
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown }).name;
  return name === 'TimeoutError' || name === 'AbortError';
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // undici hides the socket error (ECONNREFUSED…) in `cause`.
  const cause = (error as { cause?: unknown }).cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `${error.message} (${code})` : error.message;
}

export interface SortieSourceSettings {
  /** Config `sortie.source`. */
  source: 'embedded' | { url: string; token_url: string; client_id: string; client_secret_env: string };
  timeout_ms: number;
  retries: number;
}

export interface SortieClientWiring {
  /** Embedded mode: `${this service's URL}/scope/sortie/v1` and a token for the internal consumer client. */
  embedded: { baseUrl: string; mintToken: () => Promise<TokenGrant> };
  env: NodeJS.ProcessEnv;
  clock?: Clock;
}

/**
 * The client the configuration asks for: the embedded SORTIE with in-process tokens, or a
 * remote one with client credentials (its secret read from the named environment variable).
 */
export function sortieClientFromConfig(
  settings: SortieSourceSettings,
  wiring: SortieClientWiring,
): SortieClient {
  const common = { timeoutMs: settings.timeout_ms, retries: settings.retries };
  if (settings.source === 'embedded') {
    return new SortieClient({
      ...common,
      baseUrl: wiring.embedded.baseUrl,
      tokens: new CachingTokenProvider(wiring.embedded.mintToken, wiring.clock),
    });
  }
  const remote = settings.source;
  const secret = wiring.env[remote.client_secret_env];
  if (secret === undefined || secret === '') {
    throw new Error(
      `sortie.source.client_secret_env names ${remote.client_secret_env}, which is not set: export the client secret of ${remote.client_id} there`,
    );
  }
  return new SortieClient({
    ...common,
    baseUrl: remote.url,
    tokens: clientCredentialsTokens({
      tokenUrl: remote.token_url,
      clientId: remote.client_id,
      clientSecret: secret,
      timeoutMs: settings.timeout_ms,
      ...(wiring.clock ? { clock: wiring.clock } : {}),
    }),
  });
}
