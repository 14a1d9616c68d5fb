/**
 * The bridge's HTTP client of a remote SCOPE-SORTIE (docs/api.md, docs/deployment.md "Remote
 * hub"), with OAuth2 client credentials. The embedded default reads this service's own SORTIE in
 * process instead (in-process-sortie.ts); both are a `SortieSource` (sortie-source.ts).
 *
 * Each request has a timeout; failures that may pass (network, timeout, 5xx, 429) are retried
 * with exponential backoff and full jitter (delay = random × min(cap, base × 2^attempt)), so a
 * region's bridges restarting together do not hammer a recovering source in step. A 401 gets
 * one retry with a fresh token. Conditional requests: the caller passes the ETag of the body it
 * holds; a 304 means that body is still current.
 */
import { z } from 'zod';
import { type Clock, systemClock } from '../domain/clock.js';
import {
  type OccupancyFetch,
  occupancyBodySchema,
  SortieError,
  type SortieErrorKind,
  type SortieSource,
} from './sortie-source.js';

// Other parts name the error by this module, where it was first defined.
export { SortieError, type SortieErrorKind } from './sortie-source.js';

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

export class SortieClient implements SortieSource {
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
