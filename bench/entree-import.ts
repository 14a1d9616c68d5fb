/**
 * ENTRÉE import benchmark (issue 2): a synthetic EDT export of ~3,000 lessons / 150 rooms and
 * one of ~30 MB, each imported whole (decode, parse, normalise, check, store in SQLite), against
 * a bare saxes pass over the same bytes. Each run is a separate process, so its peak RSS is its
 * own; the best of N runs is kept for time (the machine is shared), the median for memory.
 * Goal: within 3× the bare pass in time, under 100 MB extra memory for 30 MB.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSyntheticEdt } from '../test/fixtures/edt/synthetic.js';

interface Run {
  ms: number;
  rssBefore: number;
  maxRss: number;
}

const CHILD = fileURLToPath(new URL('./import-child.ts', import.meta.url));
const MB = 1024 * 1024;

function run(mode: 'bare' | 'import', file: string, dataDir: string): Run {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, mode, file, dataDir], {
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Run;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export async function benchEntreeImport(report: (line: string) => void, repeats = 3): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'scope-energie-bench-'));
  try {
    for (const [label, lessons, rooms] of [
      ['3,000 lessons / 150 rooms', 3_000, 150],
      ['~30 MB (100,000 lessons)', 100_000, 150],
    ] as const) {
      const xml = generateSyntheticEdt({ lessons, rooms, seed: 7 });
      const file = join(dir, `export-${lessons}.xml`);
      writeFileSync(file, xml);
      const bare: Run[] = [];
      const full: Run[] = [];
      for (let i = 0; i < repeats; i++) {
        bare.push(run('bare', file, join(dir, `bare-${lessons}-${i}`)));
        full.push(run('import', file, join(dir, `db-${lessons}-${i}`)));
      }
      const bareMs = Math.min(...bare.map((r) => r.ms));
      const fullMs = Math.min(...full.map((r) => r.ms));
      const bareMem = median(bare.map((r) => r.maxRss - r.rssBefore));
      const fullMem = median(full.map((r) => r.maxRss - r.rssBefore));
      report(
        `entree import, ${label}, ${(Buffer.byteLength(xml) / MB).toFixed(1)} MB: bare saxes ${bareMs.toFixed(0)} ms, whole import ${fullMs.toFixed(0)} ms → ${(fullMs / bareMs).toFixed(2)}× (goal ≤ 3×); extra peak memory: bare ${(bareMem / MB).toFixed(0)} MB, import ${(fullMem / MB).toFixed(0)} MB (goal < 100 MB for 30 MB); best of ${repeats} for time, median for memory`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) await benchEntreeImport((line) => console.log(line));
