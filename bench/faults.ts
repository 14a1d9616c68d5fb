/**
 * `npm run bench -- faults` (issue 22): the fault laboratory of test/faults with the issue's full
 * durations and the production defaults (takeover 30 s, statement 10 s, query 15 s): three
 * instances on 12 schools, a private PostgreSQL and a private Mosquitto. Prints, per fault, the
 * time from the dependency's return to every instance ready, every school held, and every zone's
 * retained `desired` equal to the store (re-published, after a broker fault). Figures go to
 * docs/performance.md ("Faults") and docs/deployment.md.
 */
import { FaultLab } from '../test/faults/fault-lab.js';
import {
  brokerDown,
  brokerRestart,
  formatResult,
  killDuringPostgresOutage,
  postgresDown,
  postgresFrozen,
  postgresRestartInTransactions,
} from '../test/faults/fault-scenarios.js';

const DOWN_MS = Number(process.env['FAULT_DOWN_MS'] ?? 60_000);
const FROZEN_MS = Number(process.env['FAULT_FROZEN_MS'] ?? 40_000);
const RESTARTS = Number(process.env['FAULT_RESTARTS'] ?? 10);

export async function benchFaults(report: (line: string) => void): Promise<void> {
  const lab = await FaultLab.start({
    schools: 12,
    takeoverSeconds: 30,
    instanceIds: ['bridge-a', 'bridge-b', 'bridge-c'],
    statementTimeoutMs: 10_000,
    queryTimeoutMs: 15_000,
  });
  const recovery = { recoveryTimeoutMs: 120_000 };
  try {
    await lab.recovery(Date.now(), 120_000);
    report(`faults: 3 instances, 12 schools, ${lab.topics.length} desired topics, takeover 30 s`);
    const problems = (): string => {
      const all = [...lab.unexpectedExits(), ...lab.revProblems()];
      return all.length === 0
        ? 'no exit, revs monotonic, one payload per rev'
        : `PROBLEMS: ${all.slice(0, 5).join('; ')}`;
    };
    const restarts: Awaited<ReturnType<typeof postgresRestartInTransactions>>[] = [];
    for (let i = 0; i < RESTARTS; i++)
      restarts.push(await postgresRestartInTransactions(lab, { ...recovery, delayMs: (i * 37) % 150 }));
    const worst = (key: 'readyMs' | 'heldMs' | 'republishedMs') =>
      Math.max(...restarts.map((r) => r[key])) / 1000;
    report(
      `PostgreSQL restart inside override bursts ×${RESTARTS}: worst ready again ${worst('readyMs').toFixed(1)} s, held ${worst('heldMs').toFixed(1)} s, consistent ${worst('republishedMs').toFixed(1)} s; override statuses ${[...new Set(restarts.flatMap((r) => r.overrides))].sort().join('/')}; ${problems()}`,
    );
    for (const run of [
      () => postgresDown(lab, { ...recovery, downMs: DOWN_MS }),
      () => postgresFrozen(lab, { ...recovery, frozenMs: FROZEN_MS }),
      () => brokerRestart(lab, recovery),
      () => brokerDown(lab, { ...recovery, downMs: DOWN_MS }),
      () => killDuringPostgresOutage(lab, { ...recovery, downMs: DOWN_MS, victim: 'bridge-c' }),
    ]) {
      const result = await run();
      const notReady = new Set(result.during.filter((s) => s.status === 503).map((s) => s.instance)).size;
      report(`${formatResult(result)}; /readyz 503 during on ${notReady} instance(s); ${problems()}`);
    }
    const stopped = await lab.stopAll(20_000);
    report(
      `SIGTERM after all of it: ${stopped.map((s) => `${s.id} exit ${s.code} in ${(s.ms / 1000).toFixed(1)} s`).join(', ')}`,
    );
  } finally {
    await lab.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchFaults((line) => console.log(`- ${line}`));
}
