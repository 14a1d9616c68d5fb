/**
 * What an external broker must hold for a devices/ set: one role per school (its gateways'
 * common rights), one role per gateway (its own status topic and its adapters' topics), the
 * bridge's role, and one login per gateway credential, all derived from the contract's grants
 * (src/mqtt/acl-matrix.ts) so every broker enforces the same matrix. Pure.
 */
import { createHash, scryptSync } from 'node:crypto';
import { bridgeExtraAcl, gatewayExtraAcl, zoneTargetsOf } from '../bridge/adapters/index.js';
import type { MqttTopics } from '../contract/topics.js';
import { siteLogins } from '../devices/gateway-logins.js';
import { type AccessGrant, accessGrant } from '../mqtt/acl-matrix.js';
import type { Site } from '../site/load-site.js';

/** Marks what the service manages on a broker: it never touches a client or role without it. */
export const MANAGED_MARK = 'scope-energie';
export const ROLE_PREFIX = 'scope-energie-';

export type AclType = 'publishClientSend' | 'subscribePattern';

export interface AclEntry {
  acltype: AclType;
  topic: string;
  allow: boolean;
  /** Higher first (dynamic security); denials outrank the grants they carve out of. */
  priority: number;
}

export interface ManagedRole {
  rolename: string;
  acls: AclEntry[];
}

export interface ManagedLogin {
  username: string;
  /** `scope-energie gateway 0670999X/gw-1`: what the login is for (the managed mark). */
  label: string;
  /**
   * Fingerprint of the credential devices/ holds for this login (sha256 of the stored hash, cut):
   * kept beside the label on the broker, it tells whether the broker's password is that one —
   * the broker never reveals its hashes, and the service never keeps clear passwords.
   */
  fingerprint: string;
  roles: string[];
  /** The bridge's own login: its clear password is the service's configuration. */
  password?: string;
}

export interface ManagedAccess {
  roles: ManagedRole[];
  logins: ManagedLogin[];
}

const DENY_PRIORITY = 10;

/** A gateway credential's fingerprint: not the password, nor a hash an attacker could test. */
export function credentialFingerprint(passwordHash: string): string {
  return createHash('sha256').update(`${MANAGED_MARK}:${passwordHash}`).digest('hex').slice(0, 16);
}

/**
 * The bridge's fingerprint is derived from its clear password with scrypt (salted by the username),
 * so the label on the broker does not become a fast offline oracle for that password.
 */
export function bridgePasswordFingerprint(username: string, password: string): string {
  return scryptSync(password, `${MANAGED_MARK}:bridge:${username}`, 16).toString('hex');
}

export function schoolRoleName(uai: string): string {
  return `${ROLE_PREFIX}school-${uai}`;
}

export function gatewayRoleName(uai: string, gateway: string): string {
  return `${ROLE_PREFIX}gateway-${uai}-${gateway}`;
}

export const BRIDGE_ROLE = `${ROLE_PREFIX}bridge`;

/** A grant as dynamic-security ACL entries (publishClientReceive and unsubscribe keep the broker's defaults). */
export function grantAcls(grant: AccessGrant, filter: (topic: string) => boolean = () => true): AclEntry[] {
  const entries: AclEntry[] = [
    ...grant.publish.map((topic) => ({
      acltype: 'publishClientSend' as const,
      topic,
      allow: true,
      priority: 0,
    })),
    ...grant.publishExtra.map((topic) => ({
      acltype: 'publishClientSend' as const,
      topic,
      allow: true,
      priority: 0,
    })),
    ...grant.publishDenied.map((topic) => ({
      acltype: 'publishClientSend' as const,
      topic,
      allow: false,
      priority: DENY_PRIORITY,
    })),
    ...grant.subscribe.map((topic) => ({
      acltype: 'subscribePattern' as const,
      topic,
      allow: true,
      priority: 0,
    })),
  ];
  return dedupeAcls(entries.filter((entry) => filter(entry.topic)));
}

export interface ManagedAccessOptions {
  topics: MqttTopics;
  /** Service version (adapters' discovery topics). */
  version: string;
  now: number;
  /** The bridge's login on the broker, when the service knows its password. */
  bridge?: { username: string; password: string };
}

export function managedAccess(site: Site, options: ManagedAccessOptions): ManagedAccess {
  const { topics, version, now } = options;
  const files = [...site.devices.values()];
  const targets = zoneTargetsOf(files);
  const roles = new Map<string, ManagedRole>();
  const logins: ManagedLogin[] = [];

  const bridgeExtra = bridgeExtraAcl(targets);
  roles.set(BRIDGE_ROLE, {
    rolename: BRIDGE_ROLE,
    acls: grantAcls(
      accessGrant(topics, { role: 'bridge', username: options.bridge?.username ?? '', ...bridgeExtra }),
    ),
  });
  if (options.bridge) {
    logins.push({
      username: options.bridge.username,
      label: `${MANAGED_MARK} bridge`,
      fingerprint: bridgePasswordFingerprint(options.bridge.username, options.bridge.password),
      roles: [BRIDGE_ROLE],
      password: options.bridge.password,
    });
  }

  for (const login of siteLogins(
    files.map((f) => f.value),
    now,
  )) {
    const extra = gatewayExtraAcl(targets, login.uai, login.gateway, { topics, version });
    const grant = accessGrant(topics, {
      role: 'gateway',
      username: login.username,
      uai: login.uai,
      gateway: login.gateway,
      ...extra,
    });
    // What depends on the gateway (its status topic, its adapters' topics) goes in its own role;
    // the rest is the same for every gateway of the school.
    const own = new Set([
      topics.gatewayStatus(login.uai, login.gateway).topic,
      ...extra.publish,
      ...extra.subscribe,
    ]);
    const school = schoolRoleName(login.uai);
    const gateway = gatewayRoleName(login.uai, login.gateway);
    if (!roles.has(school))
      roles.set(school, { rolename: school, acls: grantAcls(grant, (t) => !own.has(t)) });
    roles.set(gateway, { rolename: gateway, acls: grantAcls(grant, (t) => own.has(t)) });
    logins.push({
      username: login.username,
      label: `${MANAGED_MARK} gateway ${login.uai}/${login.gateway}`,
      fingerprint: credentialFingerprint(login.passwordHash),
      roles: [school, gateway],
    });
  }
  return { roles: [...roles.values()], logins };
}

function dedupeAcls(entries: AclEntry[]): AclEntry[] {
  const seen = new Map<string, AclEntry>();
  for (const entry of entries) seen.set(aclKey(entry), entry);
  return [...seen.values()].sort((a, b) => aclKey(a).localeCompare(aclKey(b)));
}

export function aclKey(entry: AclEntry): string {
  return `${entry.acltype}\u0000${entry.topic}\u0000${entry.allow ? 1 : 0}\u0000${entry.priority}`;
}
