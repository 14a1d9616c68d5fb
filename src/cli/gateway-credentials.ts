import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { issueCredential } from '../broker-access/issue-credentials.js';
import { mosquittoProvisioner } from '../broker-access/provisioning-setup.js';
import { systemClock } from '../domain/clock.js';
import { InputError } from '../domain/problems.js';
import { createLogger } from '../log/logger.js';
import { loadSite } from '../site/load-site.js';
import { type Command, EXIT, requireOption, stringOption, writeJson } from './command.js';
import { loadCommandConfig } from './context.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export const gatewayCredentialsCommand: Command = {
  name: 'gateway credentials',
  summary: "issue a gateway's MQTT password (printed once) and provision the external broker",
  help: `Usage: scope-energie gateway credentials --uai UAI --gateway ID [--rotate] [--overlap-hours H] [--json]

Generates a random password for the gateway, prints it ONCE, and stores only its hashes in
devices/{UAI}.yaml (password_hash: scrypt, for the embedded broker; emqx_password_hash:
PBKDF2-SHA256, for EMQX). With mqtt.provisioning.broker = mosquitto it also sets the password on
the broker now: the service never keeps a clear password, so only this command can.

--rotate gives the gateway a new username (gw-1 → gw-1.r2) and keeps the replaced login valid
until the overlap ends (mqtt.provisioning.rotation_overlap_hours, default 168): Mosquitto and
EMQX hold one password per username. Without --rotate the old password stops working at once.

Exit codes: 0 issued and provisioned; 1 issued (printed, stored) but the broker could not be
provisioned (run again, or see 'scope-energie check'); 2 invalid input.`,
  options: {
    uai: { type: 'string' },
    gateway: { type: 'string' },
    rotate: { type: 'boolean' },
    'overlap-hours': { type: 'string' },
  },
  async run(args, io) {
    const json = args.values['json'] === true;
    const uai = requireOption(args, 'uai').toUpperCase();
    const gateway = requireOption(args, 'gateway');
    const context = loadCommandConfig(args, io);
    const { config } = context;
    const overlapText = stringOption(args, 'overlap-hours');
    const overlapHours =
      overlapText === undefined ? config.mqtt.provisioning.rotation_overlap_hours : Number(overlapText);
    if (!Number.isFinite(overlapHours) || overlapHours < 0 || overlapHours > 24 * 90) {
      throw InputError.of(
        'option-invalid',
        `--overlap-hours must be 0 to 2160, got "${overlapText}"`,
        '--overlap-hours',
      );
    }
    const devicesDir = resolve(io.cwd, config.paths.devices_dir);
    const file = [`${uai}.yaml`, `${uai}.yml`].map((name) => join(devicesDir, name)).find(existsSync);
    if (!file) {
      throw InputError.of(
        'unknown-school',
        `no devices file for ${uai} in ${config.paths.devices_dir}`,
        '--uai',
      );
    }
    const clock = systemClock;
    const issued = issueCredential({
      text: readFileSync(file, 'utf8'),
      file,
      gateway,
      rotate: args.values['rotate'] === true,
      now: clock.now(),
      overlapMs: overlapHours * 3_600_000,
      pbkdf2Iterations: config.mqtt.provisioning.emqx_pbkdf2_iterations,
    });
    // Atomic: a running service reloading devices/ never reads half a file.
    const temporary = `${file}.tmp-${process.pid}`;
    writeFileSync(temporary, issued.text, { mode: 0o644 });
    renameSync(temporary, file);

    const out = {
      uai: issued.uai,
      gateway: issued.gateway,
      username: issued.username,
      password: issued.password,
      ...(issued.previous ? { previous: issued.previous } : {}),
      broker: config.mqtt.provisioning.broker,
      provisioned: false as boolean,
      error: undefined as string | undefined,
    };
    if (config.mqtt.provisioning.broker === 'mosquitto') {
      const provisioner = mosquittoProvisioner({
        config,
        baseDir: context.baseDir,
        env: io.env,
        clock,
        logger: createLogger('warn', io.stderr),
        version: VERSION,
      });
      const site = loadSite({
        devicesDir,
        rulesDir: resolve(io.cwd, config.paths.rules_dir),
        baseDir: io.cwd,
        exceptionPolicy: { maxDeviationC: config.rules.exception_max_deviation_c },
      });
      const report = await provisioner.reconcile(() => site, {
        reason: `gateway credentials ${issued.uai}/${issued.gateway}`,
        passwords: new Map([[issued.username, issued.password]]),
      });
      out.provisioned = report.ok && !report.needsCredentials.includes(issued.username);
      if (!out.provisioned) out.error = report.error ?? 'the broker did not take the password';
    }
    if (json) writeJson(io, out);
    else {
      io.stdout.write(
        [
          `gateway ${issued.uai}/${issued.gateway}`,
          `username: ${issued.username}`,
          `password: ${issued.password}`,
          '(shown once: configure the gateway now; only hashes are stored in devices/)',
          ...(issued.previous
            ? [`previous login ${issued.previous.username} stays valid until ${issued.previous.validUntil}`]
            : []),
          config.mqtt.provisioning.broker === 'mosquitto'
            ? out.provisioned
              ? 'Mosquitto provisioned'
              : `Mosquitto NOT provisioned: ${out.error}`
            : `broker provisioning: ${config.mqtt.provisioning.broker} (the service applies devices/ on its next reload)`,
          '',
        ].join('\n'),
      );
    }
    return config.mqtt.provisioning.broker === 'mosquitto' && !out.provisioned ? EXIT.failure : EXIT.ok;
  },
};
