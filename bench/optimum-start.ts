/**
 * Optimum start on the zone-type panel (issue 17, docs/optimum-start.md): fixed 60 min, fixed
 * 120 min, learned preheat, and learned with optimum stop, over January and March of the demo
 * timetable, in simulated time.
 */
import { readFileSync } from 'node:fs';
import { loadRulesFile } from '../src/rules/rule-set.js';
import { LEARNED_WITH_STOP, panelTable, runPanel } from '../src/simulation/zone-panel.js';

const STRATEGIES = ['fixed 60 min', 'fixed 120 min', 'learned', LEARNED_WITH_STOP] as const;

export async function benchOptimumStart(report: (line: string) => void): Promise<void> {
  const ruleSet = loadRulesFile(
    readFileSync(new URL('../rules/default.yaml', import.meta.url), 'utf8'),
    'rules/default.yaml',
  );
  for (const [label, from, to] of [
    ['January 2027', '2027-01-04', '2027-02-01'],
    ['March 2027', '2027-03-01', '2027-03-29'],
  ] as const) {
    const started = performance.now();
    const runs = runPanel(ruleSet, from, to);
    report(
      `optimum start, ${label} (${from} → ${to}, seed 17), ${((performance.now() - started) / 1000).toFixed(1)} s:`,
    );
    for (const line of panelTable(runs)) report(`  ${line}`);
    const kwh = (strategy: string, zone?: string) =>
      runs
        .filter((r) => r.strategy === strategy && (zone === undefined || r.zone === zone))
        .reduce((sum, r) => sum + r.result.heating_kwh, 0);
    const vsFixed60 = (strategy: string, zone?: string) => {
      const base = kwh('fixed 60 min', zone);
      const delta = (kwh(strategy, zone) / base - 1) * 100;
      return `${delta >= 0 ? '+' : '−'}${Math.abs(delta).toFixed(1)} %`;
    };
    report(`  total kWh: ${STRATEGIES.map((s) => `${s} ${kwh(s).toFixed(0)}`).join(', ')}`);
    report(
      `  against fixed 60 min: ${STRATEGIES.slice(1)
        .map((s) => `${s} ${vsFixed60(s)}`)
        .join(', ')}`,
    );
    for (const zone of [...new Set(runs.map((r) => r.zone))]) {
      const stop = runs.find((r) => r.zone === zone && r.strategy === LEARNED_WITH_STOP)?.result;
      report(
        `  ${zone}: learned ${vsFixed60('learned', zone)}, ${LEARNED_WITH_STOP} ${vsFixed60(LEARNED_WITH_STOP, zone)} against fixed 60 min` +
          (stop?.optimum_stop
            ? ` (${stop.optimum_stop.stops} stops, ${stop.optimum_stop.minutes} min; cold minutes ${stop.occupied_cold_minutes} vs learned ${runs.find((r) => r.zone === zone && r.strategy === 'learned')?.result.occupied_cold_minutes})`
            : ''),
      );
    }
  }
}
