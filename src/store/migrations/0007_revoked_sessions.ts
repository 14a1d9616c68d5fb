/**
 * Logged-out page sessions (issue 13): the `sid` of each session token closed by `POST
 * /deconnexion`, kept until the token would have expired, so that every instance sharing the
 * store refuses the old cookie. Expired rows are pruned as new ones arrive.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('revoked_sessions')
    .addColumn('sid', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('revoked_sessions_expires_at')
    .on('revoked_sessions')
    .columns(['expires_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('revoked_sessions').execute();
}
