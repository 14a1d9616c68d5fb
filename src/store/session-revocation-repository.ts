/**
 * Revoked page sessions in the store (migration 0006), shared by every instance on it: logout
 * writes the session's `sid` with its token's expiry; each session request looks it up by primary
 * key. Each revocation first deletes the rows whose token has expired, so the table holds only
 * sessions that could still be presented.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.js';
import type { Database } from './schema.js';

export interface SessionRevocationRepository {
  revoke(sid: string, expiresAtMs: number): Promise<void>;
  isRevoked(sid: string): Promise<boolean>;
  /** Deletes the rows of expired tokens; returns how many. */
  prune(): Promise<number>;
}

export function createSessionRevocationRepository(
  db: Kysely<Database>,
  clock: Clock,
): SessionRevocationRepository {
  const nowIso = () => new Date(clock.now()).toISOString();
  const prune = async () => {
    const result = await db
      .deleteFrom('revoked_sessions')
      .where('expires_at', '<=', nowIso())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  };
  return {
    async revoke(sid, expiresAtMs) {
      await prune();
      await db
        .insertInto('revoked_sessions')
        .values({ sid, expires_at: new Date(expiresAtMs).toISOString() })
        .onConflict((oc) => oc.column('sid').doNothing())
        .execute();
    },
    async isRevoked(sid) {
      const row = await db
        .selectFrom('revoked_sessions')
        .select('sid')
        .where('sid', '=', sid)
        .where('expires_at', '>', nowIso())
        .executeTakeFirst();
      return row !== undefined;
    },
    prune,
  };
}
