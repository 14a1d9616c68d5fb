/**
 * `npm run bench`: every benchmark, each printing its figures as ratios against a baseline run
 * in the same process (or the same machine, for brokers). Record the output in
 * docs/performance.md with the machine and the date. `npm run bench -- calendar planning` runs
 * only the named ones.
 */
import { cpus } from 'node:os';

type Bench = (report: (line: string) => void) => Promise<void>;

const BENCHES: Record<string, () => Promise<Bench>> = {
  entree: async () => (await import('./entree-import.js')).benchEntreeImport,
  calendar: async () => (await import('./calendar.js')).benchCalendar,
  planning: async () => (await import('./planning.js')).benchPlanning,
  events: async () => (await import('./events.js')).benchEvents,
  sortie: async () => (await import('./sortie.js')).benchSortie,
  publish: async () => (await import('./bridge-publish.js')).benchBridgePublish,
  latency: async () => (await import('./import-latency.js')).benchImportLatency,
  'scale-out': async () => (await import('./scale-out.js')).benchScaleOut,
  faults: async () => (await import('./faults.js')).benchFaults,
  provisioning: async () => (await import('./provisioning.js')).benchProvisioning,
  hostile: async () => (await import('./hostile.js')).benchHostile,
  telemetry: async () => (await import('./telemetry.js')).benchTelemetry,
  'optimum-start': async () => (await import('./optimum-start.js')).benchOptimumStart,
  'region-dashboard': async () => (await import('./region-dashboard.js')).benchRegionDashboard,
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
const unknown = names.filter((n) => !BENCHES[n]);
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}

console.log(
  `# scope-energie benchmarks — ${new Date().toISOString()} — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, MQTT_URL=${process.env.MQTT_URL ?? '(unset)'}`,
);
let failed = 0;
for (const name of names) {
  const started = performance.now();
  try {
    const bench = await BENCHES[name]!();
    await bench((line) => console.log(`- ${line}`));
    console.log(`  (${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed++;
    console.log(`- ${name}: FAILED: ${error instanceof Error ? error.message : String(error)}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
