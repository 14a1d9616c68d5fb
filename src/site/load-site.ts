/**
 * The site: every school's `devices/{uai}.yaml` and the rule set (`rules/`), read and validated
 * together so that a bad file never half-applies (README.md, "Configuration").
 *
 * One rule set per deployment: `rules/default.yaml` holds the defaults and, under `schools:`, the
 * per-school and per-zone values; other `*.yaml` files in the rules directory are validated
 * (so a draft policy can be checked) but not applied. See docs/rules.md.
 *
 * The applied rule set's `version` is the declared one with a digest of its content appended
 * (`2026.1+3f9a0c1d2e4b`, issue 21): a changed value gives a new version even when the file's
 * `version:` line was left as it was, so every plan names the exact rules it was made with.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type LoadedDevices, loadDevicesFile } from '../devices/load.js';
import { canonicalJson } from '../domain/audit-entry.js';
import { InputError, type Problem } from '../domain/problems.js';
import { checkRulesAgainstDevices } from '../rules/check.js';
import type { ExceptionPolicy } from '../rules/exception-policy.js';
import { loadRulesFile, type RuleSet } from '../rules/rule-set.js';
import { checkSetbacksBelowOccupied } from '../rules/setback-order.js';
import type { SiteFile } from './site-change.js';

export const ACTIVE_RULES_FILE = 'default.yaml';

export interface Site {
  /** Devices per UAI. */
  devices: ReadonlyMap<string, LoadedDevices>;
  ruleSet: RuleSet;
  /** Rule files validated but not applied. */
  otherRuleSets: readonly RuleSet[];
  /** Every file read, with its hash and parsed value (what a reload is compared with). */
  files: readonly SiteFile[];
}

export interface SiteDirs {
  devicesDir: string;
  rulesDir: string;
  /** Paths in problems are shown relative to this directory. */
  baseDir?: string;
  /** How far a rule's exception may lift a legal cap (`rules.exception_max_deviation_c`). */
  exceptionPolicy?: ExceptionPolicy;
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

  const files: SiteFile[] = [];
  const read = (file: string): string => {
    const text = readFileSync(file, 'utf8');
    files.push({ path: shown(file), absolutePath: file, sha256: sha256(text), value: null, text });
    return text;
  };
  const parsed = (value: unknown) => {
    const last = files.at(-1);
    if (last) last.value = value;
  };

  const devices = new Map<string, LoadedDevices>();
  for (const file of yamlFiles(dirs.devicesDir)) {
    const loaded = collect(() => loadDevicesFile(read(file), shown(file)));
    if (!loaded) continue;
    parsed(loaded.value);
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
    const loaded = collect(() => loadRulesFile(read(file), shown(file), dirs.exceptionPolicy));
    if (!loaded) continue;
    parsed(loaded.value);
    if (file === activePath) ruleSet = withContentVersion(loaded);
    else otherRuleSets.push(loaded);
  }
  if (ruleSet) {
    problems.push(...checkRulesAgainstDevices(ruleSet, [...devices.values()]));
    // The file alone was checked per category; only devices/ says which zone layer meets which category.
    const zones = [...devices.values()].flatMap((d) =>
      d.value.zones.map((zone) => ({ uai: d.value.school.uai, zone })),
    );
    problems.push(...checkSetbacksBelowOccupied(ruleSet, zones));
  }
  if (problems.length > 0 || !ruleSet) throw new InputError(problems, 'invalid');
  return { devices, ruleSet, otherRuleSets, files };
}

/** The files' hashes alone, when they do not load (a refused edit is still attributed). */
export function siteFileHashes(dirs: SiteDirs): SiteFile[] {
  const shown = (path: string) => (dirs.baseDir ? relative(dirs.baseDir, path) : path);
  return [...yamlFiles(dirs.devicesDir), ...yamlFiles(dirs.rulesDir)].flatMap((file) => {
    try {
      return [
        { path: shown(file), absolutePath: file, sha256: sha256(readFileSync(file, 'utf8')), value: null },
      ];
    } catch {
      return [];
    }
  });
}

/**
 * The declared version plus the first 12 hex digits of the SHA-256 of the parsed rules as canonical
 * JSON: comments and layout do not change it, any value does.
 */
export function rulesContentVersion(rules: RuleSet['value']): string {
  return `${rules.version}+${sha256(canonicalJson(rules)).slice(0, 12)}`;
}

function withContentVersion(ruleSet: RuleSet): RuleSet {
  return { ...ruleSet, value: { ...ruleSet.value, version: rulesContentVersion(ruleSet.value) } };
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}
