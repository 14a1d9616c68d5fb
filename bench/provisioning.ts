/**
 * Issue 19: reconciling a region's devices/ (350 schools × 2 gateways, each with a zone of every
 * function) against a real Mosquitto 2 with dynamic security, started here on a free port (never
 * the shared one): from an empty broker (goal < 30 s) and when nothing changed (goal < 2 s).
 * "From empty" is the worst case: every gateway's password is given, as if `gateway credentials`
 * had been run for all of them at once.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { hashSecret } from '../src/auth/secrets.js';
import { DynsecClient } from '../src/broker-access/dynsec-client.js';
import { MosquittoProvisioner } from '../src/broker-access/mosquitto-provisioner.js';
import { MqttTopics } from '../src/contract/topics.js';
import { systemClock } from '../src/domain/clock.js';
import { loadSite } from '../src/site/load-site.js';
import { startDynsecMosquitto } from '../test/helpers/mosquitto-dynsec.js';
import { REGION, regionUais } from './bridge-publish.js';

const GATEWAYS_PER_SCHOOL = 2;

export async function benchProvisioning(report: (line: string) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'scope-bench-provisioning-'));
  const server = await startDynsecMosquitto();
  try {
    await mkdir(join(dir, 'devices'));
    // One scrypt hash for all: hashing 700 passwords would time scrypt, not provisioning.
    const hash = hashSecret('bench');
    const passwords = new Map<string, string>();
    for (const uai of regionUais(REGION.schools)) {
      const gateways = Array.from({ length: GATEWAYS_PER_SCHOOL }, (_, i) => `gw-${i + 1}`);
      for (const g of gateways) passwords.set(`${uai}-${g}`, `${uai}-${g}-password`);
      await writeFile(
        join(dir, 'devices', `${uai}.yaml`),
        `school:\n  uai: "${uai}"\n  name: Lycée ${uai}\ngateways:\n${gateways
          .map((g) => `  - id: ${g}\n    username: ${uai}-${g}\n    password_hash: "${hash}"\n`)
          .join('')}zones:\n${gateways
          .map(
            (g, i) =>
              `  - {id: zone-${i + 1}, name: Zone ${i + 1}, gateway: ${g}, rooms: [R${i + 1}], functions: [heating, lighting, ventilation], category: classroom, heating_type: hydronic}\n`,
          )
          .join('')}`,
      );
    }
    const site = loadSite({ devicesDir: join(dir, 'devices'), rulesDir: resolve('rules') });
    const provisioner = new MosquittoProvisioner({
      connect: () =>
        DynsecClient.connect({
          url: server.url,
          username: server.admin.username,
          password: server.admin.password,
          batchSize: 100,
          timeoutMs: 60_000,
        }),
      topics: new MqttTopics(),
      version: 'bench',
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      bridge: { username: 'scope-energie-bridge', password: 'bench-bridge' },
    });
    const empty = await provisioner.reconcile(() => site, { reason: 'bench: empty', passwords });
    if (!empty.ok) throw new Error(`from empty: ${empty.error} ${JSON.stringify(empty.failed.slice(0, 3))}`);
    report(
      `provisioning from empty, ${REGION.schools} schools × ${GATEWAYS_PER_SCHOOL} gateways: **${(empty.durationMs / 1000).toFixed(2)} s** ` +
        `(${empty.commands} commands in ${empty.messages} messages; ${empty.changes.clients_created.length} clients, ${empty.changes.roles_created.length} roles; goal < 30 s)`,
    );
    const unchanged: number[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await provisioner.reconcile(() => site, { reason: 'bench: unchanged' });
      if (!run.ok || run.commands !== 0)
        throw new Error(`unchanged run sent ${run.commands} commands: ${run.error}`);
      unchanged.push(run.durationMs);
    }
    report(
      `provisioning, nothing changed: **${(Math.min(...unchanged) / 1000).toFixed(2)}–${(Math.max(...unchanged) / 1000).toFixed(2)} s** over 3 runs (0 commands; goal < 2 s)`,
    );
    // One gateway added: the everyday reload.
    await writeFile(
      join(dir, 'devices', `${regionUais(1)[0]}.yaml`),
      `school:\n  uai: "${regionUais(1)[0]}"\n  name: Lycée\ngateways:\n${['gw-1', 'gw-2', 'gw-3']
        .map((g) => `  - id: ${g}\n    username: ${regionUais(1)[0]}-${g}\n    password_hash: "${hash}"\n`)
        .join('')}zones: []\n`,
    );
    const one = await provisioner.reconcile(
      () => loadSite({ devicesDir: join(dir, 'devices'), rulesDir: resolve('rules') }),
      { reason: 'bench: one school edited' },
    );
    report(
      `provisioning after one school's edit: **${(one.durationMs / 1000).toFixed(2)} s** (${one.commands} commands)`,
    );
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
