/**
 * Throttling of failed logins (`POST /connexion`) and token requests (`POST /oauth/token`), per
 * client id and per remote address (OWASP Authentication cheat sheet, "Protect against automated
 * attacks": limit the rate of failed attempts). Each key counts its failures in a fixed window that
 * opens with its first failure; once a key has `maxFailures` failures, every attempt that names
 * it is refused until its window ends, even with the right secret, so a guesser cannot tell a
 * hit from a miss while blocked.
 *
 * Memory is bounded: ids and addresses are kept in two maps of at most `maxTracked` keys each;
 * when one is full, ended windows are dropped, then the oldest windows. An attacker rotating
 * client ids from one address is blocked by the address after `maxFailures` tries and cannot
 * fill the id map; rotating addresses too only ever holds `2 × maxTracked` small entries.
 */
import { type Clock, systemClock } from '../domain/clock.js';

export interface LoginThrottleOptions {
  maxFailures: number;
  windowMs: number;
  /** Most keys held per kind (client ids, addresses). */
  maxTracked: number;
  clock?: Clock;
}

/** Who an attempt is from: either may be unknown (a bearer-token login has no id). */
export interface AttemptKeys {
  clientId?: string | undefined;
  address?: string | undefined;
}

interface Window {
  start: number;
  failures: number;
}

/** Longest client id kept as a key: ids are short; a 60 kB "id" must not sit in memory. */
const MAX_KEY_LENGTH = 200;

export class LoginThrottle {
  private readonly clock: Clock;
  private readonly byClient = new Map<string, Window>();
  private readonly byAddress = new Map<string, Window>();

  constructor(private readonly options: LoginThrottleOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Milliseconds until an attempt with these keys is allowed again; 0 when it is allowed now. */
  blockedForMs(keys: AttemptKeys): number {
    const now = this.clock.now();
    let wait = 0;
    for (const [map, key] of this.entries(keys)) {
      const window = map.get(key);
      if (!window) continue;
      const end = window.start + this.options.windowMs;
      if (end <= now) map.delete(key);
      else if (window.failures >= this.options.maxFailures) wait = Math.max(wait, end - now);
    }
    return wait;
  }

  recordFailure(keys: AttemptKeys): void {
    const now = this.clock.now();
    for (const [map, key] of this.entries(keys)) {
      const window = map.get(key);
      if (window && window.start + this.options.windowMs > now) {
        window.failures++;
        continue;
      }
      map.delete(key);
      this.makeRoom(map, now);
      map.set(key, { start: now, failures: 1 });
    }
  }

  /** A right secret for a client id clears that id's failures (not its address's). */
  recordSuccess(keys: AttemptKeys): void {
    if (keys.clientId !== undefined) this.byClient.delete(clientKey(keys.clientId));
  }

  /** Keys held now (ids + addresses), for tests and metrics. */
  get size(): number {
    return this.byClient.size + this.byAddress.size;
  }

  private entries(keys: AttemptKeys): Array<[Map<string, Window>, string]> {
    const out: Array<[Map<string, Window>, string]> = [];
    if (keys.clientId !== undefined && keys.clientId !== '')
      out.push([this.byClient, clientKey(keys.clientId)]);
    if (keys.address !== undefined && keys.address !== '') out.push([this.byAddress, keys.address]);
    return out;
  }

  /**
   * Maps keep insertion order and a window is re-inserted only when it restarts, so the first
   * entries are the oldest windows: ended ones go first (a scan stops at the first live one),
   * then, if still full, the oldest live one.
   */
  private makeRoom(map: Map<string, Window>, now: number): void {
    if (map.size < this.options.maxTracked) return;
    for (const [key, window] of map) {
      if (window.start + this.options.windowMs > now) break;
      map.delete(key);
    }
    while (map.size >= this.options.maxTracked) {
      const oldest = map.keys().next();
      if (oldest.done) break;
      map.delete(oldest.value);
    }
  }
}

function clientKey(clientId: string): string {
  return clientId.length > MAX_KEY_LENGTH ? clientId.slice(0, MAX_KEY_LENGTH) : clientId;
}

/** `Retry-After` in whole seconds (RFC 9110 §10.2.3), at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
