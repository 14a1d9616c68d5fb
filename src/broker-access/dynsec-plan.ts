/**
 * The dynamic-security commands that turn what a Mosquitto holds into what devices/ says
 * (`ManagedAccess`). Pure and idempotent: when the broker already holds it, no command. Only
 * clients and roles carrying the managed mark are ever changed; a name the service would need but
 * that someone else owns is reported as a conflict and left alone.
 */
import { type AclEntry, aclKey, MANAGED_MARK, type ManagedAccess, ROLE_PREFIX } from './managed-access.js';

/** A client as `listClients` (verbose) answers it. */
export interface BrokerClient {
  username: string;
  textname?: string;
  disabled?: boolean;
  roles?: { rolename: string }[];
}

/** A role as `listRoles` (verbose) answers it. */
export interface BrokerRole {
  rolename: string;
  textname?: string;
  acls?: { acltype: string; topic: string; allow: boolean; priority?: number }[];
}

export interface BrokerState {
  clients: readonly BrokerClient[];
  roles: readonly BrokerRole[];
}

export interface DynsecPlan {
  commands: { command: string; [field: string]: unknown }[];
  /** Counts by change, for the log, the audit and the metrics. */
  changes: {
    roles_created: string[];
    roles_updated: string[];
    roles_deleted: string[];
    clients_created: string[];
    clients_updated: string[];
    clients_enabled: string[];
    clients_disabled: string[];
    passwords_set: string[];
  };
  /**
   * Managed logins whose broker password is not the one devices/ holds (or that have none): only
   * `gateway credentials` can fix them, since only it ever sees a clear password.
   */
  needsCredentials: string[];
  /** Names the service needs that belong to something it does not manage. */
  conflicts: { kind: 'client' | 'role'; name: string; reason: string }[];
}

const ROLE_TEXTNAME = `${MANAGED_MARK} role`;

/** `label #fingerprint`, the textname of a managed client. */
export function clientTextname(label: string, fingerprint: string | null): string {
  return `${label} #${fingerprint ?? 'none'}`;
}

function parseTextname(textname: string | undefined): { label: string; fingerprint: string } | null {
  if (!textname?.startsWith(`${MANAGED_MARK} `)) return null;
  const hash = textname.lastIndexOf(' #');
  if (hash < 0) return { label: textname, fingerprint: 'none' };
  return { label: textname.slice(0, hash), fingerprint: textname.slice(hash + 2) };
}

export function isManagedClient(client: BrokerClient): boolean {
  return parseTextname(client.textname) !== null;
}

export function isManagedRole(role: BrokerRole): boolean {
  return role.rolename.startsWith(ROLE_PREFIX) && role.textname === ROLE_TEXTNAME;
}

/**
 * `passwords`: clear passwords to set now, by username (`gateway credentials` at issue time; the
 * bridge's own from the configuration).
 */
/** Every kind of change, none yet: a plan's start, and a report's before any plan is made. */
export function noChanges(): DynsecPlan['changes'] {
  return {
    roles_created: [],
    roles_updated: [],
    roles_deleted: [],
    clients_created: [],
    clients_updated: [],
    clients_enabled: [],
    clients_disabled: [],
    passwords_set: [],
  };
}

export function planDynsec(
  current: BrokerState,
  desired: ManagedAccess,
  passwords: ReadonlyMap<string, string> = new Map(),
): DynsecPlan {
  const plan: DynsecPlan = {
    commands: [],
    changes: noChanges(),
    needsCredentials: [],
    conflicts: [],
  };
  const { commands, changes } = plan;
  const roles = new Map(current.roles.map((r) => [r.rolename, r]));
  const clients = new Map(current.clients.map((c) => [c.username, c]));

  const usableRoles = new Set<string>();
  for (const role of desired.roles) {
    const held = roles.get(role.rolename);
    const acls = role.acls.map(({ acltype, topic, allow, priority }) => ({
      acltype,
      topic,
      allow,
      priority,
    }));
    if (!held) {
      commands.push({ command: 'createRole', rolename: role.rolename, textname: ROLE_TEXTNAME, acls });
      changes.roles_created.push(role.rolename);
    } else if (!isManagedRole(held)) {
      plan.conflicts.push({
        kind: 'role',
        name: role.rolename,
        reason: 'a role of that name is not managed by scope-energie',
      });
      continue;
    } else if (!sameAcls(held.acls ?? [], role.acls)) {
      // modifyRole replaces the whole ACL list in one command (Mosquitto 2.0).
      commands.push({ command: 'modifyRole', rolename: role.rolename, acls });
      changes.roles_updated.push(role.rolename);
    }
    usableRoles.add(role.rolename);
  }

  const wanted = new Set<string>();
  for (const login of desired.logins) {
    if (wanted.has(login.username)) {
      plan.conflicts.push({
        kind: 'client',
        name: login.username,
        reason: 'username used twice in devices/',
      });
      continue;
    }
    wanted.add(login.username);
    const held = clients.get(login.username);
    const password = login.password ?? passwords.get(login.username);
    const roleList = login.roles.filter((r) => usableRoles.has(r));
    if (!held) {
      commands.push({
        command: 'createClient',
        username: login.username,
        ...(password !== undefined ? { password } : {}),
        textname: clientTextname(login.label, password !== undefined ? login.fingerprint : null),
        roles: roleList.map((rolename) => ({ rolename })),
      });
      changes.clients_created.push(login.username);
      if (password !== undefined) changes.passwords_set.push(login.username);
      else plan.needsCredentials.push(login.username);
      continue;
    }
    const parsed = parseTextname(held.textname);
    if (!parsed) {
      plan.conflicts.push({
        kind: 'client',
        name: login.username,
        reason: 'a client with that username exists and is not managed by scope-energie',
      });
      continue;
    }
    let fingerprint = parsed.fingerprint;
    if (password !== undefined && fingerprint !== login.fingerprint) {
      commands.push({ command: 'setClientPassword', username: login.username, password });
      changes.passwords_set.push(login.username);
      fingerprint = login.fingerprint;
    }
    if (fingerprint !== login.fingerprint) plan.needsCredentials.push(login.username);
    const textname = clientTextname(login.label, fingerprint === 'none' ? null : fingerprint);
    const heldRoles = (held.roles ?? []).map((r) => r.rolename);
    if (textname !== held.textname || !sameSet(heldRoles, roleList)) {
      commands.push({
        command: 'modifyClient',
        username: login.username,
        textname,
        roles: roleList.map((rolename) => ({ rolename })),
      });
      changes.clients_updated.push(login.username);
    }
    if (held.disabled) {
      commands.push({ command: 'enableClient', username: login.username });
      changes.clients_enabled.push(login.username);
    }
  }

  // Gateways that left devices/ (or whose replaced credential lapsed): disabled, not deleted, so
  // the broker's log and the audit keep naming them; their rights go too.
  for (const client of current.clients) {
    if (wanted.has(client.username) || !isManagedClient(client)) continue;
    if (!client.disabled) {
      commands.push({ command: 'disableClient', username: client.username });
      changes.clients_disabled.push(client.username);
    }
    if ((client.roles ?? []).length > 0) {
      commands.push({ command: 'modifyClient', username: client.username, roles: [] });
    }
  }
  const desiredRoles = new Set(desired.roles.map((r) => r.rolename));
  for (const role of current.roles) {
    if (desiredRoles.has(role.rolename) || !isManagedRole(role)) continue;
    commands.push({ command: 'deleteRole', rolename: role.rolename });
    changes.roles_deleted.push(role.rolename);
  }
  return plan;
}

function sameAcls(held: NonNullable<BrokerRole['acls']>, wanted: readonly AclEntry[]): boolean {
  if (held.length !== wanted.length) return false;
  const keys = new Set(
    held.map((a) =>
      aclKey({
        acltype: a.acltype as AclEntry['acltype'],
        topic: a.topic,
        allow: a.allow,
        priority: a.priority ?? 0,
      }),
    ),
  );
  return wanted.every((a) => keys.has(aclKey(a)));
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((x) => set.has(x));
}
