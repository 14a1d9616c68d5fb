/**
 * From the configuration to a provisioner: the admin session's URL, password and TLS, and the
 * bridge's login when the service provisions it. Shared by `serve`, `check` and
 * `gateway credentials`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AuditSink } from '../bridge/audit-events.js';
import type { Config } from '../config/schema.js';
import { MqttTopics } from '../contract/topics.js';
import type { Clock } from '../domain/clock.js';
import { InputError } from '../domain/problems.js';
import type { Logger } from '../log/logger.js';
import { DynsecClient } from './dynsec-client.js';
import { MosquittoProvisioner } from './mosquitto-provisioner.js';

export interface ProvisioningSetup {
  config: Config;
  baseDir: string;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  logger: Logger;
  version: string;
  audit?: AuditSink;
}

function secretOf(
  baseDir: string,
  env: NodeJS.ProcessEnv,
  file?: string,
  variable?: string,
): string | undefined {
  if (file) return readFileSync(resolve(baseDir, file), 'utf8').trim();
  if (variable) return env[variable];
  return undefined;
}

/** The Mosquitto provisioner the configuration asks for; `InputError` naming what is missing. */
export function mosquittoProvisioner(setup: ProvisioningSetup): MosquittoProvisioner {
  const { config, baseDir, env } = setup;
  const p = config.mqtt.provisioning;
  const url = p.url ?? config.mqtt.url;
  if (!url) {
    throw InputError.of(
      'provisioning-no-broker',
      'mqtt.provisioning.broker is mosquitto but neither mqtt.provisioning.url nor mqtt.url names the broker',
      'mqtt.provisioning.url',
    );
  }
  const password = secretOf(baseDir, env, p.admin_password_file, p.admin_password_env);
  if (!password) {
    throw InputError.of(
      'provisioning-no-password',
      'the dynamic-security admin password is missing: set mqtt.provisioning.admin_password_file or admin_password_env',
      'mqtt.provisioning.admin_password_file',
    );
  }
  const bridgePassword = secretOf(baseDir, env, config.mqtt.password_file, config.mqtt.password_env);
  const bridge =
    p.manage_bridge_login && config.mqtt.username && bridgePassword
      ? { username: config.mqtt.username, password: bridgePassword }
      : undefined;
  const tls = config.mqtt.tls;
  const read = (file: string | undefined) => (file ? readFileSync(resolve(baseDir, file)) : undefined);
  const ca = read(tls.ca_file);
  const cert = read(tls.cert_file);
  const key = read(tls.key_file);
  return new MosquittoProvisioner({
    connect: () =>
      DynsecClient.connect({
        url,
        username: p.admin_username,
        password,
        batchSize: p.batch_size,
        timeoutMs: p.timeout_s * 1000,
        tls: {
          ...(ca ? { ca } : {}),
          ...(cert ? { cert } : {}),
          ...(key ? { key } : {}),
          rejectUnauthorized: tls.reject_unauthorized,
        },
      }),
    topics: new MqttTopics(config.mqtt.prefix),
    version: setup.version,
    clock: setup.clock,
    logger: setup.logger,
    ...(setup.audit ? { audit: setup.audit } : {}),
    ...(bridge ? { bridge } : {}),
  });
}
