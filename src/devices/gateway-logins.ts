/**
 * The logins a gateway of `devices/` has at an instant: its current credential, and the one a
 * rotation replaced until its `valid_until`. Every broker (embedded, Mosquitto, EMQX) is given
 * exactly these. Pure: the caller passes the clock's instant.
 */
import type { DevicesFile, Gateway } from './schema.js';

export interface GatewayLogin {
  uai: string;
  /** The gateway id (topics, zones). */
  gateway: string;
  username: string;
  /** scrypt (src/auth/secrets.ts). */
  passwordHash: string;
  /** PBKDF2-SHA256 for EMQX, when `gateway credentials` issued the password. */
  emqxPasswordHash?: string;
  /** Epoch ms after which this login is refused; undefined for the current credential. */
  validUntil?: number;
}

export function gatewayLogins(uai: string, gateway: Gateway, now: number): GatewayLogin[] {
  const current: GatewayLogin = {
    uai,
    gateway: gateway.id,
    username: gateway.username,
    passwordHash: gateway.password_hash,
    ...(gateway.emqx_password_hash ? { emqxPasswordHash: gateway.emqx_password_hash } : {}),
  };
  const previous = gateway.previous;
  if (!previous) return [current];
  const validUntil = Date.parse(previous.valid_until);
  if (validUntil <= now) return [current];
  return [
    current,
    {
      uai,
      gateway: gateway.id,
      username: previous.username,
      passwordHash: previous.password_hash,
      ...(previous.emqx_password_hash ? { emqxPasswordHash: previous.emqx_password_hash } : {}),
      validUntil,
    },
  ];
}

/** Every login of every gateway of these files at `now`. */
export function siteLogins(files: Iterable<DevicesFile>, now: number): GatewayLogin[] {
  const logins: GatewayLogin[] = [];
  for (const file of files) {
    for (const gateway of file.gateways) logins.push(...gatewayLogins(file.school.uai, gateway, now));
  }
  return logins;
}

/** The next instant a replaced credential lapses after `now`, to re-provision then; null if none. */
export function nextLapse(files: Iterable<DevicesFile>, now: number): number | null {
  let next: number | null = null;
  for (const file of files) {
    for (const gateway of file.gateways) {
      const until = gateway.previous ? Date.parse(gateway.previous.valid_until) : Number.NaN;
      if (until > now && (next === null || until < next)) next = until;
    }
  }
  return next;
}
