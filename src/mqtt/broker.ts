/**
 * The embedded MQTT broker: aedes 1.2 (memory only) over `node:net`, with authentication of every
 * client and the contract's ACL (docs/mqtt.md, "Access control").
 *
 * Retained state dies with this broker (aedes is memory-only by default, moscajs/aedes#491); that
 * is accepted because the bridge re-publishes its full state on every (re)connect (see
 * `connection.ts`), so nothing here is persisted.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { hashSecret, isHashedSecret, verifySecretAsync } from '../auth/secrets.js';
import { MqttTopics, topicSegmentProblem } from '../contract/topics.js';
import { filterCovers } from '../domain/mqtt-filters.js';
import { InputError, type Problem } from '../domain/problems.js';
import { isValidUai } from '../domain/uai.js';
import { type ExtraAcl, type MqttIdentity, TopicAcl } from './acl.js';
import { type MqttLogger, silentLogger } from './logger.js';
import { PacketSizeGuard } from './packet-size-guard.js';

export interface BridgeCredentials {
  username: string;
  /** `scrypt$…` or `sha256$…`, from `src/auth/secrets.ts`. */
  passwordHash: string;
  extraAcl?: ExtraAcl;
}

export interface GatewayCredentials {
  uai: string;
  /** The gateway id, as in `{prefix}/{uai}/gateway/{gateway}/status`. */
  gateway: string;
  username: string;
  passwordHash: string;
  extraAcl?: ExtraAcl;
}

export interface BrokerCredentials {
  bridgeCredentials: BridgeCredentials;
  gateways: readonly GatewayCredentials[];
}

export interface EmbeddedBrokerOptions extends BrokerCredentials {
  /** Default 127.0.0.1: gateways on the LAN need an explicit bind address. */
  host?: string;
  /** 0 picks a free port (tests); the service default is 1883. */
  port: number;
  /** Topic prefix, default `sobriete/v1`. */
  prefix?: string;
  /**
   * Largest MQTT packet a client may send, in bytes (fixed header included, as MQTT 5 counts
   * "Maximum Packet Size"); default 64 KiB (`mqtt.embedded.max_packet_kb`). A larger one closes
   * the connection before its payload is read. The bridge's own connection is exempt once it has
   * authenticated: it is trusted, and a `schedule` at its 1,000-entry cap can exceed 64 KiB.
   */
  maxPacketBytes?: number;
  logger?: MqttLogger;
}

export const DEFAULT_MAX_PACKET_BYTES = 64 * 1024;

export interface EmbeddedBroker {
  readonly host: string;
  /** The bound port (the real one when 0 was asked). */
  readonly port: number;
  /** `mqtt://host:port`, for `MqttConnection`. */
  readonly url: string;
  /** Number of authenticated clients connected now. */
  connectedClients(): number;
  /**
   * Replaces the credential table without a restart (devices/ reloaded). Clients whose entry was
   * removed or whose login changed (password, school, gateway id) are disconnected and must
   * authenticate again. A change of rights alone keeps the session, checked against the new
   * rights from then on: always for the bridge, and for a gateway whose subscription scope only
   * grew (one that shrank disconnects it, since a granted subscription would keep delivering).
   */
  updateCredentials(credentials: BrokerCredentials): void;
  /** Disconnects every client and frees the port. */
  close(): Promise<void>;
}

export type EmbeddedBrokerErrorCode = 'port-in-use' | 'port-forbidden' | 'listen-failed';

/** Start-up failures a person can act on; the message says what to change. */
export class EmbeddedBrokerError extends Error {
  constructor(
    readonly code: EmbeddedBrokerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EmbeddedBrokerError';
  }
}

/** MQTT 3.1.1 CONNACK return codes (§3.2.2.3); aedes speaks 3.1/3.1.1 only. */
const CONNACK = { identifierRejected: 2, badUsernameOrPassword: 4, notAuthorized: 5 } as const;

interface CredentialEntry {
  identity: MqttIdentity;
  passwordHash: string;
  /** Stable text of everything that grants rights, to spot changes on reload. */
  fingerprint: string;
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger;
  const topics = new MqttTopics(options.prefix);
  const acl = new TopicAcl(topics);
  let table = credentialTable(options);
  // Checked when the username is unknown, so that a wrong username costs the same scrypt time as
  // a wrong password and does not reveal which usernames exist.
  const decoyHash = hashSecret('decoy');

  const identities = new WeakMap<Client, MqttIdentity>();
  const ready = new Map<string, Client>();
  const guards = new WeakMap<Client, PacketSizeGuard>();
  const maxPacketBytes = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;

  const aedes = await Aedes.createBroker({
    // A gateway that stops reading must not stall delivery to all the others (docs/Aedes.md,
    // drainTimeout; docs/performance.md, "Brokers").
    drainTimeout: 30_000,
    authenticate(client, username, password, done) {
      const refuse = (returnCode: number, reason: string): void => {
        logger.warn({ clientId: client.id, username, reason }, 'mqtt connection refused');
        const error = new Error(reason) as AuthenticateError;
        error.returnCode = returnCode;
        done(error, false);
      };
      if (username === undefined || password === undefined) {
        refuse(CONNACK.notAuthorized, 'anonymous connections are not allowed');
        return;
      }
      const entry = table.get(username);
      // scrypt on the thread pool: a reconnect storm of gateways (~40 ms each) must not stall the
      // event loop that also runs the bridge's timers.
      verifySecretAsync(password.toString('utf8'), entry?.passwordHash ?? decoyHash).then(
        (passwordOk) => {
          if (!entry || !passwordOk) {
            refuse(CONNACK.badUsernameOrPassword, 'bad username or password');
            return;
          }
          // MQTT lets a new connection take over a client id; refuse it across users so that a
          // gateway cannot kick the bridge (or another gateway) off by borrowing its client id.
          const holder = ready.get(client.id);
          const holderIdentity = holder ? identities.get(holder) : undefined;
          if (holderIdentity && holderIdentity.username !== username) {
            refuse(CONNACK.identifierRejected, `client id "${client.id}" is in use by another user`);
            return;
          }
          identities.set(client, entry.identity);
          if (entry.identity.role === 'bridge') guards.get(client)?.lift();
          done(null, true);
        },
        (error: unknown) =>
          refuse(CONNACK.notAuthorized, `password check failed: ${(error as Error).message}`),
      );
    },
    authorizePublish(client, packet, done) {
      const identity = client ? identities.get(client) : undefined;
      if (identity && acl.canPublish(identity, packet.topic)) {
        done(null);
        return;
      }
      // MQTT 3.1.1 §3.3.5 (MQTT-3.3.5-2): the server either acknowledges and drops, or closes
      // the connection. aedes closes it: a gateway that writes `desired` is misconfigured and
      // should show up as disconnected rather than silently lose its messages.
      logger.warn(
        { clientId: client?.id, username: identity?.username, topic: packet.topic },
        'mqtt publish refused by ACL',
      );
      done(new Error(`publish to ${packet.topic} is not allowed`));
    },
    authorizeSubscribe(client, subscription, done) {
      const identity = identities.get(client);
      if (identity && acl.canSubscribe(identity, subscription.topic)) {
        done(null, subscription);
        return;
      }
      logger.warn(
        { clientId: client.id, username: identity?.username, filter: subscription.topic },
        'mqtt subscription refused by ACL',
      );
      // A null subscription answers SUBACK 0x80 (failure) and keeps the connection.
      done(null, null);
    },
  });

  aedes.on('clientReady', (client) => {
    ready.set(client.id, client);
    logger.info({ clientId: client.id, username: identities.get(client)?.username }, 'mqtt client connected');
  });
  aedes.on('clientDisconnect', (client) => {
    if (ready.get(client.id) === client) ready.delete(client.id);
    logger.info({ clientId: client.id }, 'mqtt client disconnected');
  });
  aedes.on('clientError', (client, error) => {
    logger.debug({ clientId: client.id, error: error.message }, 'mqtt client error');
  });

  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // aedes 1.2 speaks MQTT 3.1/3.1.1 only (it refuses protocol level 5 at CONNECT), so the limit
    // cannot be announced in a CONNACK's Maximum Packet Size: gateways learn it from
    // docs/gateway-contract.md.
    let client: Client | undefined;
    const guard = new PacketSizeGuard(socket, {
      maxPacketBytes,
      onOversize(bytes) {
        logger.warn(
          {
            clientId: client?.id ?? null,
            username: client ? identities.get(client)?.username : undefined,
            remoteAddress: socket.remoteAddress,
            bytes: Number.isNaN(bytes) ? 'malformed length' : bytes,
            limit: maxPacketBytes,
          },
          'mqtt packet over the size limit: connection closed',
        );
      },
    });
    client = aedes.handle(guard);
    guards.set(client, guard);
  });

  try {
    await listen(server, host, options.port);
  } catch (error) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw listenError(error, host, options.port);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  logger.info({ host, port, prefix: topics.prefix }, 'embedded mqtt broker listening');

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`,
    connectedClients: () => ready.size,
    updateCredentials(credentials) {
      const next = credentialTable(credentials);
      for (const client of [...ready.values()]) {
        const identity = identities.get(client);
        const before = identity ? table.get(identity.username) : undefined;
        const after = identity ? next.get(identity.username) : undefined;
        if (before && after && before.fingerprint !== after.fingerprint && keepsSession(before, after, acl)) {
          // Same login, rights changed in a way the session can keep: it is checked against the
          // new rights from its next message on, without a reconnect (issue 15: a devices/ reload
          // must not drop the bridge, whose status would go offline for every consumer).
          identities.set(client, after.identity);
          logger.info(
            { clientId: client.id, username: after.identity.username },
            'mqtt rights updated in place',
          );
          continue;
        }
        if (!before || !after || before.fingerprint !== after.fingerprint) {
          logger.info(
            { clientId: client.id, username: identity?.username },
            'mqtt credentials changed: disconnecting',
          );
          client.close();
        }
      }
      table = next;
    },
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        logger.info({ host, port }, 'embedded mqtt broker closed');
      })();
      return closing;
    },
  };
}

/**
 * Whether a connected client may keep its session across a credential change: same login
 * (password, role, school, gateway id), and either it is the bridge (trusted: it drops its own
 * subscriptions of zones that left), or its new subscription scope covers the old one (a
 * subscription granted earlier could otherwise keep delivering what the new rights refuse).
 */
function keepsSession(before: CredentialEntry, after: CredentialEntry, acl: TopicAcl): boolean {
  const a = before.identity;
  const b = after.identity;
  if (before.passwordHash !== after.passwordHash || a.role !== b.role) return false;
  if (a.role === 'bridge') return true;
  if (b.role !== 'gateway' || a.uai !== b.uai || a.gateway !== b.gateway) return false;
  const scope = acl.subscribeScope(b);
  return acl.subscribeScope(a).every((filter) => scope.some((allowed) => filterCovers(allowed, filter)));
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function listenError(error: unknown, host: string, port: number): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new EmbeddedBrokerError(
      'port-in-use',
      `port ${port} on ${host} is in use (another MQTT broker such as Mosquitto?) — set mqtt.embedded.port, or set mqtt.embedded.enabled to false and use mqtt.url`,
      { cause: error },
    );
  }
  if (code === 'EACCES') {
    return new EmbeddedBrokerError(
      'port-forbidden',
      `port ${port} on ${host} needs privileges this process lacks — set mqtt.embedded.port above 1023`,
      { cause: error },
    );
  }
  return new EmbeddedBrokerError(
    'listen-failed',
    `the embedded MQTT broker cannot listen on ${host}:${port}: ${(error as Error).message}`,
    { cause: error },
  );
}

/**
 * Builds username → identity, refusing (with `InputError`, all problems at once) a table that
 * would be ambiguous or leak rights: duplicate usernames, clear-text passwords, bad ids.
 */
function credentialTable(credentials: BrokerCredentials): Map<string, CredentialEntry> {
  const problems: Problem[] = [];
  const table = new Map<string, CredentialEntry>();
  const add = (where: string, entry: CredentialEntry): void => {
    if (entry.identity.username.length === 0) {
      problems.push({ code: 'mqtt-credentials', message: 'username is empty', where: `${where}.username` });
    } else if (table.has(entry.identity.username)) {
      problems.push({
        code: 'mqtt-credentials',
        message: `username "${entry.identity.username}" is used twice`,
        where: `${where}.username`,
      });
    }
    if (!isHashedSecret(entry.passwordHash)) {
      problems.push({
        code: 'mqtt-credentials',
        message: 'password must be stored hashed (scrypt$… or sha256$…), never in clear',
        where: `${where}.passwordHash`,
      });
    }
    table.set(entry.identity.username, entry);
  };

  const bridge = credentials.bridgeCredentials;
  add('bridgeCredentials', {
    identity: { role: 'bridge', username: bridge.username, ...bridge.extraAcl },
    passwordHash: bridge.passwordHash,
    fingerprint: JSON.stringify(['bridge', bridge.passwordHash, bridge.extraAcl ?? {}]),
  });
  credentials.gateways.forEach((gateway, index) => {
    const where = `gateways[${index}]`;
    if (!isValidUai(gateway.uai)) {
      problems.push({
        code: 'bad-uai',
        message: `"${gateway.uai}" is not a valid UAI`,
        where: `${where}.uai`,
      });
    }
    const idProblem = topicSegmentProblem(gateway.gateway);
    if (idProblem) {
      problems.push({
        code: 'bad-topic-segment',
        message: `gateway id ${idProblem}`,
        where: `${where}.gateway`,
      });
    }
    add(where, {
      identity: {
        role: 'gateway',
        username: gateway.username,
        uai: gateway.uai,
        gateway: gateway.gateway,
        ...gateway.extraAcl,
      },
      passwordHash: gateway.passwordHash,
      fingerprint: JSON.stringify([
        'gateway',
        gateway.uai,
        gateway.gateway,
        gateway.passwordHash,
        gateway.extraAcl ?? {},
      ]),
    });
  });
  if (problems.length > 0) throw new InputError(problems, 'invalid');
  return table;
}
