/**
 * EMQX's view of devices/ (docs/mqtt.md, "EMQX"): one login row per gateway credential with the
 * PBKDF2-SHA256 hash `gateway credentials` wrote (EMQX cannot check scrypt), and the ACL rows of
 * the contract's grants (src/mqtt/acl-matrix.ts) per username. Kept in the tables behind the
 * views `emqx_authn` / `emqx_acl` (migration 0008, PostgreSQL only) at start and on every reload;
 * rewritten in one transaction only when they differ.
 */
import { bridgeExtraAcl, gatewayExtraAcl, zoneTargetsOf } from '../bridge/adapters/index.js';
import type { MqttTopics } from '../contract/topics.js';
import { siteLogins } from '../devices/gateway-logins.js';
import { type AccessGrant, accessGrant } from '../mqtt/acl-matrix.js';
import type { Site } from '../site/load-site.js';
import type { BrokerAclTable, BrokerLoginTable } from '../store/schema.js';
import type { Store } from '../store/store.js';

export interface EmqxRows {
  logins: BrokerLoginTable[];
  acl: BrokerAclTable[];
  /** Gateway logins without an EMQX hash: `gateway credentials` must issue them a password. */
  needsCredentials: string[];
}

const DENY_PRIORITY = 10;

function aclRows(username: string, grant: AccessGrant): BrokerAclTable[] {
  const rows: BrokerAclTable[] = [
    ...grant.publishDenied.map((topic) => ({
      username,
      permission: 'deny' as const,
      action: 'publish' as const,
      topic,
      priority: DENY_PRIORITY,
    })),
    ...[...grant.publish, ...grant.publishExtra].map((topic) => ({
      username,
      permission: 'allow' as const,
      action: 'publish' as const,
      topic,
      priority: 0,
    })),
    ...grant.subscribe.map((topic) => ({
      username,
      permission: 'allow' as const,
      action: 'subscribe' as const,
      topic,
      priority: 0,
    })),
  ];
  return rows;
}

export function emqxRows(
  site: Site,
  options: { topics: MqttTopics; version: string; bridgeUsername?: string },
): EmqxRows {
  const { topics, version } = options;
  const files = [...site.devices.values()];
  const targets = zoneTargetsOf(files);
  const logins: BrokerLoginTable[] = [];
  const acl: BrokerAclTable[] = [];
  const needsCredentials: string[] = [];
  if (options.bridgeUsername) {
    // The bridge's password is the operator's to give EMQX (docs/mqtt.md): its rights are ours.
    logins.push({
      username: options.bridgeUsername,
      uai: null,
      gateway: null,
      password_hash: null,
      salt: null,
      valid_until: null,
    });
    acl.push(
      ...aclRows(
        options.bridgeUsername,
        accessGrant(topics, { role: 'bridge', username: options.bridgeUsername, ...bridgeExtraAcl(targets) }),
      ),
    );
  }
  // Every credential, lapsed ones included: the view drops them by the database's clock.
  for (const login of siteLogins(
    files.map((f) => f.value),
    Number.NEGATIVE_INFINITY,
  )) {
    const [, , salt, hash] = login.emqxPasswordHash?.split('$') ?? [];
    if (!hash) needsCredentials.push(login.username);
    logins.push({
      username: login.username,
      uai: login.uai,
      gateway: login.gateway,
      password_hash: hash ?? null,
      salt: salt ?? null,
      valid_until: login.validUntil === undefined ? null : new Date(login.validUntil).toISOString(),
    });
    const extra = gatewayExtraAcl(targets, login.uai, login.gateway, { topics, version });
    acl.push(
      ...aclRows(
        login.username,
        accessGrant(topics, {
          role: 'gateway',
          username: login.username,
          uai: login.uai,
          gateway: login.gateway,
          ...extra,
        }),
      ),
    );
  }
  return { logins, acl, needsCredentials };
}

export interface EmqxSyncResult {
  changed: boolean;
  logins: number;
  aclRows: number;
  needsCredentials: string[];
}

const key = (row: object): string =>
  JSON.stringify(Object.entries(row).sort(([a], [b]) => a.localeCompare(b)));

/** Brings the tables in line with `rows`; nothing written when they already match. */
export async function syncEmqxRows(store: Store, rows: EmqxRows): Promise<EmqxSyncResult> {
  if (store.dialect !== 'postgres') {
    throw new Error(
      'EMQX provisioning needs the PostgreSQL store (storage.database_url): EMQX reads its views',
    );
  }
  const result = {
    logins: rows.logins.length,
    aclRows: rows.acl.length,
    needsCredentials: rows.needsCredentials,
  };
  const [heldLogins, heldAcl] = await Promise.all([
    store.db.selectFrom('broker_logins').selectAll().execute(),
    store.db.selectFrom('broker_acl').selectAll().execute(),
  ]);
  const same = (a: readonly object[], b: readonly object[]) =>
    a.length === b.length && a.map(key).sort().join('\n') === b.map(key).sort().join('\n');
  if (same(heldLogins, rows.logins) && same(heldAcl, rows.acl)) return { changed: false, ...result };
  await store.db.transaction().execute(async (tx) => {
    await tx.deleteFrom('broker_acl').execute();
    await tx.deleteFrom('broker_logins').execute();
    // PostgreSQL takes at most 65,535 parameters per statement.
    for (let i = 0; i < rows.logins.length; i += 1_000) {
      await tx
        .insertInto('broker_logins')
        .values(rows.logins.slice(i, i + 1_000))
        .execute();
    }
    for (let i = 0; i < rows.acl.length; i += 1_000) {
      await tx
        .insertInto('broker_acl')
        .values(rows.acl.slice(i, i + 1_000))
        .execute();
    }
  });
  return { changed: true, ...result };
}
