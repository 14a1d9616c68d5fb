/**
 * The faults of issue 22, each run against a FaultLab and returning what it measured; durations
 * are parameters (short in CI, the 60 s / 40 s in `npm run bench -- faults`). Sleeping here
 * IS the fault (the time a dependency stays down), never a synchronisation.
 */

import { elapse, waitFor } from '../helpers/wait.js';
import type { FaultLab, ReadinessSample, Recovery } from './fault-lab.js';

export interface FaultResult extends Recovery {
  fault: string;
  /** /readyz samples taken while the dependency was away. */
  during: ReadinessSample[];
  /** Override requests made around the fault and their HTTP statuses. */
  overrides: number[];
  /** Time from the broker's return to the override made during the outage being seen (broker faults). */
  queuedIntentMs?: number;
}

export interface ScenarioOptions {
  /** Longest recovery accepted, from the dependency's return. */
  recoveryTimeoutMs: number;
}

let setpoint = 15;
/** A different comfort setpoint each time (15.5 … 19, under the legal cap of 19 °C: Code de l'énergie R241-26). */
function nextSetpoint(): number {
  setpoint = setpoint >= 19 ? 15.5 : setpoint + 0.5;
  return setpoint;
}

/** Overrides on several schools through several instances at once: transactions open everywhere. */
function overrideBurst(lab: FaultLab, count: number): Promise<number>[] {
  const instances = lab.running();
  const zone = lab.region.zoneFunctions.find((zf) => zf.endsWith('/heating'))!.split('/')[0]!;
  return Array.from({ length: count }, (_, i) =>
    lab.createOverride(
      instances[i % instances.length]!,
      lab.region.uais[i % lab.region.uais.length]!,
      zone,
      nextSetpoint(),
    ),
  );
}

/** PostgreSQL restarted (fast: every session ends with 57P01) while an override burst is in flight. */
export async function postgresRestartInTransactions(
  lab: FaultLab,
  options: ScenarioOptions & { delayMs: number },
): Promise<FaultResult> {
  const burst = overrideBurst(lab, 6);
  await elapse(options.delayMs, 'the restart lands this far into the override burst');
  const watch = lab.watchReadiness();
  await lab.postgres.restart();
  const backAt = Date.now();
  const during = await watch();
  const overrides = await Promise.all(burst);
  const recovery = await lab.recovery(backAt, options.recoveryTimeoutMs);
  return {
    fault: `PostgreSQL restart ${options.delayMs} ms into an override burst`,
    during,
    overrides,
    ...recovery,
  };
}

export async function postgresDown(
  lab: FaultLab,
  options: ScenarioOptions & { downMs: number },
): Promise<FaultResult> {
  const watch = lab.watchReadiness();
  await lab.postgres.stop();
  await elapse(options.downMs, 'the outage lasts this long');
  await lab.postgres.start();
  const backAt = Date.now();
  const during = await watch();
  const recovery = await lab.recovery(backAt, options.recoveryTimeoutMs);
  return { fault: `PostgreSQL down ${options.downMs / 1000} s`, during, overrides: [], ...recovery };
}

export async function postgresFrozen(
  lab: FaultLab,
  options: ScenarioOptions & { frozenMs: number },
): Promise<FaultResult> {
  const watch = lab.watchReadiness();
  await lab.postgres.freeze();
  try {
    await elapse(options.frozenMs, 'the database stays frozen this long');
  } finally {
    await lab.postgres.thaw();
  }
  const backAt = Date.now();
  const during = await watch();
  const recovery = await lab.recovery(backAt, options.recoveryTimeoutMs);
  return {
    fault: `PostgreSQL frozen (SIGSTOP) ${options.frozenMs / 1000} s`,
    during,
    overrides: [],
    ...recovery,
  };
}

/** Mosquitto stopped (retained messages lost: no persistence), an override made meanwhile, started again. */
export async function brokerDown(
  lab: FaultLab,
  options: ScenarioOptions & { downMs: number },
): Promise<FaultResult> {
  const watch = lab.watchReadiness();
  await lab.broker.stop();
  const uai = lab.region.uais[0]!;
  const zf = lab.region.zoneFunctions.find((z) => z.endsWith('/heating'))!;
  const wanted = nextSetpoint();
  // The database is up: the override is stored (201) and waits for the broker.
  const overrides = [await lab.createOverride(lab.running()[0]!, uai, zf.split('/')[0]!, wanted)];
  await elapse(options.downMs, 'the outage lasts this long');
  await lab.broker.start();
  const backAt = Date.now();
  const during = await watch();
  const topic = `${lab.region.prefix}/${uai}/${zf}/desired`;
  const recoveryPromise = lab.recovery(backAt, options.recoveryTimeoutMs, backAt);
  let queuedIntentMs: number | undefined;
  const hit = await waitFor(
    () =>
      lab.seen.find(
        (s) =>
          s.topic === topic &&
          s.at >= backAt &&
          (JSON.parse(s.text) as { setpoint_c?: number }).setpoint_c === wanted,
      ),
    { timeoutMs: options.recoveryTimeoutMs, intervalMs: 100, what: 'the queued override' },
  ).catch(() => undefined);
  if (hit) queuedIntentMs = hit.at - backAt;
  const recovery = await recoveryPromise;
  return {
    fault: `Mosquitto down ${options.downMs / 1000} s (override made meanwhile)`,
    during,
    overrides,
    ...(queuedIntentMs === undefined ? {} : { queuedIntentMs }),
    ...recovery,
  };
}

export async function brokerRestart(lab: FaultLab, options: ScenarioOptions): Promise<FaultResult> {
  await lab.broker.restart();
  const backAt = Date.now();
  const recovery = await lab.recovery(backAt, options.recoveryTimeoutMs, backAt);
  return { fault: 'Mosquitto restart', during: [], overrides: [], ...recovery };
}

/** PostgreSQL down, one instance SIGKILLed meanwhile, PostgreSQL back: the others take its schools. */
export async function killDuringPostgresOutage(
  lab: FaultLab,
  options: ScenarioOptions & { downMs: number; victim: string },
): Promise<FaultResult> {
  const watch = lab.watchReadiness();
  await lab.postgres.stop();
  const victim = lab.instances.get(options.victim)!;
  lab.killed.add(victim.id);
  victim.signal('SIGKILL');
  await victim.exited;
  await elapse(options.downMs, 'the outage lasts this long');
  await lab.postgres.start();
  const backAt = Date.now();
  const during = await watch();
  const recovery = await lab.recovery(backAt, options.recoveryTimeoutMs);
  return {
    fault: `PostgreSQL down ${options.downMs / 1000} s, ${victim.id} SIGKILLed meanwhile`,
    during,
    overrides: [],
    ...recovery,
  };
}

/** Whether every running instance said "not ready" at least once with a reason starting with `prefix`. */
export function everyInstanceNotReady(lab: FaultLab, samples: ReadinessSample[], prefix: string): string[] {
  return lab
    .running()
    .filter(
      (i) =>
        !samples.some(
          (s) => s.instance === i.id && s.status === 503 && s.missing.some((m) => m.startsWith(prefix)),
        ),
    )
    .map((i) => i.id);
}

export function formatResult(result: FaultResult): string {
  const intent =
    result.queuedIntentMs === undefined
      ? ''
      : `, override made during the outage out after ${(result.queuedIntentMs / 1000).toFixed(1)} s`;
  return `${result.fault}: ready again after ${(result.readyMs / 1000).toFixed(1)} s, every school held after ${(result.heldMs / 1000).toFixed(1)} s, every zone re-published/consistent after ${(result.republishedMs / 1000).toFixed(1)} s${intent}`;
}
