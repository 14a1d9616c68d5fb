/**
 * Issuing a gateway's MQTT password (`scope-energie gateway credentials`): a random password, its
 * scrypt hash for devices/ and the embedded broker, its PBKDF2-SHA256 hash for EMQX, written into
 * devices/{uai}.yaml with comments and layout kept. On `rotate`, the replaced credential moves to
 * `previous` under its own username until `valid_until`: Mosquitto and EMQX hold one password per
 * username, so an overlap needs two usernames.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { isMap, isSeq, parseDocument } from 'yaml';
import { generateToken, hashSecret } from '../auth/secrets.js';
import { loadDevicesFile } from '../devices/load.js';
import { InputError } from '../domain/problems.js';

export interface IssuedCredential {
  uai: string;
  gateway: string;
  username: string;
  /** Shown once, stored nowhere. */
  password: string;
  /** The replaced login, still valid until `validUntil` (rotation only). */
  previous?: { username: string; validUntil: string };
  /** The devices file's new text, validated. */
  text: string;
}

/** PBKDF2-HMAC-SHA256 as EMQX checks it (`password_hash_algorithm {name = pbkdf2, mac_fun = sha256}`, hex). */
export function pbkdf2Hash(password: string, iterations: number): string {
  const salt = randomBytes(16).toString('base64url');
  const hash = pbkdf2Sync(password, salt, iterations, 32, 'sha256').toString('hex');
  return `pbkdf2-sha256$${iterations}$${salt}$${hash}`;
}

/** `gw-1` → `gw-1.r2`, `gw-1.r2` → `gw-1.r3`. */
export function rotatedUsername(username: string): string {
  const match = /^(.*)\.r(\d+)$/.exec(username);
  return match ? `${match[1]}.r${Number(match[2]) + 1}` : `${username}.r2`;
}

export interface IssueOptions {
  /** The devices file's text and name (for problems). */
  text: string;
  file: string;
  gateway: string;
  rotate: boolean;
  /** Epoch ms: now, and how long the replaced password stays valid. */
  now: number;
  overlapMs: number;
  pbkdf2Iterations: number;
  /** Injected in tests; a 256-bit random token otherwise. */
  password?: string;
}

export function issueCredential(options: IssueOptions): IssuedCredential {
  const loaded = loadDevicesFile(options.text, options.file);
  const uai = loaded.value.school.uai;
  const index = loaded.value.gateways.findIndex((g) => g.id === options.gateway);
  const gateway = loaded.value.gateways[index];
  if (!gateway) {
    throw InputError.of(
      'unknown-gateway',
      `no gateway "${options.gateway}" in ${options.file}; defined: ${loaded.value.gateways.map((g) => g.id).join(', ')}`,
      '--gateway',
    );
  }
  const password = options.password ?? generateToken('gw');
  const doc = parseDocument(options.text);
  const gateways = doc.get('gateways');
  const node = isSeq(gateways) ? gateways.items[index] : undefined;
  if (!isMap(node))
    throw InputError.of('devices-layout', 'gateways must be a YAML sequence of maps', options.file);

  let username = gateway.username;
  let previous: IssuedCredential['previous'];
  if (options.rotate) {
    username = rotatedUsername(gateway.username);
    const validUntil = new Date(options.now + options.overlapMs).toISOString().replace('.000Z', 'Z');
    previous = { username: gateway.username, validUntil };
    node.set(
      'previous',
      doc.createNode({
        username: gateway.username,
        password_hash: gateway.password_hash,
        ...(gateway.emqx_password_hash ? { emqx_password_hash: gateway.emqx_password_hash } : {}),
        valid_until: validUntil,
      }),
    );
    node.set('username', username);
  }
  node.set('password_hash', hashSecret(password));
  node.set('emqx_password_hash', pbkdf2Hash(password, options.pbkdf2Iterations));
  // lineWidth 0: hashes stay on one line, as people paste and grep them.
  const text = doc.toString({ lineWidth: 0 });
  // Never write a file the service would refuse.
  loadDevicesFile(text, options.file);
  return { uai, gateway: gateway.id, username, password, ...(previous ? { previous } : {}), text };
}
