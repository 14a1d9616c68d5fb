import { pbkdf2Sync } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret, verifySecret } from '../../src/auth/secrets.js';
import { gatewayCredentials } from '../../src/bridge/bridge.js';
import { MqttTopics } from '../../src/contract/topics.js';
import { loadDevicesFile } from '../../src/devices/load.js';
import { startEmbeddedBroker } from '../../src/mqtt/broker.js';
import { loadSite } from '../../src/site/load-site.js';
import { cli, REPO_ROOT, tempWorkDir } from '../helpers/cli.js';
import {
  type DynsecMosquitto,
  mosquittoSkipReason,
  startDynsecMosquitto,
} from '../helpers/mosquitto-dynsec.js';
import { connectOutcome } from '../helpers/mqtt-contract.js';

const UAI = '0670999X';
const skip = mosquittoSkipReason();

function site(): string {
  const cwd = tempWorkDir();
  cpSync(join(REPO_ROOT, 'devices'), join(cwd, 'devices'), { recursive: true });
  cpSync(join(REPO_ROOT, 'rules'), join(cwd, 'rules'), { recursive: true });
  mkdirSync(join(cwd, 'config'));
  return cwd;
}

interface Issued {
  username: string;
  password: string;
  provisioned: boolean;
  previous?: { username: string; validUntil: string };
}

describe.skipIf(skip !== null)(
  `scope-energie gateway credentials${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let server: DynsecMosquitto;
    let env: Record<string, string>;
    const cwd = site();
    const devicesFile = join(cwd, 'devices', `${UAI}.yaml`);

    beforeAll(async () => {
      server = await startDynsecMosquitto();
      env = {
        SCOPE_ENERGIE_MQTT__PROVISIONING__BROKER: 'mosquitto',
        SCOPE_ENERGIE_MQTT__PROVISIONING__URL: server.url,
        SCOPE_ENERGIE_MQTT__PROVISIONING__ADMIN_USERNAME: server.admin.username,
        SCOPE_ENERGIE_MQTT__PROVISIONING__ADMIN_PASSWORD_ENV: 'TEST_DYNSEC_ADMIN',
        TEST_DYNSEC_ADMIN: server.admin.password,
      };
    }, 30_000);
    afterAll(async () => {
      await server?.stop();
    });

    it('prints a password once, stores only its hashes, and provisions Mosquitto', async () => {
      const before = readFileSync(devicesFile, 'utf8');
      const run = await cli(['gateway', 'credentials', '--uai', UAI, '--gateway', 'gw-tilleuls', '--json'], {
        cwd,
        env,
      });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const issued = JSON.parse(run.stdout) as Issued;
      expect(issued).toMatchObject({ username: 'gw-tilleuls', provisioned: true });
      expect(issued.password).toMatch(/^gw_[A-Za-z0-9_-]{43}$/);

      const text = readFileSync(devicesFile, 'utf8');
      expect(text).not.toContain(issued.password);
      // Comments and layout are the operator's: kept.
      expect(text.split('\n').slice(0, 3)).toEqual(before.split('\n').slice(0, 3));
      const gateway = loadDevicesFile(text, devicesFile).value.gateways[0]!;
      expect(verifySecret(issued.password, gateway.password_hash)).toBe(true);
      const [, iterations, salt, hex] = gateway.emqx_password_hash!.split('$');
      expect(pbkdf2Sync(issued.password, salt!, Number(iterations), 32, 'sha256').toString('hex')).toBe(hex);
      expect(Number(iterations)).toBe(4096);

      expect(await connectOutcome(server.url, issued)).toBe(0);
      expect(
        await connectOutcome(server.url, { username: 'gw-tilleuls', password: 'demo-gateway-password' }),
      ).not.toBe(0);
    });

    it('rotates: a new username, the old login kept until the overlap ends, on Mosquitto and embedded', async () => {
      const first = JSON.parse(
        (
          await cli(['gateway', 'credentials', '--uai', UAI, '--gateway', 'gw-tilleuls', '--json'], {
            cwd,
            env,
          })
        ).stdout,
      ) as Issued;
      const run = await cli(
        [
          'gateway',
          'credentials',
          '--uai',
          UAI,
          '--gateway',
          'gw-tilleuls',
          '--rotate',
          '--overlap-hours',
          '48',
          '--json',
        ],
        { cwd, env },
      );
      expect(run.code).toBe(0);
      const rotated = JSON.parse(run.stdout) as Issued;
      expect(rotated).toMatchObject({
        username: 'gw-tilleuls.r2',
        provisioned: true,
        previous: { username: 'gw-tilleuls' },
      });
      const validUntil = Date.parse(rotated.previous!.validUntil);
      expect(validUntil - Date.now()).toBeGreaterThan(47 * 3_600_000);
      expect(validUntil - Date.now()).toBeLessThanOrEqual(48 * 3_600_000);

      expect(await connectOutcome(server.url, rotated)).toBe(0);
      expect(await connectOutcome(server.url, first)).toBe(0);

      // The same credentials on the embedded broker, from the same devices/.
      const current = loadSite({ devicesDir: join(cwd, 'devices'), rulesDir: join(cwd, 'rules') });
      const topics = new MqttTopics();
      const embedded = await startEmbeddedBroker({
        port: 0,
        bridgeCredentials: { username: 'bridge', passwordHash: 'sha256$'.padEnd(71, '0') },
        gateways: gatewayCredentials(current, topics, 'test', Date.now()),
        logger: pino({ level: 'silent' }),
      });
      try {
        expect(await connectOutcome(embedded.url, rotated)).toBe(0);
        expect(await connectOutcome(embedded.url, first)).toBe(0);
        // After the overlap, only the new login.
        embedded.updateCredentials({
          bridgeCredentials: { username: 'bridge', passwordHash: 'sha256$'.padEnd(71, '0') },
          gateways: gatewayCredentials(current, topics, 'test', validUntil),
        });
        expect(await connectOutcome(embedded.url, first)).not.toBe(0);
        expect(await connectOutcome(embedded.url, rotated)).toBe(0);
      } finally {
        await embedded.close();
      }
    });

    it('check compares Mosquitto with devices/: a hand-edited hash needs credentials', async () => {
      const ok = await cli(['check', '--json'], { cwd, env });
      expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, errors: [] });
      const text = readFileSync(devicesFile, 'utf8');
      const edited = text.replace(
        /password_hash: "?scrypt[^\n"]*"?/,
        () => `password_hash: "${hashSecret('by-hand')}"`,
      );
      writeFileSync(devicesFile, edited);
      try {
        const run = await cli(['check', '--json'], { cwd, env });
        expect(run.code).toBe(2);
        expect(JSON.parse(run.stdout).errors).toEqual([
          {
            code: 'broker-needs-credentials',
            message:
              "gateway login gw-tilleuls.r2 has no mosquitto password matching devices/: run 'scope-energie gateway credentials' for it",
            where: 'mqtt.provisioning (mosquitto)',
          },
        ]);
      } finally {
        writeFileSync(devicesFile, text);
      }
    });

    it('refuses an unknown gateway with exit 2 and leaves the file alone', async () => {
      const before = readFileSync(devicesFile, 'utf8');
      const run = await cli(['gateway', 'credentials', '--uai', UAI, '--gateway', 'gw-nope', '--json'], {
        cwd,
        env,
      });
      expect(run.code).toBe(2);
      expect(JSON.parse(run.stdout)).toEqual({
        errors: [
          {
            code: 'unknown-gateway',
            message: `no gateway "gw-nope" in ${devicesFile}; defined: gw-tilleuls`,
            where: '--gateway',
          },
        ],
      });
      expect(readFileSync(devicesFile, 'utf8')).toBe(before);
    });
  },
);
