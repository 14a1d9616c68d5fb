/**
 * Optimum start on the zone-type panel (issue 17, docs/optimum-start.md): fixed 60 min, fixed
 * 120 min and learned preheat over January and March of the demo timetable, in simulated time.
 */
import { readFileSync } from 'node:fs';
import { loadRulesFile } from '../src/rules/rule-set.js';
import { panelTable, runPanel } from '../src/simulation/zone-panel.js';

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
    const total = (strategy: string) =>
      runs.filter((r) => r.strategy === strategy).reduce((sum, r) => sum + r.result.heating_kwh, 0);
    report(
      `  total kWh: fixed 60 ${total('fixed 60 min').toFixed(0)}, fixed 120 ${total('fixed 120 min').toFixed(0)}, learned ${total('learned').toFixed(0)}`,
    );
  }
}
