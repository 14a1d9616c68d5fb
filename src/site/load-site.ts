/**
 * The site: every school's `devices/{uai}.yaml` and the rule set (`rules/`), read and validated
 * together so that a bad file never half-applies (interfaces.md, "Files a user edits").
 *
 * One rule set per deployment: `rules/default.yaml` holds the defaults and, under `schools:`, the
 * per-school and per-zone values; other `*.yaml` files in the rules directory are validated
 * (so a draft policy can be checked) but not applied. See docs/rules.md.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type LoadedDevices, loadDevicesFile } from '../devices/load.js';
import { InputError, type Problem } from '../domain/problems.js';
import { checkRulesAgainstDevices } from '../rules/check.js';
import { loadRulesFile, type RuleSet } from '../rules/rule-set.js';

export const ACTIVE_RULES_FILE = 'default.yaml';

export interface Site {
  /** Devices per UAI. */
  devices: ReadonlyMap<string, LoadedDevices>;
  ruleSet: RuleSet;
  /** Rule files validated but not applied. */
  otherRuleSets: readonly RuleSet[];
}

export interface SiteDirs {
  devicesDir: string;
  rulesDir: string;
  /** Paths in problems are shown relative to this directory. */
  baseDir?: string;
}

/** Loads and checks every file; throws `InputError` listing every problem of every file. */
export function loadSite(dirs: SiteDirs): Site {
  const problems: Problem[] = [];
  const shown = (path: string) => (dirs.baseDir ? relative(dirs.baseDir, path) : path);
  const collect = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (error) {
      if (error instanceof InputError) problems.push(...error.problems);
      else throw error;
      return undefined;
    }
  };

  const devices = new Map<string, LoadedDevices>();
  for (const file of yamlFiles(dirs.devicesDir)) {
    const loaded = collect(() => loadDevicesFile(readFileSync(file, 'utf8'), shown(file)));
    if (!loaded) continue;
    const uai = loaded.value.school.uai;
    if (devices.has(uai)) {
      problems.push({
        code: 'devices-duplicate-school',
        message: `school ${uai} is described twice (also in ${devices.get(uai)?.file})`,
        where: `${shown(file)}:${loaded.lineOf(['school', 'uai'])} (school.uai)`,
      });
      continue;
    }
    devices.set(uai, loaded);
  }

  const activePath = join(dirs.rulesDir, ACTIVE_RULES_FILE);
  if (!existsSync(activePath)) {
    problems.push({
      code: 'rules-missing',
      message: `no rule set: ${shown(activePath)} does not exist (copy the shipped rules/default.yaml)`,
      where: shown(dirs.rulesDir),
    });
  }
  let ruleSet: RuleSet | undefined;
  const otherRuleSets: RuleSet[] = [];
  for (const file of yamlFiles(dirs.rulesDir)) {
    const loaded = collect(() => loadRulesFile(readFileSync(file, 'utf8'), shown(file)));
    if (!loaded) continue;
    if (file === activePath) ruleSet = loaded;
    else otherRuleSets.push(loaded);
  }
  if (ruleSet) problems.push(...checkRulesAgainstDevices(ruleSet, [...devices.values()]));
  if (problems.length > 0 || !ruleSet) throw new InputError(problems, 'invalid');
  return { devices, ruleSet, otherRuleSets };
}

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}
