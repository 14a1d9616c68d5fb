import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadDevicesFile } from '../devices/load.js';
import { InputError } from '../domain/problems.js';
import { startSimulatedGateway } from '../gateway/simulated-gateway.js';
import { createLogger } from '../log/logger.js';
import { type Command, EXIT, requireOption, stringOption, writeJson } from './command.js';
import { loadCommandConfig } from './context.js';

function numberOption(
  value: string | undefined,
  name: string,
  check: (n: number) => boolean,
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || !check(parsed)) {
    throw InputError.of(
      'option-invalid',
      `--${name} must be a number in range, got "${value}"`,
      `--${name}`,
      'malformed',
    );
  }
  return parsed;
}

export const gatewayCommand: Command = {
  name: 'gateway',
  summary: 'run the reference gateway with simulated rooms (the other end of the MQTT contract)',
  help: `Usage: scope-energie gateway --uai UAI --gateway ID (--password-env VAR | --password-file F)
                            [--url mqtt://host:1883] [--speed N] [--outdoor C] [--json]

Logs in with the gateway's credentials from devices/{UAI}.yaml, follows the desired state and the
schedule of the zones it drives, publishes reported (applied rev, mode, setpoint, simulated
measured temperature) and its status with a Last Will, until interrupted. See
docs/gateway-contract.md.

Options:
  --uai UAI            the school
  --gateway ID         the gateway id in devices/{UAI}.yaml
  --password-env VAR   environment variable holding the gateway's MQTT password
  --password-file F    file holding it (first line)
  --url URL            broker (default: mqtt.url, else the embedded broker's host and port)
  --speed N            simulated room physics N times faster than the clock (default 1)
  --outdoor C          constant outdoor temperature, °C (default 5)`,
  options: {
    uai: { type: 'string' },
    gateway: { type: 'string' },
    'password-env': { type: 'string' },
    'password-file': { type: 'string' },
    url: { type: 'string' },
    speed: { type: 'string' },
    outdoor: { type: 'string' },
  },
  async run(args, io) {
    const json = args.values['json'] === true;
    const uai = requireOption(args, 'uai').toUpperCase();
    const gatewayId = requireOption(args, 'gateway');
    const speed = numberOption(stringOption(args, 'speed'), 'speed', (n) => n > 0 && n <= 100_000);
    const outdoorC = numberOption(stringOption(args, 'outdoor'), 'outdoor', (n) => n >= -50 && n <= 50);
    const passwordEnv = stringOption(args, 'password-env');
    const passwordFile = stringOption(args, 'password-file');
    if ((passwordEnv === undefined) === (passwordFile === undefined)) {
      throw InputError.of(
        'option-missing',
        'give exactly one of --password-env or --password-file',
        '--password-env',
        'malformed',
      );
    }
    const password =
      passwordEnv !== undefined
        ? io.env[passwordEnv]
        : readFileSync(resolve(io.cwd, passwordFile as string), 'utf8').split(/\r?\n/)[0];
    if (!password) {
      throw InputError.of(
        'option-invalid',
        passwordEnv !== undefined
          ? `environment variable ${passwordEnv} is empty or unset`
          : `${passwordFile} is empty`,
        passwordEnv !== undefined ? '--password-env' : '--password-file',
      );
    }
    const context = loadCommandConfig(args, io);
    const { config } = context;
    const devicesFile = join(resolve(io.cwd, config.paths.devices_dir), `${uai}.yaml`);
    const devices = loadDevicesFile(readFileSync(devicesFile, 'utf8'), devicesFile).value;
    const gateway = devices.gateways.find((g) => g.id === gatewayId);
    if (!gateway) {
      throw InputError.of(
        'gateway-unknown',
        `no gateway "${gatewayId}" in ${devicesFile}; defined: ${devices.gateways.map((g) => g.id).join(', ')}`,
        '--gateway',
      );
    }
    const url =
      stringOption(args, 'url') ??
      config.mqtt.url ??
      `mqtt://${config.mqtt.embedded.host}:${config.mqtt.embedded.port}`;
    const logger = createLogger(config.log.level);
    const running = await startSimulatedGateway({
      url,
      uai,
      gateway: gateway.id,
      username: gateway.username,
      password,
      zones: devices.zones,
      prefix: config.mqtt.prefix,
      logger,
      ...(speed !== undefined ? { speed } : {}),
      ...(outdoorC !== undefined ? { outdoorC } : {}),
    });
    const zones = devices.zones.filter((z) => z.gateway === gateway.id).length;
    if (!json)
      io.stderr.write(
        `gateway ${gateway.id} of ${uai} connected to ${url}, ${zones} zones (Ctrl-C to stop)\n`,
      );
    await new Promise<void>((done) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        done();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    const final = running.state();
    await running.stop();
    if (json) writeJson(io, final);
    else {
      for (const room of final.rooms) {
        io.stdout.write(
          `${room.zone}: ${room.temperatureC.toFixed(1)} °C, ${room.energyKWh.toFixed(2)} kWh\n`,
        );
      }
    }
    return EXIT.ok;
  },
};
